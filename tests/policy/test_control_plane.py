"""CP-01..CP-13: each compliant cluster passes, and each single-property mutation that breaks a control
fails it, naming the control and the resource."""

from __future__ import annotations

from typing import Any

import pytest

from policy import engine
from policy.rules.props import UNKNOWNS
from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, broken, case

MUTATIONS = [
    case("aws", "CP-01", ("eks", "vpcConfig.endpointPrivateAccess", False)),
    case("aws", "CP-01", ("eks", "vpcConfig.endpointPrivateAccess", DELETE)),
    case("aws", "CP-01", ("eks", "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])),
    case("aws", "CP-01", ("eks", "vpcConfig.publicAccessCidrs", ["203.0.113.0/24", "::/0"])),
    case("aws", "CP-01", ("eks", "vpcConfig.publicAccessCidrs", [])),
    case("aws", "CP-01", ("eks", "vpcConfig.publicAccessCidrs", DELETE)),
    case("gcp", "CP-02", ("gke", "privateClusterConfig.enablePrivateNodes", False)),
    case("gcp", "CP-02", ("gke", "privateClusterConfig.enablePrivateNodes", DELETE)),
    case("gcp", "CP-02", ("gke", "masterAuthorizedNetworksConfig.cidrBlocks", [{"cidrBlock": "0.0.0.0/0"}])),
    case("gcp", "CP-02", ("gke", "masterAuthorizedNetworksConfig.cidrBlocks", [])),
    case("gcp", "CP-02", ("gke", "masterAuthorizedNetworksConfig", DELETE)),
    case("gcp", "CP-02", ("gke", "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled", True)),
    case("azure", "CP-03", ("aks", "apiServerAccessProfile.authorizedIPRanges", ["0.0.0.0/0"])),
    case("azure", "CP-03", ("aks", "apiServerAccessProfile.authorizedIPRanges", [])),
    case("azure", "CP-03", ("aks", "apiServerAccessProfile", DELETE)),
    case("aws", "CP-04", ("eks", "encryptionConfig.resources", [])),
    case("aws", "CP-04", ("eks", "encryptionConfig.provider.keyArn", DELETE)),
    case("aws", "CP-04", ("eks", "encryptionConfig", DELETE)),
    case("aws", "CP-04", ("eks-key", REMOVE, None), on="eks"),
    case("gcp", "CP-04", ("gke", "databaseEncryption.state", "DECRYPTED")),
    case("gcp", "CP-04", ("gke", "databaseEncryption.keyName", DELETE)),
    case("gcp", "CP-04", ("gke", "databaseEncryption", DELETE)),
    case("azure", "CP-04", ("aks", "securityProfile.azureKeyVaultKms.enabled", False)),
    case("azure", "CP-04", ("aks", "securityProfile.azureKeyVaultKms.keyId", DELETE)),
    case("azure", "CP-04", ("aks", "securityProfile.azureKeyVaultKms", DELETE)),
    case("aws", "CP-05", ("eks-key", "enableKeyRotation", False)),
    case("aws", "CP-05", ("eks-key", "enableKeyRotation", DELETE)),
    case("aws", "CP-05", ("s3-key", "@protect", False)),
    case("gcp", "CP-05", ("key", "rotationPeriod", "7776001s")),
    case("gcp", "CP-05", ("key", "rotationPeriod", "31536000s")),
    case("gcp", "CP-05", ("key", "rotationPeriod", DELETE)),
    case("gcp", "CP-05", ("key", "@protect", False)),
    case("gcp", "CP-05", ("ring", "@protect", False)),
    case("aws", "CP-06", ("eks", "enabledClusterLogTypes", ["api", "audit"])),
    case("aws", "CP-06", ("eks", "enabledClusterLogTypes", DELETE)),
    case("gcp", "CP-06", ("gke", "loggingService", "none")),
    case("gcp", "CP-06", ("gke", "monitoringService", "none")),
    case("gcp", "CP-06", ("gke", "loggingConfig.enableComponents", ["WORKLOADS"])),
    case("azure", "CP-06", ("aks", "addonProfiles.omsagent.enabled", False)),
    case("azure", "CP-06", ("aks", "addonProfiles.omsagent", DELETE)),
    case("azure", "CP-06", ("aks-audit", "logs[0].enabled", False), on="aks"),
    case("azure", "CP-06", ("aks-audit", "logs[0].category", "kube-apiserver"), on="aks"),
    case("azure", "CP-06", ("aks-audit", REMOVE, None), on="aks"),
    case("aws", "CP-07", ("eks-logs", "retentionInDays", DELETE)),
    case("aws", "CP-07", ("eks-logs", "retentionInDays", 0)),
    case("aws", "CP-07", ("eks-logs", "kmsKeyId", DELETE)),
    case("aws", "CP-07", ("eks-logs", "name", "/aws/eks/other/cluster"), on="eks"),
    case("aws", "CP-07", ("eks-logs", REMOVE, None), on="eks"),
    case("aws", "CP-08", ("vpc-cni", "configurationValues", '{"enableNetworkPolicy": "false"}')),
    case("aws", "CP-08", ("vpc-cni", "configurationValues", DELETE)),
    case("aws", "CP-08", ("vpc-cni", REMOVE, None), on="eks"),
    case("gcp", "CP-08", ("gke", "datapathProvider", "LEGACY_DATAPATH")),
    case("gcp", "CP-08", ("gke", "datapathProvider", DELETE)),
    case("azure", "CP-08", ("aks", "networkProfile.networkPolicy", "none")),
    case("azure", "CP-08", ("aks", "networkProfile.networkPolicy", DELETE)),
    case("aws", "CP-09", ("eks", "version", DELETE)),
    case("aws", "CP-09", ("eks", "version", "1.29")),
    case("aws", "CP-09", ("eks", "version", "latest")),
    case("gcp", "CP-09", ("gke", "releaseChannel.channel", "UNSPECIFIED")),
    case("gcp", "CP-09", ("gke", "releaseChannel", DELETE)),
    case("azure", "CP-09", ("aks", "autoUpgradeProfile.upgradeChannel", "none")),
    case("azure", "CP-09", ("aks", "autoUpgradeProfile.upgradeChannel", DELETE)),
    case("azure", "CP-09", ("aks", "autoUpgradeProfile.nodeOSUpgradeChannel", "None")),
    case("azure", "CP-09", ("aks", "autoUpgradeProfile.nodeOSUpgradeChannel", DELETE)),
    case("aws", "CP-10", ("eks", "accessConfig.authenticationMode", "CONFIG_MAP")),
    case("aws", "CP-10", ("eks", "accessConfig.authenticationMode", "API_AND_CONFIG_MAP")),
    case("aws", "CP-10", ("eks", "accessConfig", DELETE)),
    case("gcp", "CP-10", ("gke", "masterAuth.clientCertificateConfig.issueClientCertificate", True)),
    case("gcp", "CP-10", ("gke", "enableLegacyAbac", True)),
    case("azure", "CP-10", ("aks", "disableLocalAccounts", False)),
    case("azure", "CP-10", ("aks", "disableLocalAccounts", DELETE)),
    case("azure", "CP-10", ("aks", "aadProfile.managed", False)),
    case("azure", "CP-10", ("aks", "aadProfile.enableAzureRBAC", False)),
    case("azure", "CP-10", ("aks", "enableRBAC", False)),
    case("aws", "CP-11", ("pod-identity", REMOVE, None), ("oidc", REMOVE, None), on="eks"),
    case("gcp", "CP-11", ("gke", "workloadIdentityConfig.workloadPool", "other-project.svc.id.goog")),
    case("gcp", "CP-11", ("gke", "workloadIdentityConfig", DELETE)),
    case("azure", "CP-11", ("aks", "oidcIssuerProfile.enabled", False)),
    case("azure", "CP-11", ("aks", "securityProfile.workloadIdentity.enabled", False)),
    case("gcp", "CP-12", ("gke", "ipAllocationPolicy", DELETE)),
    case("gcp", "CP-12", ("gke", "networkingMode", "ROUTES")),
    case("azure", "CP-12", ("aks", "networkProfile.networkPlugin", "kubenet")),
    case("azure", "CP-12", ("aks", "networkProfile.networkPlugin", DELETE)),
    case("gcp", "CP-13", ("gke", "binaryAuthorization.evaluationMode", "DISABLED")),
    case("gcp", "CP-13", ("gke", "binaryAuthorization", DELETE)),
    case("azure", "CP-13", ("aks", "addonProfiles.azurepolicy.enabled", False)),
    case("azure", "CP-13", ("aks", "addonProfiles.azurepolicy", DELETE)),
]


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)


@pytest.mark.parametrize(
    ("cloud", "name", "path"),
    [
        ("aws", "eks", "vpcConfig.publicAccessCidrs"),
        ("gcp", "gke", "databaseEncryption.keyName"),
        ("azure", "aks", "apiServerAccessProfile.authorizedIPRanges"),
    ],
)
def test_values_unknown_during_preview_pass(cloud: str, name: str, path: str) -> None:
    """A value another resource computes is unknown in `pulumi preview`; the rule cannot tell yet."""
    unknown = next(iter(UNKNOWNS))
    st = broken(STACKS[cloud](), ((name, path, unknown),))
    assert [f for f in engine.evaluate(st, {}) if f.severity == "mandatory"] == []
