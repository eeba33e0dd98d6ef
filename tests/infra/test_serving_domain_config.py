"""`serving.domain` with its `dns` zone and `auth` clients: each problem names the key, the bad value and
what is allowed, all at once; without a domain nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.types import LONGEST_CHALLENGE_PREFIX
from tests.infra.test_config import parse_with, problems_of

S = "gpu-platform:serving"
ZONE = "Z0123456789ABCDEFGHIJ"
PUBLIC = {"exposure": "public", "sourceCidrs": ["198.51.100.0/24"]}
DOMAIN = {
    **PUBLIC,
    "domain": "ml.example.com",
    "dns": {"provider": "route53", "zoneId": ZONE},
    "auth": {"clients": ["app", "scoring"]},
}


def serving(**changes: Any) -> dict[str, Any]:
    return {S: {**DOMAIN, **changes}}


def test_dev_keeps_internal_http_and_prod_serves_https_under_a_domain() -> None:
    dev = parse_with({}, "dev").serving
    assert (dev.domain, dev.dns, dev.auth) == (None, None, None)
    prod = parse_with({}, "prod").serving
    assert prod.domain is not None
    assert prod.dns is not None
    assert prod.auth is not None
    assert (prod.exposure, prod.dns.provider) == ("public", "route53")


def test_a_domain_with_its_zone_and_clients_parses() -> None:
    cfg = parse_with(serving()).serving
    assert cfg.domain == "ml.example.com"
    assert cfg.dns is not None
    assert (cfg.dns.provider, cfg.dns.zone_id, cfg.dns.cloud) == (
        "route53",
        ZONE,
        "aws",
    )
    assert cfg.auth is not None
    assert cfg.auth.clients == ("app", "scoring")


def test_the_longest_domain_leaves_room_for_the_challenge_names() -> None:
    most = 253 - len(LONGEST_CHALLENGE_PREFIX)
    assert LONGEST_CHALLENGE_PREFIX == "_acme-challenge.azure."
    fits = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * (most - 3 * 64)])
    assert len(fits) == most
    assert parse_with(serving(domain=fits)).serving.domain == fits
    too_long = fits + "d"
    (line,) = problems_of(serving(domain=too_long))
    assert line.startswith(f'{S}.domain: got "')
    assert f"at most {most} characters" in line


BAD = [
    pytest.param(serving(domain="ML.example.com"), f"{S}.domain", '"ML.example.com"', id="uppercase"),
    pytest.param(serving(domain="localhost"), f"{S}.domain", '"localhost"', id="one-label"),
    pytest.param(serving(domain="ml.example.com."), f"{S}.domain", '"ml.example.com."', id="trailing-dot"),
    pytest.param(serving(domain="10.0.0.1"), f"{S}.domain", '"10.0.0.1"', id="an-address"),
    pytest.param(serving(domain="-ml.example.com"), f"{S}.domain", '"-ml.example.com"', id="hyphen-first"),
    pytest.param(
        serving(dns={"provider": "clouddns", "zoneId": ZONE}),
        f"{S}.dns.provider",
        '"clouddns"',
        id="provider",
    ),
    pytest.param(
        serving(dns={"provider": "route53", "zoneId": "/hostedzone/Z1"}),
        f"{S}.dns.zoneId",
        '"/hostedzone/Z1"',
        id="zone-id",
    ),
    pytest.param(
        serving(dns={"provider": "route53", "zoneId": "z123"}),
        f"{S}.dns.zoneId",
        '"z123"',
        id="zone-lowercase",
    ),
    pytest.param(serving(auth={"clients": []}), f"{S}.auth.clients", "[]", id="no-clients"),
    pytest.param(serving(auth={"clients": ["App"]}), f"{S}.auth.clients[0]", '"App"', id="client-label"),
    pytest.param(
        serving(auth={"clients": ["app", "app"]}), f"{S}.auth.clients", '["app", "app"]', id="client-twice"
    ),
    pytest.param(serving(exposure="internal"), f"{S}.exposure", '"internal"', id="internal"),
    pytest.param(
        {**serving(), "gpu-platform:clouds": ["gcp", "azure"]}, f"{S}.dns.provider", '"route53"', id="no-aws"
    ),
]


@pytest.mark.parametrize(("overrides", "key", "got"), BAD)
def test_each_bad_value_is_named(overrides: dict[str, Any], key: str, got: str) -> None:
    problems = problems_of(overrides)
    assert any(p.startswith(f"{key}: got {got}; expected ") for p in problems), problems


def test_dns_and_auth_are_required_with_a_domain_all_at_once() -> None:
    values = {**PUBLIC, "domain": "ml.example.com"}
    problems = problems_of({S: values})
    assert sorted(p.split(";")[0] for p in problems) == [f"{S}.auth: got nothing", f"{S}.dns: got nothing"]


def test_dns_and_auth_without_a_domain_are_refused() -> None:
    values = {"dns": DOMAIN["dns"], "auth": DOMAIN["auth"]}
    problems = problems_of({S: values})
    assert sorted(p.split(": got")[0] for p in problems) == [f"{S}.auth", f"{S}.dns"]
    assert all(f"unset without {S}.domain" in p for p in problems)


def test_public_sources_must_hold_route53_health_checkers() -> None:
    (line,) = problems_of(serving(sourceCidrs=[]))
    assert line.startswith(f"{S}.sourceCidrs: got []; expected at least one CIDR when exposure is public")
    assert "ROUTE53_HEALTHCHECKS" in line


def test_the_aws_account_is_needed_for_route53() -> None:
    problems = problems_of({**serving(), "gpu-platform:clouds": ["gcp", "azure"]})
    (line,) = [p for p in problems if p.startswith(f"{S}.dns.provider")]
    assert "does not enable aws" in line
