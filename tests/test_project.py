"""Pulumi.yaml as `pulumi new` reads it: the template asks for every value a new stack must set, and the
stack its defaults make plans with no mandatory finding."""

from __future__ import annotations

import json
from typing import Any

import yaml

from infra import config
from plan import policy, runner, stackfile
from tests.plans import ROOT

PROJECT: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
PROMPTS: dict[str, dict[str, Any]] = PROJECT["template"]["config"]
MUST_SET = {
    "gpu-platform:aws": {"deployerPrincipalArn", "bucketName", "registryName", "apiAccess"},
    "gpu-platform:gcp": {"bucketName", "registryName", "apiAccess"},
    "gpu-platform:azure": {
        "tenantId",
        "adminGroupObjectIds",
        "storageAccountName",
        "registryName",
        "keyVaultName",
        "apiAccess",
    },
}


def _answers() -> dict[str, str]:
    """What `pulumi new --yes` saves: each prompt's default, as a string."""
    return {key: str(prompt["default"]) for key, prompt in PROMPTS.items()}


def test_prompts_are_described_strings_for_declared_keys() -> None:
    for key, prompt in PROMPTS.items():
        assert isinstance(prompt["default"], str), key
        assert prompt["description"], key
        namespace, name = key.split(":", 1)
        assert namespace != PROJECT["name"] or name in PROJECT["config"], key


def test_prompts_cover_what_a_new_stack_must_set() -> None:
    required = {
        f"{PROJECT['name']}:{name}"
        for name, decl in PROJECT["config"].items()
        if isinstance(decl, dict) and "default" not in decl and "value" not in decl
    }
    assert required <= set(PROMPTS)
    assert {"aws:region", "gcp:project", "gcp:region", "azure-native:location"} <= set(PROMPTS)
    for key, fields in MUST_SET.items():
        section = json.loads(PROMPTS[key]["default"])
        assert fields <= set(section), key
        assert section["apiAccess"]["authorizedCidrs"], key


def test_the_stack_pulumi_new_makes_plans_without_mandatory_findings() -> None:
    files = stackfile.load(ROOT, "template-test", overrides=_answers())
    cfg = config.parse(config.read_raw(files.config.get), stack="template-test")
    plan = runner.run(files, "template-test")
    assert {r.cloud for r in plan.resources} >= {"aws", "gcp", "azure"}
    assert policy.mandatory(policy.check(plan, cfg)) == []
