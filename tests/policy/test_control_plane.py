"""CP-01..CP-13: each compliant cluster passes, and each single-property mutation that breaks a control
fails it, naming the control and the resource; CP-06 and CP-13 also on what the cluster's switch needs
(Container insights' data collection rule, the Binary Authorization policy, the Azure Policy
assignments)."""

from __future__ import annotations

from typing import Any

import pytest

from policy import engine
from policy.model.props import UNKNOWNS
from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, broken, case, violations

ALLOW_ALL = {"evaluationMode": "ALWAYS_ALLOW", "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG"}
LOOKALIKE_DEFINITION = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"
    "policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
)
"""A custom definition named like the built-in: it may allow anything."""
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
    case(
        "azure",
        "CP-06",
        ("aks", "addonProfiles.omsagent", DELETE),
        ("aks", "azureMonitorProfile", {"metrics": {"enabled": True}}),
    ),
    case("azure", "CP-06", ("aks-insights-link", REMOVE, None), on="aks"),
    case("azure", "CP-06", ("aks-insights-link", "@deps", ("aks-insights",)), on="aks"),
    case("azure", "CP-06", ("aks-insights-link", "@deps", ("aks",)), on="aks"),
    case("azure", "CP-06", ("aks-insights", REMOVE, None), on="aks"),
    case("azure", "CP-06", ("aks-insights", "dataSources.extensions[0].extensionName", "Syslog")),
    case("azure", "CP-06", ("aks-insights", "dataSources.extensions", [])),
    case("azure", "CP-06", ("aks-insights", "dataSources", DELETE)),
    case("azure", "CP-06", ("aks-insights", "dataSources.extensions[0].streams", [])),
    case("azure", "CP-06", ("aks-insights", "destinations.logAnalytics", [])),
    case("azure", "CP-06", ("aks-insights", "destinations", DELETE)),
    case("azure", "CP-06", ("aks-insights", "dataFlows", DELETE)),
    case("azure", "CP-06", ("aks-insights", "dataFlows[0].destinations", ["elsewhere"])),
    case("azure", "CP-06", ("aks-insights", "dataFlows[0].streams", ["Microsoft-Syslog"])),
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
    case("gcp", "CP-13", ("binauthz", REMOVE, None), on="gke"),
    case("gcp", "CP-13", ("binauthz", "project", "someone-elses-project"), on="gke"),
    case("gcp", "CP-13", ("binauthz", "defaultAdmissionRule.evaluationMode", "ALWAYS_ALLOW")),
    case("gcp", "CP-13", ("binauthz", "defaultAdmissionRule.enforcementMode", "DRYRUN_AUDIT_LOG_ONLY")),
    case("gcp", "CP-13", ("binauthz", "defaultAdmissionRule", DELETE)),
    case("gcp", "CP-13", ("binauthz", "defaultAdmissionRule.evaluationMode", "REQUIRE_ATTESTATION")),
    case(
        "gcp", "CP-13", ("binauthz", "clusterAdmissionRules", [{"cluster": "us-central1.gke", **ALLOW_ALL}])
    ),
    *[
        case("gcp", "CP-13", ("binauthz", "admissionWhitelistPatterns[0].namePattern", pattern))
        for pattern in (
            "*",
            "**",
            "docker.io/**",
            "gcr.io/**",
            "gcr.io/acme-dev/**",
            "us-central1-docker.pkg.dev/acme-dev/**",
            "us-central1-docker.pkg.dev/*/ml/**",
            "*.pkg.dev/acme-dev/ml/**",
            "",
        )
    ],
    case("azure", "CP-13", ("aks", "addonProfiles.azurepolicy.enabled", False)),
    case("azure", "CP-13", ("aks", "addonProfiles.azurepolicy", DELETE)),
    case("azure", "CP-13", ("allowed-images", REMOVE, None), on="aks"),
    case("azure", "CP-13", ("restricted-pods", REMOVE, None), on="aks"),
    case("azure", "CP-13", ("restricted-pods", "@deps", ()), on="aks"),
    case("azure", "CP-13", ("allowed-images", "policyDefinitionId", LOOKALIKE_DEFINITION), on="aks"),
    case("azure", "CP-13", ("allowed-images", "enforcementMode", "DoNotEnforce")),
    case("azure", "CP-13", ("restricted-pods", "enforcementMode", "DoNotEnforce")),
    case("azure", "CP-13", ("allowed-images", "parameters.effect.value", "Audit")),
    case("azure", "CP-13", ("allowed-images", "parameters.effect", DELETE)),
    case("azure", "CP-13", ("restricted-pods", "parameters.effect.value", "audit")),
    case("azure", "CP-13", ("restricted-pods", "parameters", DELETE)),
    case("azure", "CP-13", ("allowed-images", "parameters.excludedNamespaces.value", ["kube-system", "ml"])),
    case("azure", "CP-13", ("restricted-pods", "parameters.namespaces", {"value": ["other"]})),
    *[
        case("azure", "CP-13", ("allowed-images", "parameters.allowedContainerImagesRegex.value", regex))
        for regex in (
            ".*",
            "^.*$",
            "^.+$",
            "^(.*)$",
            "^[a-z].*",
            r"acmegpuplatform\.azurecr\.io/.+$",
            "^(",
            "",
        )
    ],
    case("azure", "CP-13", ("allowed-images", "parameters.allowedContainerImagesRegex", DELETE)),
]


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)


