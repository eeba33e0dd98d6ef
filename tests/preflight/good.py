"""Stack configs as the CLI loads them, and facts that satisfy every check for them.

Each pure check test starts from these facts and breaks exactly one (`dataclasses.replace`), so a FAIL or
WARN row is shown to come from that fact alone.
"""

from __future__ import annotations

import functools
from datetime import date

from infra import config
from infra.config import StackConfig
from infra.config.aws import EksAddons
from plan import stackfile
from preflight.checks.aws import addon_name, gpu_quota
from preflight.checks.azure import PROVIDERS, pools
from preflight.checks.gcp import ALL_REGIONS, GPU_QUOTA_METRICS, PREREQUISITE_APIS, pool_zones
from preflight.facts import (
    AksVersion,
    AwsFacts,
    AzureFacts,
    AzureSku,
    AzureSubscription,
    EksVersion,
    ElasticIps,
    GcpFacts,
    GcpProject,
    LocalFacts,
    Name,
    Quota,
    ToolRun,
)
from preflight.pools import gpu_machines
from tests.plans import ROOT

TODAY = date(2026, 12, 5)
"""The date the date-dependent checks are pinned to."""
EGRESS = "203.0.113.7"
"""Inside dev's authorizedCidrs (203.0.113.0/24) on every cloud."""


@functools.cache
def stack(name: str) -> StackConfig:
    files = stackfile.load(ROOT, name)
    return config.parse(config.read_raw(files.config.get), stack=name)


def aws_facts(cfg: StackConfig) -> AwsFacts:
    aws = cfg.aws
    assert aws is not None
    machines = gpu_machines(cfg, "aws")
    types = [aws.system_pool.machine_type, *(m.offer.machine_type for m in machines)]
    account = aws.deployer_principal_arn.split(":")[4]
    return AwsFacts(
        account=account,
        caller_arn=f"arn:aws:sts::{account}:assumed-role/gpu-platform-deployer/alice",
        principal_arn=aws.deployer_principal_arn,
        cluster_version=EksVersion("STANDARD_SUPPORT", date(2027, 7, 29)),
        addon_versions={
            addon_name(f): ("v9.9.9-eksbuild.1", getattr(aws.pinned_addons(), f))
            for f in EksAddons.model_fields
        },
        quotas={gpu_quota(m)[1]: Quota(1000) for m in machines},
        address_quota=Quota(10),
        addresses=ElasticIps(allocated=0, ours=0),
        cluster_zones=tuple(f"{aws.region}{z}" for z in "abc"[: aws.availability_zones]),
        offerings={t: tuple(f"{aws.region}{z}" for z in "abcd") for t in types},
        bucket=Name("free"),
        autoscaling_role=True,
    )


def gcp_facts(cfg: StackConfig) -> GcpFacts:
    gcp = cfg.gcp
    assert gcp is not None
    machines = gpu_machines(cfg, "gcp")
    metrics = {GPU_QUOTA_METRICS[m.offer.accelerator or ""] for m in machines}
    quotas = {name: Quota(64, 1) for metric in metrics for name in (metric, f"PREEMPTIBLE_{metric}")}
    zones = {z for m in machines for z in pool_zones(m, gcp)}
    return GcpFacts(
        principal="deployer@acme.example",
        project=GcpProject("123456789012", "ACTIVE"),
        channel_versions=(f"{gcp.kubernetes_version}.5-gke.1080000", "1.36.1-gke.1000000"),
        quotas=quotas,
        project_quotas={ALL_REGIONS: Quota(64)},
        accelerators={z: frozenset(m.offer.accelerator or "" for m in machines) for z in zones},
        bucket=Name("free"),
        services=dict.fromkeys(PREREQUISITE_APIS, True),
    )


SKU_FAMILIES = {
    "Standard_B2s": "standardBSFamily",
    "Standard_D4s_v5": "standardDSv5Family",
    "Standard_NC4as_T4_v3": "standardNCASv3_T4Family",
    "Standard_NC24ads_A100_v4": "standardNCADSA100v4Family",
}


def azure_facts(cfg: StackConfig) -> AzureFacts:
    azure = cfg.azure
    assert azure is not None
    sizes = {p.size for p in pools(cfg, azure)}
    return AzureFacts(
        principal="deployer@acme.example (object id 5)",
        tenant=azure.tenant_id,
        subscription=AzureSubscription("sub-1", "gpu-platform", "Enabled", azure.tenant_id),
        kubernetes_versions={azure.kubernetes_version: AksVersion(False, ("KubernetesOfficial",))},
        skus={
            s: AzureSku(SKU_FAMILIES[s], ("1", "2", "3"), (), None, encryption_at_host=True) for s in sizes
        },
        usages={**{f: Quota(200, 0) for f in SKU_FAMILIES.values()}, "lowPriorityCores": Quota(100, 0)},
        encryption_at_host_feature="Registered",
        providers=dict.fromkeys(PROVIDERS, "Registered"),
        names=dict.fromkeys(("storageAccountName", "registryName", "keyVaultName"), Name("free")),
    )


def local_facts() -> LocalFacts:
    return LocalFacts(
        egress_ip=EGRESS,
        tools={
            "aws": ToolRun("/usr/bin/aws", 0, "aws-cli/2.22.0 Python/3.12.6 Linux/6.8"),
            "gke-gcloud-auth-plugin": ToolRun("/usr/bin/gke-gcloud-auth-plugin", 0, "Kubernetes v1.30.0"),
            "kubelogin": ToolRun("/usr/bin/kubelogin", 0, "kubelogin version"),
            "docker": ToolRun("/usr/bin/docker", 0, "27.3.1"),
        },
    )
