"""The queues of one cluster, from `gpu-platform:queues`: a ResourceFlavor per GPU pool, one Cohort, and
per team a ClusterQueue with its quotas and a LocalQueue in its namespace.

A flavor is a pool: its node label, which Kueue adds to an admitted pod's node selector, and the
tolerations its nodes need (the GPU taint, and the cloud's spot taint on a spot pool). Jobs therefore
name no pool themselves: Kueue picks the first of the team's flavors, in the order the team lists its
pools (spot first), whose quota fits the whole Job, and falls back to the next when it does not.

Every team's ClusterQueue is in one Cohort, so a team may borrow the quota others leave idle; fair
sharing divides what is borrowed by the teams' weights, and a team takes back its own quota by preempting
the workloads that borrowed it (`reclaimWithinCohort`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.clouds.base import GPU_RESOURCE, POOL_LABEL
from infra.config.queues import TeamQueue
from infra.config.types import GpuPool
from infra.kueue import API_VERSION
from infra.pods import GPU_TOLERATION, Obj

COVERED = ("cpu", "memory", GPU_RESOURCE)


@dataclass(frozen=True, kw_only=True)
class QueuesArgs:
    cohort: str
    pools: Sequence[GpuPool]
    """Every GPU pool of this cluster: one flavor each."""
    teams: Sequence[TeamQueue]
    """Each team's queue on this cluster (`StackConfig.team_queues`); one with no flavor here gets none."""
    spot_tolerations: Sequence[Mapping[str, str]]
    labels: Mapping[str, str]
    ready: Sequence[pulumi.Resource]
    """Kueue's controller and webhooks: its objects are refused until they serve."""
    namespaces: Sequence[pulumi.Resource] = ()
    """The teams' namespaces, which their LocalQueues wait for."""


def flavor_spec(pool: GpuPool, spot_tolerations: Sequence[Mapping[str, str]]) -> Obj:
    tolerations = [GPU_TOLERATION, *(dict(t) for t in spot_tolerations)] if pool.spot else [GPU_TOLERATION]
    return {"nodeLabels": {POOL_LABEL: pool.name}, "tolerations": tolerations}


def cluster_queue_spec(team: TeamQueue) -> Obj:
    return {
        "cohortName": team.cohort,
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": team.namespace}},
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [
            {
                "coveredResources": list(COVERED),
                "flavors": [
                    {
                        "name": flavor.pool.name,
                        "resources": [
                            {"name": "cpu", "nominalQuota": flavor.cpu},
                            {"name": "memory", "nominalQuota": flavor.memory},
                            {"name": GPU_RESOURCE, "nominalQuota": flavor.gpus},
                        ],
                    }
                    for flavor in team.flavors
                ],
            }
        ],
        # A team takes its own quota back from whoever borrowed it, and orders its own jobs by priority.
        # No `borrowWithinCohort`: Kueue ignores it under fair sharing, which decides who borrows.
        "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
        "fairSharing": {"weight": str(team.weight)},
    }


class Queues(pulumi.ComponentResource):
    """The flavors, the cohort and the teams' queues; `local_queues` maps a team to its LocalQueue's name,
    which its Jobs carry in `QUEUE_LABEL`, and `ready` is what a Job must wait for."""

    local_queues: dict[str, str]
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: QueuesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:kueue:Queues", name, None, opts)
        self._name, self._labels = name, dict(args.labels)
        flavors = [
            self._object(
                f"flavor-{p.name}",
                "ResourceFlavor",
                p.name,
                flavor_spec(p, args.spot_tolerations),
                after=args.ready,
            )
            for p in args.pools
        ]
        cohort = self._object("cohort", "Cohort", args.cohort, {}, after=args.ready)
        self.local_queues, self.ready = {}, []
        for team in (t for t in args.teams if t.flavors):
            queue = self._object(
                team.name,
                "ClusterQueue",
                team.name,
                cluster_queue_spec(team),
                after=[cohort, *flavors],
            )
            local = self._object(
                f"{team.name}-local",
                "LocalQueue",
                team.name,
                {"clusterQueue": team.name},
                after=[queue, *args.namespaces],
                namespace=team.namespace,
            )
            self.local_queues[team.name] = team.name
            self.ready.append(local)
        self.register_outputs({"localQueues": self.local_queues})

    def _object(
        self,
        suffix: str,
        kind: str,
        object_name: str,
        spec: Obj,
        *,
        after: Sequence[pulumi.Resource],
        namespace: str | None = None,
    ) -> k8s.apiextensions.CustomResource:
        return kueue_object(
            f"{self._name}-{suffix}",
            kind,
            object_name,
            spec,
            labels=self._labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
            namespace=namespace,
        )


def kueue_object(
    name: str,
    kind: str,
    object_name: str,
    spec: Obj,
    *,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    namespace: str | None = None,
) -> k8s.apiextensions.CustomResource:
    """One Kueue object of `API_VERSION` (cluster-scoped unless a `namespace` is given)."""
    metadata: Obj = {"name": object_name, "labels": dict(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return k8s.apiextensions.CustomResource(
        name, api_version=API_VERSION, kind=kind, metadata=metadata, spec=spec, opts=opts
    )
