"""Gateway API objects as the rules see them. Kinds are matched by API group and kind, whatever the version
(`kubernetes:gateway.networking.k8s.io/v1:HTTPRoute` and `.../v1beta1:HTTPRoute` alike).
"""

from __future__ import annotations

from policy.model.props import canonical
from policy.model.stack import Resource, Stack

GATEWAY_API = "gateway.networking.k8s.io"
ENVOY_GATEWAY = "gateway.envoyproxy.io"


def group_kind(type_: str) -> tuple[str, str]:
    """The API group and kind of a Kubernetes type token, lowercase (`core` for the core group)."""
    parts = canonical(type_).split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return "", ""
    return parts[1].rsplit("/", 1)[0], parts[2]


def is_kind(type_: str, group: str, *kinds: str) -> bool:
    found_group, kind = group_kind(type_)
    return found_group == group.lower() and kind in {k.lower() for k in kinds}


def of_kind(stack: Stack, group: str, *kinds: str) -> list[Resource]:
    return [r for r in stack.resources if is_kind(r.type, group, *kinds)]
