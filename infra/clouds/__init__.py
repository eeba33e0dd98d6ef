"""The clouds gpu-platform runs on. Each lives in `infra/clouds/<cloud>/`, whose `platform.build(args)`
returns the `base.CloudPlatform` contract; only that subpackage imports its cloud's SDK, and only when
the stack enables the cloud.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import pulumi

from infra.catalog import Cloud
from infra.clouds.base import CloudPlatform, PlatformArgs
from infra.config import StackConfig


def build(
    cloud: Cloud,
    cfg: StackConfig,
    admit: pulumi.Input[Sequence[str]] = (),
    api_admit: pulumi.Input[Sequence[str]] = (),
    admit_image: pulumi.Input[str] | None = None,
) -> CloudPlatform:
    """`cloud`'s platform; `admit` are the home cluster's egress addresses where `cloud` is a target, and
    `api_admit` where it is a MultiKueue worker, as is `admit_image`, the home's trainer repository."""
    module = importlib.import_module(f"infra.clouds.{cloud}.platform")
    platform: CloudPlatform = module.build(
        PlatformArgs(cfg=cfg, admit=admit, api_admit=api_admit, admit_image=admit_image)
    )
    return platform
