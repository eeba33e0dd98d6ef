"""The GKE cluster carries the GCP cluster controls on both stacks (CP-02..CP-13, ND-03/04 cluster side)."""

from __future__ import annotations

import ipaddress

from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import (
    BINAUTHZ,
    CLUSTER,
    SUBNETWORK,
    cluster_inputs,
    gcp_config,
    key,
    key_id,
    named,
    node_account_email,
    one,
    stack_config,
)


def test_cp02_private_nodes_and_authorized_networks(stack_plan: Plan) -> None:
    c, cfg = cluster_inputs(stack_plan), gcp_config(stack_plan)
    private = c["privateClusterConfig"]
    assert private["enablePrivateNodes"] is True
    assert private["masterIpv4CidrBlock"] == cfg.network.master_cidr
    blocks = [b["cidrBlock"] for b in c["masterAuthorizedNetworksConfig"]["cidrBlocks"]]
    assert blocks == list(cfg.api_access.authorized_cidrs)
    assert all(ipaddress.IPv4Network(b).prefixlen > 0 for b in blocks)
    assert private["enablePrivateEndpoint"] is True or blocks
    assert c["masterAuthorizedNetworksConfig"]["gcpPublicCidrsAccessEnabled"] is False


def test_cp04_secrets_encrypted_with_the_gke_key(stack_plan: Plan) -> None:
    cluster = one(stack_plan, CLUSTER)
    encryption = cluster.inputs["databaseEncryption"]
    assert encryption == {"state": "ENCRYPTED", "keyName": key_id(stack_plan, "gke")}
    # GKE checks its agent's access to the key when it creates the cluster.
    assert named(stack_plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "-keys-gke-agent").urn in (
        cluster.depends_on
    )
    assert key(stack_plan, "gke").urn in cluster.depends_on


def test_cp06_control_plane_logging_and_monitoring(stack_plan: Plan) -> None:
    c = cluster_inputs(stack_plan)
    logs = set(c["loggingConfig"]["enableComponents"])
    assert {"SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"} <= logs
    assert "SYSTEM_COMPONENTS" in c["monitoringConfig"]["enableComponents"]
    assert c["monitoringConfig"]["managedPrometheus"]["enabled"] is True
    # The API refuses loggingService/monitoringService next to the *Config blocks; unset, they default on.
    assert "loggingService" not in c
    assert "monitoringService" not in c


def test_cp08_dataplane_v2(stack_plan: Plan) -> None:
    assert cluster_inputs(stack_plan)["datapathProvider"] == "ADVANCED_DATAPATH"


def test_cp09_release_channel_and_version(stack_plan: Plan) -> None:
    c, cfg = cluster_inputs(stack_plan), gcp_config(stack_plan)
    assert c["releaseChannel"]["channel"] == cfg.release_channel
    assert c["releaseChannel"]["channel"] in {"RAPID", "REGULAR", "STABLE"}
    assert c["minMasterVersion"] == cfg.kubernetes_version


def test_gke_installs_no_gateway_api_crds_of_its_own(stack_plan: Plan) -> None:
    """The stack's gateway brings the Gateway API's CRDs at the version its release is built against."""
    assert cluster_inputs(stack_plan)["gatewayApiConfig"] == {"channel": "CHANNEL_DISABLED"}


def test_cp10_no_client_certificate_no_legacy_abac(stack_plan: Plan) -> None:
    c = cluster_inputs(stack_plan)
    assert c["masterAuth"]["clientCertificateConfig"]["issueClientCertificate"] is False
    assert c["enableLegacyAbac"] is False


def test_cp11_workload_identity_pool(stack_plan: Plan) -> None:
    pool = cluster_inputs(stack_plan)["workloadIdentityConfig"]["workloadPool"]
    assert pool == f"{gcp_config(stack_plan).project}.svc.id.goog"


