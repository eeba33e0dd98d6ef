"""ND-01..ND-10: node metadata, shielding, accounts, images, public IPs, disk encryption, GPU taints,
drivers and Spot placement, on the pools of all three clouds."""

from __future__ import annotations

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import Change, assert_breaks, case, delete_key, remove_resource, set_key

GKE_GPU_CONFIG = "nodeConfig.guestAccelerators[0].gpuDriverInstallationConfig"
MUTATIONS = [
    case("aws", "ND-01", set_key("gpu-lt", "metadataOptions.httpTokens", "optional")),
    case("aws", "ND-01", delete_key("gpu-lt", "metadataOptions.httpTokens")),
    case("aws", "ND-01", set_key("gpu-lt", "metadataOptions.httpPutResponseHopLimit", 2)),
    case("aws", "ND-01", delete_key("gpu-lt", "metadataOptions.httpPutResponseHopLimit")),
    case("aws", "ND-01", delete_key("system-lt", "metadataOptions")),
    case("aws", "ND-01", delete_key("eks-train", "launchTemplate")),
    case("aws", "ND-01", remove_resource("gpu-lt"), on="eks-train"),
    case("gcp", "ND-02", set_key("gke-train", "nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA")),
    case("gcp", "ND-02", delete_key("gke-system", "nodeConfig.workloadMetadataConfig")),
    case("gcp", "ND-03", set_key("gke", "enableShieldedNodes", False)),
    case("gcp", "ND-03", delete_key("gke", "enableShieldedNodes")),
    case("gcp", "ND-03", set_key("gke-train", "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False)),
    case(
        "gcp",
        "ND-03",
        set_key("gke-train", "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring", False),
    ),
    case("gcp", "ND-03", delete_key("gke-system", "nodeConfig.shieldedInstanceConfig")),
    case("gcp", "ND-04", delete_key("gke-system", "nodeConfig.serviceAccount")),
    case("gcp", "ND-04", set_key("gke-system", "nodeConfig.serviceAccount", "default")),
    case(
        "gcp",
        "ND-04",
        set_key("gke-train", "nodeConfig.serviceAccount", "123-compute@developer.gserviceaccount.com"),
    ),
    case(
        "gcp",
        "ND-04",
        set_key(
            "gke-train", "nodeConfig.oauthScopes", ["https://www.googleapis.com/auth/devstorage.read_only"]
        ),
    ),
    case("gcp", "ND-04", delete_key("gke-train", "nodeConfig.oauthScopes")),
    case("gcp", "ND-04", set_key("gke", "removeDefaultNodePool", False)),
    case("gcp", "ND-04", delete_key("gke", "removeDefaultNodePool")),
    case("gcp", "ND-05", set_key("gke-train", "nodeConfig.imageType", "UBUNTU_CONTAINERD")),
    case("gcp", "ND-05", delete_key("gke-train", "nodeConfig.imageType")),
    case("gcp", "ND-05", set_key("gke-system", "management.autoRepair", False)),
    case("gcp", "ND-05", set_key("gke-system", "management.autoUpgrade", False)),
    case("gcp", "ND-05", delete_key("gke-system", "management")),
    case("azure", "ND-06", set_key("aks", "agentPoolProfiles[0].enableNodePublicIP", True)),
    case("azure", "ND-06", set_key("aks-train", "enableNodePublicIP", True)),
    case("aws", "ND-06", set_key("eks-train", "remoteAccess", {"ec2SshKey": "admin"})),
    case("aws", "ND-06", set_key("private-a", "mapPublicIpOnLaunch", True)),
    case("aws", "ND-06", set_key("gpu-lt", "networkInterfaces", [{"associatePublicIpAddress": "true"}])),
    case("aws", "ND-07", set_key("gpu-lt", "blockDeviceMappings[0].ebs.encrypted", "false")),
    case("aws", "ND-07", delete_key("gpu-lt", "blockDeviceMappings[0].ebs.encrypted")),
    case("aws", "ND-07", delete_key("system-lt", "blockDeviceMappings")),
    case("gcp", "ND-07", delete_key("gke-train", "nodeConfig.bootDiskKmsKey")),
    case("azure", "ND-07", set_key("aks", "agentPoolProfiles[0].enableEncryptionAtHost", False)),
    case("azure", "ND-07", set_key("aks-train", "enableEncryptionAtHost", False)),
    case("azure", "ND-07", delete_key("aks-train", "enableEncryptionAtHost")),
    case("aws", "ND-08", delete_key("eks-train", "taints")),
    case("aws", "ND-08", set_key("eks-train", "taints[0].effect", "PREFER_NO_SCHEDULE")),
    case("aws", "ND-08", set_key("eks-train", "taints[0].key", "gpu")),
    case("azure", "ND-08", delete_key("aks-train", "nodeTaints")),
    case("azure", "ND-08", set_key("aks-train", "nodeTaints", ["nvidia.com/gpu=present:PreferNoSchedule"])),
    # GKE taints GPU nodes itself only while the cluster has a pool without GPUs.
    case("gcp", "ND-08", remove_resource("gke-system"), on="gke-train"),
    case("gcp", "ND-09", set_key("gke-train", f"{GKE_GPU_CONFIG}.gpuDriverVersion", "INSTALLATION_DISABLED")),
    case("gcp", "ND-09", delete_key("gke-train", GKE_GPU_CONFIG)),
    case("aws", "ND-09", set_key("eks-train", "amiType", "AL2023_x86_64_STANDARD")),
    case("aws", "ND-09", delete_key("eks-train", "amiType")),
    case("aws", "ND-10", set_key("system", "capacityType", "SPOT")),
    case("gcp", "ND-10", set_key("gke-system", "nodeConfig.spot", True)),
    case("gcp", "ND-10", set_key("gke-system", "nodeConfig.preemptible", True)),
    case("azure", "ND-10", set_key("aks-train", "scaleSetEvictionPolicy", "Deallocate")),
    case("azure", "ND-10", delete_key("aks-train", "scaleSetEvictionPolicy")),
    case("azure", "ND-10", set_key("aks", "agentPoolProfiles[0].scaleSetPriority", "Spot")),
    case("azure", "ND-10", delete_key("aks", "agentPoolProfiles[0].nodeTaints")),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)
