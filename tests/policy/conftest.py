"""The compliant stacks every rule test mutates: one per cloud, each with its Kubernetes objects."""

from __future__ import annotations

from tests.policy import (
    fixtures_aws,
    fixtures_azure,
    fixtures_cross_cloud,
    fixtures_dispatch,
    fixtures_gateway,
    fixtures_gcp,
)
from tests.policy.fixtures_k8s import k8s_objects
from tests.policy.stacks import Fixture

AKS_SPOT_TOLERATION = {
    "key": "kubernetes.azure.com/scalesetpriority",
    "operator": "Equal",
    "value": "spot",
    "effect": "NoSchedule",
}


def aws_full() -> list[Fixture]:
    """EKS with the same objects and the serving gateway; serving trusts its role through IRSA, so only the
    trainer's service account has a Pod Identity association for its Job to wait for."""
    objects = k8s_objects(
        "aws",
        fixtures_aws.REGISTRY,
        f"s3://{fixtures_aws.BUCKET}/ckpt",
        identity={"trainer": "trainer-pia"},
    )
    return [
        *fixtures_aws.aws_stack(),
        *objects,
        *fixtures_gateway.gateway_objects("aws"),
        *fixtures_cross_cloud.from_eks(),
        *fixtures_dispatch.worker(),
    ]


def gcp_full() -> list[Fixture]:
    return [
        *fixtures_gcp.gcp_stack(),
        *k8s_objects(
            "gcp",
            fixtures_gcp.REGISTRY,
            f"gs://{fixtures_gcp.BUCKET}/ckpt",
            identity={"trainer": "trainer-wi", "serving": "serving-wi"},
        ),
        *fixtures_cross_cloud.from_gke(),
        *fixtures_dispatch.manager(),
    ]


def azure_full() -> list[Fixture]:
    objects = k8s_objects(
        "azure",
        fixtures_azure.REGISTRY,
        f"az://{fixtures_azure.CONTAINER}/ckpt",
        AKS_SPOT_TOLERATION,
        identity={"trainer": "trainer-fic", "serving": "serving-fic"},
    )
    return [*fixtures_azure.azure_stack(), *objects]


STACKS = {"aws": aws_full, "gcp": gcp_full, "azure": azure_full}
