"""Kubernetes versions as data: every minor dated and sourced, what a cloud creates on a given day, the
EKS pins per minor, and config validation refusing a minor on the day a cloud stops creating it. The
suite runs as of a pinned day (tests/conftest.py), so none of this changes with the calendar."""

from __future__ import annotations

import datetime
import re

import pytest

from infra import config, versions
from infra.catalog import CLOUDS
from plan import stackfile
from tests.conftest import AS_OF
from tests.plans import ROOT, merged, stack_values

TODAY = datetime.date.fromisoformat(AS_OF)


def problems(stack: str, overrides: dict[str, object], on: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv(versions.AS_OF_ENV, on)
    files = stackfile.load(ROOT, f"{stack}-test", overrides=merged(stack_values(stack), overrides))
    try:
        config.parse(config.read_raw(files.config.get), stack=stack)
    except config.ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_minor_is_dated_in_order_and_sourced(cloud: str) -> None:
    for minor, s in versions.SUPPORT[cloud].items():  # type: ignore[index]
        assert re.fullmatch(r"1\.[0-9]{2}", minor)
        assert s.released < s.standard_end
        assert s.extended_end is None or s.standard_end < s.extended_end
        assert s.source


def test_the_stacks_minor_is_one_every_cloud_creates_today() -> None:
    """1.35: created in standard support by all three today; 1.34 left EKS on 2026-12-02, AKS on 11-30."""
    for cloud in CLOUDS:
        assert "1.35" in versions.creatable(cloud, TODAY)
        assert "1.34" not in versions.creatable(cloud, TODAY)
    for stack in ("dev", "prod"):
        values = stack_values(stack)
        assert {values[f"gpu-platform:{c}"]["kubernetesVersion"] for c in CLOUDS} == {"1.35"}


def test_a_retired_minor_fails_config_naming_key_cloud_and_date(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems("dev", {"gpu-platform:aws": {"kubernetesVersion": "1.33"}}, AS_OF, monkeypatch)
    assert found == [
        'gpu-platform:aws.kubernetesVersion: got "1.33"; expected a minor aws supports on 2026-12-05: '
        "1.33 left standard support on 2026-07-29 (aws offers 1.35, 1.36)"
    ]


def test_validation_follows_the_day_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed stacks pass today and fail once their minor leaves EKS's and AKS's standard support."""
    assert problems("prod", {}, AS_OF, monkeypatch) == []
    later = problems("prod", {}, "2027-04-01", monkeypatch)
    assert [p.split(": got")[0] for p in later] == [
        "gpu-platform:aws.kubernetesVersion",
        "gpu-platform:azure.kubernetesVersion",
    ]


def test_unknown_and_unreleased_minors_are_refused() -> None:
    assert "a minor gcp offers in standard support on 2026-12-05: 1.35, 1.36" in str(
        versions.refusal("gcp", "1.40", TODAY)
    )
    assert "gcp releases 1.36 on 2026-06-09" in str(
        versions.refusal("gcp", "1.36", datetime.date(2026, 1, 1))
    )
    assert versions.refusal("azure", "1.36", TODAY) is None


@pytest.mark.parametrize("minor", list(versions.EKS_PINS))
def test_eks_pins_match_their_minor(minor: str) -> None:
    pins = versions.EKS_PINS[minor]
    pattern = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$")
    for addon in (
        pins.vpc_cni,
        pins.coredns,
        pins.kube_proxy,
        pins.eks_pod_identity_agent,
        pins.metrics_server,
    ):
        assert pattern.match(addon), addon
    assert pins.kube_proxy.startswith(f"v{minor}.")
    assert re.fullmatch(
        rf"registry\.k8s\.io/autoscaling/cluster-autoscaler:v{re.escape(minor)}\.[0-9]+@sha256:[0-9a-f]{{64}}",
        pins.cluster_autoscaler,
    )
    assert minor in versions.creatable("aws", TODAY)


def test_an_autoscaler_of_another_minor_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    image = "registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.1@sha256:" + "ab" * 32
    found = problems("dev", {"gpu-platform:aws": {"clusterAutoscalerImage": image}}, AS_OF, monkeypatch)
    assert found == [
        f'gpu-platform:aws.clusterAutoscalerImage: got "{image}"; expected a Cluster Autoscaler release of '
        "Kubernetes 1.35 (v1.35.x)"
    ]


def test_a_minor_without_recorded_eks_pins_needs_them_in_config(monkeypatch: pytest.MonkeyPatch) -> None:
    found = problems("dev", {"gpu-platform:aws": {"kubernetesVersion": "1.36"}}, AS_OF, monkeypatch)
    assert found == [
        "gpu-platform:aws.addons: got null; expected a value: infra/versions.py records addons for 1.35 only",
        "gpu-platform:aws.clusterAutoscalerImage: got null; expected a value: infra/versions.py records "
        "clusterAutoscalerImage for 1.35 only",
    ]
