"""ND-01..ND-10: node metadata, shielding, accounts, images, public IPs, disk encryption, GPU taints,
drivers and Spot placement, on the pools of all three clouds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, case

GKE_GPU_CONFIG = "nodeConfig.guestAccelerators[0].gpuDriverInstallationConfig"
MUTATIONS = [
    case("aws", "ND-01", ("gpu-lt", "metadataOptions.httpTokens", "optional")),
    case("aws", "ND-01", ("gpu-lt", "metadataOptions.httpTokens", DELETE)),
    case("aws", "ND-01", ("gpu-lt", "metadataOptions.httpPutResponseHopLimit", 2)),
    case("aws", "ND-01", ("gpu-lt", "metadataOptions.httpPutResponseHopLimit", DELETE)),
    case("aws", "ND-01", ("system-lt", "metadataOptions", DELETE)),
    case("aws", "ND-01", ("eks-train", "launchTemplate", DELETE)),
    case("aws", "ND-01", ("gpu-lt", REMOVE, None), on="eks-train"),
    case("gcp", "ND-02", ("gke-train", "nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA")),
    case("gcp", "ND-02", ("gke-system", "nodeConfig.workloadMetadataConfig", DELETE)),
    case("gcp", "ND-03", ("gke", "enableShieldedNodes", False)),
    case("gcp", "ND-03", ("gke", "enableShieldedNodes", DELETE)),
    case("gcp", "ND-03", ("gke-train", "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False)),
    case("gcp", "ND-03", ("gke-train", "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring", False)),
    case("gcp", "ND-03", ("gke-system", "nodeConfig.shieldedInstanceConfig", DELETE)),
    case("gcp", "ND-04", ("gke-system", "nodeConfig.serviceAccount", DELETE)),
    case("gcp", "ND-04", ("gke-system", "nodeConfig.serviceAccount", "default")),
    case(
        "gcp",
        "ND-04",
        ("gke-train", "nodeConfig.serviceAccount", "123-compute@developer.gserviceaccount.com"),
    ),
    case(
        "gcp",
        "ND-04",
        ("gke-train", "nodeConfig.oauthScopes", ["https://www.googleapis.com/auth/devstorage.read_only"]),
    ),
    case("gcp", "ND-04", ("gke-train", "nodeConfig.oauthScopes", DELETE)),
    case("gcp", "ND-04", ("gke", "removeDefaultNodePool", False)),
    case("gcp", "ND-04", ("gke", "removeDefaultNodePool", DELETE)),
    case("gcp", "ND-05", ("gke-train", "nodeConfig.imageType", "UBUNTU_CONTAINERD")),
    case("gcp", "ND-05", ("gke-train", "nodeConfig.imageType", DELETE)),
    case("gcp", "ND-05", ("gke-system", "management.autoRepair", False)),
    case("gcp", "ND-05", ("gke-system", "management.autoUpgrade", False)),
    case("gcp", "ND-05", ("gke-system", "management", DELETE)),
    case("azure", "ND-06", ("aks", "agentPoolProfiles[0].enableNodePublicIP", True)),
    case("azure", "ND-06", ("aks-train", "enableNodePublicIP", True)),
    case("aws", "ND-06", ("eks-train", "remoteAccess", {"ec2SshKey": "admin"})),
    case("aws", "ND-06", ("private-a", "mapPublicIpOnLaunch", True)),
    case("aws", "ND-06", ("gpu-lt", "networkInterfaces", [{"associatePublicIpAddress": "true"}])),
    case("aws", "ND-07", ("gpu-lt", "blockDeviceMappings[0].ebs.encrypted", "false")),
    case("aws", "ND-07", ("gpu-lt", "blockDeviceMappings[0].ebs.encrypted", DELETE)),
    case("aws", "ND-07", ("system-lt", "blockDeviceMappings", DELETE)),
    case("gcp", "ND-07", ("gke-train", "nodeConfig.bootDiskKmsKey", DELETE)),
    case("azure", "ND-07", ("aks", "agentPoolProfiles[0].enableEncryptionAtHost", False)),
    case("azure", "ND-07", ("aks-train", "enableEncryptionAtHost", False)),
    case("azure", "ND-07", ("aks-train", "enableEncryptionAtHost", DELETE)),
    case("aws", "ND-08", ("eks-train", "taints", DELETE)),
    case("aws", "ND-08", ("eks-train", "taints[0].effect", "PREFER_NO_SCHEDULE")),
    case("aws", "ND-08", ("eks-train", "taints[0].key", "gpu")),
    case("azure", "ND-08", ("aks-train", "nodeTaints", DELETE)),
    case("azure", "ND-08", ("aks-train", "nodeTaints", ["nvidia.com/gpu=present:PreferNoSchedule"])),
    # GKE taints GPU nodes itself only while the cluster has a pool without GPUs.
    case("gcp", "ND-08", ("gke-system", REMOVE, None), on="gke-train"),
    case("gcp", "ND-09", ("gke-train", f"{GKE_GPU_CONFIG}.gpuDriverVersion", "INSTALLATION_DISABLED")),
    case("gcp", "ND-09", ("gke-train", GKE_GPU_CONFIG, DELETE)),
    case("aws", "ND-09", ("eks-train", "amiType", "AL2023_x86_64_STANDARD")),
    case("aws", "ND-09", ("eks-train", "amiType", DELETE)),
    case("aws", "ND-10", ("system", "capacityType", "SPOT")),
    case("gcp", "ND-10", ("gke-system", "nodeConfig.spot", True)),
    case("gcp", "ND-10", ("gke-system", "nodeConfig.preemptible", True)),
    case("azure", "ND-10", ("aks-train", "scaleSetEvictionPolicy", "Deallocate")),
    case("azure", "ND-10", ("aks-train", "scaleSetEvictionPolicy", DELETE)),
    case("azure", "ND-10", ("aks", "agentPoolProfiles[0].scaleSetPriority", "Spot")),
    case("azure", "ND-10", ("aks", "agentPoolProfiles[0].nodeTaints", DELETE)),
]


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)
