"""Reading Pulumi.yaml and Pulumi.<stack>.yaml as the CLI would, including its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plan import stackfile
from tests.plans import ROOT

SAMPLE = Path(__file__).parent / "sample"


def test_defaults_provider_keys_and_secure_placeholders() -> None:
    files = stackfile.load(SAMPLE, "sample")
    assert files.project == "sample"
    assert files.program_dir == (SAMPLE / "program").resolve()
    assert files.config == {
        "aws:region": "eu-west-1",
        "sample:token": stackfile.SECRET_PLACEHOLDER,
        "sample:size": "2",
    }
    assert files.secret_keys == ("sample:token",)


def test_objects_are_passed_json_encoded() -> None:
    files = stackfile.load(ROOT, "dev")
    assert json.loads(files.config["gpu-platform:gpuPools"])[0]["name"] == "train"
    assert files.config["gpu-platform:environment"] == "dev"
    assert files.config["pulumi:disable-default-providers"] == '["*"]'


def test_undeclared_project_key_is_refused() -> None:
    with pytest.raises(stackfile.StackFileError, match="'sample:colour' is not declared"):
        stackfile.load(SAMPLE, "x", overrides={"colour": "blue", "token": "t"})


def test_typed_key_of_wrong_type_is_refused() -> None:
    with pytest.raises(stackfile.StackFileError, match="'sample:size' must be of type 'integer'"):
        stackfile.load(SAMPLE, "x", overrides={"size": "two", "token": "t"})


def test_missing_required_key_is_refused() -> None:
    with pytest.raises(stackfile.StackFileError, match="missing configuration value 'token'"):
        stackfile.load(SAMPLE, "x", overrides={})


def test_missing_stack_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    with pytest.raises(stackfile.StackFileError, match="no such stack file"):
        stackfile.load(tmp_path, "nope")
