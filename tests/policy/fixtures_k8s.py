"""Compliant Kubernetes objects for one cluster: the PSS-restricted namespace with default-deny and DNS
policies, service accounts bound to cloud identity, the training Job and the TF Serving Deployment with
its PDB, HPA and load balancer limited to listed sources. The same objects serve the renderer tests (they
validate with kubernetes-validate and pass checkov)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tests.policy.stacks import Fixture

NS = "ml"
DIGEST = "@sha256:" + "a" * 64
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
TMP = [{"name": "tmp", "mountPath": "/tmp"}]
SERVING_LABELS = {"app": "serving", "azure.workload.identity/use": "true"}
LB_SOURCES = ["10.0.0.0/16"]
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}


def _k8s(type_: str, name: str, props: dict[str, Any], cloud: str, *deps: str) -> Fixture:
    return Fixture(f"kubernetes:{type_}", name, props, deps, cloud)


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NS, **extra}


def _container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "securityContext": copy.deepcopy(RESTRICTED),
        "resources": copy.deepcopy(RESOURCES),
        "volumeMounts": copy.deepcopy(TMP),
        **extra,
    }


def _job(registry: str, checkpoint: str, spot_toleration: dict[str, str] | None) -> dict[str, Any]:
    trainer = _container(
        "trainer",
        f"{registry}trainer{DIGEST}",
        args=["train"],
        env=[{"name": "TRAINER_CHECKPOINT_DIR", "value": checkpoint}],
    )
    trainer["resources"]["limits"]["nvidia.com/gpu"] = 1
    tolerations = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    tolerations += [spot_toleration] if spot_toleration else []
    pod = {
        "serviceAccountName": "trainer",
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": copy.deepcopy(POD_SECURITY),
        "nodeSelector": {"gpu-platform/pool": "train"},
        "tolerations": tolerations,
        "initContainers": [_container("prepare", f"{registry}trainer{DIGEST}", args=["prepare-data"])],
        "containers": [trainer],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    labels = {"app": "trainer", "azure.workload.identity/use": "true"}
    return {
        "metadata": _meta("train", annotations={"pulumi.com/skipAwait": "true"}),
        "spec": {
            "completionMode": "Indexed",
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": 4,
            "activeDeadlineSeconds": 86400,
            "ttlSecondsAfterFinished": 86400,
            "podFailurePolicy": {
                "rules": [
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
                ]
            },
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def _probe(path: str) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": 8501}, "periodSeconds": 10}


def _deployment(registry: str) -> dict[str, Any]:
    serving = _container(
        "serving",
        f"{registry}serving{DIGEST}",
        ports=[{"name": "grpc", "containerPort": 8500}, {"name": "http", "containerPort": 8501}],
        readinessProbe=_probe("/v1/models/digits"),
        livenessProbe=_probe("/v1/models/digits"),
        startupProbe={**_probe("/v1/models/digits"), "failureThreshold": 30},
    )
    pod = {
        "serviceAccountName": "serving",
        "automountServiceAccountToken": False,
        "securityContext": copy.deepcopy(POD_SECURITY),
        "terminationGracePeriodSeconds": 30,
        "initContainers": [_container("model-sync", f"{registry}sync{DIGEST}")],
        "containers": [serving],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": "serving"}},
            }
        ],
    }
    return {
        "metadata": _meta("serving"),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "serving"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": SERVING_LABELS}, "spec": pod},
        },
    }


def _service_account(name: str) -> dict[str, Any]:
    annotations = {
        "iam.gke.io/gcp-service-account": f"{name}@acme-dev.iam.gserviceaccount.com",
        "azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000001",
    }
    return {"metadata": _meta(name, annotations=annotations), "automountServiceAccountToken": False}


def _namespace(cloud: str) -> list[Fixture]:
    dns = {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    namespace = {"metadata": {"name": NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    allow_dns = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [dns]}
    https = {"ports": [{"port": 443, "protocol": "TCP"}]}
    allow_storage = {
        "podSelector": {"matchLabels": {"app": "trainer"}},
        "policyTypes": ["Egress"],
        "egress": [https],
    }
    policy = "networking.k8s.io/v1:NetworkPolicy"
    return [
        _k8s("core/v1:Namespace", "ns", namespace, cloud),
        _k8s(policy, "default-deny", {"metadata": _meta("default-deny"), "spec": deny}, cloud),
        _k8s(policy, "allow-dns", {"metadata": _meta("allow-dns"), "spec": allow_dns}, cloud),
        _k8s(policy, "allow-storage", {"metadata": _meta("allow-storage"), "spec": allow_storage}, cloud),
        _k8s("core/v1:ServiceAccount", "trainer-sa", _service_account("trainer"), cloud),
        _k8s("core/v1:ServiceAccount", "serving-sa", _service_account("serving"), cloud),
    ]


def _load_balancer() -> dict[str, Any]:
    ports = [
        {"name": "grpc", "port": 8500, "targetPort": 8500, "protocol": "TCP"},
        {"name": "http", "port": 8501, "targetPort": 8501, "protocol": "TCP"},
    ]
    spec = {
        "type": "LoadBalancer",
        "externalTrafficPolicy": "Local",
        "selector": {"app": "serving"},
        "ports": ports,
        "loadBalancerSourceRanges": list(LB_SOURCES),
    }
    return {"metadata": _meta("serving"), "spec": spec}


def _serving(cloud: str, registry: str, identity: tuple[str, ...]) -> list[Fixture]:
    budget = {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "serving"}}}
    scaler = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "serving"},
        "minReplicas": 2,
        "maxReplicas": 4,
    }
    return [
        _k8s("apps/v1:Deployment", "serving", _deployment(registry), cloud, *identity),
        _k8s("core/v1:Service", "serving-lb", _load_balancer(), cloud),
        _k8s(
            "policy/v1:PodDisruptionBudget",
            "serving-pdb",
            {"metadata": _meta("serving"), "spec": budget},
            cloud,
        ),
        _k8s(
            "autoscaling/v2:HorizontalPodAutoscaler",
            "serving-hpa",
            {"metadata": _meta("serving"), "spec": scaler},
            cloud,
        ),
    ]


def k8s_objects(
    cloud: str,
    registry: str,
    checkpoint: str,
    spot_toleration: dict[str, str] | None = None,
    identity: Mapping[str, str] | None = None,
) -> list[Fixture]:
    """The objects of one cluster; `spot_toleration` for clouds that taint Spot nodes themselves (AKS);
    `identity` names the cloud resource that binds each service account (trainer, serving), which the
    workload that runs as it depends on."""
    bindings = identity or {}
    trainer = tuple(b for sa, b in bindings.items() if sa == "trainer")
    serving = tuple(b for sa, b in bindings.items() if sa == "serving")
    job = _k8s("batch/v1:Job", "train", _job(registry, checkpoint, spot_toleration), cloud, *trainer)
    return [*_namespace(cloud), job, *_serving(cloud, registry, serving)]
