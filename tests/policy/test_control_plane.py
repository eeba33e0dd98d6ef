"""CP-01..CP-13: each compliant cluster passes, and each single-property mutation that breaks a control
fails it, naming the control and the resource; CP-06 and CP-13 also on what the cluster's switch needs
(Container insights' data collection rule, the Binary Authorization policy, the Azure Policy
assignments)."""

from __future__ import annotations

import pytest

from policy import engine
from policy.model.props import UNKNOWNS
from tests.policy.conftest import STACKS
from tests.policy.stacks import (
    Change,
    assert_breaks,
    case,
    changed,
    delete_key,
    remove_resource,
    set_depends_on,
    set_key,
    set_protect,
    stack,
    violations,
)

ALLOW_ALL = {"evaluationMode": "ALWAYS_ALLOW", "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG"}
LOOKALIKE_DEFINITION = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"
    "policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
)
"""A custom definition named like the built-in: it may allow anything."""
MUTATIONS = [
    case("aws", "CP-01", set_key("eks", "vpcConfig.endpointPrivateAccess", False)),
    case("aws", "CP-01", delete_key("eks", "vpcConfig.endpointPrivateAccess")),
    case("aws", "CP-01", set_key("eks", "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])),
    case("aws", "CP-01", set_key("eks", "vpcConfig.publicAccessCidrs", ["203.0.113.0/24", "::/0"])),
    case("aws", "CP-01", set_key("eks", "vpcConfig.publicAccessCidrs", [])),
    case("aws", "CP-01", delete_key("eks", "vpcConfig.publicAccessCidrs")),
    case("gcp", "CP-02", set_key("gke", "privateClusterConfig.enablePrivateNodes", False)),
    case("gcp", "CP-02", delete_key("gke", "privateClusterConfig.enablePrivateNodes")),
    case(
        "gcp",
        "CP-02",
        set_key("gke", "masterAuthorizedNetworksConfig.cidrBlocks", [{"cidrBlock": "0.0.0.0/0"}]),
    ),
    case("gcp", "CP-02", set_key("gke", "masterAuthorizedNetworksConfig.cidrBlocks", [])),
    case("gcp", "CP-02", delete_key("gke", "masterAuthorizedNetworksConfig")),
    case("gcp", "CP-02", set_key("gke", "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled", True)),
    case("azure", "CP-03", set_key("aks", "apiServerAccessProfile.authorizedIPRanges", ["0.0.0.0/0"])),
    case("azure", "CP-03", set_key("aks", "apiServerAccessProfile.authorizedIPRanges", [])),
    case("azure", "CP-03", delete_key("aks", "apiServerAccessProfile")),
    case("aws", "CP-04", set_key("eks", "encryptionConfig.resources", [])),
    case("aws", "CP-04", delete_key("eks", "encryptionConfig.provider.keyArn")),
    case("aws", "CP-04", delete_key("eks", "encryptionConfig")),
    case("aws", "CP-04", remove_resource("eks-key"), on="eks"),
    case("gcp", "CP-04", set_key("gke", "databaseEncryption.state", "DECRYPTED")),
    case("gcp", "CP-04", delete_key("gke", "databaseEncryption.keyName")),
    case("gcp", "CP-04", delete_key("gke", "databaseEncryption")),
    case("azure", "CP-04", set_key("aks", "securityProfile.azureKeyVaultKms.enabled", False)),
    case("azure", "CP-04", delete_key("aks", "securityProfile.azureKeyVaultKms.keyId")),
    case("azure", "CP-04", delete_key("aks", "securityProfile.azureKeyVaultKms")),
    case("aws", "CP-05", set_key("eks-key", "enableKeyRotation", False)),
    case("aws", "CP-05", delete_key("eks-key", "enableKeyRotation")),
    case("aws", "CP-05", set_protect("s3-key", False)),
    case("gcp", "CP-05", set_key("key", "rotationPeriod", "7776001s")),
    case("gcp", "CP-05", set_key("key", "rotationPeriod", "31536000s")),
    case("gcp", "CP-05", delete_key("key", "rotationPeriod")),
    case("gcp", "CP-05", set_protect("key", False)),
    case("gcp", "CP-05", set_protect("ring", False)),
    case("aws", "CP-06", set_key("eks", "enabledClusterLogTypes", ["api", "audit"])),
    case("aws", "CP-06", delete_key("eks", "enabledClusterLogTypes")),
    case("gcp", "CP-06", set_key("gke", "loggingService", "none")),
    case("gcp", "CP-06", set_key("gke", "monitoringService", "none")),
    case("gcp", "CP-06", set_key("gke", "loggingConfig.enableComponents", ["WORKLOADS"])),
    case("azure", "CP-06", set_key("aks", "addonProfiles.omsagent.enabled", False)),
    case("azure", "CP-06", delete_key("aks", "addonProfiles.omsagent")),
    case("azure", "CP-06", set_key("aks-audit", "logs[0].enabled", False), on="aks"),
    case("azure", "CP-06", set_key("aks-audit", "logs[0].category", "kube-apiserver"), on="aks"),
    case("azure", "CP-06", remove_resource("aks-audit"), on="aks"),
    case(
        "azure",
        "CP-06",
        delete_key("aks", "addonProfiles.omsagent"),
        set_key("aks", "azureMonitorProfile", {"metrics": {"enabled": True}}),
    ),
    case("azure", "CP-06", remove_resource("aks-insights-link"), on="aks"),
    case("azure", "CP-06", set_depends_on("aks-insights-link", ["aks-insights"]), on="aks"),
    case("azure", "CP-06", set_depends_on("aks-insights-link", ["aks"]), on="aks"),
    case("azure", "CP-06", remove_resource("aks-insights"), on="aks"),
    case("azure", "CP-06", set_key("aks-insights", "dataSources.extensions[0].extensionName", "Syslog")),
    case("azure", "CP-06", set_key("aks-insights", "dataSources.extensions", [])),
    case("azure", "CP-06", delete_key("aks-insights", "dataSources")),
    case("azure", "CP-06", set_key("aks-insights", "dataSources.extensions[0].streams", [])),
    case("azure", "CP-06", set_key("aks-insights", "destinations.logAnalytics", [])),
    case("azure", "CP-06", delete_key("aks-insights", "destinations")),
    case("azure", "CP-06", delete_key("aks-insights", "dataFlows")),
    case("azure", "CP-06", set_key("aks-insights", "dataFlows[0].destinations", ["elsewhere"])),
    case("azure", "CP-06", set_key("aks-insights", "dataFlows[0].streams", ["Microsoft-Syslog"])),
    case("aws", "CP-07", delete_key("eks-logs", "retentionInDays")),
    case("aws", "CP-07", set_key("eks-logs", "retentionInDays", 0)),
    case("aws", "CP-07", delete_key("eks-logs", "kmsKeyId")),
    case("aws", "CP-07", set_key("eks-logs", "name", "/aws/eks/other/cluster"), on="eks"),
    case("aws", "CP-07", remove_resource("eks-logs"), on="eks"),
    case("aws", "CP-08", set_key("vpc-cni", "configurationValues", '{"enableNetworkPolicy": "false"}')),
    case("aws", "CP-08", delete_key("vpc-cni", "configurationValues")),
    case("aws", "CP-08", remove_resource("vpc-cni"), on="eks"),
    case("gcp", "CP-08", set_key("gke", "datapathProvider", "LEGACY_DATAPATH")),
    case("gcp", "CP-08", delete_key("gke", "datapathProvider")),
    case("azure", "CP-08", set_key("aks", "networkProfile.networkPolicy", "none")),
    case("azure", "CP-08", delete_key("aks", "networkProfile.networkPolicy")),
    case("aws", "CP-09", delete_key("eks", "version")),
    case("aws", "CP-09", set_key("eks", "version", "1.29")),
    case("aws", "CP-09", set_key("eks", "version", "latest")),
    case("gcp", "CP-09", set_key("gke", "releaseChannel.channel", "UNSPECIFIED")),
    case("gcp", "CP-09", delete_key("gke", "releaseChannel")),
    case("azure", "CP-09", set_key("aks", "autoUpgradeProfile.upgradeChannel", "none")),
    case("azure", "CP-09", delete_key("aks", "autoUpgradeProfile.upgradeChannel")),
    case("azure", "CP-09", set_key("aks", "autoUpgradeProfile.nodeOSUpgradeChannel", "None")),
    case("azure", "CP-09", delete_key("aks", "autoUpgradeProfile.nodeOSUpgradeChannel")),
    case("aws", "CP-10", set_key("eks", "accessConfig.authenticationMode", "CONFIG_MAP")),
    case("aws", "CP-10", set_key("eks", "accessConfig.authenticationMode", "API_AND_CONFIG_MAP")),
    case("aws", "CP-10", delete_key("eks", "accessConfig")),
    case("gcp", "CP-10", set_key("gke", "masterAuth.clientCertificateConfig.issueClientCertificate", True)),
    case("gcp", "CP-10", set_key("gke", "enableLegacyAbac", True)),
    case("azure", "CP-10", set_key("aks", "disableLocalAccounts", False)),
    case("azure", "CP-10", delete_key("aks", "disableLocalAccounts")),
    case("azure", "CP-10", set_key("aks", "aadProfile.managed", False)),
    case("azure", "CP-10", set_key("aks", "aadProfile.enableAzureRBAC", False)),
    case("azure", "CP-10", set_key("aks", "enableRBAC", False)),
    case("aws", "CP-11", remove_resource("pod-identity"), remove_resource("oidc"), on="eks"),
    case("gcp", "CP-11", set_key("gke", "workloadIdentityConfig.workloadPool", "other-project.svc.id.goog")),
    case("gcp", "CP-11", delete_key("gke", "workloadIdentityConfig")),
    case("azure", "CP-11", set_key("aks", "oidcIssuerProfile.enabled", False)),
    case("azure", "CP-11", set_key("aks", "securityProfile.workloadIdentity.enabled", False)),
    case("gcp", "CP-12", delete_key("gke", "ipAllocationPolicy")),
    case("gcp", "CP-12", set_key("gke", "networkingMode", "ROUTES")),
    case("azure", "CP-12", set_key("aks", "networkProfile.networkPlugin", "kubenet")),
    case("azure", "CP-12", delete_key("aks", "networkProfile.networkPlugin")),
    case("gcp", "CP-13", set_key("gke", "binaryAuthorization.evaluationMode", "DISABLED")),
    case("gcp", "CP-13", delete_key("gke", "binaryAuthorization")),
    case("gcp", "CP-13", remove_resource("binauthz"), on="gke"),
    case("gcp", "CP-13", set_key("binauthz", "project", "someone-elses-project"), on="gke"),
    case("gcp", "CP-13", set_key("binauthz", "defaultAdmissionRule.evaluationMode", "ALWAYS_ALLOW")),
    case(
        "gcp", "CP-13", set_key("binauthz", "defaultAdmissionRule.enforcementMode", "DRYRUN_AUDIT_LOG_ONLY")
    ),
    case("gcp", "CP-13", delete_key("binauthz", "defaultAdmissionRule")),
    case("gcp", "CP-13", set_key("binauthz", "defaultAdmissionRule.evaluationMode", "REQUIRE_ATTESTATION")),
    case(
        "gcp",
        "CP-13",
        set_key("binauthz", "clusterAdmissionRules", [{"cluster": "us-central1.gke", **ALLOW_ALL}]),
    ),
    *[
        case("gcp", "CP-13", set_key("binauthz", "admissionWhitelistPatterns[0].namePattern", pattern))
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
    case("azure", "CP-13", set_key("aks", "addonProfiles.azurepolicy.enabled", False)),
    case("azure", "CP-13", delete_key("aks", "addonProfiles.azurepolicy")),
    case("azure", "CP-13", remove_resource("allowed-images"), on="aks"),
    case("azure", "CP-13", remove_resource("restricted-pods"), on="aks"),
    case("azure", "CP-13", set_depends_on("restricted-pods", []), on="aks"),
    case("azure", "CP-13", set_key("allowed-images", "policyDefinitionId", LOOKALIKE_DEFINITION), on="aks"),
    case("azure", "CP-13", set_key("allowed-images", "enforcementMode", "DoNotEnforce")),
    case("azure", "CP-13", set_key("restricted-pods", "enforcementMode", "DoNotEnforce")),
    case("azure", "CP-13", set_key("allowed-images", "parameters.effect.value", "Audit")),
    case("azure", "CP-13", delete_key("allowed-images", "parameters.effect")),
    case("azure", "CP-13", set_key("restricted-pods", "parameters.effect.value", "audit")),
    case("azure", "CP-13", delete_key("restricted-pods", "parameters")),
    case(
        "azure",
        "CP-13",
        set_key("allowed-images", "parameters.excludedNamespaces.value", ["kube-system", "ml"]),
    ),
    case("azure", "CP-13", set_key("restricted-pods", "parameters.namespaces", {"value": ["other"]})),
    *[
        case(
            "azure", "CP-13", set_key("allowed-images", "parameters.allowedContainerImagesRegex.value", regex)
        )
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
    case("azure", "CP-13", delete_key("allowed-images", "parameters.allowedContainerImagesRegex")),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)


ATTESTED = {
    "evaluationMode": "REQUIRE_ATTESTATION",
    "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
    "requireAttestationsBy": ["projects/acme-dev/attestors/built-by-ci"],
}


@pytest.mark.parametrize(
    ("cloud", "changes"),
    [
        pytest.param("gcp", (set_key("binauthz", "defaultAdmissionRule", ATTESTED),), id="attestations"),
        pytest.param("gcp", (set_key("binauthz", "clusterAdmissionRules", [ATTESTED]),), id="cluster-rule"),
        pytest.param("gcp", (delete_key("binauthz", "project"),), id="provider-project"),
        pytest.param(
            "gcp",
            (
                set_key(
                    "binauthz", "admissionWhitelistPatterns[0].namePattern", "docker.io/tensorflow/serving"
                ),
            ),
            id="one-vendor-image",
        ),
        pytest.param(
            "azure", (set_key("allowed-images", "parameters.effect.value", "deny"),), id="effect-case"
        ),
        pytest.param("azure", (delete_key("restricted-pods", "enforcementMode"),), id="default-enforced"),
        pytest.param(
            "azure",
            (set_key("restricted-pods", "parameters.excludedNamespaces.value", ["kube-system", "agents"]),),
            id="node-agents-left-out",
        ),
    ],
)
def test_compliant_variants_pass_cp13(cloud: str, changes: tuple[Change, ...]) -> None:
    assert violations("CP-13", stack(changed(STACKS[cloud](), *changes), protect=True)) == []


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
    st = stack(changed(STACKS[cloud](), set_key(name, path, unknown)), protect=True)
    assert [f for f in engine.evaluate(st, {}) if f.severity == "mandatory"] == []
