"""The stack-output contract: the plans' outputs parse with it, secrets stay secret, the published JSON
Schema is current, the export helper refuses fields the contract does not declare, and version 5's
`serving` and `apiKeys` read as a stack with `serving.domain` prints them, with and without
`--show-secrets`."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jsonschema
import pytest

from infra import outputs
from plan.runner import Plan
from tests.examples.standins import outputs as stand_in_outputs
from tests.plans import ROOT


def test_plan_outputs_parse_with_the_contract(stack_plan: Plan) -> None:
    parsed = outputs.StackOutputs.model_validate(stack_plan.outputs)
    assert parsed.schema_version == outputs.SCHEMA_VERSION
    assert parsed.stack == stack_plan.stack
    assert parsed.clouds
    home = parsed.clouds[stack_plan.outputs["clouds"][next(iter(parsed.clouds))]["model"]["trainedOn"]]
    scheme = "https://" if parsed.serving is not None else "http://"
    for out in parsed.clouds.values():
        assert out.serving_url.startswith(scheme)
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
    if stack_plan.stack == "dev":  # dev keeps internal HTTP; prod serves under a domain (tests/infra/gateway)
        assert (parsed.serving, parsed.api_keys) == (None, None)
    else:
        assert parsed.serving is not None
        assert list(parsed.serving.clouds.values()) == [c.serving_url for c in parsed.clouds.values()]


def test_only_the_kubeconfigs_and_api_keys_are_secret(stack_plan: Plan) -> None:
    """Applications read every other output without `--show-secrets`: nothing else is secret. The API keys
    exist only with a domain (prod)."""
    keys = ["apiKeys"] if stack_plan.stack == "prod" else []
    assert sorted(stack_plan.secret_outputs) == sorted(["kubeconfigs", *keys])


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


GLOBAL = "https://serving.example.com/v1/models/digits:predict"


def serving_entry() -> dict[str, object]:
    """`serving` as the composition root exports it through `entry`."""
    return outputs.entry(
        outputs.ServingOutputs,
        url=GLOBAL,
        clouds={c: f"https://{c}.serving.example.com/v1/models/digits:predict" for c in ("aws", "gcp")},
        key_header="x-api-key",
        clients=["web", "batch"],
        failover_seconds=90,
    )


def with_domain(api_keys: object) -> dict[str, object]:
    serving = serving_entry()
    doc = stand_in_outputs(serving["clouds"])  # type: ignore[arg-type]
    return {**doc, "serving": serving, "apiKeys": api_keys}


@pytest.mark.parametrize(
    ("api_keys", "read"),
    [
        ("[secret]", "[secret]"),
        ({"web": "k1", "batch": "k2"}, {"web": "k1", "batch": "k2"}),
    ],
    ids=["without-show-secrets", "with-show-secrets"],
)
def test_a_stack_with_a_domain_parses_and_validates(api_keys: object, read: object) -> None:
    doc = with_domain(api_keys)
    jsonschema.validate(doc, json.loads(outputs.SCHEMA_PATH.read_text()))
    parsed = outputs.StackOutputs.model_validate(doc)
    assert parsed.serving is not None
    assert (parsed.serving.url, parsed.serving.key_header) == (GLOBAL, "x-api-key")
    assert list(parsed.serving.clouds) == [e.cloud for e in parsed.endpoints] == ["aws", "gcp"]
    assert [e.url for e in parsed.endpoints] == list(parsed.serving.clouds.values())
    assert (parsed.serving.clients, parsed.serving.failover_seconds) == (["web", "batch"], 90)
    assert parsed.api_keys == read


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("http://10.0.0.1:8501/v1/models/digits:predict", True),
        ("https://aws.serving.example.com/v1/models/digits:predict", True),
        ("https://127.0.0.1:8443/v1/models/digits:predict", True),  # a stand-in, a gateway on another port
        ("", True),  # no load-balancer address yet
        ("https://h/v1/models/Digits:predict", False),
        ("https://h:port/v1/models/digits:predict", False),
        ("ftp://h/v1/models/digits:predict", False),
    ],
)
def test_predict_urls_the_contract_takes(url: str, valid: bool) -> None:
    assert (re.match(outputs.PREDICT_URL, url) is not None) is valid
    endpoint = {"cloud": "aws", "url": url}
    if valid:
        assert outputs.Endpoint.model_validate(endpoint).url == url
    else:
        with pytest.raises(ValueError, match="url"):
            outputs.Endpoint.model_validate(endpoint)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://serving.example.com:8501/v1/models/digits:predict"}, "url"),
        ({"url": ""}, "url"),
        ({"clouds": {"aws": "http://10.0.0.1:8501/v1/models/digits:predict"}}, "clouds.aws"),
        ({"clouds": {"oci": GLOBAL}}, "clouds.oci"),
        ({"keyHeader": "authorization"}, "keyHeader"),
        ({"clients": []}, "clients"),
        ({"failoverSeconds": -1}, "failoverSeconds"),
    ],
)
def test_serving_refuses_what_the_gateway_does_not_offer(change: dict[str, object], field: str) -> None:
    doc = with_domain("[secret]")
    doc["serving"] = {**serving_entry(), **change}
    with pytest.raises(ValueError, match=re.escape(field)):
        outputs.StackOutputs.model_validate(doc)


def test_serving_and_api_keys_are_required_null_without_a_domain() -> None:
    """Like `dispatch`, they are always exported: a program that forgot one is caught."""
    doc = stand_in_outputs({"aws": ""})
    assert (doc["serving"], doc["apiKeys"]) == (None, None)
    for name in ("serving", "apiKeys"):
        with pytest.raises(ValueError, match=name):
            outputs.StackOutputs.model_validate({k: v for k, v in doc.items() if k != name})
