"""The clouds gpu-platform runs on. Each lives in `infra/clouds/<cloud>/`, whose `platform.build(cfg)`
returns the `base.CloudPlatform` contract; only that subpackage imports its cloud's SDK, and only when
the stack enables the cloud.
"""

from __future__ import annotations

import importlib

from infra.catalog import Cloud
from infra.clouds.base import CloudPlatform
from infra.config import StackConfig


def build(cloud: Cloud, cfg: StackConfig) -> CloudPlatform:
    module = importlib.import_module(f"infra.clouds.{cloud}.platform")
    platform: CloudPlatform = module.build(cfg)
    return platform
