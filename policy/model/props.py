"""Reading resource properties the same way whether they come from the offline plan (every value known)
or from a policy pack during `pulumi preview` (values computed by other resources are still unknown).

An unknown value is never a violation: the rule cannot tell yet, and `pulumi up` checks the known value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Props = Mapping[str, Any]

UNKNOWNS = frozenset(
    {
        # The sentinels the Pulumi engine sends for values not known during preview (pulumi_policy/proxy.py).
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


def unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWNS


def get(props: Any, path: str, default: Any = None) -> Any:
    """`props["a"]["b"]` for the path `a.b`; `default` where any step is missing, null or not a map."""
    current = props
    for key in path.split("."):
        if unknown(current):
            return current
        if not isinstance(current, Mapping) or current.get(key) is None:
            return default
        current = current[key]
    return current


def first(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first of `keys` present in `mapping`, case-insensitively (Azure add-on names vary in case)."""
    lowered = {k.lower(): v for k, v in mapping.items()} if isinstance(mapping, Mapping) else {}
    return next((lowered[k.lower()] for k in keys if k.lower() in lowered), None)


def is_true(value: Any) -> bool:
    """True, or a value that is not known yet. Some providers type booleans as strings ("true")."""
    return value is True or unknown(value) or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or unknown(value) or (isinstance(value, str) and value.lower() == "false")


def explicitly_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def present(value: Any) -> bool:
    """Set to something: a non-empty value, or one not known yet (an output of another resource)."""
    return value not in (None, "", [], {})


def equals(value: Any, *allowed: Any) -> bool:
    return unknown(value) or value in allowed


def as_list(value: Any) -> list[Any]:
    """A list property as a list; a single object as a list of one; unset or unknown as empty."""
    if value is None or unknown(value):
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def as_json(value: Any) -> Any:
    """A JSON document property (IAM policies, add-on configuration), parsed; None if unknown or invalid."""
    if isinstance(value, str):
        if unknown(value):
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def number(value: Any) -> float | None:
    """A numeric property (the mock engine turns integers into floats; strings like "30" happen too)."""
    if isinstance(value, bool) or value is None or unknown(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def canonical(type_: str) -> str:
    """A type token compared case-insensitively, with pulumi-aws's deprecated S3 `*V2` resources folded
    onto their v7 names (`aws:s3/bucketVersioningV2:BucketVersioningV2` is `aws:s3/bucketVersioning:...`)."""
    token = type_.lower()
    if not token.startswith("aws:s3/"):
        return token
    parts = token.split(":")
    module, _, member = parts[1].partition("/")
    parts[1] = f"{module}/{member.removesuffix('v2')}"
    parts[2] = parts[2].removesuffix("v2")
    return ":".join(parts)
