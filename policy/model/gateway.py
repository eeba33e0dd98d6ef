"""Gateway API objects as the rules see them: a Gateway's listeners, the routes that attach to each, and the
Envoy Gateway SecurityPolicies that apply to a route. Kinds are matched by API group and kind, whatever
the version (`kubernetes:gateway.networking.k8s.io/v1:HTTPRoute` and `.../v1beta1:HTTPRoute` alike).

Attachment is read the way the Gateway API defines it, leaning towards "attached" wherever the plan cannot
tell (a namespace selector, hostnames): a rule that checks what attaches then checks too much, never too
little.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policy.model import k8s
from policy.model.props import Props, as_list, canonical, get, number, unknown
from policy.model.stack import Resource, Stack

GATEWAY_API = "gateway.networking.k8s.io"
ENVOY_GATEWAY = "gateway.envoyproxy.io"
HTTP_ROUTES = ("HTTPRoute", "GRPCRoute")
"""The routes an HTTP or HTTPS listener admits when its `allowedRoutes.kinds` says nothing."""


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


def ref(res: Resource) -> str:
    """`namespace/name` of an object, for messages."""
    name = k8s.object_name(res.props, res.name)
    ns = k8s.namespace(res.props)
    return f"{ns}/{name}" if ns else name


@dataclass(frozen=True)
class Listener:
    gateway: Resource
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "?")

    @property
    def protocol(self) -> Any:
        return self.spec.get("protocol")

    def __str__(self) -> str:
        return f"listener {self.name} of Gateway {ref(self.gateway)}"


def listeners(stack: Stack) -> Iterator[Listener]:
    for gateway in of_kind(stack, GATEWAY_API, "Gateway"):
        for spec in as_list(get(gateway.props, "spec.listeners")):
            if isinstance(spec, Mapping):
                yield Listener(gateway, spec)


def _admits_kind(listener: Listener, kind: str) -> bool:
    kinds = get(listener.spec, "allowedRoutes.kinds")
    if kinds is None or unknown(kinds):
        return listener.protocol in ("HTTP", "HTTPS") and kind.lower() in {k.lower() for k in HTTP_ROUTES}
    return any(
        isinstance(k, Mapping)
        and str(k.get("kind", "")).lower() == kind.lower()
        and (k.get("group") or GATEWAY_API) == GATEWAY_API
        for k in as_list(kinds)
    )


def _admits_namespace(listener: Listener, namespace: str | None) -> bool:
    source = get(listener.spec, "allowedRoutes.namespaces.from", "Same")
    # `All`, a selector the plan cannot evaluate, or a value not known yet: counted as admitted.
    return source != "Same" or namespace == k8s.namespace(listener.gateway.props)


def _names(parent: Mapping[str, Any], route: Resource, listener: Listener) -> bool:
    gateway = listener.gateway.props
    section, port = parent.get("sectionName"), parent.get("port")
    return (
        (parent.get("group") or GATEWAY_API) == GATEWAY_API
        and (parent.get("kind") or "Gateway") == "Gateway"
        and parent.get("name") == k8s.object_name(gateway, listener.gateway.name)
        and (parent.get("namespace") or k8s.namespace(route.props)) == k8s.namespace(gateway)
        and (section is None or section == listener.name)
        and (port is None or number(port) == number(listener.spec.get("port")))
    )


def attached(route: Resource, listener: Listener) -> bool:
    """Whether `route` attaches to `listener`: a parentRef names its Gateway (and the listener, by section
    or port, or none), and the listener admits the route's kind and namespace. Hostnames are not
    compared: a route whose names match none of the listener's counts as attached."""
    if route.cloud != listener.gateway.cloud:
        return False
    _, kind = group_kind(route.type)
    if not (_admits_kind(listener, kind) and _admits_namespace(listener, k8s.namespace(route.props))):
        return False
    parents = as_list(get(route.props, "spec.parentRefs"))
    return any(isinstance(p, Mapping) and _names(p, route, listener) for p in parents)


def routes_on(stack: Stack, listener: Listener) -> list[Resource]:
    """Every HTTPRoute and GRPCRoute of the stack attached to the listener."""
    return [r for r in of_kind(stack, GATEWAY_API, *HTTP_ROUTES) if attached(r, listener)]


def _targets(policy: Props, kind: str, name: str, labels: Mapping[str, Any]) -> Iterator[str | None]:
    """The sections (None: the whole object) by which a policy's targetRef, targetRefs or targetSelectors
    name an object of `kind` called `name` with `labels` in the policy's namespace."""
    refs = [get(policy, "spec.targetRef"), *as_list(get(policy, "spec.targetRefs"))]
    for target in refs:
        if isinstance(target, Mapping) and target.get("kind") == kind and target.get("name") == name:
            yield target.get("sectionName")
    for selector in as_list(get(policy, "spec.targetSelectors")):
        matches = isinstance(selector, Mapping) and selector.get("kind") == kind
        if matches and k8s.selector_matches(selector, labels):
            yield None


def targeting(stack: Stack, res: Resource) -> list[tuple[Resource, str | None]]:
    """The SecurityPolicies of the stack that target `res` (a route or a Gateway), each with the section it
    names (a route's rule, a Gateway's listener; None: all of it)."""
    _, kind = group_kind(res.type)
    kind = next((k for k in ("Gateway", *HTTP_ROUTES) if k.lower() == kind), kind)
    name = k8s.object_name(res.props, res.name)
    labels = get(res.props, "metadata.labels", {})
    labels = labels if isinstance(labels, Mapping) else {}
    found = []
    for policy in of_kind(stack, ENVOY_GATEWAY, "SecurityPolicy"):
        if policy.cloud != res.cloud or k8s.namespace(policy.props) != k8s.namespace(res.props):
            continue
        found += [(policy, section) for section in _targets(policy.props, kind, name, labels)]
    return found
