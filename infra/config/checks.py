"""Cross-key config rules: what a single section cannot check on its own.

Each rule reads only the sections that parsed, so one broken section does not hide problems in another,
and returns lines of the form `key: got VALUE; expected WHAT`. What differs between clouds is read from
their sections' facts (`infra.config.cloud`), never from a branch on a cloud's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from ipaddress import IPv4Network
from typing import Any

from infra import catalog, controls, versions
from infra.catalog import CLOUDS
from infra.config.cloud import CloudSection
from infra.config.queues import (
    Dispatch,
    Queues,
    Team,
    gpu_capacity,
    memory_gib,
    smallest_node,
    team_pools,
    vcpus,
)
from infra.config.section import P, problem
from infra.config.types import DEFAULT_NAMESPACE, GIB, GpuPool, Serving, quantity_value
from infra.regions import REGIONS

SectionTypes = Mapping[str, type[CloudSection]]


def check(parsed: dict[str, Any], raw: Mapping[str, Any], sections: SectionTypes) -> list[str]:
    """Cross-key problems. `raw` serves the rules that need not wait for a whole section to parse;
    `sections` maps each cloud to the type of its section."""
    problems = [
        *_sections(parsed, raw),
        *_regions(parsed, raw, sections),
        *_waived_options(parsed, raw, sections),
        *_queues(parsed, raw),
    ]
    rules = (
        _kubernetes,
        _cloud_rules,
        _pool_bounds,
        _gpu_offers,
        _pool_references,
        _overlaps,
        _serving_domain,
    )
    for rule in rules:
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
            health = f"; with a domain, {ROUTE53_HEALTH_CHECKERS}" if s.domain is not None else ""
            yield problem(f"{P}serving.sourceCidrs", [], f"at least one CIDR when exposure is public{health}")


ROUTE53_HEALTH_CHECKERS = (
    "Route 53's health checkers among them, which route <domain> to the healthy clouds: the "
    "ROUTE53_HEALTHCHECKS ranges of AWS's https://ip-ranges.amazonaws.com/ip-ranges.json"
)


def _serving_domain(parsed: dict[str, Any]) -> Iterator[str]:
    """A domain comes with its DNS zone and its clients, is served publicly, and its zone is reachable
    with the stack's own accounts; neither `dns` nor `auth` means anything without a domain."""
    serving: Serving | None = parsed.get("serving")
    if serving is None:
        return
    key = f"{P}serving"
    if serving.domain is None:
        for field, value in (("dns", serving.dns), ("auth", serving.auth)):
            if value is not None:
                got = value.model_dump(by_alias=True)
                yield problem(f"{key}.{field}", got, f"unset without {key}.domain, or a domain beside it")
        return
    needs = {
        "dns": "provider (route53) and zoneId, the hosted zone the serving names and challenges go in",
        "auth": "clients, the names of the callers that each get an API key",
    }
    for field, what in needs.items():
        if getattr(serving, field) is None:
            yield f"{key}.{field}: got nothing; expected a value with {key}.domain: {what}"
    if serving.exposure != "public":
        expected = (
            f"public with {key}.domain: the gateway's load balancer must be reachable by the clients "
            "and by Route 53's health checkers"
        )
        yield problem(f"{key}.exposure", serving.exposure, expected)
    clouds = parsed.get("clouds", ())
    if serving.dns is not None and "clouds" in parsed and serving.dns.cloud not in clouds:
        expected = (
            f"a provider whose zone the stack reaches: {serving.dns.provider} is reached with the stack's "
            f"{serving.dns.cloud} account and provider, and {P}clouds ({', '.join(clouds)}) does not "
            f"enable {serving.dns.cloud}"
        )
        yield problem(f"{key}.dns.provider", serving.dns.provider, expected)


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


