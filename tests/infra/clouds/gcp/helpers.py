"""Lookups over a plan's GCP resources and the stack config behind it."""

from __future__ import annotations

from typing import Any

from infra import config
from infra.config.gcp import GcpConfig
from plan import stackfile
from plan.runner import Plan, PlannedResource
from tests.plans import ROOT

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
REPOSITORY_IAM = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
NETWORK = "gcp:compute/network:Network"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
FIREWALL = "gcp:compute/firewall:Firewall"
SERVICE = "gcp:projects/service:Service"
BINAUTHZ = "gcp:binaryauthorization/policy:Policy"


def stack_config(plan: Plan) -> config.StackConfig:
    files = stackfile.load(ROOT, plan.stack)
    return config.parse(config.read_raw(files.config.get), stack=plan.stack)


def gcp_config(plan: Plan) -> GcpConfig:
    section = stack_config(plan).gcp
    assert section is not None
    return section


def gcp(plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.of_type(type_) if r.cloud == "gcp"]


def one(plan: Plan, type_: str) -> PlannedResource:
    (resource,) = gcp(plan, type_)
    return resource


def named(plan: Plan, type_: str, suffix: str) -> PlannedResource:
    (resource,) = [r for r in gcp(plan, type_) if r.name.endswith(suffix)]
    return resource


def cluster_inputs(plan: Plan) -> dict[str, Any]:
    return one(plan, CLUSTER).inputs


def pools(plan: Plan) -> dict[str, PlannedResource]:
    """Node pools by their `gpu-platform/pool` label (the system pool is `general`)."""
    return {r.inputs["nodeConfig"]["labels"]["gpu-platform/pool"]: r for r in gcp(plan, NODE_POOL)}


def key(plan: Plan, use: str) -> PlannedResource:
    return named(plan, CRYPTO_KEY, f"-keys-{use}")


def key_id(plan: Plan, use: str) -> str:
    """The key's resource name, as its agent grant (which depends on the key) received it."""
    urn = key(plan, use).urn
    (grant,) = [g for g in gcp(plan, KEY_GRANT) if urn in g.depends_on]
    return str(grant.inputs["cryptoKeyId"])


def node_account_email(plan: Plan) -> str:
    account = named(plan, ACCOUNT, "-gke-nodes")
    return f"{account.inputs['accountId']}@{account.inputs['project']}.iam.gserviceaccount.com"
