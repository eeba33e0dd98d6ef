"""The `queues` section: Kueue team queues built from the GPU pools.

Each team is a ClusterQueue named after it, in one cohort so that a team can borrow the quota others leave
idle (fair sharing weighs the teams; a lender preempts borrowed quota to take its own back), and a
LocalQueue of the same name in the team's namespace. Each GPU pool is one ResourceFlavor (its node labels
and tolerations); a team's ClusterQueue lists the flavors of its `pools` in order, spot ones first, so
Kueue admits a job into spot quota while it lasts and into on-demand quota after it (by quota, not by
spot capacity: docs/queues.md).

Quotas are nominal quotas per flavor, as Kueue reads them: `gpus: 4` gives the team four GPUs in each of
its pools, and a job is admitted into one flavor as a whole. Unset, a quota is the pool's whole capacity.

`Team` is what the stack file states; `TeamQueue` is what one cluster creates from it, every default
resolved (`StackConfig.team_queues`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pydantic import Field, field_validator

from infra import catalog
from infra.catalog import Cloud, MachineOffer
from infra.config.section import Section
from infra.config.types import DnsLabel, GpuPool, KubeQuantity, PoolName

DEFAULT_COHORT = "gpu-platform"


class Team(Section):
    """One team's queues: a ClusterQueue `name` in the cohort, and a LocalQueue `name` in `namespace`."""

    name: DnsLabel
    """Unique among the teams: it names the ClusterQueue and the LocalQueue."""
    namespace: DnsLabel | None = None
    """Where the LocalQueue lives; unset: the stack's namespace (`gpu-platform:namespace`), for now the
    only one a stack has."""
    pools: tuple[PoolName, ...] | None = None
    """The GPU pools whose flavors the team uses, in the order Kueue tries them: spot pools first.
    Unset: every GPU pool, spot ones first."""
    gpus: int | None = Field(default=None, ge=0)
    """Nominal GPU quota in each of the team's pools; unset: the pool's `maxNodes * gpusPerNode`."""
    cpu: KubeQuantity | None = None
    """Nominal CPU quota in each of the team's pools; unset: the pool's nodes' vCPUs (infra/catalog.py)."""
    memory: KubeQuantity | None = None
    """Nominal memory quota in each of the team's pools; unset: the pool's nodes' memory."""
    weight: int = Field(default=1, ge=1)
    """Fair-sharing weight: a team of weight 2 gets twice the share of idle cohort quota."""

    @field_validator("pools")
    @classmethod
    def _some_pools(cls, pools: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if pools == ():
            raise ValueError("expected at least one GPU pool, or no `pools` for every pool")
        return pools


class Dispatch(Section):
    """MultiKueue: the home cluster (`training.cloud`) is the manager, and Jobs in a team's
    `<team>-multicloud` queue there run on whichever of `workers` admits them first (docs/queues.md). The
    manager runs none of them itself: MultiKueue does not let a manager be its own worker."""

    workers: tuple[Cloud, ...]
    """The worker clusters' clouds: enabled in `clouds`, not the home cloud, each once. A worker's API
    server must be public (behind `apiAccess.authorizedCidrs`, to which the manager's egress addresses are
    added): the manager calls it from another cloud."""

    @field_validator("workers")
    @classmethod
    def _some_workers(cls, workers: tuple[Cloud, ...]) -> tuple[Cloud, ...]:
        if not workers:
            raise ValueError("expected at least one worker cloud")
        return workers


class Queues(Section):
    cohort: DnsLabel = DEFAULT_COHORT
    """The cohort of every team's ClusterQueue: where idle quota is lent and borrowed."""
    teams: tuple[Team, ...] | None = None
    """Unset: one team named after the stack's namespace, with the whole capacity of every GPU pool but
    serving's."""
    dispatch: Dispatch | None = None
    """Unset: no MultiKueue; each cluster's queues admit only its own Jobs."""

    # A validator rather than `min_length`: on an optional tuple pydantic would also report a list whose
    # items fail as too short.
    @field_validator("teams")
    @classmethod
    def _some_teams(cls, teams: tuple[Team, ...] | None) -> tuple[Team, ...] | None:
        if teams == ():
            raise ValueError("expected at least one team, or no `teams` for the default one")
        return teams

    def teams_in(self, namespace: str, pools: Sequence[GpuPool], serving_pool: str) -> tuple[Team, ...]:
        """The teams, or the default team of a stack whose workloads run in `namespace`: every GPU pool
        but serving's (queued Jobs would take its nodes from the model servers), or every pool if serving
        has them all."""
        if self.teams:
            return self.teams
        batch = tuple(p.name for p in sorted(pools, key=lambda p: not p.spot) if p.name != serving_pool)
        return (Team(name=namespace, pools=batch or None),)


def team_pools(team: Team, pools: Sequence[GpuPool]) -> tuple[GpuPool, ...]:
    """The team's pools in flavor order: as listed (once each; unknown names are config errors), or every
    pool, spot ones first."""
    if team.pools is None:
        return tuple(sorted(pools, key=lambda p: not p.spot))
    by_name = {p.name: p for p in pools}
    return tuple(by_name[n] for n in dict.fromkeys(team.pools) if n in by_name)


def vcpus(offer: MachineOffer) -> int:
    return offer.vcpus


def memory_gib(offer: MachineOffer) -> int:
    """The catalog's `memory_gb`, which is GiB as the clouds' machine tables mean it."""
    return offer.memory_gb


@dataclass(frozen=True)
class Node:
    """One per-node figure of a pool (vCPUs, GiB of memory) and the machine it comes from."""

    amount: int
    machine: str
    cloud: Cloud


def smallest_node(
    pool: GpuPool, clouds: Iterable[Cloud], figure: Callable[[MachineOffer], int]
) -> Node | None:
    """The smallest `figure` of the pool's machines on those of `clouds` it is on, since one quota applies
    on every cloud; None where the catalog records no machine for it (a config error reported elsewhere)."""
    nodes = [
        Node(figure(offer), offer.machine_type, cloud)
        for cloud in clouds
        if pool.on(cloud) and (not isinstance(pool.gpu, dict) or cloud in pool.gpu)
        for offer in catalog.offers(pool.gpu_for(cloud), cloud)
        if offer.gpus_per_node == pool.gpus_per_node
    ]
    return min(nodes, key=lambda n: n.amount, default=None)


def gpu_capacity(pool: GpuPool) -> int:
    """The most GPUs the pool can ever hold: its autoscaler's `maxNodes` full nodes."""
    return pool.max_nodes * pool.gpus_per_node


@dataclass(frozen=True)
class Flavor:
    """One flavor of a team's ClusterQueue: a GPU pool (the ResourceFlavor named after it) and the team's
    nominal quota in it; `cpu` and `memory` are Kubernetes quantities."""

    pool: GpuPool
    gpus: int
    cpu: str
    memory: str


@dataclass(frozen=True)
class TeamQueue:
    """What one cluster creates for a team: a ClusterQueue `name` in `cohort` with `flavors` in order
    (spot first), fair-sharing `weight`, and a LocalQueue `name` in `namespace`."""

    name: str
    namespace: str
    cohort: str
    weight: int
    flavors: tuple[Flavor, ...]


def team_queue(
    team: Team, *, namespace: str, cohort: str, pools: Sequence[GpuPool], cloud: Cloud
) -> TeamQueue:
    """The team's queue on `cloud`: the flavors of its pools on that cloud, every unset quota resolved to
    the pool's whole capacity there."""
    flavors = []
    for pool in team_pools(team, pools):
        if not pool.on(cloud):
            continue
        cpu, memory = smallest_node(pool, (cloud,), vcpus), smallest_node(pool, (cloud,), memory_gib)
        if cpu is None or memory is None:
            raise ValueError(f"the catalog has no machine for GPU pool {pool.name} on {cloud}")
        flavors.append(
            Flavor(
                pool=pool,
                gpus=gpu_capacity(pool) if team.gpus is None else team.gpus,
                cpu=team.cpu or str(pool.max_nodes * cpu.amount),
                memory=team.memory or f"{pool.max_nodes * memory.amount}Gi",
            )
        )
    return TeamQueue(team.name, team.namespace or namespace, cohort, team.weight, tuple(flavors))