def _queues(parsed: dict[str, Any], raw: Mapping[str, Any]) -> Iterator[str]:
    """Team queues: unique names in the stack's namespace, known pools listed once each and spot first,
    quotas the pools can hold, and a team that lists the training pool with the quota to admit the Job."""
    if ("queues" in raw and "queues" not in parsed) or "gpu_pools" not in parsed:
        return  # the section or the pools did not parse: reported already
    namespace: str | None = parsed.get("namespace", None if "namespace" in raw else DEFAULT_NAMESPACE)
    queues: Queues = parsed.get("queues", Queues())
    pools, serving = parsed["gpu_pools"], parsed.get("serving", Serving())
    teams = queues.teams_in(namespace or DEFAULT_NAMESPACE, pools, serving.pool)
    first_of: dict[str, int] = {}
    for i, team in enumerate(teams):
        key = f"{P}queues.teams[{i}]"
        if team.name in first_of:
            expected = (
                f"a name no other team has (teams[{first_of[team.name]}] has it): it names a ClusterQueue"
            )
            yield problem(f"{key}.name", team.name, expected)
        first_of.setdefault(team.name, i)
        if namespace is not None and team.namespace not in (None, namespace):
            expected = f"the stack's namespace ({P}namespace): only {namespace} exists in this stack"
            yield problem(f"{key}.namespace", team.namespace, expected)
        yield from _team_pools(key, team, {p.name: p for p in pools})
        yield from _team_quotas(key, team, team_pools(team, pools), parsed.get("clouds", ()))
    yield from _training_queue(parsed, teams)
    if queues.dispatch is not None:
        yield from _dispatch(parsed, queues.dispatch)


def _dispatch(parsed: dict[str, Any], dispatch: Dispatch) -> Iterator[str]:
    """Workers: enabled clouds other than the manager (the home cloud), each once, whose API server the
    manager can reach from another cloud."""
    clouds: tuple[str, ...] = parsed.get("clouds", ())
    training = parsed.get("training")
    home = (training.cloud if training is not None else None) or (clouds[0] if clouds else None)
    if training is not None and training.image:
        expected = (
            f"unset with {P}queues.dispatch: the workers pull the image the stack builds into the home "
            "registry, with the credential the refresher keeps there, and admit that image only"
        )
        yield problem(f"{P}training.image", training.image, expected)
    section = parsed.get(home) if home else None
    control = section.REGISTRY_FIREWALL if section is not None else None
    if control and not any(w.control == control and home in w.clouds for w in parsed.get("waivers", ())):
        expected = (
            f"a home cloud ({P}training.cloud) whose registry the workers' nodes can pull from: {home}'s "
            f"registry admits only its own cluster's addresses ({control}), so the Jobs dispatched to "
            "other clouds could not pull the training image"
        )
        yield problem(f"{P}queues.dispatch", f"with training.cloud {home}", expected)
    for j, cloud in enumerate(dispatch.workers):
        key = f"{P}queues.dispatch.workers[{j}]"
        if cloud not in clouds:
            yield problem(key, cloud, f"an enabled cloud ({', '.join(clouds)})")
        elif cloud == home:
            expected = (
                f"a cloud other than the home cloud {home} ({P}training.cloud), which is MultiKueue's "
                "manager and cannot be its own worker"
            )
            yield problem(key, cloud, expected)
        elif cloud in dispatch.workers[:j]:
            yield problem(key, cloud, "each cloud at most once")
        elif (section := parsed.get(cloud)) is not None and section.api_access.private_endpoint:
            expected = (
                "a worker whose API server is public behind authorizedCidrs: the manager calls it from "
                f"another cloud, which a private endpoint ({P}{cloud}.apiAccess.privateEndpoint) refuses"
            )
            yield problem(key, cloud, expected)


def _team_pools(key: str, team: Team, pools: Mapping[str, GpuPool]) -> Iterator[str]:
    if team.pools is None:
        return
    for j, name in enumerate(team.pools):
        if name not in pools:
            yield problem(f"{key}.pools[{j}]", name, f"a GPU pool ({', '.join(pools)})")
        elif name in team.pools[:j]:
            yield problem(f"{key}.pools[{j}]", name, "each pool at most once")
    listed = [pools[n] for n in dict.fromkeys(team.pools) if n in pools]
    on_demand = next((i for i, p in enumerate(listed) if not p.spot), len(listed))
    spot = next((p for p in listed[on_demand:] if p.spot), None)
    if spot is not None:
        expected = (
            f"spot pools before on-demand ones ({spot.name} before {listed[on_demand].name}): Kueue tries a "
            "team's pools in order, so a job runs on spot when it can and falls back to on-demand"
        )
        yield problem(f"{key}.pools", list(team.pools), expected)


