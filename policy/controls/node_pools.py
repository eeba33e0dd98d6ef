"""Node controls, part two: encrypted node disks (ND-07), GPU pools isolated by a taint (ND-08), GPU
drivers managed by the cloud (ND-09), and spot capacity kept to GPU pools (ND-10)."""

from __future__ import annotations

from collections.abc import Iterator

from policy.model import pools
from policy.model.control import control, resource_rule, stack_rule
from policy.model.pools import NVIDIA_AMI, Pool, aws_gpu
from policy.model.props import Props, as_list, equals, get, is_true, present, unknown
from policy.model.stack import Stack, Violation

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GPU_TAINT_KEYS = ("nvidia.com/gpu", "sku")
"""`nvidia.com/gpu` everywhere; AKS documents `sku=gpu` for its GPU pools, accepted too."""
DRIVER_VERSIONS = ("DEFAULT", "LATEST")
CRITICAL_ADDONS = "CriticalAddonsOnly"

ND07 = control(
    "ND-07",
    "Node disks encrypted",
    "EKS launch templates encrypt every EBS volume; GKE pools encrypt boot disks with a Cloud KMS key; AKS "
    "pools use encryption at host or a disk encryption set.",
)
ND08 = control(
    "ND-08",
    "GPU pool isolated by a taint",
    "Every GPU pool carries a NoSchedule nvidia.com/gpu taint (GKE adds it itself when the cluster has a "
    "non-GPU pool), so only pods that tolerate it land on GPU nodes.",
)
ND09 = control(
    "ND-09",
    "GPU drivers managed",
    "GKE installs the GPU driver (gpuDriverVersion DEFAULT or LATEST); EKS GPU node groups use an "
    "NVIDIA AMI.",
)
ND10 = control(
    "ND-10",
    "Spot only on GPU pools; system pool on-demand and dedicated",
    "Spot capacity only on GPU pools; AKS Spot pools evict by deleting; the AKS system pool is on-demand and "
    "tainted CriticalAddonsOnly.",
)


@resource_rule(ND07, LAUNCH_TEMPLATE, pools.GKE_POOL, pools.AKS_CLUSTER)
def disks_encrypted(type_: str, props: Props) -> Iterator[str]:
    token = type_.lower()
    if token == LAUNCH_TEMPLATE.lower():
        mappings = as_list(props.get("blockDeviceMappings"))
        if not mappings and not unknown(props.get("blockDeviceMappings")):
            yield "blockDeviceMappings must declare the root volume with ebs.encrypted"
        for m in mappings:
            if not is_true(get(m, "ebs.encrypted")):
                yield f"blockDeviceMappings {m.get('deviceName', '?')}: ebs.encrypted must be true"
    elif token == pools.GKE_POOL.lower():
        if not present(get(props, "nodeConfig.bootDiskKmsKey")):
            yield "nodeConfig.bootDiskKmsKey must name a Cloud KMS key"
    elif not present(props.get("diskEncryptionSetID")):
        for profile in as_list(props.get("agentPoolProfiles")):
            if not is_true(profile.get("enableEncryptionAtHost")):
                yield (
                    f"agentPoolProfiles '{profile.get('name', '?')}' needs enableEncryptionAtHost "
                    "(or the cluster a diskEncryptionSetID)"
                )


@stack_rule(ND07)
def aks_pools_encrypted(stack: Stack) -> list[Violation]:
    found = []
    for pool in stack.of(pools.AKS_POOL):
        clusters = stack.deps(pool, pools.AKS_CLUSTER, via="resourceName")
        if any(present(c.props.get("diskEncryptionSetID")) for c in clusters):
            continue
        if not is_true(pool.props.get("enableEncryptionAtHost")):
            found.append(
                pool.violation(
                    ND07, "enableEncryptionAtHost must be true (or the cluster a diskEncryptionSetID)"
                )
            )
    return found


def _isolated(pool: Pool) -> bool:
    return any(t.key in GPU_TAINT_KEYS and t.effect == "NoSchedule" for t in pool.taints)


@stack_rule(ND08)
def gpu_pools_tainted(stack: Stack) -> list[Violation]:
    found = []
    for pool in pools.pools(stack):
        if pool.gpu and not _isolated(pool):
            hint = " (or give the cluster a non-GPU pool, so GKE adds it)" if pool.cloud == "gcp" else ""
            found.append(
                pool.resource.violation(
                    ND08, f"{pool.label} has GPUs but no NoSchedule nvidia.com/gpu taint{hint}"
                )
            )
    return found


@resource_rule(ND09, pools.GKE_POOL, pools.EKS_NODE_GROUP)
def gpu_drivers(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == pools.GKE_POOL.lower():
        for acc in as_list(get(props, "nodeConfig.guestAccelerators")):
            version = get(acc, "gpuDriverInstallationConfig.gpuDriverVersion")
            if not equals(version, *DRIVER_VERSIONS):
                yield (
                    f"guestAccelerators {acc.get('type', '?')}: gpuDriverInstallationConfig."
                    f"gpuDriverVersion must be DEFAULT or LATEST, got {version!r}"
                )
    elif aws_gpu(props):
        ami = props.get("amiType")
        if not unknown(ami) and not NVIDIA_AMI.search(str(ami or "")):
            yield f"a GPU node group needs an NVIDIA AMI type (AL2023_x86_64_NVIDIA), got {ami!r}"


def _spot_violations(pool: Pool) -> Iterator[str]:
    if pool.spot and not pool.gpu:
        yield f"{pool.label} is a non-GPU pool on Spot; system and general pools must be on-demand"
    if pool.cloud != "azure":
        return
    if pool.spot and pool.props.get("scaleSetEvictionPolicy") != "Delete":
        yield f'{pool.label} is Spot; scaleSetEvictionPolicy must be "Delete"'
    if pool.system and not any(t.key == CRITICAL_ADDONS for t in pool.taints):
        yield f"{pool.label} is the system pool; nodeTaints must include {CRITICAL_ADDONS}=true:NoSchedule"


@stack_rule(ND10)
def spot_placement(stack: Stack) -> list[Violation]:
    return [
        pool.resource.violation(ND10, message)
        for pool in pools.pools(stack)
        for message in _spot_violations(pool)
    ]
