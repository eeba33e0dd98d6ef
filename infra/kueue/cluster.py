"""Kueue on one cluster: its CRDs, its controller manager on the general pool, and the flavors and queues
of `gpu-platform:queues`. A Job queued in one of `local_queues` waits for `ready`: before Kueue's
webhooks serve, a labelled Job would be created unsuspended and run outside its queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from infra.config.queues import TeamQueue
from infra.config.types import GpuPool
from infra.kueue.controller import KueueController, KueueControllerArgs
from infra.kueue.crds import definitions
from infra.kueue.queues import Queues, QueuesArgs

WAIT_FOR_PODS_READY_MINUTES = 30
"""How long an admitted Job's pods have to all be running before Kueue evicts and requeues the Job:
Kueue's default, enough for GPU nodes to scale up from zero and pull a multi-GB image."""
MANAGER_WAIT_FOR_PODS_READY_MINUTES = 2 * WAIT_FOR_PODS_READY_MINUTES
"""The same on a MultiKueue manager, which judges a dispatched Job by the status its worker reports: longer
than the worker's, so that the worker, which sees the pods, is the one to give up and requeue (a manager
that gave up first would delete the worker's copy while the worker still waited for its nodes)."""


@dataclass(frozen=True, kw_only=True)
class KueueArgs:
    image: pulumi.Input[str]
    labels: Mapping[str, str]
    node_selector: Mapping[str, str]
    """The controller's nodes: the general pool."""
    cohort: str
    pools: Sequence[GpuPool]
    teams: Sequence[TeamQueue]
    spot_tolerations: Sequence[Mapping[str, str]]
    dispatches: bool
    """Whether this cluster is MultiKueue's manager (`queues.dispatch`), which admits without blocking."""
    namespaces: Sequence[pulumi.Resource]
    """The teams' namespaces: each LocalQueue is created after its namespace and deleted before it (a
    component's `depends_on` does not reach its children)."""


class Kueue(pulumi.ComponentResource):
    local_queues: dict[str, str]
    ready: list[pulumi.Resource]
    serving: list[pulumi.Resource]
    """The CRDs and the webhooks: what any further Kueue object (MultiKueue's, say) waits for."""

    def __init__(self, name: str, args: KueueArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:kueue:Kueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        crds = definitions(f"{name}-crd", child)
        controller = KueueController(
            f"{name}-controller",
            KueueControllerArgs(
                image=args.image,
                labels=args.labels,
                node_selector=args.node_selector,
                tolerations=(),
                wait_for_pods_ready_minutes=(
                    MANAGER_WAIT_FOR_PODS_READY_MINUTES if args.dispatches else WAIT_FOR_PODS_READY_MINUTES
                ),
                block_admission=not args.dispatches,
                crds=crds,
            ),
            child,
        )
        self.serving = [*crds, *controller.ready]
        queues = Queues(
            f"{name}-queues",
            QueuesArgs(
                cohort=args.cohort,
                pools=args.pools,
                teams=args.teams,
                spot_tolerations=args.spot_tolerations,
                labels=args.labels,
                ready=self.serving,
                namespaces=args.namespaces,
            ),
            child,
        )
        self.local_queues, self.ready = queues.local_queues, queues.ready
        self.register_outputs({"localQueues": self.local_queues})
