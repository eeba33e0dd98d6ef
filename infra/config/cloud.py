"""What every cloud's section (`gpu-platform:aws`, `:gcp`, `:azure`) states besides its own fields.

Each section carries the facts the cross-key checks read (its provider keys, its region, the address
ranges it owns, its pools, its own cross-key rules), so those checks never branch on a cloud's name: a new
cloud states its facts in its own section.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from infra.catalog import Cloud
from infra.config.section import P, Section, camel
from infra.config.types import GpuPool, KubernetesVersion, SystemPool


class CloudSection(Section):
    """A cloud's section: the fields every cloud has, and the facts its subclass states."""

    CLOUD: ClassVar[Cloud]
    PROVIDER_KEYS: ClassVar[Mapping[str, str]]
    """Fields read from the providers' own config keys (`region` from `aws:region`), so one value drives
    both the provider and validation."""
    REGION_FIELD: ClassVar[str] = "region"
    WAIVED_OPTIONS: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Options a waiver makes meaningless, by control ID: setting one while the control is waived is an
    error rather than silently ignored."""
    REGISTRY_FIREWALL: ClassVar[str | None] = None
    """The control under which the registry admits only its own cluster's addresses, unless waived: other
    clouds' nodes cannot then pull from it (as MultiKueue's workers pull from the manager's)."""

    kubernetes_version: KubernetesVersion
    system_pool: SystemPool

    @classmethod
    def region_key(cls) -> str:
        """The provider config key of the region, which problems name."""
        return cls.PROVIDER_KEYS[cls.REGION_FIELD]

    def region_name(self) -> str:
        return str(getattr(self, self.REGION_FIELD))

    @property
    @abstractmethod
    def cluster_zones(self) -> tuple[str, ...]:
        """Zones named in config that the cluster's nodes may use; empty where the cloud chooses them."""

    @abstractmethod
    def owned_ranges(self) -> list[tuple[str, str]]:
        """`(key, cidr)` of each address range this cloud's stack owns, which must overlap nothing else."""

    def pool_sections(self) -> dict[str, SystemPool]:
        """The CPU pools of the section, by key."""
        return {"systemPool": self.system_pool}

    def checks(self, pools: Sequence[GpuPool]) -> Iterator[str]:
        """The cross-key rules only this cloud has, given the GPU pools that parsed."""
        return iter(())

    def key(self, field: str) -> str:
        """The full config key of one of this section's fields."""
        return f"{P}{self.CLOUD}.{camel(field)}"
