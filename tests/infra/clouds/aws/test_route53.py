"""The serving names in Route 53: each cloud's own name always answers; the global name answers with the
clouds whose gateway serves the model, each record tied to its cloud's health check."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pytest

from infra.clouds.aws import route53
from plan import stackfile
from plan.runner import Plan, PlannedResource, run
from tests.infra.clouds.aws.helpers import stack_config
from tests.infra.clouds.aws.test_dns01 import DOMAIN, SERVING, ZONE
from tests.infra.clouds.federated import one_named
from tests.plans import ROOT, merged, stack_values

PROGRAM = Path(__file__).parent / "route53_program"
CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
CLOUDS = ("aws", "gcp", "azure")


@functools.cache
def records_plan() -> Plan:
    values = merged(stack_values("prod"), {"gpu-platform:serving": SERVING})
    files = stackfile.load(ROOT, "prod-test", overrides=values)
    return run(dataclasses.replace(files, program_dir=PROGRAM), "prod")


def addresses(cloud: str) -> list[str]:
    found: list[str] = records_plan().outputs["addresses"][cloud]
    return found


def check(cloud: str) -> PlannedResource:
    return one_named(records_plan(), CHECK, f"prod-aws-records-{cloud}-check")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_each_cloud_is_probed_on_its_own_name_for_the_model_status(cloud: str) -> None:
    model = stack_config("prod").serving.model_name
    inputs = check(cloud).inputs
    assert {k: inputs[k] for k in ("type", "fqdn", "port", "resourcePath", "searchString", "enableSni")} == {
        "type": "HTTPS_STR_MATCH",
        "fqdn": f"{cloud}.{DOMAIN}",
        "port": 443,
        "resourcePath": f"/v1/models/{model}",
        "searchString": '"AVAILABLE"',
        "enableSni": True,
    }
    assert (inputs["requestInterval"], inputs["failureThreshold"]) == (10, 3)
    assert inputs["tags"]["Name"] == f"{cloud}.{DOMAIN}"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_each_cloud_s_own_name_answers_whatever_its_health(cloud: str) -> None:
    record = one_named(records_plan(), RECORD, f"prod-aws-records-{cloud}")
    assert record.inputs == {
        "zoneId": ZONE,
        "name": f"{cloud}.{DOMAIN}",
        "type": "A",
        "ttl": 60,
        "records": addresses(cloud),
    }


def test_the_global_name_has_one_record_per_cloud_tied_to_its_health_check() -> None:
    plan = records_plan()
    globals_ = [r for r in plan.of_type(RECORD) if r.inputs["name"] == DOMAIN and r.inputs["type"] == "A"]
    assert sorted(r.inputs["setIdentifier"] for r in globals_) == sorted(CLOUDS)
    for record in globals_:
        cloud = record.inputs["setIdentifier"]
        assert record.inputs == {
            "zoneId": ZONE,
            "name": DOMAIN,
            "type": "A",
            "ttl": 60,
            "records": addresses(cloud),
            "setIdentifier": cloud,
            "multivalueAnswerRoutingPolicy": True,
            "healthCheckId": f"{check(cloud).name}-id",
        }
        assert check(cloud).urn in record.depends_on


def test_a_failing_cloud_leaves_the_global_name_within_96_seconds() -> None:
    """3 probes 10 s apart, the last failing after up to 6 s, then the records' TTL."""
    assert route53.DETECTION_SECONDS == 36
    assert route53.FAILOVER_SECONDS == 96


def test_only_lets_encrypt_issues_by_dns01_and_no_wildcard() -> None:
    """Every cluster may write `<domain>`'s challenge, which is `*.<domain>`'s too: CAA refuses wildcards."""
    (caa,) = [r for r in records_plan().of_type(RECORD) if r.inputs["type"] == "CAA"]
    assert caa.inputs == {
        "zoneId": ZONE,
        "name": DOMAIN,
        "type": "CAA",
        "ttl": 3600,
        "records": ['0 issue "letsencrypt.org;validationmethods=dns-01"', '0 issuewild ";"'],
    }
