"""Cluster Autoscaler for the EKS node groups: IAM through Pod Identity, Kubernetes RBAC and Deployment.

EKS does not scale managed node groups by itself, so without this a GPU pool at min 0 never gets a node.
The RBAC rules follow the upstream `cluster-autoscaler-autodiscover.yaml` example for AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext
from infra.clouds.aws.pod_identity import PodIdentityNames, pod_identity_role
from infra.clouds.base import GENERAL_POOL, POOL_LABEL

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
_RBAC = "rbac.authorization.k8s.io"
_READ = ["watch", "list", "get"]
CLUSTER_RULES: list[dict[str, list[str]]] = [
    {"apiGroups": [""], "resources": ["events", "endpoints"], "verbs": ["create", "patch"]},
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]},
    {
        "apiGroups": [""],
        "resources": ["endpoints"],
        "resourceNames": [SERVICE_ACCOUNT],
        "verbs": ["get", "update"],
    },
    {"apiGroups": [""], "resources": ["nodes"], "verbs": [*_READ, "update"]},
    {
        "apiGroups": [""],
        "resources": [
            "namespaces",
            "pods",
            "services",
            "replicationcontrollers",
            "persistentvolumeclaims",
            "persistentvolumes",
        ],
        "verbs": _READ,
    },
    {"apiGroups": ["extensions"], "resources": ["replicasets", "daemonsets"], "verbs": _READ},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["watch", "list"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets", "replicasets", "daemonsets"], "verbs": _READ},
    {
        "apiGroups": ["resource.k8s.io"],
        "resources": ["deviceclasses", "resourceslices", "resourceclaims"],
        "verbs": _READ,
    },
    {
        "apiGroups": ["storage.k8s.io"],
        "resources": [
            "storageclasses",
            "csinodes",
            "csidrivers",
            "csistoragecapacities",
            "volumeattachments",
        ],
        "verbs": _READ,
    },
    {"apiGroups": ["batch", "extensions"], "resources": ["jobs"], "verbs": [*_READ, "patch"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": [SERVICE_ACCOUNT],
        "verbs": ["get", "update"],
    },
]
NAMESPACE_RULES: list[dict[str, list[str]]] = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "list", "watch"]},
    {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "resourceNames": ["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"],
        "verbs": ["delete", "get", "update", "watch"],
    },
]


def command(cluster_name: str) -> list[str]:
    return [
        "./cluster-autoscaler",
        "--cloud-provider=aws",
        f"--namespace={NAMESPACE}",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        f"k8s.io/cluster-autoscaler/{cluster_name}",
        "--balance-similar-node-groups=true",
        # Among groups that fit, pick the one that wastes the least: a CPU pod never opens a GPU node.
        "--expander=least-waste",
        "--skip-nodes-with-local-storage=false",
        "--v=2",
    ]


@dataclass(frozen=True, kw_only=True)
class ClusterAutoscalerArgs:
    context: AwsContext
    cluster_name: str
    cluster: pulumi.Input[str]
    """The cluster's name as an Output, so the association waits for the cluster."""
    image: str
    k8s_provider: k8s.Provider


class ClusterAutoscaler(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gpu-platform:aws:ClusterAutoscaler", name, None, opts)
        self._name, self._args = name, args
        identity = self._iam()
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        labels = {"app.kubernetes.io/name": SERVICE_ACCOUNT, "app.kubernetes.io/managed-by": "pulumi"}
        meta = {"name": SERVICE_ACCOUNT, "namespace": NAMESPACE, "labels": labels}
        account = self._rbac(labels, k8s_opts)
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta,
            spec=self._spec(labels, account),
            # Pods started before the association (and its role's policy) get no credentials, or denied ones.
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=identity)),
        )
        self.register_outputs({"deployment": self.deployment.metadata.name})

    def _rbac(self, labels: dict[str, str], k8s_opts: pulumi.ResourceOptions) -> k8s.core.v1.ServiceAccount:
        name = self._name
        meta = {"name": SERVICE_ACCOUNT, "namespace": NAMESPACE, "labels": labels}
        account = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata=meta, opts=k8s_opts)
        subject = [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}]
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-clusterrole",
            metadata={"name": SERVICE_ACCOUNT, "labels": labels},
            rules=CLUSTER_RULES,
            opts=k8s_opts,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-clusterrolebinding",
            metadata={"name": SERVICE_ACCOUNT, "labels": labels},
            role_ref={"apiGroup": _RBAC, "kind": "ClusterRole", "name": cluster_role.metadata.name},
            subjects=subject,
            opts=k8s_opts,
        )
        role = k8s.rbac.v1.Role(f"{name}-role", metadata=meta, rules=NAMESPACE_RULES, opts=k8s_opts)
        k8s.rbac.v1.RoleBinding(
            f"{name}-rolebinding",
            metadata=meta,
            role_ref={"apiGroup": _RBAC, "kind": "Role", "name": role.metadata.name},
            subjects=subject,
            opts=k8s_opts,
        )
        return account

    def _iam(self) -> list[pulumi.Resource]:
        args, context = self._args, self._args.context
        made = pod_identity_role(
            context,
            PodIdentityNames(
                role=f"{self._name}-role",
                policy=f"{self._name}-policy",
                association=f"{self._name}-pod-identity",
            ),
            cluster_name=args.cluster_name,
            cluster=args.cluster,
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            policy=pulumi.Output.all(context.partition, context.account_id).apply(
                lambda v: policies.autoscaler_policy(v[0], context.region, v[1], args.cluster_name)
            ),
            component="autoscaler",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return [made.association, made.policy]

    def _spec(self, labels: dict[str, str], account: k8s.core.v1.ServiceAccount) -> dict[str, object]:
        container = {
            "name": SERVICE_ACCOUNT,
            "image": self._args.image,
            "command": command(self._args.cluster_name),
            # Pods cannot reach IMDS (hop limit 1), so the SDK needs the region from the environment.
            "env": [{"name": "AWS_REGION", "value": self._args.context.region}],
            # Upstream's example values (cluster-autoscaler-autodiscover.yaml); limits on both (WL-07).
            "resources": {
                "requests": {"cpu": "100m", "memory": "600Mi"},
                "limits": {"cpu": "100m", "memory": "600Mi"},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        }
        return {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": account.metadata.name,
                    "priorityClassName": "system-cluster-critical",
                    # On the on-demand system pool, never on a GPU node it might scale away.
                    "nodeSelector": {POOL_LABEL: GENERAL_POOL},
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "runAsGroup": 65534,
                        "fsGroup": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                },
            },
        }
