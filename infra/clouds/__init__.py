"""The clouds gpu-platform runs on. Each lives in `infra/clouds/<cloud>/`, whose `platform.build(cfg)`
returns the `base.CloudPlatform` contract; only that subpackage imports its cloud's SDK.
"""

from __future__ import annotations

import importlib

from infra.catalog import Cloud
from infra.clouds.base import CloudPlatform
from infra.config import StackConfig

PLATFORM_MODULES: dict[Cloud, str] = {
    "aws": "infra.clouds.aws.platform",
    "gcp": "infra.clouds.gcp.platform",
    "azure": "infra.clouds.azure.platform",
}
"""Cloud -> module with `build(cfg) -> CloudPlatform`, imported only when that cloud is enabled."""


def available(cloud: Cloud) -> bool:
    return cloud in PLATFORM_MODULES


def build(cloud: Cloud, cfg: StackConfig) -> CloudPlatform:
    module = importlib.import_module(PLATFORM_MODULES[cloud])
    platform: CloudPlatform = module.build(cfg)
    return platform
