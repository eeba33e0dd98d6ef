"""Reading cross-cloud federation back from a plan, for each cloud's `test_federation.py`: what the plan's
fake providers answered for a resource, the home cluster's replicator pod, and the plan of dev with Azure
as the home cloud (the committed stacks train on AWS and GCP)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from infra.clouds.base import federated_dir
from plan import fakes, stackfile
from plan.runner import Plan, PlannedResource
from tests.plans import ROOT, plan_with

SUBJECT = "system:serviceaccount:ml:replicator"
"""The home cluster's replicator, as its tokens name it in `sub`."""
MODELS = "models/digits/"
"""The one prefix the replicator is granted: the versions of the model it copies."""


@functools.cache
def azure_home_plan() -> Plan:
    """dev, trained on Azure: AWS and GCP trust the AKS issuer, whose URL ends with a slash."""
    return plan_with({"gpu-platform:training": {"cloud": "azure"}})


def answered(stack: str, resource: PlannedResource) -> dict[str, Any]:
    """What the fake provider answered for `resource` in a plan of `stack`: its inputs with the outputs a
    real create computes (an address, an issuer, a client id), as the program read them."""
    return fakes.resource(resource.type, resource.name, resource.inputs, stack)[1]


def gke_nat(plan: Plan) -> list[str]:
    """GKE's Cloud NAT addresses (reserved), as the fake provider answered them: the home cluster's
    egress in prod, which the other clouds' storage and, as MultiKueue's manager, their API servers admit."""
    addresses = plan.of_type("gcp:compute/address:Address")
    return [answered(plan.stack, a)["address"] for a in addresses if "-gateway-" not in a.name]


def eks_issuer(plan: Plan) -> str:
    """The EKS cluster's token issuer, as the fake provider answered it."""
    (cluster,) = plan.of_type("aws:eks/cluster:Cluster")
    issuer: str = answered(plan.stack, cluster)["identities"][0]["oidcs"][0]["issuer"]
    return issuer


def gke_issuer(plan: Plan) -> str:
    """The GKE cluster's token issuer, built as GKE names it (the resource does not report it)."""
    (cluster,) = plan.of_type("gcp:container/cluster:Cluster")
    project = stackfile.load(ROOT, plan.stack).config["gcp:project"]
    location, name = cluster.inputs["location"], cluster.inputs["name"]
    return f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}"


def aks_issuer(plan: Plan) -> str:
    """The AKS cluster's token issuer, as the fake provider answered it (with its trailing slash)."""
    (cluster,) = plan.of_type("azure-native:containerservice:ManagedCluster")
    issuer: str = answered(plan.stack, cluster)["oidcIssuerProfile"]["issuerURL"]
    return issuer


def created_id(stack: str, resource: PlannedResource) -> str:
    """The id the fake provider gave `resource` (an ARM id, say), as the program read it."""
    return fakes.resource(resource.type, resource.name, resource.inputs, stack)[0]


def one_named(plan: Plan, type_: str, name: str) -> PlannedResource:
    (found,) = [r for r in plan.of_type(type_) if r.name == name]
    return found


@dataclass(frozen=True)
class ReplicatorPod:
    """The replicator's pod template in the home cluster, as far as a target cloud shapes it."""

    env: dict[str, str]
    volumes: dict[str, dict[str, Any]]
    mounts: dict[str, str]
    """Volume name -> mount path."""
    files: dict[str, str]
    """The targets' configuration files (`<cloud>-<file>`), as the ConfigMap holds them."""

    def token(self, cloud: str) -> dict[str, Any]:
        """The projected service-account token the pod presents to `cloud`, checked to be mounted where
        that cloud's SDK is told to read it."""
        assert self.mounts[f"{cloud}-federation"] == federated_dir(cloud)  # type: ignore[arg-type]
        sources = self.volumes[f"{cloud}-federation"]["projected"]["sources"]
        (token,) = [s["serviceAccountToken"] for s in sources if "serviceAccountToken" in s]
        assert token["path"] == "token"
        return dict(token)


def replicator(plan: Plan) -> ReplicatorPod:
    (job,) = [
        r for r in plan.of_type("kubernetes:batch/v1:CronJob") if r.name.endswith("-replicator-cronjob")
    ]
    (config,) = [
        r for r in plan.of_type("kubernetes:core/v1:ConfigMap") if r.name.endswith("-replicator-config")
    ]
    spec = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return ReplicatorPod(
        env={e["name"]: e["value"] for e in container["env"]},
        volumes={v["name"]: v for v in spec["volumes"]},
        mounts={m["name"]: m["mountPath"] for m in container["volumeMounts"]},
        files=dict(config.inputs.get("data", {})),
    )
