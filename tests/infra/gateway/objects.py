"""A gateway component built alone on the mock engine, and the checks every one of them gets: core objects
as `kubernetes-validate --strict` reads them for 1.35, the gateway's kinds against the vendored CRDs
(`schemas.py`), and every pod template under the policy pack's pod-security rules (WL-01..WL-06)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import yaml
from kubernetes_validate import utils

from plan import runner, stackfile
from plan.manifests import integral, manifest
from plan.runner import PlannedResource
from policy.controls import workloads
from policy.model import k8s as policy_k8s
from tests.infra.gateway.schemas import GATEWAY
from tests.plans import ROOT

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SERVICE = "kubernetes:core/v1:Service"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
MUTATING = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"
VALIDATING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration"
POD_SECURITY_RULES = (
    workloads.non_root,
    workloads.no_escalation,
    workloads.drop_all,
    workloads.seccomp,
    workloads.no_host_access,
    workloads.read_only_root,
)


@dataclass(frozen=True)
class Built:
    resources: list[PlannedResource]
    crd: PlannedResource

    @property
    def plan(self) -> runner.Plan:
        return runner.Plan("gpu-platform", "dev", self.resources, {}, [])

    def of(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> PlannedResource:
        (found,) = [r for r in self.of(type_) if r.inputs["metadata"]["name"] == name]
        return found

    def inputs(self, type_: str, name: str) -> dict[str, Any]:
        return dict(integral(self.named(type_, name).inputs))

    def objects(self) -> list[PlannedResource]:
        """The component's Kubernetes objects (the stand-ins its program makes left out)."""
        return [
            r
            for r in self.resources
            if r.custom and r.type.startswith("kubernetes:") and not r.name.startswith("stand-in-")
        ]


def build(program: Callable[[list[pulumi.Resource]], None]) -> Built:
    """Run `program(crds)` on the mock engine, `crds` a stand-in CRD for it to wait for."""

    def run() -> None:
        crd = k8s.apiextensions.v1.CustomResourceDefinition(
            "stand-in-crd",
            metadata={"name": "gatewayclasses.gateway.networking.k8s.io"},
            spec={
                "group": "gateway.networking.k8s.io",
                "names": {"kind": "GatewayClass", "plural": "gatewayclasses"},
                "scope": "Cluster",
                "versions": [{"name": "v1", "served": True, "storage": True}],
            },
        )
        program([crd])

    done = runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", run)
    (crd,) = [r for r in done.resources if r.type == CRD]
    return Built(done.resources, crd)


def _custom(res: PlannedResource) -> bool:
    return manifest(res)["apiVersion"].split("/")[0] in {kind.group for kind in GATEWAY.kinds.values()}


def core_failures(built: Built, version: str = "1.35.0") -> list[str]:
    """What `kubernetes-validate --strict` refuses in the component's core objects (each schema file read
    once, as tests/infra/kueue/test_controller.py does)."""
    original = utils.schema_contents
    utils.schema_contents = functools.cache(original)
    try:
        return list(_core_failures(built, version))
    finally:
        utils.schema_contents = original


def _core_failures(built: Built, version: str) -> Iterator[str]:
    for res in built.objects():
        if _custom(res):
            continue
        obj = yaml.safe_load(yaml.safe_dump(manifest(res)))
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            yield f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}"


def custom_failures(built: Built) -> list[str]:
    """What the API server would refuse in the component's gateway and cert-manager objects."""
    return [error for res in built.objects() if _custom(res) for error in GATEWAY.validate(manifest(res))]


def pod_security_failures(built: Built) -> list[str]:
    """The policy pack's WL-01..WL-06 findings on every workload of the component."""
    return [
        f"{res.name}: {finding}"
        for res in built.objects()
        if res.type in policy_k8s.WORKLOAD_TYPES
        for rule in POD_SECURITY_RULES
        for finding in rule(res.type, integral(res.inputs))
    ]
