"""Runs `python -m plan` (see `plan/__main__.py`) under its former name."""

import runpy

runpy.run_module("plan", run_name="__main__", alter_sys=True)
