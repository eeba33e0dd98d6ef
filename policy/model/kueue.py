"""Kueue's objects in a stack: which LocalQueue a Job is queued in, and the ResourceFlavors that queue's
ClusterQueue admits its pods to (where they run, and which taints they tolerate)."""

from __future__ import annotations

from policy.model import k8s
from policy.model.props import Props, as_list, get
from policy.model.stack import Resource, Stack

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
LOCAL_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue"
CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
RESOURCE_FLAVOR = "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor"


def queue_of(props: Props) -> str | None:
    """The LocalQueue a Job is queued in, by its label."""
    value = (get(props, "metadata.labels") or {}).get(QUEUE_LABEL)
    return str(value) if value else None


def flavors_of(stack: Stack, job: Resource) -> list[tuple[str, Resource | None]] | None:
    """The flavors a queued Job may be admitted to, in its ClusterQueue's order, by name with the
    ResourceFlavor of the stack (None if it has none); None when its LocalQueue or ClusterQueue is not in
    the stack."""
    queue = queue_of(job.props)
    local = k8s.named(stack, LOCAL_QUEUE, job.cloud, str(queue), str(get(job.props, "metadata.namespace")))
    cluster = local and k8s.named(stack, CLUSTER_QUEUE, job.cloud, str(get(local.props, "spec.clusterQueue")))
    if not cluster:
        return None
    names = [
        str(f.get("name"))
        for g in as_list(get(cluster.props, "spec.resourceGroups"))
        for f in as_list(g.get("flavors"))
    ]
    return [(n, k8s.named(stack, RESOURCE_FLAVOR, job.cloud, n)) for n in names]
