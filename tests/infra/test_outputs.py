"""The stack-output contract: the plans' outputs parse with it, secrets stay secret, the published JSON
Schema is current, and the export helper refuses fields the contract does not declare."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from infra import outputs
from infra.plan.runner import Plan
from tests.plans import ROOT


def test_plan_outputs_parse_with_the_contract(stack_plan: Plan) -> None:
    parsed = outputs.StackOutputs.model_validate(stack_plan.outputs)
    assert parsed.schema_version == outputs.SCHEMA_VERSION
    assert parsed.stack == stack_plan.stack
    assert parsed.clouds
    for cloud, out in parsed.clouds.items():
        assert out.serving_url.startswith("http://")
        assert out.model_uri == f"{out.bucket_uri}/models/digits"
        assert f"clouds.{cloud}.kubeconfig" in stack_plan.secret_outputs
    assert [e.cloud for e in parsed.endpoints] == list(parsed.clouds)
    assert [e.url for e in parsed.endpoints] == [c.serving_url for c in parsed.clouds.values()]


def test_only_the_kubeconfig_is_secret(stack_plan: Plan) -> None:
    assert all(path.endswith(".kubeconfig") for path in stack_plan.secret_outputs)


def test_contract_refuses_unknown_fields(dev_plan: Plan) -> None:
    raw = {**dev_plan.outputs, "extra": 1}
    with pytest.raises(ValueError, match="extra"):
        outputs.StackOutputs.model_validate(raw)


def test_entry_needs_exactly_the_declared_fields() -> None:
    assert outputs.entry(outputs.Endpoint, cloud="gcp", url="u") == {"cloud": "gcp", "url": "u"}
    with pytest.raises(ValueError, match=r"missing \['url'\], unknown \['uri'\]"):
        outputs.entry(outputs.Endpoint, cloud="gcp", uri="u")


def test_published_schema_is_current() -> None:
    assert outputs.SCHEMA_PATH.read_text() == outputs.schema_text(), "run: python -m infra.outputs"


def test_schema_check_command() -> None:
    result = subprocess.run([sys.executable, "-m", "infra.outputs", "--check"], cwd=ROOT, check=False)
    assert result.returncode == 0


def test_plan_outputs_validate_against_the_published_schema(stack_plan: Plan) -> None:
    schema = json.loads(outputs.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(stack_plan.outputs, schema)
