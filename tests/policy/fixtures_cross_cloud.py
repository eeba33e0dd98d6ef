"""Compliant cross-cloud trusts (ID-09) and the replicator that waits for them (ID-08).

`from_eks()` is the GCP and Azure side of trusting an EKS cluster's replicator (on Azure a custom role of
blob data actions only, assigned on the container under a condition that keeps it to `models/`), with that
replicator's CronJob on EKS; `from_gke()` is the AWS side of trusting a GKE cluster's. Each is added to
the stack of its home cloud, whose cluster fixture (`eks`, `gke`) the trusts take their issuer from.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.policy import fixtures_aws, fixtures_gcp
from tests.policy.fixtures_k8s import DIGEST, NS, POD_SECURITY, RESOURCES, RESTRICTED, TMP
from tests.policy.stacks import Fixture

SUBJECT = f"system:serviceaccount:{NS}:replicator"
POOL = "projects/123456/locations/global/workloadIdentityPools/dev-aws-0a1b2c3d"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
GROUP = f"{SUBSCRIPTION}/resourceGroups/rg"
CONTAINER_SCOPE = (
    f"{GROUP}/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/ml"
)
ROLE_GUID = "6f1e0c3a-4b7d-5e2f-9a8b-1c2d3e4f5a6b"
"""The replicator's custom role: blob data actions only, defined and assignable in the stack's group."""
ROLE = f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_GUID}"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
DATA_ACTIONS = [f"{BLOBS}/read", f"{BLOBS}/write", f"{BLOBS}/add/action", f"{BLOBS}/delete"]
MODELS_ONLY = (
    f"((!(ActionMatches{{'{BLOBS}/read'}} AND NOT SubOperationMatches{{'Blob.List'}})"
    f" AND !(ActionMatches{{'{BLOBS}/write'}}) AND !(ActionMatches{{'{BLOBS}/add/action'}})"
    f" AND !(ActionMatches{{'{BLOBS}/delete'}}))"
    f" OR (@Resource[{BLOBS}:path] StringStartsWith 'models/'))"
    f" AND ((!(ActionMatches{{'{BLOBS}/read'}} AND SubOperationMatches{{'Blob.List'}}))"
    f" OR (@Request[{BLOBS}:prefix] StringStartsWith 'models/'))"
)
GKE_ISSUER = "container.googleapis.com/v1/projects/acme-dev/locations/us-central1/clusters/dev"


def _gcs_condition(bucket: str) -> dict[str, str]:
    return {
        "title": "models-prefix-only",
        "expression": (
            f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/models/") || '
            'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("models/")'
        ),
    }


def replicator(cloud: str, registry: str, *trusts: str) -> list[Fixture]:
    """The home cluster's replicator CronJob, which waits for every other cloud's trust of it, and its
    service account."""
    container = {
        "name": "replicator",
        "image": f"{registry}trainer{DIGEST}",
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", "trainer", "replicate"],
        "securityContext": copy.deepcopy(RESTRICTED),
        "resources": copy.deepcopy(RESOURCES),
        "volumeMounts": copy.deepcopy(TMP),
    }
    pod = {
        "serviceAccountName": "replicator",
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": copy.deepcopy(POD_SECURITY),
        "nodeSelector": {"gpu-platform/pool": "general"},
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    spec = {
        "schedule": "*/10 * * * *",
        "concurrencyPolicy": "Forbid",
        "jobTemplate": {
            "spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": 3600,
                "ttlSecondsAfterFinished": 86400,
                "template": {"metadata": {"labels": {"app": "replicator"}}, "spec": pod},
            }
        },
    }
    props = {"metadata": {"name": "replicator", "namespace": NS}, "spec": spec}
    account = {"metadata": {"name": "replicator", "namespace": NS}, "automountServiceAccountToken": False}
    return [
        Fixture("kubernetes:core/v1:ServiceAccount", "replicator-sa", account, (), cloud),
        Fixture("kubernetes:batch/v1:CronJob", "replicator", props, trusts, cloud),
    ]


def from_eks() -> list[Fixture]:
    """GCP and Azure trusting the EKS cluster `eks` (dev's pairs)."""
    return [
        Fixture(
            "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
            "gcp-trust-provider",
            {
                "oidc": {"issuerUri": f"https://{fixtures_aws.ISSUER}"},
                "attributeMapping": {"google.subject": "assertion.sub"},
                "attributeCondition": f"assertion.sub == '{SUBJECT}'",
            },
            ("eks",),
            "gcp",
        ),
        Fixture(
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "gcp-trust-models",
            {
                "bucket": fixtures_gcp.BUCKET,
                "role": "roles/storage.objectUser",
                "member": f"principal://iam.googleapis.com/{POOL}/subject/{SUBJECT}",
                "condition": _gcs_condition(fixtures_gcp.BUCKET),
            },
            ("gcp-trust-provider",),
            "gcp",
        ),
        Fixture(
            "azure-native:managedidentity:UserAssignedIdentity",
            "azure-trust-identity",
            {"resourceGroupName": "rg", "location": "eastus"},
            (),
            "azure",
        ),
        Fixture(
            "azure-native:managedidentity:FederatedIdentityCredential",
            "azure-trust-credential",
            {
                "issuer": f"https://{fixtures_aws.ISSUER}",
                "subject": SUBJECT,
                "audiences": ["api://AzureADTokenExchange"],
                "resourceName": "dev-azure-federation-aws",
            },
            ("eks", "azure-trust-identity"),
            "azure",
        ),
        Fixture(
            "azure-native:authorization:RoleDefinition",
            "azure-trust-role",
            {
                "roleDefinitionId": ROLE_GUID,
                "scope": GROUP,
                "assignableScopes": [GROUP],
                "roleName": "gpu-platform replicator from aws rg 0a1b2c3d",
                "roleType": "CustomRole",
                "permissions": [{"actions": [], "dataActions": list(DATA_ACTIONS)}],
            },
            (),
            "azure",
        ),
        Fixture(
            "azure-native:authorization:RoleAssignment",
            "azure-trust-models",
            {
                "principalId": "11111111-2222-3333-4444-555555555555",
                "principalType": "ServicePrincipal",
                "roleDefinitionId": ROLE,
                "scope": CONTAINER_SCOPE,
                "condition": MODELS_ONLY,
                "conditionVersion": "2.0",
            },
            ("azure-trust-identity", "azure-trust-role"),
            "azure",
        ),
        *replicator(
            "aws", fixtures_aws.REGISTRY, "gcp-trust-provider", "gcp-trust-models", "azure-trust-credential"
        ),
    ]


def from_gke() -> list[Fixture]:
    """AWS trusting the GKE cluster `gke` (prod's first pair)."""
    provider = f"arn:aws:iam::{fixtures_aws.ACCOUNT}:oidc-provider/{GKE_ISSUER}"
    bucket = f"arn:aws:s3:::{fixtures_aws.BUCKET}"
    trust = fixtures_aws.trust(
        {"Federated": provider},
        "sts:AssumeRoleWithWebIdentity",
        {"StringEquals": {f"{GKE_ISSUER}:sub": SUBJECT, f"{GKE_ISSUER}:aud": "sts.amazonaws.com"}},
    )
    policy: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": ["models/", "models/*"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": f"{bucket}/models/*",
        },
        {
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": fixtures_aws.KEY_ARN,
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        },
    ]
    return [
        Fixture(
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "aws-trust-provider",
            {"url": f"https://{GKE_ISSUER}", "clientIdLists": ["sts.amazonaws.com"]},
            ("gke",),
            "aws",
        ),
        Fixture(
            "aws:iam/role:Role", "aws-trust-role", {"assumeRolePolicy": trust}, ("aws-trust-provider",), "aws"
        ),
        Fixture(
            "aws:iam/rolePolicy:RolePolicy",
            "aws-trust-models",
            {"role": "aws-trust-role", "policy": fixtures_aws.doc(*policy)},
            ("aws-trust-role",),
            "aws",
        ),
        *replicator("gcp", fixtures_gcp.REGISTRY, "aws-trust-role"),
    ]
