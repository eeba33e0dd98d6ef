"""The stack config: one frozen pydantic model per section, validated in full before any resource exists.

- `stack`: `StackConfig`, `load()` and `parse()`, and `ConfigError`, which lists every problem at once;
- `types`: the domain types the sections share (CIDRs, versions, pools, serving, training, waivers);
- `cloud`: what every cloud's section states; `aws`, `gcp`, `azure`: the sections themselves;
- `checks`: the cross-key rules, which read the sections' facts rather than branch on a cloud's name.
"""

from infra.config.stack import (
    PROVIDER_KEYS,
    SECTIONS,
    TOP_LEVEL_KEYS,
    ConfigError,
    StackConfig,
    load,
    parse,
    read_raw,
)

__all__ = [
    "PROVIDER_KEYS",
    "SECTIONS",
    "TOP_LEVEL_KEYS",
    "ConfigError",
    "StackConfig",
    "load",
    "parse",
    "read_raw",
]
