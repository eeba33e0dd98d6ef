"""The GCP fetcher through google-auth (ADC from a service account key whose token endpoint is the
stand-in's) and the discovery clients pointed at the stand-in by their `client_options` endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.config import StackConfig
from preflight.facts import GcpFacts, GcpProject, Name, Quota, Unreadable
from preflight.fetch import LoginError, gcp
from tests.preflight import gcp_api
from tests.preflight.good import stack
from tests.preflight.standins import StandIn, serving


@pytest.fixture
def world() -> gcp_api.GcpWorld:
    return gcp_api.GcpWorld()


@pytest.fixture
def google(world: gcp_api.GcpWorld) -> Iterator[StandIn]:
    with serving(gcp_api.routes(world)) as stand_in:
        yield stand_in


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, google: StandIn) -> None:
    monkeypatch.setenv(
        "GOOGLE_APPLICATION_CREDENTIALS", str(gcp_api.key_file(tmp_path, f"{google.url}/token"))
    )
    monkeypatch.setenv(gcp.ENDPOINT_ENV, google.url)


def with_bucket(cfg: StackConfig, name: str) -> StackConfig:
    assert cfg.gcp is not None
    return cfg.model_copy(update={"gcp": cfg.gcp.model_copy(update={"bucket_name": name})})


def fetch(cfg: StackConfig) -> GcpFacts:
    return gcp.fetch(gcp.login(), cfg)


@pytest.mark.usefixtures("signed_in")
def test_the_dev_stacks_facts(google: StandIn) -> None:
    facts = fetch(stack("dev"))
    assert facts.principal == gcp_api.DEPLOYER
    assert facts.project == GcpProject(gcp_api.NUMBER, "ACTIVE")
    assert facts.channel_versions == ("1.35.5-gke.1080000", "1.35.4-gke.1350000", "1.34.9-gke.1010000")
    assert facts.quotas == {
        "NVIDIA_T4_GPUS": Quota(4, 0),
        "PREEMPTIBLE_NVIDIA_T4_GPUS": Quota(2, 0),
        "CPUS": Quota(24, 2),
    }
    assert facts.project_quotas == {"GPUS_ALL_REGIONS": Quota(4, 0)}
    assert facts.accelerators == {
        "us-central1-a": frozenset({"nvidia-tesla-t4", "nvidia-l4", "nvidia-tesla-a100"})
    }
    assert facts.bucket == Name("free")
    assert facts.services == dict.fromkeys(
        ["serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com"], True
    )
    assert "GET /v1/projects/acme-gpu-platform-dev/locations/us-central1-a/serverConfig" in google.requests


@pytest.mark.usefixtures("signed_in")
def test_bucket_names_ours_and_someone_elses(world: gcp_api.GcpWorld) -> None:
    world.buckets = {"acme-ours-ml": gcp_api.NUMBER, "acme-theirs-ml": "999"}
    assert fetch(with_bucket(stack("dev"), "acme-ours-ml")).bucket == Name(
        "ours", f"in project {gcp_api.NUMBER}"
    )
    assert fetch(with_bucket(stack("dev"), "acme-theirs-ml")).bucket == Name(
        "taken", "readable, but in project 999"
    )
    assert fetch(with_bucket(stack("dev"), "someone-elses-ml")).bucket == Name(
        "taken", "buckets.get answers 403"
    )


@pytest.mark.usefixtures("signed_in")
def test_a_disabled_service_usage_api_is_read_from_its_error(world: gcp_api.GcpWorld) -> None:
    world.services["serviceusage.googleapis.com"] = "DISABLED"
    services = fetch(stack("dev")).services
    assert services["serviceusage.googleapis.com"] is False
    crm = services["cloudresourcemanager.googleapis.com"]
    assert isinstance(crm, Unreadable)
    assert crm.error.startswith("HTTP 403")


@pytest.mark.usefixtures("signed_in")
def test_a_project_the_credentials_cannot_read_is_unreadable() -> None:
    cfg = stack("dev")
    assert cfg.gcp is not None
    other = cfg.model_copy(update={"gcp": cfg.gcp.model_copy(update={"project": "someone-elses-project"})})
    project = fetch(other).project
    assert isinstance(project, Unreadable)
    assert project.permission == "resourcemanager.projects.get"


def test_refused_credentials_are_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, google: StandIn
) -> None:
    key = gcp_api.key_file(tmp_path, f"{google.url}/no-token-here")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    with pytest.raises(
        LoginError, match=r"^gcp: credentials refused \(.*\): run gcloud auth application-default"
    ):
        gcp.login()


def test_no_credentials_is_one_line_naming_the_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # gcloud's config directory, where ADC lives
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # google-auth: do not probe for a GCE metadata server
    with pytest.raises(
        LoginError, match=r"^gcp: no credentials found: run gcloud auth application-default login"
    ):
        gcp.login()
