"""The workloads built alone, on the mock engine, against contract doubles: clouds that lack the device
plugin, taint spot nodes, need storage environment and node-local identity endpoints, and read S3 or
Azure Blob. The merged platforms (GCP so far) cover the rest; these keep the code's contract-driven
branches tested whatever clouds are merged."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from infra import clouds, config, workloads
from infra.catalog import Cloud
from infra.clouds.base import (
    SERVICE_ACCOUNTS,
    ApiAccess,
    Capability,
    CloudPlatform,
    EgressRule,
    FederatedAccess,
    GatewayAddress,
    IdentityBinding,
    RbacSubject,
    Registry,
    RegistryAuth,
    RegistryPull,
)
from plan import runner, stackfile
from plan.manifests import integral
from tests.infra.workloads.helpers import FLAVOR, Cluster, is_apart
from tests.plans import ROOT

SPOT_TAINT = {
    "key": "kubernetes.azure.com/scalesetpriority",
    "operator": "Equal",
    "value": "spot",
    "effect": "NoSchedule",
}
POD_IDENTITY_AGENT = EgressRule("169.254.170.23/32", 80)
DOUBLE_NETWORK = ("10.99.0.0/16",)
LB_HOSTNAME_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"


@dataclass(frozen=True)
class Double:
    """What differs between contract doubles; the rest is filled in by `contract()`."""

    cloud: str
    bucket_uri: str
    host: str
    storage_env: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    spot_tolerations: tuple[dict[str, str], ...] = ()
    identity_egress: tuple[EgressRule, ...] = ()
    service_annotations: dict[str, str] = field(default_factory=dict)


S3_DOUBLE = Double(
    cloud="aws",
    bucket_uri="s3://double-bucket",
    host="123456789012.dkr.ecr.us-west-2.amazonaws.com",
    storage_env={"AWS_REGION": "us-west-2"},
    identity_egress=(POD_IDENTITY_AGENT,),
    service_annotations={LB_HOSTNAME_ANNOTATION: "nlb"},
)
AZ_DOUBLE = Double(
    cloud="azure",
    bucket_uri="az://models",
    host="doubleacr.azurecr.io",
    storage_env={"AZURE_STORAGE_ACCOUNT_NAME": "doubleaccount"},
    pod_labels={"azure.workload.identity/use": "true"},
    spot_tolerations=(SPOT_TAINT,),
)


def contract(double: Double) -> CloudPlatform:
    def identity(role: str) -> IdentityBinding:
        return IdentityBinding(role, {"example.com/identity": f"{role}-id"}, double.pod_labels)

    return CloudPlatform(
        cloud=cast(Cloud, double.cloud),
        region="double-region",
        cluster_name=pulumi.Output.from_input("double-cluster"),
        kubeconfig=pulumi.Output.secret("{}"),
        k8s_provider=k8s.Provider(f"{double.cloud}-double-k8s", kubeconfig="{}"),
        bucket_uri=pulumi.Output.from_input(double.bucket_uri),
        registry=Registry(
            host=pulumi.Output.from_input(double.host),
            repository=pulumi.Output.from_input(f"{double.host}/gpu-platform/trainer"),
            auth=RegistryAuth(double.host, "token", pulumi.Output.secret("short-lived")),
        ),
        identities={role: identity(role) for role in SERVICE_ACCOUNTS},
        internal_sources=DOUBLE_NETWORK,
        oidc_issuer=pulumi.Output.from_input(f"https://issuer.example.com/{double.cloud}"),
        egress_ips=pulumi.Output.from_input(["203.0.113.10"]),
        federate=lambda workload: FederatedAccess(
            audience=f"{double.cloud}.example.com", env={f"{double.cloud.upper()}_ROLE": workload.subject}
        ),
        admit_api=lambda workload: ApiAccess(
            server=pulumi.Output.from_input(f"https://{double.cloud}.api.example.com"),
            ca_data=pulumi.Output.from_input("Q0E="),
            audience=f"{double.cloud}.example.com",
            token={"tokenPath": f"/tokens/{workload.cloud}"},
            subject=RbacSubject(kind="User", name=workload.subject),
        ),
        grant_pull=lambda namespace, service_account: RegistryPull(
            host=pulumi.Output.from_input(double.host),
            token={"puller": f"{namespace}/{service_account}"},
            binding=IdentityBinding(
                service_account, {"example.com/identity": "puller-id"}, double.pod_labels
            ),
        ),
        gateway_address=lambda: GatewayAddress(
            ips=pulumi.Output.from_input(["203.0.113.20"]), annotations={"example.com/address": "gateway"}
        ),
        spot_notice_seconds=45,
        missing={Capability.GPU_DEVICE_PLUGIN: "a double without it"},
        service_annotations=double.service_annotations,
        storage_env=double.storage_env,
        spot_tolerations=double.spot_tolerations,
        identity_egress=double.identity_egress,
    )


DOUBLES = {
    # prod's config (GPU serving, two workers) on a cloud like EKS: S3, Pod Identity, NLB host names.
    "s3-double": (S3_DOUBLE, "prod"),
    # dev's config (spot training, CPU serving) on a cloud like AKS: Blob, a spot taint, identity labels.
    "az-double": (AZ_DOUBLE, "dev"),
}


@dataclass(frozen=True)
class Built:
    double: Double
    cluster: Cluster
    serving_url: str
    flavors: dict[str, dict[str, Any]]
    """Kueue's ResourceFlavor specs by name, which place the double's queued Jobs."""


@functools.cache
def built(key: str) -> Built:
    """A double's workloads, built once per test session."""
    return build(*DOUBLES[key])


def build(double: Double, stack: str) -> Built:
    """`workloads.build` alone for `stack`'s config and the double's contract; every registration kept."""

    def program() -> config.StackConfig:
        # The double is the home cloud, so that its workloads train too.
        loaded = config.load()
        cfg = loaded.model_copy(
            update={"training": loaded.training.model_copy(update={"cloud": double.cloud})}
        )
        pulumi.export("servingUrl", workloads.build(cfg, contract(double)).serving_url)
        return cfg

    done = runner.on_mocks(stackfile.load(ROOT, stack), stack, program)
    # The double's Kubernetes provider belongs to no cloud the plan knows, so name the double's on each.
    # Kueue's objects stay out, as `helpers.clusters` leaves them out (tests/infra/kueue tests them).
    resources = [replace(r, cloud=double.cloud) for r in done.resources if not is_apart(r)]
    cluster = Cluster(stack, double.cloud, done.value, resources, DOUBLE_NETWORK)
    flavors = {
        str(r.inputs["metadata"]["name"]): integral(r.inputs["spec"])
        for r in done.resources
        if r.type == FLAVOR
    }
    return Built(double, cluster, str(done.outputs["servingUrl"]), flavors)


def is_double(cluster: Cluster) -> bool:
    """Whether `cluster` is a double's: built alone, as its own home cloud, with no replicator."""
    return cluster.network == DOUBLE_NETWORK


def missing(stack: str, cloud: str) -> set[Capability]:
    """The capabilities a merged cloud's real contract says it lacks (its platform built on the mocks)."""

    def program() -> set[Capability]:
        return set(clouds.build(cast(Cloud, cloud), config.load()).missing)

    return runner.on_mocks(stackfile.load(ROOT, stack), stack, program).value