def _team_quotas(key: str, team: Team, pools: Sequence[GpuPool], clouds: Sequence[Any]) -> Iterator[str]:
    """Each quota applies in every one of the team's pools (Kueue's nominal quota is per flavor, and a job
    is admitted into one flavor), so it must fit the smallest. CPU and memory come from the catalog's
    machines, the smallest of the clouds a pool is on, as one quota applies on every cloud; a pool whose
    machines the catalog lacks is left out (its GPU type is reported against `gpuPools`)."""
    if not pools:
        return
    if team.gpus is not None and team.gpus > gpu_capacity(tight := min(pools, key=gpu_capacity)):
        expected = (
            f"at most {gpu_capacity(tight)}: the quota applies in each of the team's pools, and {tight.name} "
            f"holds at most {tight.max_nodes} nodes x {tight.gpus_per_node} GPUs"
        )
        yield problem(f"{key}.gpus", team.gpus, expected)
    resources: tuple[tuple[str, str | None, Callable[..., int], Decimal, str], ...] = (
        ("cpu", team.cpu, vcpus, Decimal(1), ""),
        ("memory", team.memory, memory_gib, GIB, "Gi"),
    )
    for field, value, figure, unit, suffix in resources:
        sized = [(p, node) for p in pools if (node := smallest_node(p, clouds, figure)) is not None]
        if value is None or not sized:
            continue
        pool, node = min(sized, key=lambda pn: pn[0].max_nodes * pn[1].amount)
        most = pool.max_nodes * node.amount
        if quantity_value(value) > most * unit:
            expected = (
                f"at most {most}{suffix}: the quota applies in each of the team's pools, and {pool.name} "
                f"holds at most {pool.max_nodes} nodes x {node.amount}{suffix or ' vCPUs'} "
                f"({node.machine} on {node.cloud}, the smallest machine of the clouds the pool is on)"
            )
            yield problem(f"{key}.{field}", value, expected)


def _training_queue(parsed: dict[str, Any], teams: Sequence[Team]) -> Iterator[str]:
    """The training Job waits in the queue of the first team that lists the training pool, and is admitted
    as a whole (every worker at once) into one of that team's pools: its gang must fit the team's own
    nominal quota, so it never depends on borrowed quota that a lender may preempt, and each worker must
    fit a node of every pool of the team on the home cloud."""
    training, pools = parsed.get("training"), {p.name: p for p in parsed["gpu_pools"]}
    if training is None or training.pool not in pools:
        return
    listing = [team_pools(t, parsed["gpu_pools"]) for t in teams]
    i = next((i for i, listed in enumerate(listing) if pools[training.pool] in listed), None)
    if i is None:
        lists = "; ".join(
            f"{t.name}: {', '.join(p.name for p in ps)}" for t, ps in zip(teams, listing, strict=True)
        )
        expected = (
            f"a pool a team lists ({lists}): the training Job waits in a team's queue, and no queue "
            f"admits it into {training.pool}"
        )
        yield problem(f"{P}training.pool", training.pool, expected)
        return
    team, key, workers = teams[i], f"{P}queues.teams[{i}]", training.workers
    quota = gpu_capacity(pools[training.pool]) if team.gpus is None else team.gpus
    if workers * training.gpus_per_worker > quota:
        stated = quota if team.gpus is not None else f"unset: all {quota} of pool {training.pool}"
        expected = (
            f"workers x gpusPerWorker ({workers} x {training.gpus_per_worker}) within team {team.name}'s GPU "
            f"quota, {key}.gpus ({stated}): the Job is admitted as a whole or never"
        )
        yield problem(f"{P}training.workers", workers, expected)
    for field, quota_text, name in (("cpu", team.cpu, "CPU"), ("memory", team.memory, "memory")):
        per_worker = getattr(training, field)
        if quota_text is not None and workers * quantity_value(per_worker) > quantity_value(quota_text):
            expected = (
                f"workers x {field} ({workers} x {per_worker}) within team {team.name}'s {name} quota, "
                f"{key}.{field} ({quota_text}): the Job is admitted as a whole or never"
            )
            yield problem(f"{P}training.{field}", per_worker, expected)
    clouds = parsed.get("clouds", ())
    home = training.cloud or (clouds[0] if clouds else None)
    for pool in listing[i]:
        on_home = home is None or pool.on(home)
        if pool.name != training.pool and on_home and pool.gpus_per_node < training.gpus_per_worker:
            where = f"{key}.pools" if team.pools is None else f"{key}.pools[{team.pools.index(pool.name)}]"
            expected = (
                f"pools whose nodes hold a worker's {training.gpus_per_worker} GPUs "
                f"({P}training.gpusPerWorker): the Job may be admitted into any of team {team.name}'s "
                f"pools, and {pool.name} has {pool.gpus_per_node} per node"
            )
            yield problem(where, pool.name, expected)