ATTESTED = {
    "evaluationMode": "REQUIRE_ATTESTATION",
    "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
    "requireAttestationsBy": ["projects/acme-dev/attestors/built-by-ci"],
}


@pytest.mark.parametrize(
    ("cloud", "steps"),
    [
        pytest.param("gcp", (("binauthz", "defaultAdmissionRule", ATTESTED),), id="attestations"),
        pytest.param("gcp", (("binauthz", "clusterAdmissionRules", [ATTESTED]),), id="cluster-rule"),
        pytest.param("gcp", (("binauthz", "project", DELETE),), id="provider-project"),
        pytest.param(
            "gcp",
            (("binauthz", "admissionWhitelistPatterns[0].namePattern", "docker.io/tensorflow/serving"),),
            id="one-vendor-image",
        ),
        pytest.param("azure", (("allowed-images", "parameters.effect.value", "deny"),), id="effect-case"),
        pytest.param("azure", (("restricted-pods", "enforcementMode", DELETE),), id="default-enforced"),
        pytest.param(
            "azure",
            (("restricted-pods", "parameters.excludedNamespaces.value", ["kube-system", "agents"]),),
            id="node-agents-left-out",
        ),
    ],
)
def test_compliant_variants_pass_cp13(cloud: str, steps: tuple[Any, ...]) -> None:
    assert violations("CP-13", broken(STACKS[cloud](), steps)) == []


@pytest.mark.parametrize(
    ("cloud", "name", "path"),
    [
        ("aws", "eks", "vpcConfig.publicAccessCidrs"),
        ("gcp", "gke", "databaseEncryption.keyName"),
        ("azure", "aks", "apiServerAccessProfile.authorizedIPRanges"),
        ("gcp", "binauthz", "admissionWhitelistPatterns"),
        ("gcp", "binauthz", "admissionWhitelistPatterns[0].namePattern"),
        ("gcp", "binauthz", "defaultAdmissionRule"),
        ("gcp", "binauthz", "project"),
        ("azure", "allowed-images", "parameters"),
        ("azure", "allowed-images", "parameters.allowedContainerImagesRegex.value"),
        ("azure", "restricted-pods", "parameters.excludedNamespaces.value"),
        ("azure", "aks-insights", "dataFlows"),
        ("azure", "aks-insights", "dataSources.extensions"),
        ("azure", "aks-insights-link", "dataCollectionRuleId"),
    ],
)
def test_values_unknown_during_preview_pass(cloud: str, name: str, path: str) -> None:
    """A value another resource computes is unknown in `pulumi preview`; the rule cannot tell yet."""
    unknown = next(iter(UNKNOWNS))
    st = broken(STACKS[cloud](), ((name, path, unknown),))
    assert [f for f in engine.evaluate(st, {}) if f.severity == "mandatory"] == []
