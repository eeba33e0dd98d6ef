"""The `kubectl` stand-in (fake_kubectl.py) as an executable, for the commands' `--kubectl`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).with_name("fake_kubectl.py")


@pytest.fixture
def kubectl(tmp_path: Path) -> str:
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S "{FAKE}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)
