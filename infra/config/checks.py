"""Cross-key config rules: what a single section cannot check on its own.

Each rule reads only the sections that parsed, so one broken section does not hide problems in another,
and returns lines of the form `key: got VALUE; expected WHAT`. What differs between clouds is read from
their sections' facts (`infra.config.cloud`), never from a branch on a cloud's name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from ipaddress import IPv4Network
from typing import Any

from infra import catalog, controls, versions
from infra.catalog import CLOUDS
from infra.config.cloud import CloudSection
from infra.config.section import P, problem
from infra.config.types import GpuPool
from infra.regions import REGIONS

SectionTypes = Mapping[str, type[CloudSection]]


def check(parsed: dict[str, Any], raw: Mapping[str, Any], sections: SectionTypes) -> list[str]:
    """Cross-key problems. `raw` serves the rules that need not wait for a whole section to parse;
    `sections` maps each cloud to the type of its section."""
    problems = [
        *_sections(parsed, raw),
        *_regions(parsed, raw, sections),
        *_waived_options(parsed, raw, sections),
    ]
    for rule in (_kubernetes, _cloud_rules, _pool_bounds, _gpu_offers, _pool_references, _overlaps):
        problems += list(rule(parsed))
    return problems


def _enabled(parsed: dict[str, Any]) -> list[CloudSection]:
    return [parsed[c] for c in parsed.get("clouds", ()) if parsed.get(c) is not None]


def _sections(parsed: dict[str, Any], raw: Mapping[str, Any]) -> Iterator[str]:
    clouds = parsed.get("clouds", ())
    if len(set(clouds)) != len(clouds):
        yield problem(f"{P}clouds", list(clouds), "each cloud at most once")
    for cloud in dict.fromkeys(clouds):
        if cloud not in raw:
            yield problem(f"{P}{cloud}", None, f"a `{cloud}` section, because `clouds` enables {cloud}")
    for i, waiver in enumerate(parsed.get("waivers", ())):
        # A misspelled ID would waive nothing and hide that it does.
        if waiver.control not in controls.IDS:
            yield problem(f"{P}waivers[{i}].control", waiver.control, "a control ID of docs/controls.md")
        for cloud in waiver.clouds:
            if "clouds" in parsed and cloud not in clouds:
                yield problem(f"{P}waivers[{i}].clouds", cloud, f"an enabled cloud ({', '.join(clouds)})")


def _waived_options(parsed: dict[str, Any], raw: Mapping[str, Any], sections: SectionTypes) -> Iterator[str]:
    for waiver in parsed.get("waivers", ()):
        for cloud in waiver.clouds:
            section = raw.get(cloud)
            for option in sections[cloud].WAIVED_OPTIONS.get(waiver.control, ()):
                if isinstance(section, dict) and option in section:
                    yield problem(
                        f"{P}{cloud}.{option}", section[option], f"unset: {waiver.control} is waived"
                    )


def _regions(parsed: dict[str, Any], raw: Mapping[str, Any], sections: SectionTypes) -> Iterator[str]:
    for cloud in parsed.get("clouds", ()):
        section = raw.get(cloud)
        region = section.get(sections[cloud].REGION_FIELD) if isinstance(section, dict) else None
        if region is not None and region not in REGIONS[cloud]:
            yield problem(sections[cloud].region_key(), region, f"one of {', '.join(REGIONS[cloud])}")


def _kubernetes(parsed: dict[str, Any]) -> Iterator[str]:
    """Each cloud's minor must be one it creates clusters on today."""
    on = versions.as_of()
    for section in _enabled(parsed):
        reason = versions.refusal(section.CLOUD, section.kubernetes_version, on)
        if reason:
            yield problem(section.key("kubernetes_version"), section.kubernetes_version, reason)


def _cloud_rules(parsed: dict[str, Any]) -> Iterator[str]:
    for section in _enabled(parsed):
        yield from section.checks(parsed.get("gpu_pools", ()))


def _bounds(key: str, low: int, high: int, low_name: str, high_name: str) -> Iterator[str]:
    if low > high:
        yield problem(f"{key}.{low_name}", low, f"at most {high_name} ({high})")


def _pool_bounds(parsed: dict[str, Any]) -> Iterator[str]:
    pools: tuple[GpuPool, ...] = parsed.get("gpu_pools", ())
    for i, pool in enumerate(pools):
        yield from _bounds(f"{P}gpuPools[{i}]", pool.min_nodes, pool.max_nodes, "minNodes", "maxNodes")
    names = [p.name for p in pools]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield problem(f"{P}gpuPools", name, "unique pool names")
    for section in _enabled(parsed):
        for field, sp in section.pool_sections().items():
            key = f"{P}{section.CLOUD}.{field}"
            yield from _bounds(key, sp.min_nodes, sp.max_nodes, "minNodes", "maxNodes")
    if "serving" in parsed:
        s = parsed["serving"]
        yield from _bounds(f"{P}serving", s.replicas, s.max_replicas, "replicas", "maxReplicas")
        if s.exposure == "public" and not s.source_cidrs:
            yield problem(f"{P}serving.sourceCidrs", [], "at least one CIDR when exposure is public")


