"""A small ip-ranges.json as AWS publishes it (docs.aws.amazon.com/vpc/latest/userguide/aws-ip-syntax.html):
`prefixes` for IPv4 and `ipv6_prefixes` for IPv6, each entry with its region, network border group and
service. A prefix of a specific service is listed again under `AMAZON`, AWS's superset."""

from __future__ import annotations

from typing import Any

CREATED = "2026-12-01-09-13-07"
HEALTH_CHECKERS = ("15.177.0.0/18", "54.241.32.64/26", "54.252.254.192/26", "177.71.207.128/26")
"""The ROUTE53_HEALTHCHECKS IPv4 prefixes of the regions the stack's checks probe from (GLOBAL, us-east-1,
eu-west-1 and ap-southeast-1), in the document's order; real checker prefixes, of other regions."""
ELSEWHERE = "54.232.40.64/26"
"""A ROUTE53_HEALTHCHECKS prefix of a region the checks do not probe from (sa-east-1)."""
REGIONS = ("GLOBAL", "us-east-1", "eu-west-1", "ap-southeast-1")


def _entry(prefix: str, region: str, service: str, key: str = "ip_prefix") -> dict[str, str]:
    return {key: prefix, "region": region, "network_border_group": region, "service": service}


def document(health_checkers: tuple[str, ...] = HEALTH_CHECKERS) -> dict[str, Any]:
    checkers = [
        _entry(p, REGIONS[i % len(REGIONS)], "ROUTE53_HEALTHCHECKS") for i, p in enumerate(health_checkers)
    ]
    return {
        "syncToken": "1764580387",
        "createDate": CREATED,
        "prefixes": [
            _entry("3.5.140.0/22", "ap-northeast-2", "AMAZON"),
            *checkers,
            _entry(ELSEWHERE, "sa-east-1", "ROUTE53_HEALTHCHECKS"),
            # The same prefixes under AMAZON, and the publishing service's, which is not a checker.
            *(_entry(p, "GLOBAL", "AMAZON") for p in health_checkers),
            _entry("54.243.31.192/26", "us-east-1", "ROUTE53_HEALTHCHECKS_PUBLISHING"),
            _entry("52.94.76.0/22", "us-west-2", "EC2"),
        ],
        "ipv6_prefixes": [
            _entry("2600:1f1c:7ff:f800::/53", "us-west-1", "ROUTE53_HEALTHCHECKS", "ipv6_prefix"),
            _entry("2600:1f14::/35", "us-west-2", "EC2", "ipv6_prefix"),
        ],
    }
