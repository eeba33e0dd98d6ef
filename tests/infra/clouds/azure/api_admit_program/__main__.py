"""A test program: the stack's Azure platform alone, as a MultiKueue worker whose API server must admit
the manager's NAT addresses (`PlatformArgs.api_admit`), given as an Output as the program gives them."""

import pulumi

from infra import config
from infra.clouds.azure import platform
from infra.clouds.base import PlatformArgs

MANAGER_NAT = ["192.0.2.7", "192.0.2.9"]
"""Stand-ins for the manager cluster's egress addresses (test_api_access.py's `MANAGER_NAT`)."""

platform.build(PlatformArgs(cfg=config.load(), api_admit=pulumi.Output.from_input(MANAGER_NAT)))
