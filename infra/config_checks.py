"""Cross-key config rules: what a single section cannot check on its own.

Each rule reads only the sections that parsed, so one broken section does not hide problems in another,
and returns lines of the form `key: got VALUE; expected WHAT`.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from typing import Any

from infra import catalog, versions
from infra.catalog import CLOUDS, Cloud
from infra.config_types import GpuPool, SystemPool
from infra.naming import PROJECT
from infra.regions import REGIONS
from policy.rules import CONTROLS

P = f"{PROJECT}:"


def _problem(key: str, got: object, expected: str) -> str:
    return f"{key}: got {json.dumps(got, default=str)}; expected {expected}"


def check(parsed: dict[str, Any], raw: Mapping[str, Any]) -> list[str]:
    """Cross-key problems. `raw` serves the rules that need not wait for a whole section to parse."""
    problems = list(_sections(parsed, raw)) + list(_regions(parsed, raw)) + list(_waived_options(parsed, raw))
    for rule in (_kubernetes, _pool_bounds, _gpu_offers, _pool_references, _subnets, _overlaps):
        problems += list(rule(parsed))
    return problems


def _enabled(parsed: dict[str, Any]) -> list[Cloud]:
    return [c for c in parsed.get("clouds", ()) if parsed.get(c) is not None]


def _sections(parsed: dict[str, Any], raw: Mapping[str, Any]) -> Iterator[str]:
    clouds = parsed.get("clouds", ())
    if len(set(clouds)) != len(clouds):
        yield _problem(f"{P}clouds", list(clouds), "each cloud at most once")
    for cloud in dict.fromkeys(clouds):
        if cloud not in raw:
            yield _problem(f"{P}{cloud}", None, f"a `{cloud}` section, because `clouds` enables {cloud}")
    for i, waiver in enumerate(parsed.get("waivers", ())):
        # A misspelled ID would waive nothing and hide that it does.
        if waiver.control not in CONTROLS:
            yield _problem(f"{P}waivers[{i}].control", waiver.control, "a control ID of docs/controls.md")
        for cloud in waiver.clouds:
            if "clouds" in parsed and cloud not in clouds:
                yield _problem(f"{P}waivers[{i}].clouds", cloud, f"an enabled cloud ({', '.join(clouds)})")


WAIVED_OPTIONS: dict[tuple[str, Cloud], tuple[str, ...]] = {("RG-03", "azure"): ("registryRetentionDays",)}
"""Options that a waiver makes meaningless: a Basic registry (RG-03 waived) has no retention policy."""


def _waived_options(parsed: dict[str, Any], raw: Mapping[str, Any]) -> Iterator[str]:
    for waiver in parsed.get("waivers", ()):
        for cloud in waiver.clouds:
            section = raw.get(cloud)
            for option in WAIVED_OPTIONS.get((waiver.control, cloud), ()):
                if isinstance(section, dict) and option in section:
                    yield _problem(
                        f"{P}{cloud}.{option}", section[option], f"unset: {waiver.control} is waived"
                    )


def _regions(parsed: dict[str, Any], raw: Mapping[str, Any]) -> Iterator[str]:
    keys = {"aws": "aws:region", "gcp": "gcp:region", "azure": "azure-native:location"}
    for cloud in parsed.get("clouds", ()):
        section = raw.get(cloud)
        region = section.get(keys[cloud].split(":")[1]) if isinstance(section, dict) else None
        if region is not None and region not in REGIONS[cloud]:
            yield _problem(keys[cloud], region, f"one of {', '.join(REGIONS[cloud])}")
    gcp = parsed.get("gcp")
    if gcp is not None and gcp.cluster_zone is not None and not gcp.cluster_zone.startswith(f"{gcp.region}-"):
        yield _problem(
            f"{P}gcp.clusterZone", gcp.cluster_zone, f"a zone of {gcp.region}, like {gcp.region}-a"
        )
    if gcp is not None:
        yield from _node_zones(gcp)


def _node_zones(gcp: Any) -> Iterator[str]:
    key = f"{P}gcp.nodeZones"
    if gcp.node_zones and gcp.cluster_zone is not None:
        yield _problem(key, list(gcp.node_zones), "no zones on a zonal cluster (clusterZone is set)")
    for i, zone in enumerate(gcp.node_zones):
        if not zone.startswith(f"{gcp.region}-"):
            yield _problem(f"{key}[{i}]", zone, f"a zone of {gcp.region}, like {gcp.region}-a")
    if len(set(gcp.node_zones)) != len(gcp.node_zones):
        yield _problem(key, list(gcp.node_zones), "each zone at most once")


def _kubernetes(parsed: dict[str, Any]) -> Iterator[str]:
    """Each cloud's minor must be one it creates clusters on today; EKS needs add-ons and an autoscaler
    for it, configured or recorded in `infra/versions.py`."""
    on = versions.as_of()
    for cloud in _enabled(parsed):
        section = parsed[cloud]
        reason = versions.refusal(cloud, section.kubernetes_version, on)
        if reason:
            yield _problem(f"{P}{cloud}.kubernetesVersion", section.kubernetes_version, reason)
    aws = parsed.get("aws")
    if aws is None or "aws" not in _enabled(parsed) or versions.refusal("aws", aws.kubernetes_version, on):
        return  # a refused minor is reported once, against kubernetesVersion
    minor, recorded = aws.kubernetes_version, ", ".join(versions.EKS_PINS)
    for key, value in (("addons", aws.addons), ("clusterAutoscalerImage", aws.cluster_autoscaler_image)):
        if value is None and minor not in versions.EKS_PINS:
            yield _problem(
                f"{P}aws.{key}", None, f"a value: infra/versions.py records {key} for {recorded} only"
            )
    image = aws.cluster_autoscaler_image
    if image is not None and f":v{minor}." not in image:
        yield _problem(
            f"{P}aws.clusterAutoscalerImage",
            image,
            f"a Cluster Autoscaler release of Kubernetes {minor} (v{minor}.x)",
        )


def _bounds(key: str, low: int, high: int, low_name: str, high_name: str) -> Iterator[str]:
    if low > high:
        yield _problem(f"{key}.{low_name}", low, f"at most {high_name} ({high})")


def _pool_bounds(parsed: dict[str, Any]) -> Iterator[str]:
    pools: tuple[GpuPool, ...] = parsed.get("gpu_pools", ())
    for i, pool in enumerate(pools):
        yield from _bounds(f"{P}gpuPools[{i}]", pool.min_nodes, pool.max_nodes, "minNodes", "maxNodes")
    names = [p.name for p in pools]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield _problem(f"{P}gpuPools", name, "unique pool names")
    for cloud in _enabled(parsed):
        pool_sections: dict[str, SystemPool] = {"systemPool": parsed[cloud].system_pool}
        if cloud == "azure":
            pool_sections["generalPool"] = parsed[cloud].general_pool
        for field, sp in pool_sections.items():
            yield from _bounds(f"{P}{cloud}.{field}", sp.min_nodes, sp.max_nodes, "minNodes", "maxNodes")
    if "serving" in parsed:
        s = parsed["serving"]
        yield from _bounds(f"{P}serving", s.replicas, s.max_replicas, "replicas", "maxReplicas")
        if s.exposure == "public" and not s.source_cidrs:
            yield _problem(f"{P}serving.sourceCidrs", [], "at least one CIDR when exposure is public")


def _gpu_offers(parsed: dict[str, Any]) -> Iterator[str]:
    enabled = _enabled(parsed)
    for i, pool in enumerate(parsed.get("gpu_pools", ())):
        for cloud in pool.clouds or ():
            if cloud not in parsed.get("clouds", CLOUDS):
                yield _problem(f"{P}gpuPools[{i}].clouds", cloud, "an enabled cloud")
        for cloud in (c for c in enabled if pool.on(c)):
            yield from _offer(f"{P}gpuPools[{i}]", pool, cloud, parsed[cloud])


def _offer(key: str, pool: GpuPool, cloud: Cloud, section: Any) -> Iterator[str]:
    if isinstance(pool.gpu, dict) and cloud not in pool.gpu:
        yield _problem(f"{key}.gpu", pool.gpu, f"a GPU type for {cloud} too, or a single type for all clouds")
        return
    gpu = pool.gpu_for(cloud)
    region = section.location if cloud == "azure" else section.region
    if region not in REGIONS[cloud]:
        return  # reported once, against the region key
    reason = catalog.unavailable_reason(gpu, cloud)
    if reason:
        yield _problem(f"{key}.gpu", gpu, f"a GPU type {cloud} offers ({reason})")
    elif not any(region in o.regions for o in catalog.offers(gpu, cloud)):
        here = ", ".join(catalog.types_in_region(cloud, region)) or "none"
        yield _problem(f"{key}.gpu", gpu, f"a GPU type {cloud} offers in {region}: {here}")
    elif (offer := catalog.pick(gpu, cloud, region, pool.gpus_per_node)) is None:
        counts = sorted({o.gpus_per_node for o in catalog.offers(gpu, cloud)})
        yield _problem(f"{key}.gpusPerNode", pool.gpus_per_node, f"{counts} for {gpu} on {cloud}")
    elif catalog.usable_zones(offer, region, section.cluster_zones) == ():
        zones, where = ", ".join(section.cluster_zones), ", ".join(offer.zones_in(region) or ())
        expected = f"a GPU type offered in the cluster's zones ({zones}); {gpu} is in {where} only"
        yield _problem(f"{key}.gpu", gpu, expected)


def _pool_references(parsed: dict[str, Any]) -> Iterator[str]:
    pools = {p.name: p for p in parsed.get("gpu_pools", ())}
    if "gpu_pools" not in parsed:
        return
    azure = parsed.get("azure")
    for name in azure.gpu_pool_zones if azure is not None else ():
        if name not in pools or not pools[name].on("azure"):
            on_azure = ", ".join(p for p in pools if pools[p].on("azure"))
            yield _problem(f"{P}azure.gpuPoolZones.{name}", name, f"a GPU pool on azure ({on_azure})")
    serving, training = parsed.get("serving"), parsed.get("training")
    if serving is not None and serving.pool != "general" and serving.pool not in pools:
        yield _problem(f"{P}serving.pool", serving.pool, f"general or a GPU pool ({', '.join(pools)})")
    if training is None:
        return
    pool = pools.get(training.pool)
    if pool is None:
        yield _problem(f"{P}training.pool", training.pool, f"a GPU pool ({', '.join(pools)})")
        return
    if training.gpus_per_worker > pool.gpus_per_node:
        yield _problem(
            f"{P}training.gpusPerWorker", training.gpus_per_worker, f"at most the pool's {pool.gpus_per_node}"
        )
    missing = [c for c in parsed.get("clouds", ()) if not pool.on(c)]
    if missing:
        yield _problem(f"{P}training.pool", training.pool, f"a pool present on every cloud, not on {missing}")


def _net(cidr: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cidr)


def _subnets(parsed: dict[str, Any]) -> Iterator[str]:
    aws, azure = parsed.get("aws"), parsed.get("azure")
    if aws is not None and not 16 <= _net(aws.vpc_cidr).prefixlen <= 20:
        yield _problem(
            f"{P}aws.vpcCidr", aws.vpc_cidr, "a /16 to /20 network (room for public and private subnets)"
        )
    if azure is not None:
        yield from _azure_subnets(azure)
    for cloud in _enabled(parsed):
        ranges = _ranges(cloud, parsed[cloud])
        for i, (a_key, a) in enumerate(ranges):
            for b_key, b in ranges[i + 1 :]:
                if _net(a).overlaps(_net(b)):
                    yield _problem(f"{P}{b_key}", b, f"a range apart from {a_key} ({a})")


AZURE_SUBNETS = ("system_subnet_cidr", "gpu_subnet_cidr", "api_server_subnet_cidr")


def _azure_subnets(azure: Any) -> Iterator[str]:
    vnet = _net(azure.vnet_cidr)
    for i, field in enumerate(AZURE_SUBNETS):
        cidr = getattr(azure, field)
        if not _net(cidr).subnet_of(vnet):
            yield _problem(f"{P}azure.{_camel(field)}", cidr, f"a subnet inside vnetCidr ({azure.vnet_cidr})")
        for earlier in AZURE_SUBNETS[:i]:
            if _net(cidr).overlaps(_net(getattr(azure, earlier))):
                yield _problem(f"{P}azure.{_camel(field)}", cidr, f"a subnet apart from {_camel(earlier)}")


def _ranges(cloud: Cloud, section: Any) -> list[tuple[str, str]]:
    """The address ranges a cloud's stack owns that must not overlap anything else."""
    if cloud == "aws":
        return [("aws.vpcCidr", section.vpc_cidr)]
    if cloud == "gcp":
        n = section.network
        fields = ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")
        return [(f"gcp.network.{_camel(f)}", getattr(n, f)) for f in fields]
    return [(f"azure.{_camel(f)}", getattr(section, f)) for f in ("vnet_cidr", "pod_cidr", "service_cidr")]


def _overlaps(parsed: dict[str, Any]) -> Iterator[str]:
    enabled = _enabled(parsed)
    for i, first in enumerate(enabled):
        for second in enabled[i + 1 :]:
            for a_key, a in _ranges(first, parsed[first]):
                for b_key, b in _ranges(second, parsed[second]):
                    if _net(a).overlaps(_net(b)):
                        yield _problem(f"{P}{b_key}", b, f"a range apart from {a_key} ({a}) on {first}")


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)
