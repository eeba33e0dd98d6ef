"""MultiKueue across clouds (`queues.dispatch`): the home cluster is the manager, the others workers.

On the manager, each team gets a second queue, `<team>-multicloud`: a ClusterQueue gated by the MultiKueue
AdmissionCheck, whose quota is the sum of the team's quotas on every worker (upstream's advice: the manager
only gates, the workers admit), and its LocalQueue in the team's namespace. A Job queued there is copied
to every worker as a Workload; the first worker whose own queue admits it runs it, the others drop theirs,
and the manager follows its status (docs/queues.md). The manager runs none of them itself: MultiKueue does
not let a manager be its own worker, so its own GPUs serve its local queues.

Each worker mirrors what a copied Job needs: the same namespace and a LocalQueue of the same name, in
front of the team's own ClusterQueue there (its flavors and quotas), and exactly what MultiKueue's
controller does on a worker, for the identity the manager's refresher signs in as (`ApiAccess.subject`):
reading Jobs, Workloads and queues cluster-wide, and creating and deleting them in the teams' namespaces
only.

The manager's quota for a team is the sum of its quotas on the workers, so it gates how much runs at once;
but a worker admits a Job into one of its flavors, so a Job larger than the largest flavor of every worker
gets the manager's quota and waits there for ever (docs/queues.md).

The manager reaches a worker through a kubeconfig Secret per worker, `multikueue-<cloud>`: Pulumi creates
it empty and never writes it; the refresher (infra/kueue/refresher.py) writes a short-lived token into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s

from infra import pods
from infra.catalog import Cloud
from infra.clouds.base import GPU_RESOURCE, RbacSubject
from infra.config.queues import TeamQueue
from infra.config.types import GIB, quantity_value
from infra.kueue.confinement import DispatchedJobPolicy
from infra.kueue.controller import NAMESPACE
from infra.kueue.queues import COVERED, kueue_object
from infra.pods import Obj

GROUP = "kueue.x-k8s.io"
RBAC = "rbac.authorization.k8s.io"
CONTROLLER_NAME = f"{GROUP}/multikueue"
"""The AdmissionCheck controller MultiKueue registers (apis/kueue/v1beta2/multikueue_types.go)."""
MANAGED_BY = CONTROLLER_NAME
"""A dispatched Job's `spec.managedBy` on the manager, so that Kubernetes' Job controller leaves it to
MultiKueue; Kueue's webhook sets the same for a Job in a MultiKueue queue (jobframework/defaults.go)."""
ADMISSION_CHECK = "multikueue"
CONFIG = "workers"
FLAVOR = "multicloud"
"""The manager's one flavor: no node labels, since nothing dispatched runs on the manager's nodes."""
KUBECONFIG_KEY = "kubeconfig"
"""Where MultiKueue reads a worker's kubeconfig in its Secret (`MultiKueueConfigSecretKey`)."""
PULL_SECRET = "trainer-pull"
"""On each worker, in each team namespace: the image pull Secret for the manager's registry, which
dispatched Jobs name and the refresher keeps holding a short-lived read-only credential."""
EMPTY_DOCKER_CONFIG = '{"auths":{}}'
"""A `kubernetes.io/dockerconfigjson` Secret must hold a docker config: this one admits nothing."""
WORKER_READ = "multikueue-worker-read"
WORKER_WRITE = "multikueue-worker-write"
_READ = ["get", "list", "watch"]
WORKER_READ_RULES: list[Obj] = [
    {"api_groups": ["batch"], "resources": ["jobs"], "verbs": _READ},
    {"api_groups": ["batch"], "resources": ["jobs/status"], "verbs": ["get"]},
    {"api_groups": [GROUP], "resources": ["workloads"], "verbs": _READ},
    {"api_groups": [GROUP], "resources": ["workloads/status"], "verbs": ["get"]},
    {"api_groups": [GROUP], "resources": ["clusterqueues", "localqueues"], "verbs": _READ},
]
"""Bound cluster-wide: MultiKueue's remote watches of Jobs and Workloads span every namespace."""
WORKER_WRITE_RULES: list[Obj] = [
    {"api_groups": ["batch"], "resources": ["jobs"], "verbs": ["create", "delete"]},
    {"api_groups": [GROUP], "resources": ["workloads"], "verbs": ["create", "delete", "patch", "update"]},
    {"api_groups": [GROUP], "resources": ["workloads/status"], "verbs": ["patch", "update"]},
    {
        "api_groups": [""],
        "resources": ["secrets"],
        "resource_names": [PULL_SECRET],
        "verbs": ["get", "patch"],
    },
]
"""Bound in the teams' namespaces only, where dispatched Jobs and their Workloads go: the manager's identity
cannot create a Job anywhere else (kube-system, say). Together with the read rules, upstream's example role
(`create-multikueue-kubeconfig.sh`) for batch Jobs, and nothing for other job kinds; beside it, the one
Secret the refresher writes there, by name, and no other."""


