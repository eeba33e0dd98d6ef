"""The stack-output contract: the plans' outputs parse with it, secrets stay secret, the published JSON
Schema is current, and the export helper refuses fields the contract does not declare."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from infra import outputs
from plan.runner import Plan
from tests.plans import ROOT


def test_plan_outputs_parse_with_the_contract(stack_plan: Plan) -> None:
    parsed = outputs.StackOutputs.model_validate(stack_plan.outputs)
    assert parsed.schema_version == outputs.SCHEMA_VERSION
    assert parsed.stack == stack_plan.stack
    assert parsed.clouds
    home = parsed.clouds[stack_plan.outputs["clouds"][next(iter(parsed.clouds))]["model"]["trainedOn"]]
    for out in parsed.clouds.values():
        assert out.serving_url.startswith("http://")
        assert out.model.uri == f"{out.bucket_uri}/models/digits"
        assert out.model.source_uri == home.model.uri
        assert out.model.serves == 2
        assert (out.training is not None) is (out is home)
    assert home.training is not None
    assert home.training.replicator == "replicator"
    assert [e.cloud for e in parsed.endpoints] == list(parsed.clouds)
    assert [e.url for e in parsed.endpoints] == [c.serving_url for c in parsed.clouds.values()]
    assert isinstance(parsed.kubeconfigs, dict)
    assert list(parsed.kubeconfigs) == list(parsed.clouds)


def test_only_the_kubeconfigs_are_secret(stack_plan: Plan) -> None:
    """Applications read every other output without `--show-secrets`: nothing else is secret."""
    assert stack_plan.secret_outputs == ["kubeconfigs"]


def test_outputs_as_the_cli_prints_them_without_show_secrets(dev_plan: Plan) -> None:
    """`pulumi stack output --json` prints a secret output as `[secret]`; the contract still parses."""
    printed = dev_plan.public_outputs()
    assert printed["kubeconfigs"] == "[secret]"
    parsed = outputs.StackOutputs.model_validate(printed)
    assert parsed.kubeconfigs == "[secret]"
    assert set(parsed.clouds) == set(dev_plan.outputs["clouds"])


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