def _gpu_offers(parsed: dict[str, Any]) -> Iterator[str]:
    for i, pool in enumerate(parsed.get("gpu_pools", ())):
        for cloud in pool.clouds or ():
            if cloud not in parsed.get("clouds", CLOUDS):
                yield problem(f"{P}gpuPools[{i}].clouds", cloud, "an enabled cloud")
        for section in (s for s in _enabled(parsed) if pool.on(s.CLOUD)):
            yield from _offer(f"{P}gpuPools[{i}]", pool, section)


def _offer(key: str, pool: GpuPool, section: CloudSection) -> Iterator[str]:
    cloud = section.CLOUD
    if isinstance(pool.gpu, dict) and cloud not in pool.gpu:
        yield problem(f"{key}.gpu", pool.gpu, f"a GPU type for {cloud} too, or a single type for all clouds")
        return
    gpu, region = pool.gpu_for(cloud), section.region_name()
    if region not in REGIONS[cloud]:
        return  # reported once, against the region key
    reason = catalog.unavailable_reason(gpu, cloud)
    if reason:
        yield problem(f"{key}.gpu", gpu, f"a GPU type {cloud} offers ({reason})")
    elif not any(region in o.regions for o in catalog.offers(gpu, cloud)):
        here = ", ".join(catalog.types_in_region(cloud, region)) or "none"
        yield problem(f"{key}.gpu", gpu, f"a GPU type {cloud} offers in {region}: {here}")
    elif (offer := catalog.pick(gpu, cloud, region, pool.gpus_per_node)) is None:
        counts = sorted({o.gpus_per_node for o in catalog.offers(gpu, cloud)})
        yield problem(f"{key}.gpusPerNode", pool.gpus_per_node, f"{counts} for {gpu} on {cloud}")
    elif catalog.usable_zones(offer, region, section.cluster_zones) == ():
        zones, where = ", ".join(section.cluster_zones), ", ".join(offer.zones_in(region) or ())
        expected = f"a GPU type offered in the cluster's zones ({zones}); {gpu} is in {where} only"
        yield problem(f"{key}.gpu", gpu, expected)


def _pool_references(parsed: dict[str, Any]) -> Iterator[str]:
    training, clouds = parsed.get("training"), parsed.get("clouds", ())
    if (
        training is not None
        and training.cloud is not None
        and "clouds" in parsed
        and training.cloud not in clouds
    ):
        yield problem(f"{P}training.cloud", training.cloud, f"an enabled cloud ({', '.join(clouds)})")
    if "gpu_pools" not in parsed:
        return
    pools = {p.name: p for p in parsed["gpu_pools"]}
    serving = parsed.get("serving")
    if serving is not None and serving.pool != "general" and serving.pool not in pools:
        yield problem(f"{P}serving.pool", serving.pool, f"general or a GPU pool ({', '.join(pools)})")
    if training is None:
        return
    pool = pools.get(training.pool)
    if pool is None:
        yield problem(f"{P}training.pool", training.pool, f"a GPU pool ({', '.join(pools)})")
        return
    if training.gpus_per_worker > pool.gpus_per_node:
        yield problem(
            f"{P}training.gpusPerWorker", training.gpus_per_worker, f"at most the pool's {pool.gpus_per_node}"
        )
    home = training.cloud or (clouds[0] if clouds else None)
    if home in clouds and not pool.on(home):
        yield problem(f"{P}training.pool", training.pool, f"a GPU pool on the training cloud ({home})")


def _overlaps(parsed: dict[str, Any]) -> Iterator[str]:
    """No two ranges a stack owns overlap, within one cloud or across two (a later peering or VPN)."""
    enabled = _enabled(parsed)
    for section in enabled:
        ranges = section.owned_ranges()
        for i, (a_key, a) in enumerate(ranges):
            for b_key, b in ranges[i + 1 :]:
                if IPv4Network(a).overlaps(IPv4Network(b)):
                    yield problem(f"{P}{b_key}", b, f"a range apart from {a_key} ({a})")
    for i, first in enumerate(enabled):
        for second in enabled[i + 1 :]:
            for a_key, a in first.owned_ranges():
                for b_key, b in second.owned_ranges():
                    if IPv4Network(a).overlaps(IPv4Network(b)):
                        yield problem(f"{P}{b_key}", b, f"a range apart from {a_key} ({a}) on {first.CLOUD}")
