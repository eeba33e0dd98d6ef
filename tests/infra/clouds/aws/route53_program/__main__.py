"""A test program: the AWS platform alone, declaring the serving names for a gateway on each cloud, one
cloud's addresses known only as an Output (as a load balancer's would be)."""

import pulumi

from infra import config
from infra.catalog import Cloud
from infra.clouds.aws.platform import AwsPlatform
from infra.clouds.base import PlatformArgs

ADDRESSES: dict[Cloud, list[str]] = {
    "aws": ["192.0.2.10", "192.0.2.11"],
    "gcp": ["198.51.100.20"],
    "azure": ["203.0.113.30"],
}

cfg = config.load()
platform = AwsPlatform(f"{cfg.stack}-aws", PlatformArgs(cfg=cfg))
azure = pulumi.Output.from_input(ADDRESSES["azure"])
platform.serving_records({**ADDRESSES, "azure": azure})
pulumi.export("addresses", ADDRESSES)
