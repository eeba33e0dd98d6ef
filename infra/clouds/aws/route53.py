"""The serving names in the stack's Route 53 zone: `<cloud>.<domain>` for each cloud, always answering, and
`<domain>`, which answers with the clouds whose gateway passes its health check.

- A health check per cloud, `HTTPS_STR_MATCH` on `https://<cloud>.<domain>:443/v1/models/<model>` (the
  gateway's unauthenticated model-status route), healthy when `"AVAILABLE"`, quotes included, is in the
  first 5,120 bytes of the body: the state of a loaded version, and not the `UNAVAILABLE` an error code may
  say. With no `ip_address`, Route 53 resolves `<cloud>.<domain>` at every interval and checks an address
  it returns; SNI carries the name, so Envoy picks the certificate and the route. Until the certificate is
  issued the HTTPS listener has none to offer and the handshake fails, so a new cloud joins `<domain>` once
  it can serve; HTTPS checks do not validate the certificate, though, so an expired one goes unnoticed.
- An A record `<cloud>.<domain>` per cloud, simple routing: a cloud's own name answers whatever its health.
- A CAA record set at `<domain>`: Let's Encrypt by DNS-01 only, no wildcard (`CAA`).
- `<domain>`: one multivalue-answer A record per cloud (`set_identifier` the cloud) with that cloud's
  addresses and health check. Route 53 answers with every healthy record (up to eight), so each client gets
  all healthy clouds and can try another when one fails after it cached the answer; when every check fails
  it answers with all of them rather than nothing. Weighted routing answers one record per query, so a
  client that cached a failing cloud has nothing else to try; latency routing needs an AWS region per record
  (GKE's and AKS's regions would need mapping to AWS's, which `infra/regions.py` does not hold); failover has
  only a primary and a secondary.

Failover: each health checker marks a cloud unhealthy after `FAILURE_THRESHOLD` consecutive failures
`REQUEST_INTERVAL` seconds apart; a cloud that fails just after a passed probe fails the next one 10 s
later and the third 30 s later, and a probe takes up to `PROBE_SECONDS` (4 s to connect, 2 s to answer)
before it counts as failed: 36 s. Route 53 takes the cloud out of `<domain>`'s answers once 18% or fewer
of its checkers still report it healthy; checkers do not coordinate, so that takes about the same time.
A resolver that cached the answer just before keeps it for the TTL (60 s): `FAILOVER_SECONDS` = 36 + 60 =
96 s until no client is sent to the failing cloud (docs.aws.amazon.com/Route53/latest/DeveloperGuide/
dns-failover-determining-health-of-endpoints.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.catalog import Cloud
from infra.clouds.aws.context import AwsContext
from infra.config.types import ROUTE53_CHECKER_REGIONS
from infra.gateway.serving import cloud_host

REQUEST_INTERVAL = 10
"""Seconds between one checker's requests: 10 (fast, priced higher) or 30, the only values Route 53 takes."""
FAILURE_THRESHOLD = 3
"""Consecutive failures (or successes) that flip a checker's verdict: 1 to 10."""
TTL = 60
"""Seconds a resolver may keep an answer; AWS recommends 60 or less for records with health checks."""
PROBE_SECONDS = 6
"""The longest a probe waits before it fails: 4 s for the TCP connection, 2 s more for the answer."""
DETECTION_SECONDS = REQUEST_INTERVAL * FAILURE_THRESHOLD + PROBE_SECONDS
"""Until Route 53 stops answering `<domain>` with a failing cloud, at worst."""
FAILOVER_SECONDS = DETECTION_SECONDS + TTL
"""Until no resolver that follows the TTL sends a client to the failing cloud."""
STATUS_MATCH = '"AVAILABLE"'
"""TF Serving's model status has it, as a JSON string, once a version is loaded (`"state": "AVAILABLE"`)."""


CAA_TTL = 3600
ACME_CA = "letsencrypt.org"
"""The CAA identifier of the ACME server the ClusterIssuers use (`infra/gateway/serving.py` ACME_SERVER)."""
CAA = (f'0 issue "{ACME_CA};validationmethods=dns-01"', '0 issuewild ";"')
"""Who may issue for `<domain>` and every name under it (RFC 8659 climbs to the closest CAA set): Let's
Encrypt only, by DNS-01 only (RFC 8657), and no one a wildcard. Every cluster may write the challenge of
`<domain>`, which is also the challenge of `*.<domain>`; without `issuewild` any cluster could obtain a
certificate for every other cloud's name."""


@dataclass(frozen=True, kw_only=True)
class ServingRecordsArgs:
    """The zone, the serving domain and model, and each cloud's gateway addresses (IPv4)."""

    context: AwsContext
    zone_id: str
    domain: str
    model_name: str
    addresses: Mapping[Cloud, pulumi.Input[list[str]]]


class ServingRecords(pulumi.ComponentResource):
    """Each cloud's health check and records; `health_checks` by cloud."""

    health_checks: dict[Cloud, aws.route53.HealthCheck]

    def __init__(self, name: str, args: ServingRecordsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:aws:ServingRecords", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.health_checks = {}
        for cloud, addresses in args.addresses.items():
            fqdn = cloud_host(cloud, args.domain)
            check = aws.route53.HealthCheck(
                f"{name}-{cloud}-check",
                type="HTTPS_STR_MATCH",
                fqdn=fqdn,
                port=443,
                resource_path=f"/v1/models/{args.model_name}",
                search_string=STATUS_MATCH,
                request_interval=REQUEST_INTERVAL,
                failure_threshold=FAILURE_THRESHOLD,
                enable_sni=True,
                regions=list(ROUTE53_CHECKER_REGIONS),
                tags={**args.context.tags("dns"), "Name": fqdn},
                opts=child,
            )
            aws.route53.Record(
                f"{name}-{cloud}",
                zone_id=args.zone_id,
                name=fqdn,
                type="A",
                ttl=TTL,
                records=addresses,
                opts=child,
            )
            aws.route53.Record(
                f"{name}-global-{cloud}",
                zone_id=args.zone_id,
                name=args.domain,
                type="A",
                ttl=TTL,
                records=addresses,
                set_identifier=cloud,
                multivalue_answer_routing_policy=True,
                health_check_id=check.id,
                opts=child,
            )
            self.health_checks[cloud] = check
        aws.route53.Record(
            f"{name}-caa",
            zone_id=args.zone_id,
            name=args.domain,
            type="CAA",
            ttl=CAA_TTL,
            records=list(CAA),
            opts=child,
        )
        self.register_outputs({"healthChecks": {c: h.id for c, h in self.health_checks.items()}})
