"""The serving gateway's front door: plain HTTP only redirects to HTTPS and HTTPS terminates TLS (GW-01), and
every route on HTTPS is authenticated by a SecurityPolicy with keys behind it, except the model status
that Route 53's health checks probe (GW-02). Certificates are GW-03's (`certificates.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import gateway, k8s
from policy.model.control import control, stack_rule
from policy.model.gateway import Listener, group_kind, ref
from policy.model.props import as_list, equals, explicitly_true, get, present, unknown
from policy.model.stack import Resource, Stack, Violation

SECRET = "kubernetes:core/v1:Secret"
AUTHENTICATION = ("apiKeyAuth", "jwt")
STATUS_PATH = re.compile(r"^/v1/models/[A-Za-z0-9][A-Za-z0-9._-]*$")
"""TF Serving's model status, `/v1/models/<name>`: no version, no verb (`:predict`), nothing below it."""
HARMLESS_FILTERS = frozenset({"RequestHeaderModifier", "ResponseHeaderModifier"})
"""Filters that leave an unauthenticated status route where it points (a rewrite would not)."""

GW01 = control(
    "GW-01",
    "Plain HTTP only redirects to HTTPS",
    "Every Gateway listener is HTTPS, terminating TLS (tls.mode Terminate) with a certificate in "
    "tls.certificateRefs, or HTTP to which only routes attach whose every rule is a RequestRedirect to "
    "scheme https with no backendRefs; no TCP, UDP or TLS listener, whose traffic neither the redirect nor "
    "the API keys (GW-02) cover.",
)
GW02 = control(
    "GW-02",
    "Every route authenticated but the model status",
    "Every HTTPRoute and GRPCRoute on an HTTPS listener is targeted by an Envoy Gateway SecurityPolicy with "
    "apiKeyAuth or jwt (its own, or its Gateway's where no policy of its own replaces it), except an "
    "HTTPRoute whose one rule matches exactly GET on the Exact path /v1/models/<name> (the model status "
    "Route 53's health checks probe without a header). Each apiKeyAuth names Secrets of the stack in its "
    "namespace that hold at least one key; a jwt is neither optional nor fail-open, and each of its "
    "providers has a key set.",
)


def _only_redirects(rule: Mapping[str, Any]) -> bool:
    redirects = [
        f
        for f in as_list(rule.get("filters"))
        if isinstance(f, Mapping) and f.get("type") == "RequestRedirect"
    ]
    to_https = all(equals(get(f, "requestRedirect.scheme"), "https") for f in redirects)
    return bool(redirects) and to_https and not as_list(rule.get("backendRefs"))


def _listener_problems(listener: Listener) -> Iterator[str]:
    protocol = listener.protocol
    if unknown(protocol) or protocol == "HTTP":
        return
    if protocol != "HTTPS":
        yield (
            f"listener {listener.name} is {protocol}: only HTTPS, and HTTP that redirects to it, may listen "
            "(no redirect and no API key applies to its traffic)"
        )
        return
    mode, certificates = (
        get(listener.spec, "tls.mode", "Terminate"),
        get(listener.spec, "tls.certificateRefs"),
    )
    if not equals(mode, "Terminate") or not (unknown(certificates) or as_list(certificates)):
        yield (
            f"listener {listener.name} (HTTPS) must terminate TLS: tls.mode Terminate with a certificate in "
            "tls.certificateRefs"
        )


def _plain_http_problem(route: Resource, listener: Listener) -> str | None:
    """Why a route may not attach to a plain-HTTP listener, if it may not."""
    where = f"it attaches to plain-HTTP {listener}"
    if group_kind(route.type)[1] != "httproute":
        return f"{where}, and a GRPCRoute cannot redirect: only redirects to https may attach there"
    rules = get(route.props, "spec.rules")
    if unknown(rules):
        return None
    if not as_list(rules):
        return f"{where} with no rules (the API server adds one that forwards every path, not a redirect)"
    for i, rule in enumerate(as_list(rules)):
        if not (isinstance(rule, Mapping) and _only_redirects(rule)):
            return (
                f"{where}, but its rule {i} does not only redirect to https (a RequestRedirect filter with "
                "scheme https, and no backendRefs)"
            )
    return None


@stack_rule(GW01)
def http_only_redirects(stack: Stack) -> list[Violation]:
    found = []
    for listener in gateway.listeners(stack):
        found += [listener.gateway.violation(GW01, m) for m in _listener_problems(listener)]
        if listener.protocol != "HTTP":
            continue
        for route in gateway.routes_on(stack, listener):
            if problem := _plain_http_problem(route, listener):
                found.append(route.violation(GW01, problem))
    return found


def model_status_only(route: Resource) -> bool:
    """An HTTPRoute whose one rule has one match: exactly GET on the Exact path /v1/models/<name>, with no
    filter that could send it elsewhere (a URL rewrite)."""
    if group_kind(route.type)[1] != "httproute":
        return False
    rules = as_list(get(route.props, "spec.rules"))
    if len(rules) != 1 or not isinstance(rules[0], Mapping):
        return False
    matches = as_list(rules[0].get("matches"))
    filters = [f.get("type") if isinstance(f, Mapping) else f for f in as_list(rules[0].get("filters"))]
    if len(matches) != 1 or not isinstance(matches[0], Mapping) or set(filters) - HARMLESS_FILTERS:
        return False
    match = matches[0]
    return (
        match.get("method") == "GET"
        and get(match, "path.type") == "Exact"
        and bool(STATUS_PATH.match(str(get(match, "path.value", ""))))
    )


