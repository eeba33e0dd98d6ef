"""Serving's HTTPS front on every cloud, with `serving.domain`: the one module that sees every cloud's
gateway at once, since one name routes to all of them and one DNS zone holds every name.

Before the workloads: the clients' API keys, the same on every cloud (`gateway/api_keys.py`); each cloud's
static gateway addresses (its contract's `gateway_address`); and, from the cloud whose account holds the
zone (`serving.dns`, its contract's `serving_zone`), each cluster's keyless DNS-01 access and the serving
names: `<cloud>.<domain>` per cloud and `<domain>` routed by health. Each cloud's workloads then run the
gateway itself (`infra/gateway/cluster.py`), with what `Front.clouds` hands them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from infra.catalog import Cloud
from infra.clouds.base import CloudPlatform, GatewayAddress
from infra.config import StackConfig
from infra.gateway.api_keys import ApiKeys
from infra.gateway.dns01 import Dns01Access, SolverCluster


@dataclass(frozen=True, kw_only=True)
class CloudFront:
    """What one cloud's workloads need to run its gateway."""

    domain: str
    address: GatewayAddress
    dns01: Dns01Access
    keys: Mapping[str, pulumi.Output[str]]


@dataclass(frozen=True, kw_only=True)
class Front:
    clouds: dict[Cloud, CloudFront]
    keys: dict[str, pulumi.Output[str]]
    """By client, secret."""
    records: pulumi.Resource
    failover_seconds: int


def build(cfg: StackConfig, platforms: Mapping[Cloud, CloudPlatform]) -> Front | None:
    """Everything of the front but the gateways; None without `serving.domain`."""
    serving = cfg.serving
    if serving.domain is None or serving.dns is None or serving.auth is None:
        return None
    zone = platforms[serving.dns.cloud].serving_zone
    if zone is None:
        raise ValueError(f"serving.dns: {serving.dns.provider} is not offered by {serving.dns.cloud}")
    keys = ApiKeys(f"{cfg.stack}-api-keys", serving.auth.clients).keys
    clouds = {
        cloud: CloudFront(
            domain=serving.domain,
            address=p.gateway_address(),
            dns01=zone.dns01(SolverCluster(cloud=cloud, issuer=p.oidc_issuer)),
            keys=keys,
        )
        for cloud, p in platforms.items()
    }
    records = zone.records({cloud: front.address.ips for cloud, front in clouds.items()})
    return Front(clouds=clouds, keys=keys, records=records, failover_seconds=zone.failover_seconds)