def dispatch_queue(team: str) -> str:
    """The name of a team's MultiKueue queue, on the manager and on every worker alike."""
    return f"{team}-multicloud"


def secret_name(cloud: Cloud) -> str:
    return f"multikueue-{cloud}"


def total(quantities: Iterable[str], resource: str) -> str:
    """The sum of Kubernetes quantities, written back as one: whole CPUs or millicores; memory in Gi when
    whole, else bytes; GPUs as a count."""
    value = sum((quantity_value(q) for q in quantities), Decimal(0))
    if resource == "memory":
        return f"{value / GIB:f}Gi" if value % GIB == 0 else f"{value:f}"
    if resource == "cpu" and value % 1:
        return f"{(value * 1000).normalize():f}m"
    return f"{value:f}"


def manager_quotas(team: str, workers: Mapping[Cloud, Sequence[TeamQueue]]) -> dict[str, str]:
    """The manager's quota for `team`: its nominal quotas summed over every flavor of every worker, so the
    manager never holds back a Job some worker could admit."""
    flavors = [f for queues in workers.values() for q in queues if q.name == team for f in q.flavors]
    return {
        "cpu": total((f.cpu for f in flavors), "cpu"),
        "memory": total((f.memory for f in flavors), "memory"),
        GPU_RESOURCE: total((str(f.gpus) for f in flavors), GPU_RESOURCE),
    }


def manager_queue_spec(team: TeamQueue, quotas: Mapping[str, str]) -> Obj:
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": team.namespace}},
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [
            {
                "coveredResources": list(COVERED),
                "flavors": [
                    {"name": FLAVOR, "resources": [{"name": r, "nominalQuota": quotas[r]} for r in COVERED]}
                ],
            }
        ],
        "admissionChecksStrategy": {"admissionChecks": [{"name": ADMISSION_CHECK}]},
    }


@dataclass(frozen=True, kw_only=True)
class ManagerArgs:
    teams: Sequence[TeamQueue]
    """The manager's teams (their names and namespaces)."""
    workers: Mapping[Cloud, Sequence[TeamQueue]]
    """Each worker's team queues. MultiKueue's default dispatcher offers a Job to every worker at once."""
    labels: Mapping[str, str]
    ready: Sequence[pulumi.Resource]
    """The manager's Kueue webhooks and CRDs: its objects are refused before them."""
    namespaces: Sequence[pulumi.Resource] = ()
    """The teams' namespaces, which their LocalQueues wait for."""


class MultiKueueManager(pulumi.ComponentResource):
    """The manager's side; `secrets` are the kubeconfig Secrets' names by worker, for the refresher."""

    secrets: dict[Cloud, str]
    local_queues: dict[str, str]

    def __init__(self, name: str, args: ManagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:kueue:MultiKueueManager", name, None, opts)
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.ready))
        # Empty, and never written by Pulumi: the refresher owns the data (a short-lived token).
        owned_by_refresher = pulumi.ResourceOptions.merge(
            after, pulumi.ResourceOptions(ignore_changes=["data", "stringData", "metadata.annotations"])
        )
        self.secrets = {cloud: secret_name(cloud) for cloud in args.workers}
        clusters = []
        for cloud, secret in self.secrets.items():
            kubeconfig = k8s.core.v1.Secret(
                f"{name}-{cloud}-kubeconfig",
                metadata=pods.metadata(secret, NAMESPACE, args.labels),
                type="Opaque",
                opts=owned_by_refresher,
            )
            source = {"kubeConfig": {"locationType": "Secret", "location": secret}}
            clusters.append(
                kueue_object(
                    f"{name}-{cloud}",
                    "MultiKueueCluster",
                    cloud,
                    {"clusterSource": source},
                    labels=args.labels,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.ready, kubeconfig]),
                )
            )
        config = kueue_object(
            f"{name}-config",
            "MultiKueueConfig",
            CONFIG,
            {"clusters": list(args.workers)},
            labels=args.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.ready, *clusters]),
        )
        parameters = {"apiGroup": GROUP, "kind": "MultiKueueConfig", "name": CONFIG}
        check = kueue_object(
            f"{name}-check",
            "AdmissionCheck",
            ADMISSION_CHECK,
            {"controllerName": CONTROLLER_NAME, "parameters": parameters},
            labels=args.labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.ready, config]),
        )
        flavor = kueue_object(f"{name}-flavor", "ResourceFlavor", FLAVOR, {}, labels=args.labels, opts=after)
        self.local_queues = {}
        for team in args.teams:
            queue = dispatch_queue(team.name)
            cluster_queue = kueue_object(
                f"{name}-{team.name}",
                "ClusterQueue",
                queue,
                manager_queue_spec(team, manager_quotas(team.name, args.workers)),
                labels=args.labels,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.ready, check, flavor]),
            )
            kueue_object(
                f"{name}-{team.name}-local",
                "LocalQueue",
                queue,
                {"clusterQueue": queue},
                labels=args.labels,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster_queue, *args.namespaces]),
                namespace=team.namespace,
            )
            self.local_queues[team.name] = queue
        self.register_outputs({"localQueues": self.local_queues})