def test_cp12_vpc_native_on_the_subnet_ranges(stack_plan: Plan) -> None:
    c = cluster_inputs(stack_plan)
    subnet = one(stack_plan, SUBNETWORK).inputs
    ranges = {r["rangeName"] for r in subnet["secondaryIpRanges"]}
    policy = c["ipAllocationPolicy"]
    assert {policy["clusterSecondaryRangeName"], policy["servicesSecondaryRangeName"]} == ranges
    assert c["networkingMode"] == "VPC_NATIVE"
    assert one(stack_plan, SUBNETWORK).urn in one(stack_plan, CLUSTER).depends_on
    assert "/subnetworks/" in c["subnetwork"]


def test_cp13_binary_authorization_enforced(stack_plan: Plan) -> None:
    c = cluster_inputs(stack_plan)
    assert c["binaryAuthorization"] == {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"}


def test_cp13_the_enforced_policy_admits_only_the_stack_repository(stack_plan: Plan) -> None:
    """A project's default policy admits every image, so the stack declares its own: deny by default,
    the stack's Artifact Registry repository (every image is built or mirrored there), and GKE's system
    images through Google's global policy. The cluster waits for it."""
    cfg = gcp_config(stack_plan)
    policy = one(stack_plan, BINAUTHZ)
    assert policy.inputs["project"] == cfg.project
    assert policy.inputs["defaultAdmissionRule"] == {
        "evaluationMode": "ALWAYS_DENY",
        "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
    }
    repository = f"{cfg.region}-docker.pkg.dev/{cfg.project}/{cfg.registry_name}"
    assert policy.inputs["admissionWhitelistPatterns"] == [{"namePattern": f"{repository}/**"}]
    assert policy.inputs["globalPolicyEvaluationMode"] == "ENABLE"
    assert policy.urn in one(stack_plan, CLUSTER).depends_on
    images = [i for i in stack_plan.of_type("docker-build:index:Image") if i.cloud == "gcp"]
    assert images
    assert all(t.startswith(f"{repository}/") for i in images for t in i.inputs["tags"])


def test_maintenance_window_from_config(stack_plan: Plan) -> None:
    """Weekends from 02:00 UTC for 8 hours by default: 64 hours in any 32 days, above GKE's 48."""
    window = cluster_inputs(stack_plan)["maintenancePolicy"]["recurringWindow"]
    assert window == {
        "startTime": "2026-01-10T02:00:00Z",
        "endTime": "2026-01-10T10:00:00Z",
        "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
    }
    assert gcp_config(stack_plan).maintenance_window.hours_per_32_days() >= 48


def test_nd03_shielded_nodes_on_the_cluster(stack_plan: Plan) -> None:
    assert cluster_inputs(stack_plan)["enableShieldedNodes"] is True


def test_nd04_default_pool_removed_and_never_on_the_default_account(stack_plan: Plan) -> None:
    c = cluster_inputs(stack_plan)
    assert c["removeDefaultNodePool"] is True
    assert c["initialNodeCount"] == 1
    # The default pool boots briefly before its removal: it too runs as the dedicated node account.
    assert c["nodeConfig"]["serviceAccount"] == node_account_email(stack_plan)
    assert c["nodeConfig"]["workloadMetadataConfig"]["mode"] == "GKE_METADATA"


def test_zonal_dev_regional_prod(stack_plan: Plan) -> None:
    c, cfg = cluster_inputs(stack_plan), gcp_config(stack_plan)
    if stack_plan.stack == "dev":
        assert c["location"] == cfg.cluster_zone == "us-central1-a"
        assert "nodeLocations" not in c
    else:
        assert cfg.cluster_zone is None
        assert c["location"] == cfg.region
        assert c["nodeLocations"] == list(cfg.node_zones)


def test_deletion_protection_follows_config(stack_plan: Plan) -> None:
    cluster, protect = one(stack_plan, CLUSTER), stack_config(stack_plan).protect
    assert cluster.inputs["deletionProtection"] is protect
    assert cluster.protect is protect
    assert protect is (stack_plan.stack == "prod")
