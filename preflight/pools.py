"""What a stack runs on one cloud: its region and each GPU pool's machine from the catalog.

Both the fetchers (which machine types, zones and quotas to ask about) and the checks (how much quota a
pool needs) read the stack through these, so they agree on what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.catalog import Cloud, MachineOffer, pick
from infra.config import StackConfig
from infra.config.types import GpuPool


@dataclass(frozen=True)
class PoolMachine:
    pool: GpuPool
    offer: MachineOffer

    @property
    def vcpus(self) -> int:
        """vCPUs at maxNodes: what AWS and Azure quotas count."""
        return self.pool.max_nodes * self.offer.vcpus

    @property
    def gpus(self) -> int:
        """GPUs at maxNodes: what GCP quotas count."""
        return self.pool.max_nodes * self.offer.gpus_per_node

    def describe(self) -> str:
        return f"{self.pool.name}: {self.pool.max_nodes} x {self.offer.machine_type}"


def gpu_machines(cfg: StackConfig, cloud: Cloud) -> list[PoolMachine]:
    """Each GPU pool on `cloud` with its machine (config validation guarantees the catalog has one)."""
    where = cfg.cloud_section(cloud).region_name()
    machines = []
    for pool in cfg.pools_on(cloud):
        offer = pick(pool.gpu_for(cloud), cloud, where, pool.gpus_per_node)
        if offer is None:
            raise ValueError(f"{pool.name}: no {pool.gpu_for(cloud)} machine on {cloud} in {where}")
        machines.append(PoolMachine(pool, offer))
    return machines