@dataclass(frozen=True, kw_only=True)
class WorkerArgs:
    subject: RbacSubject
    """Whom the manager's refresher signs in as on this worker (`ApiAccess.subject`)."""
    teams: Sequence[TeamQueue]
    """This worker's team queues: a team with no flavor here gets no dispatch queue."""
    labels: Mapping[str, str]
    ready: Sequence[pulumi.Resource]
    """This worker's Kueue queues: a LocalQueue names its ClusterQueue."""
    image: pulumi.Input[str]
    """The manager's trainer image: the only one a Job the manager creates here may run."""
    service_account: str
    """The only service account such a Job may run as (the trainer's)."""
    namespaces: Sequence[pulumi.Resource] = ()
    """The teams' namespaces, which the pull Secrets wait for."""


class MultiKueueWorker(pulumi.ComponentResource):
    pull_namespaces: list[str]
    """Where the worker declares its pull Secret: its teams' namespaces, each once."""

    def __init__(self, name: str, args: WorkerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:kueue:MultiKueueWorker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)
        subject = {"api_group": RBAC, "kind": args.subject.kind, "name": args.subject.name}
        read = k8s.rbac.v1.ClusterRole(
            f"{name}-read",
            metadata={"name": WORKER_READ, "labels": labels},
            rules=WORKER_READ_RULES,
            opts=child,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-read-binding",
            metadata={"name": WORKER_READ, "labels": labels},
            role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": read.metadata.name},
            subjects=[subject],
            opts=child,
        )
        write = k8s.rbac.v1.ClusterRole(
            f"{name}-write",
            metadata={"name": WORKER_WRITE, "labels": labels},
            rules=WORKER_WRITE_RULES,
            opts=child,
        )
        # Before the manager may create a Job here, the policy that confines what it runs.
        confined = DispatchedJobPolicy(
            f"{name}-confinement",
            subject=args.subject,
            image=args.image,
            service_account=args.service_account,
            pull_secret=PULL_SECRET,
            labels=labels,
            opts=child,
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[*args.ready, confined])
        teams = [t for t in args.teams if t.flavors]
        # Empty, and never written by Pulumi: the refresher owns the data (a short-lived credential).
        owned_by_refresher = pulumi.ResourceOptions(
            parent=self,
            depends_on=list(args.namespaces),
            ignore_changes=["data", "stringData", "metadata.annotations"],
        )
        self.pull_namespaces = sorted({t.namespace for t in teams})
        for namespace in self.pull_namespaces:
            k8s.core.v1.Secret(
                f"{name}-{namespace}-pull",
                metadata=pods.metadata(PULL_SECRET, namespace, labels),
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": EMPTY_DOCKER_CONFIG},
                opts=owned_by_refresher,
            )
        for team in teams:
            k8s.rbac.v1.RoleBinding(
                f"{name}-{team.name}-write-binding",
                metadata=pods.metadata(WORKER_WRITE, team.namespace, labels),
                role_ref={"api_group": RBAC, "kind": "ClusterRole", "name": write.metadata.name},
                subjects=[subject],
                opts=after,
            )
            kueue_object(
                f"{name}-{team.name}-local",
                "LocalQueue",
                dispatch_queue(team.name),
                {"clusterQueue": team.name},
                labels=args.labels,
                opts=after,
                namespace=team.namespace,
            )
        self.register_outputs({})
