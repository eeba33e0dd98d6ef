"""A compliant GCP stack: KMS, custom VPC, private GKE with a system and a GPU pool, GCS, Artifact
Registry, Binary Authorization and workload identity (the shape `infra/clouds/gcp` declares, written out
by hand)."""

from __future__ import annotations

from typing import Any

from tests.policy.stacks import Fixture

PROJECT = "acme-dev"
KEY = f"projects/{PROJECT}/locations/us-central1/keyRings/ring/cryptoKeys/k"
NODE_SA = f"nodes@{PROJECT}.iam.gserviceaccount.com"
BUCKET = "acme-dev-ml"
REGISTRY = f"us-central1-docker.pkg.dev/{PROJECT}/ml/"


def _gcp(type_: str, name: str, props: dict[str, Any], *deps: str, protect: bool = False) -> Fixture:
    return Fixture(type_, name, props, deps, "gcp", protect)


def cluster_props() -> dict[str, Any]:
    return {
        "name": "dev-gpu-platform",
        "project": PROJECT,
        "networkingMode": "VPC_NATIVE",
        "ipAllocationPolicy": {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"},
        "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False},
        "masterAuthorizedNetworksConfig": {
            "cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}],
            "gcpPublicCidrsAccessEnabled": False,
        },
        "datapathProvider": "ADVANCED_DATAPATH",
        "workloadIdentityConfig": {"workloadPool": f"{PROJECT}.svc.id.goog"},
        "enableShieldedNodes": True,
        "databaseEncryption": {"state": "ENCRYPTED", "keyName": KEY},
        "binaryAuthorization": {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
        "enableLegacyAbac": False,
        "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
        "removeDefaultNodePool": True,
        "releaseChannel": {"channel": "REGULAR"},
        "loggingConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER"]},
        "monitoringConfig": {"enableComponents": ["SYSTEM_COMPONENTS"]},
    }


def node_config(**extra: Any) -> dict[str, Any]:
    return {
        "machineType": "e2-standard-4",
        "imageType": "COS_CONTAINERD",
        "bootDiskKmsKey": KEY,
        "serviceAccount": NODE_SA,
        "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        "spot": False,
        **extra,
    }


def _pools() -> list[Fixture]:
    management = {"autoRepair": True, "autoUpgrade": True}
    system = {
        "cluster": "dev-gpu-platform",
        "management": management,
        "nodeConfig": node_config(labels={"gpu-platform/pool": "general"}),
    }
    accelerator = {
        "type": "nvidia-tesla-t4",
        "count": 1,
        "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"},
    }
    gpu_config = node_config(
        machineType="n1-standard-4",
        spot=True,
        guestAccelerators=[accelerator],
        labels={"gpu-platform/pool": "train", "nvidia.com/gpu.present": "true"},
    )
    gpu = {"cluster": "dev-gpu-platform", "management": management, "nodeConfig": gpu_config}
    return [
        _gcp("gcp:container/nodePool:NodePool", "gke-system", system, "gke"),
        _gcp("gcp:container/nodePool:NodePool", "gke-train", gpu, "gke"),
    ]


def _data() -> list[Fixture]:
    lifecycle = [
        {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
    ]
    bucket = {
        "name": BUCKET,
        "uniformBucketLevelAccess": True,
        "publicAccessPrevention": "enforced",
        "versioning": {"enabled": True},
        "encryption": {"defaultKmsKeyName": KEY},
        "lifecycleRules": lifecycle,
        "softDeletePolicy": {"retentionDurationSeconds": 604800},
        "forceDestroy": False,
    }
    repo = {
        "project": PROJECT,
        "location": "us-central1",
        "repositoryId": "ml",
        "format": "DOCKER",
        "dockerConfig": {"immutableTags": True},
        "kmsKeyName": KEY,
    }
    objects = {"bucket": BUCKET, "role": "roles/storage.objectAdmin", "member": "serviceAccount:trainer@x"}
    reader = {"role": "roles/artifactregistry.reader", "member": f"serviceAccount:{NODE_SA}"}
    return [
        _gcp("gcp:storage/bucket:Bucket", "bucket", bucket, "key", protect=True),
        _gcp("gcp:storage/bucketIAMMember:BucketIAMMember", "trainer-objects", objects),
        _gcp("gcp:artifactregistry/repository:Repository", "repo", repo, "key", protect=True),
        _gcp("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "repo-reader", reader),
    ]


def _wi_binding(name: str) -> dict[str, Any]:
    return {
        "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/{name}@{PROJECT}.iam.gserviceaccount.com",
        "role": "roles/iam.workloadIdentityUser",
        "member": f"serviceAccount:{PROJECT}.svc.id.goog[ml/{name}]",
    }


def _identity() -> list[Fixture]:
    node_role = {
        "project": PROJECT,
        "role": "roles/container.defaultNodeServiceAccount",
        "member": f"serviceAccount:{NODE_SA}",
    }
    return [
        _gcp("gcp:serviceaccount/iAMMember:IAMMember", "trainer-wi", _wi_binding("trainer")),
        _gcp("gcp:serviceaccount/iAMMember:IAMMember", "serving-wi", _wi_binding("serving")),
        _gcp("gcp:projects/iAMMember:IAMMember", "node-role", node_role),
    ]


def binauthz_policy() -> dict[str, Any]:
    """Deny by default, admit the stack's repository (and GKE's own system images)."""
    return {
        "project": PROJECT,
        "globalPolicyEvaluationMode": "ENABLE",
        "defaultAdmissionRule": {
            "evaluationMode": "ALWAYS_DENY",
            "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
        },
        "admissionWhitelistPatterns": [{"namePattern": f"{REGISTRY}**"}],
    }


def gcp_stack() -> list[Fixture]:
    key = {"purpose": "ENCRYPT_DECRYPT", "rotationPeriod": "7776000s"}
    subnet = {"privateIpGoogleAccess": True, "logConfig": {"aggregationInterval": "INTERVAL_5_SEC"}}
    return [
        _gcp("gcp:kms/keyRing:KeyRing", "ring", {"location": "us-central1"}, protect=True),
        _gcp("gcp:kms/cryptoKey:CryptoKey", "key", key, "ring", protect=True),
        _gcp("gcp:compute/network:Network", "vpc", {"autoCreateSubnetworks": False}),
        _gcp("gcp:compute/subnetwork:Subnetwork", "subnet", subnet, "vpc"),
        _gcp("gcp:binaryauthorization/policy:Policy", "binauthz", binauthz_policy()),
        _gcp(
            "gcp:container/cluster:Cluster", "gke", cluster_props(), "key", "subnet", "binauthz", protect=True
        ),
        *_pools(),
        *_data(),
        *_identity(),
    ]
