"""`--render-k8s`: every Kubernetes object of a plan as YAML that validates against the Kubernetes schemas
(kubernetes-validate --strict, the stack's Kubernetes version) and passes checkov's Kubernetes checks.

The plans hold few Kubernetes objects until the workloads land, so the renderer is also tested on the
policy tests' compliant objects (namespace, network policies, service accounts, the training Job, the
serving Deployment, its PDB and HPA), which satisfy the K controls.

Checkov checks skipped: none for the workloads and the fixtures. The two node agents, Kueue's
controller and MultiKueue's token refresher fail some checks on purpose; SYSTEM_EXCEPTIONS lists each
(check, object) with the reason, and only those.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from infra import kueue
from plan import manifests
from plan.runner import Plan, PlannedResource
from tests.infra.gateway import schemas as gateway_schemas
from tests.infra.kueue import schemas as kueue_schemas
from tests.plans import stack_values
from tests.policy.conftest import azure_full, gcp_full
from tests.tools import checkov

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
GATEWAY_GROUPS = ("gateway.networking.k8s.io", "gateway.envoyproxy.io", "cert-manager.io")
KUBERNETES_VERSION = "1.35.0"
"""The version both stack files configure on every cloud (`test_the_stacks_run_the_validated_version`)."""
CHECKOV_SKIPS: dict[str, str] = {}
"""checkov check id -> why no object of the platform can pass it (none so far)."""
DEVICE_PLUGIN = "DaemonSet.nvidia-device-plugin.nvidia-device-plugin"
AUTOSCALER = "Deployment.kube-system.cluster-autoscaler"
KUEUE = "Deployment.kueue-system.kueue-controller-manager"
SYSTEM_EXCEPTIONS: dict[tuple[str, str], str] = {
    (
        "CKV_K8S_8",
        DEVICE_PLUGIN,
    ): "serves the kubelet a gRPC socket, no HTTP endpoint; NVIDIA's manifest has no probe",
    ("CKV_K8S_9", DEVICE_PLUGIN): "same: nothing routes to it, so readiness means nothing",
    (
        "CKV_K8S_23",
        DEVICE_PLUGIN,
    ): "writes its socket into the host's root-owned /var/lib/kubelet/device-plugins",
    ("CKV_K8S_40", DEVICE_PLUGIN): "runs as root for the same reason (policy WL-01 reports it as advisory)",
    (
        "CKV_K8S_22",
        DEVICE_PLUGIN,
    ): "NVIDIA's manifest leaves the root filesystem writable; not verified read-only "
    "without a GPU node (policy WL-06 reports it as advisory)",
    ("CKV_K8S_8", AUTOSCALER): "the upstream autodiscover example declares no probes",
    ("CKV_K8S_9", AUTOSCALER): "same; nothing routes traffic to the autoscaler",
    (
        "CKV_K8S_38",
        AUTOSCALER,
    ): "the autoscaler calls the API server: it needs its token (policy ID-07 advises)",
    ("CKV_K8S_38", KUEUE): "Kueue's controller calls the API server: it needs its token",
    (
        "CKV_K8S_38",
        "CronJob.kueue-system.worker-token-refresher",
    ): "MultiKueue's token refresher patches its kubeconfig Secrets through the API server (policy ID-10)",
    (
        "CKV_K8S_155",
        "ClusterRole.default.kueue-manager-role",
    ): "Kueue writes its own CA into its webhook configurations; its certificate rotator lists and "
    "watches them, which resourceNames cannot narrow (upstream's role, infra/kueue/controller.py)",
    (
        "CKV2_K8S_5",
        "RoleBinding.kueue-system.kueue-manager-secrets-rolebinding",
    ): "Kueue keeps its webhook certificate and MultiKueue's kubeconfigs in Secrets of its own "
    "namespace, and no other",
    **{
        ("CKV_K8S_38", workload): "calls the API server, so it mounts its token (policy ID-07 advises)"
        for workload in (
            "Deployment.envoy-gateway-system.envoy-gateway",
            "Job.envoy-gateway-system.eg-gateway-helm-certgen",
            "Deployment.cert-manager.cert-manager",
            "Deployment.cert-manager.cert-manager-cainjector",
            "Deployment.cert-manager.cert-manager-webhook",
        )
    },
    (
        "CKV2_K8S_5",
        "RoleBinding.envoy-gateway-system.eg-gateway-helm-certgen",
    ): "certgen writes the controller's and the proxies' TLS Secrets in its own namespace, and no other "
    "(upstream's role, infra/gateway/envoy.py)",
    (
        "CKV_K8S_155",
        "ClusterRole.default.cert-manager-cainjector",
    ): "cainjector writes CA bundles into the webhook configurations it is asked to; its informers list and "
    "watch them, which resourceNames cannot narrow (upstream's role, infra/gateway/cert_manager.py)",
}
"""(checkov check, object) -> why that system component fails it; every other object passes every
check."""


def fixture_plan() -> Plan:
    objects = [f for f in [*gcp_full(), *azure_full()] if f.type.startswith("kubernetes:")]
    resources = [
        PlannedResource(
            f.type, f.name, f"urn:{f.cloud}:{f.name}", None, None, f.cloud, True, f.props, [], False, False
        )
        for f in objects
    ]
    return Plan("gpu-platform", "fixture", resources, {}, [])


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("kubernetes:core/v1:Namespace", ("v1", "Namespace")),
        ("kubernetes:apps/v1:Deployment", ("apps/v1", "Deployment")),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", ("networking.k8s.io/v1", "NetworkPolicy")),
    ],
)
def test_api_version_and_kind_come_from_the_type_token(token: str, expected: tuple[str, str]) -> None:
    assert manifests.api_version(token) == expected


def test_manifest_fills_name_and_makes_integral_floats_integers() -> None:
    res = PlannedResource(
        "kubernetes:apps/v1:Deployment",
        "web",
        "urn",
        None,
        None,
        "gcp",
        True,
        {"metadata": {"namespace": "ml"}, "spec": {"replicas": 2.0}},
        [],
        False,
        False,
    )
    doc = manifests.manifest(res)
    assert doc == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"namespace": "ml", "name": "web"},
        "spec": {"replicas": 2},
    }


def _validate_all(files: list[Path]) -> None:
    """Kubernetes' own kinds against its schemas; Kueue's and the gateway's, which it has none for, against
    the pinned releases' CRDs (tests/infra/kueue/schemas.py, tests/infra/gateway/schemas.py)."""
    for path in files:
        doc = yaml.safe_load(path.read_text())
        if doc["apiVersion"] == kueue.API_VERSION:
            assert kueue_schemas.validate(doc) == [], path
        elif doc["apiVersion"].split("/")[0] in GATEWAY_GROUPS:
            assert gateway_schemas.GATEWAY.validate(doc) == [], path
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_run_the_validated_version(stack: str) -> None:
    values = stack_values(stack)
    versions = {values[f"gpu-platform:{cloud}"]["kubernetesVersion"] for cloud in ("aws", "gcp", "azure")}
    assert versions == {KUBERNETES_VERSION.removesuffix(".0")}


