"""The policy pack's entry point: `pulumi preview --policy-pack policy` runs this file with `policy/` as
its directory, so the repository root (where the `policy` package lives) goes on the import path first."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.pack import policies

PolicyPack(name="gpu-platform", enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