def _authenticates(policy: Resource) -> bool:
    return any(get(policy.props, f"spec.{key}") is not None for key in AUTHENTICATION)


def _unauthenticated(stack: Stack, route: Resource, listener: Listener) -> str | None:
    """Why no authentication applies to a route on `listener`, if none does. Envoy Gateway applies the most
    specific policy: a route's own (or one of its rules') replaces its Gateway's unless it sets mergeType."""
    own = gateway.targeting(stack, route)
    for policy, _ in own:
        if get(policy.props, "spec.mergeType") is None and not _authenticates(policy):
            return (
                f"SecurityPolicy {ref(policy)} targets it without apiKeyAuth or jwt, replacing any "
                "authentication of its Gateway"
            )
    if any(section is None and _authenticates(policy) for policy, section in own):
        return None
    parent = [
        p for p, section in gateway.targeting(stack, listener.gateway) if section in (None, listener.name)
    ]
    if parent and all(_authenticates(p) for p in parent):
        return None
    return (
        f"on HTTPS {listener}, no SecurityPolicy with apiKeyAuth or jwt covers it; only an HTTPRoute whose "
        "one rule matches exactly GET on the Exact path /v1/models/<name> may go without"
    )


@stack_rule(GW02)
def routes_authenticated(stack: Stack) -> list[Violation]:
    found: dict[str, Violation] = {}
    for listener in gateway.listeners(stack):
        if listener.protocol != "HTTPS":
            continue
        for route in gateway.routes_on(stack, listener):
            if route.urn in found or model_status_only(route):
                continue
            if problem := _unauthenticated(stack, route, listener):
                found[route.urn] = route.violation(GW02, problem)
    return list(found.values())


def _holds_keys(secret: Resource) -> bool:
    for key in ("data", "stringData"):
        content = get(secret.props, key)
        if unknown(content):
            return True
        if isinstance(content, Mapping) and any(unknown(v) or present(v) for v in content.values()):
            return True
    return False


def _api_key_problems(stack: Stack, policy: Resource, auth: Mapping[str, Any]) -> Iterator[str]:
    refs, namespace = auth.get("credentialRefs"), k8s.namespace(policy.props)
    if unknown(refs):
        return
    if not as_list(refs):
        yield "apiKeyAuth names no Secret in credentialRefs: no key can pass, so it authenticates nothing"
    for cred in as_list(refs):
        name, ns = cred.get("name"), cred.get("namespace") or namespace
        if unknown(name) or unknown(ns):
            continue
        if (cred.get("kind") or "Secret") != "Secret" or (cred.get("group") or "") not in ("", "core"):
            yield f"apiKeyAuth credentialRefs names {cred.get('kind')} {name}: the keys are held in Secrets"
        elif ns != namespace:
            yield f"apiKeyAuth reads Secret {ns}/{name} of another namespace: keep the keys beside the policy"
        elif (secret := k8s.named(stack, SECRET, policy.cloud, str(name), ns)) is None:
            yield (
                f"apiKeyAuth's Secret {ns}/{name} is not declared by the stack: a policy with no keys "
                "behind it authenticates nothing the plan can show"
            )
        elif not _holds_keys(secret):
            yield f"apiKeyAuth's Secret {ns}/{name} holds no key (data or stringData): no client can pass"


def _jwt_problems(jwt: Mapping[str, Any]) -> Iterator[str]:
    for flag in ("optional", "failOpen"):
        if explicitly_true(jwt.get(flag)):
            yield f"jwt.{flag} lets a request without a valid token through"
    providers = jwt.get("providers")
    if not unknown(providers) and not as_list(providers):
        yield "jwt has no providers: no token can be checked"
    for provider in as_list(providers):
        if not (present(get(provider, "remoteJWKS.uri")) or present(provider.get("localJWKS"))):
            yield f"jwt provider {provider.get('name')} has no key set (remoteJWKS.uri or localJWKS)"


@stack_rule(GW02)
def policies_have_keys(stack: Stack) -> list[Violation]:
    """A SecurityPolicy's authentication has something to check against: an API-key policy whose Secret
    is missing or empty, or a JWT policy that lets tokens be absent, is a control in name only."""
    found = []
    for policy in gateway.of_kind(stack, gateway.ENVOY_GATEWAY, "SecurityPolicy"):
        api_keys, jwt = get(policy.props, "spec.apiKeyAuth"), get(policy.props, "spec.jwt")
        messages = [
            *(_api_key_problems(stack, policy, api_keys) if isinstance(api_keys, Mapping) else ()),
            *(_jwt_problems(jwt) if isinstance(jwt, Mapping) else ()),
        ]
        found += [policy.violation(GW02, m) for m in messages]
    return found