def test_fixture_objects_render_one_file_each_and_validate(tmp_path: Path) -> None:
    plan = fixture_plan()
    files = manifests.write(plan, tmp_path)
    assert len(files) == len(set(files)) == len(plan.resources)
    assert sorted(p.relative_to(tmp_path).parts[0] for p in files) == sorted(
        r.cloud or "" for r in plan.resources
    )
    _validate_all(files)
    failed = checkov(tmp_path, "kubernetes", tuple(CHECKOV_SKIPS))
    assert failed == [], [(c["check_id"], c["resource"], c["file_path"]) for c in failed]


def test_strict_validation_catches_a_misspelled_field(tmp_path: Path) -> None:
    plan = fixture_plan()
    job = next(r for r in plan.resources if r.name == "train")
    job.inputs["spec"]["backofLimit"] = 3
    files = manifests.write(Plan("gpu-platform", "x", [job], {}, []), tmp_path)
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate_all(files)


def test_stack_plans_render_valid_manifests(stack_plan: Plan, tmp_path: Path) -> None:
    # The CRDs are upstream's files, checked byte for byte and validated once (tests/infra/kueue/
    # test_crds.py, tests/infra/gateway/test_definitions.py); checkov has no check for CRDs, and rendering
    # the gateway's 22 MB of them took most of this test's time. Every other object is rendered.
    objects = [r for r in stack_plan.resources if r.type != CRD]
    plan = dataclasses.replace(stack_plan, resources=objects)
    files = manifests.write(plan, tmp_path)
    assert (
        len(files)
        == len(manifests.objects(plan))
        == len(manifests.objects(stack_plan)) - (len(stack_plan.resources) - len(objects))
    )
    _validate_all(files)
    if files:
        failed = checkov(tmp_path, "kubernetes", tuple(CHECKOV_SKIPS))
        unexpected = [(c["check_id"], c["resource"]) for c in failed]
        left = sorted({f for f in unexpected if f not in SYSTEM_EXCEPTIONS})
        assert left == [], "\n".join(map(str, left))
