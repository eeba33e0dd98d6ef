"""Importing TensorFlow without the INFO lines that TF_CPP_MIN_LOG_LEVEL no longer hides.

TensorFlow 2.21 prints its oneDNN notice at import through an absl logger that ignores
TF_CPP_MIN_LOG_LEVEL, twice, each time behind absl's "before InitializeLog" banner: four lines of noise
in every Job log, ahead of the one line a failed command prints. While the command's module is imported,
file descriptor 2 goes through a pipe, and a thread forwards every line except absl INFO lines and that
banner. Warnings and errors (CUDA libraries that fail to load, for instance) still come through, as they
are written; TF_CPP_MIN_LOG_LEVEL=0 turns the filter off.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import threading
from types import ModuleType

# absl's prefix: severity letter, MMDD, time (TensorFlow prints seconds since 1970 there), thread id,
# file:line]
_INFO = re.compile(rb"^I\d{4} [0-9:.]+ +\d+ [^ ]+:\d+\] ")
_BANNER = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def is_noise(line: bytes) -> bool:
    return bool(_INFO.match(line)) or line.rstrip(b"\r\n") == _BANNER


def import_quietly(name: str) -> ModuleType:
    """Import module `name`, dropping TensorFlow's INFO lines from stderr if this import loads it."""
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") in ("", "0"):
        return importlib.import_module(name)
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    forwarder = threading.Thread(target=_forward, args=(read_end, saved), daemon=True)
    forwarder.start()
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        return importlib.import_module(name)
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end, so the forwarder reads to the end
        forwarder.join()
        os.close(saved)


def _forward(read_end: int, target: int) -> None:
    with os.fdopen(read_end, "rb") as lines:
        for line in lines:
            if not is_noise(line):
                os.write(target, line)
