"""Kubernetes minors per cloud, with the dates that decide whether a cluster can be created on them, and
the EKS add-ons and Cluster Autoscaler image for each minor.

A minor is creatable on a day when the cloud has released it and it is still in standard support: past
that, EKS refuses a cluster with `upgradePolicy.supportType: STANDARD` (or bills extended support), AKS no
longer creates it except under LTS, and GKE's release channels drop it. Config validation refuses such a
minor; the offline plan warns `WARN_DAYS` ahead. Dates are as the clouds publish them; AKS publishes months,
recorded as their last day. Update these tables when a cloud publishes a new minor (sources below), and
check them against the clouds at deploy time with `python -m preflight`.

`GPU_PLATFORM_AS_OF=YYYY-MM-DD` sets the day checked (default: today), so the tests and a "what breaks on
that date" plan do not depend on the calendar.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

from infra.catalog import Cloud

AS_OF_ENV = "GPU_PLATFORM_AS_OF"
WARN_DAYS = 90

_EKS = "docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html (calendar, read 2026-10)"
_AKS = "learn.microsoft.com/azure/aks/supported-kubernetes-versions (release calendar, 2026-08-05)"
_GKE = "cloud.google.com/kubernetes-engine/docs/release-schedule (via endoflife.date, 2026-08-21)"


@dataclass(frozen=True)
class Support:
    released: datetime.date
    """When the cloud first let a cluster be created on the minor (GKE: in the Regular channel)."""
    standard_end: datetime.date
    extended_end: datetime.date | None
    """End of extended support (EKS) or of LTS (AKS); None where not published."""
    source: str


def _d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


SUPPORT: dict[Cloud, dict[str, Support]] = {
    "aws": {
        "1.33": Support(_d("2025-05-29"), _d("2026-07-29"), _d("2027-07-29"), _EKS),
        "1.34": Support(_d("2025-10-02"), _d("2026-12-02"), _d("2027-12-02"), _EKS),
        "1.35": Support(_d("2026-01-27"), _d("2027-03-27"), _d("2028-03-27"), _EKS),
        "1.36": Support(_d("2026-06-02"), _d("2027-08-02"), _d("2028-08-02"), _EKS),
    },
    "gcp": {
        "1.33": Support(_d("2025-06-03"), _d("2026-08-03"), None, _GKE),
        "1.34": Support(_d("2025-09-30"), _d("2026-10-01"), None, _GKE),
        "1.35": Support(_d("2026-02-11"), _d("2027-04-11"), None, _GKE),
        "1.36": Support(_d("2026-06-09"), _d("2027-08-09"), None, _GKE),
    },
    "azure": {
        "1.33": Support(_d("2025-06-30"), _d("2026-07-31"), _d("2027-07-31"), _AKS),
        "1.34": Support(_d("2025-11-30"), _d("2026-11-30"), _d("2027-11-30"), _AKS),
        "1.35": Support(_d("2026-03-05"), _d("2027-03-31"), _d("2028-03-31"), _AKS),
        "1.36": Support(_d("2026-06-30"), _d("2027-06-30"), _d("2028-06-30"), _AKS),
    },
}
"""GKE's 1.36 is in the Regular channel but had not reached Stable when last read (release notes, 2026-09):
a Stable cluster stays on 1.35 until it does (`python -m preflight` checks the stack's channel)."""


@dataclass(frozen=True)
class EksPins:
    """What an EKS cluster of one minor runs besides the control plane, pinned."""

    vpc_cni: str
    coredns: str
    kube_proxy: str
    eks_pod_identity_agent: str
    metrics_server: str
    cluster_autoscaler: str
    """The Cluster Autoscaler release of the same minor (its compatibility rule), by image index digest."""
    source: str


EKS_PINS: dict[str, EksPins] = {
    "1.35": EksPins(
        vpc_cni="v1.21.1-eksbuild.3",
        coredns="v1.14.3-eksbuild.3",
        kube_proxy="v1.35.3-eksbuild.13",
        eks_pod_identity_agent="v1.3.10-eksbuild.3",
        metrics_server="v0.9.0-eksbuild.5",
        cluster_autoscaler=(
            "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2"
            "@sha256:aac369dc283927a623deb1af54696efcc722ae79255aa07788422e495bab887d"
        ),
        source=(
            "coredns and kube-proxy: the EKS user guide's per-version tables (managing-coredns, "
            "managing-kube-proxy); vpc-cni, the Pod Identity agent and metrics-server (a community add-on "
            "with no published table): versions other projects pin for 1.35, which `preflight` checks "
            "against `aws eks describe-addon-versions`; the autoscaler's index digest as eight projects pin "
            "it (cluster-autoscaler-1.35.2, 2026-07-22)"
        ),
    ),
}


def as_of() -> datetime.date:
    """The day the checks run for: `GPU_PLATFORM_AS_OF` if set, else today."""
    value = os.environ.get(AS_OF_ENV)
    return datetime.date.fromisoformat(value) if value else datetime.date.today()


def creatable(cloud: Cloud, on: datetime.date) -> list[str]:
    """The minors `cloud` creates clusters on, in standard support, on day `on`."""
    return [m for m, s in SUPPORT[cloud].items() if s.released <= on < s.standard_end]


def refusal(cloud: Cloud, minor: str, on: datetime.date) -> str | None:
    """Why `cloud` would not create a cluster on `minor` on day `on`; None when it would."""
    support = SUPPORT[cloud].get(minor)
    offered = ", ".join(creatable(cloud, on)) or "none recorded"
    if support is None:
        return f"a minor {cloud} offers in standard support on {on}: {offered} (infra/versions.py)"
    if on < support.released:
        return f"a released minor: {cloud} releases {minor} on {support.released}; offered on {on}: {offered}"
    if on >= support.standard_end:
        return (
            f"a minor {cloud} supports on {on}: {minor} left standard support on {support.standard_end} "
            f"({cloud} offers {offered})"
        )
    return None


def days_left(cloud: Cloud, minor: str, on: datetime.date) -> int | None:
    support = SUPPORT[cloud].get(minor)
    return (support.standard_end - on).days if support else None
