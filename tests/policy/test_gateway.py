"""GW-01..GW-03 on the serving gateway's own objects (tests/policy/fixtures_gateway.py, on the AWS stack):
plain HTTP only redirects and HTTPS terminates TLS, every route but the model status is authenticated by a
policy with keys behind it, and cert-manager signs in to DNS by workload identity."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy import fixtures_gateway
from tests.policy.conftest import STACKS
from tests.policy.stacks import (
    Change,
    Fixture,
    assert_breaks,
    case,
    changed,
    delete_key,
    remove_resource,
    set_key,
    stack,
    update_key,
    violations,
)

HTTPS, HTTP = "spec.listeners[0]", "spec.listeners[1]"
REDIRECT = "spec.rules[0].filters[0]"
STATUS = "spec.rules[0].matches[0]"
SOLVER = "spec.acme.solvers[0].dns01"
SECRET_REF = {"name": "dns-credentials", "key": "secret"}
ROUTE_REST = {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "serving-rest"}
JWT = {"providers": [{"name": "idp", "remoteJWKS": {"uri": "https://idp.example.com/jwks"}}]}


def _and_backend(rules: list[Any]) -> list[Any]:
    return [{**rules[0], "backendRefs": [{"name": "serving", "port": 8501}]}]


def _two_matches(matches: list[Any]) -> list[Any]:
    return [*matches, {"path": {"type": "PathPrefix", "value": "/"}}]


MUTATIONS = [
    case("aws", "GW-01", set_key("gateway", f"{HTTP}.protocol", "TCP")),
    case(
        "aws",
        "GW-01",
        set_key("gateway", f"{HTTPS}.protocol", "TLS"),
        set_key("gateway", f"{HTTPS}.tls.mode", "Passthrough"),
    ),
    case("aws", "GW-01", set_key("gateway", f"{HTTPS}.tls.mode", "Passthrough")),
    case("aws", "GW-01", delete_key("gateway", f"{HTTPS}.tls.certificateRefs")),
    case("aws", "GW-01", delete_key("gateway", f"{HTTPS}.tls")),
    case("aws", "GW-01", set_key("route-redirect", f"{REDIRECT}.requestRedirect.scheme", "http")),
    case("aws", "GW-01", delete_key("route-redirect", f"{REDIRECT}.requestRedirect.scheme")),
    case("aws", "GW-01", update_key("route-redirect", "spec.rules", _and_backend)),
    case("aws", "GW-01", delete_key("route-redirect", "spec.rules")),
    case("aws", "GW-01", set_key("route-rest", "spec.parentRefs[0].sectionName", "http")),
    case("aws", "GW-01", delete_key("route-rest", "spec.parentRefs[0].sectionName")),
    case(
        "aws",
        "GW-01",
        delete_key("route-rest", "spec.parentRefs[0].sectionName"),
        set_key("route-rest", "spec.parentRefs[0].port", 80),
    ),
    case("aws", "GW-01", set_key("route-grpc", "spec.parentRefs[0].sectionName", "http")),
    case("aws", "GW-02", remove_resource("api-keys-policy"), on="route-rest"),
    case("aws", "GW-02", remove_resource("api-keys-policy"), on="route-grpc"),
    case("aws", "GW-02", set_key("api-keys-policy", "spec.targetRefs", [ROUTE_REST]), on="route-grpc"),
    case("aws", "GW-02", set_key("route-grpc", "metadata.name", "serving-grpc-v2")),
    case("aws", "GW-02", set_key("api-keys-policy", "metadata.namespace", "other"), on="route-rest"),
    case(
        "aws",
        "GW-02",
        delete_key("api-keys-policy", "spec.apiKeyAuth"),
        set_key("api-keys-policy", "spec.cors", {"allowOrigins": ["https://ml.example.com"]}),
        on="route-rest",
    ),
    case("aws", "GW-02", remove_resource("api-keys"), on="api-keys-policy"),
    case("aws", "GW-02", set_key("api-keys", "stringData", {}), on="api-keys-policy"),
    case("aws", "GW-02", set_key("api-keys", "stringData", {"partner-a": ""}), on="api-keys-policy"),
    case("aws", "GW-02", set_key("api-keys", "metadata.namespace", "default"), on="api-keys-policy"),
    case("aws", "GW-02", set_key("api-keys-policy", "spec.apiKeyAuth.credentialRefs", [])),
    case(
        "aws",
        "GW-02",
        set_key("api-keys-policy", "spec.apiKeyAuth.credentialRefs[0].namespace", "envoy-gateway-system"),
    ),
    case("aws", "GW-02", set_key("api-keys-policy", "spec.jwt", {**JWT, "optional": True})),
    case("aws", "GW-02", set_key("api-keys-policy", "spec.jwt", {**JWT, "failOpen": True})),
    case("aws", "GW-02", set_key("api-keys-policy", "spec.jwt", {"providers": [{"name": "idp"}]})),
    case("aws", "GW-02", set_key("route-status", f"{STATUS}.path.type", "PathPrefix")),
    case("aws", "GW-02", delete_key("route-status", f"{STATUS}.method")),
    case("aws", "GW-02", set_key("route-status", f"{STATUS}.method", "POST")),
    case("aws", "GW-02", set_key("route-status", f"{STATUS}.path.value", "/v1/models/digits:predict")),
    case("aws", "GW-02", set_key("route-status", f"{STATUS}.path.value", "/v1/models/digits/metadata")),
    case("aws", "GW-02", update_key("route-status", "spec.rules[0].matches", _two_matches)),
    case(
        "aws",
        "GW-02",
        set_key(
            "route-status",
            "spec.rules[0].filters",
            [
                {
                    "type": "URLRewrite",
                    "urlRewrite": {"path": {"type": "ReplaceFullPath", "replaceFullPath": "/"}},
                }
            ],
        ),
    ),
    case("aws", "GW-03", set_key("acme-issuer", f"{SOLVER}.route53.accessKeyID", "AKIAEXAMPLE")),
    case("aws", "GW-03", set_key("acme-issuer", f"{SOLVER}.route53.accessKeyIDSecretRef", SECRET_REF)),
    case("aws", "GW-03", set_key("acme-issuer", f"{SOLVER}.route53.secretAccessKeySecretRef", SECRET_REF)),
    case("aws", "GW-03", set_key("acme-issuer", f"{SOLVER}.route53.role", "arn:aws:iam::1:role/dns01")),
    case(
        "aws",
        "GW-03",
        set_key(
            "acme-issuer",
            f"{SOLVER}.route53.auth",
            fixtures_gateway.WEB_IDENTITY["route53"]["auth"],
        ),
    ),
    case(
        "aws",
        "GW-03",
        set_key(
            "acme-issuer",
            SOLVER,
            {"cloudDNS": {"project": "acme-dev", "serviceAccountSecretRef": SECRET_REF}},
        ),
    ),
    case(
        "aws",
        "GW-03",
        set_key(
            "acme-issuer",
            SOLVER,
            {"azureDNS": {"clientID": "0000", "clientSecretSecretRef": SECRET_REF, "tenantID": "1111"}},
        ),
    ),
    case("aws", "GW-03", set_key("acme-issuer", SOLVER, {"cloudflare": {"apiTokenSecretRef": SECRET_REF}})),
    case(
        "aws",
        "GW-03",
        set_key("acme-issuer", SOLVER, {"webhook": {"groupName": "acme.example.com", "solverName": "dns"}}),
    ),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)


def _found(control_id: str, fixtures: list[Fixture]) -> list[tuple[str, str]]:
    return [(v.resource, v.message) for v in violations(control_id, stack(fixtures))]


def test_each_breach_is_named_with_its_reason() -> None:
    """The message says what is wrong, and where, not only that something is."""
    base = STACKS["aws"]()
    assert _found(
        "GW-01", changed(base, set_key("route-grpc", "spec.parentRefs[0].sectionName", "http"))
    ) == [
        (
            "route-grpc",
            "it attaches to plain-HTTP listener http of Gateway ml/serving, and a GRPCRoute cannot redirect: "
            "only redirects to https may attach there",
        )
    ]
    assert _found("GW-01", changed(base, set_key("gateway", f"{HTTP}.protocol", "TCP"))) == [
        (
            "gateway",
            "listener http is TCP: only HTTPS, and HTTP that redirects to it, may listen (no redirect and no "
            "API key applies to its traffic)",
        )
    ]
    (found,) = _found("GW-02", changed(base, remove_resource("api-keys")))
    assert found[0] == "api-keys-policy"
    assert "Secret ml/serving-api-keys is not declared by the stack" in found[1]
    (found,) = _found("GW-03", changed(base, set_key("acme-issuer", f"{SOLVER}.route53.role", "arn")))
    assert found == (
        "acme-issuer",
        f"{SOLVER}.route53.role needs auth.kubernetes.serviceAccountRef: without a token of cert-manager's "
        "own service account it assumes the role with whatever credentials its environment holds",
    )


def test_the_model_status_is_the_only_route_without_a_credential() -> None:
    """The real routes pass because of the SecurityPolicy: without it, REST and gRPC fail, the status passes
    and the redirect (on HTTP) is not asked for a key."""
    found = violations("GW-02", stack(changed(STACKS["aws"](), remove_resource("api-keys-policy"))))
    assert sorted(v.resource for v in found) == ["route-grpc", "route-rest"]


def test_a_route_attaches_only_where_its_parent_ref_and_the_listener_allow() -> None:
    """By port instead of section: REST on 443 stays off plain HTTP. From another namespace: the listeners
    admit their own namespace's routes only, until one admits all."""
    unnamed = delete_key("route-rest", "spec.parentRefs[0].sectionName")
    by_port = changed(STACKS["aws"](), unnamed, set_key("route-rest", "spec.parentRefs[0].port", 443))
    assert violations("GW-01", stack(by_port)) == []
    elsewhere = changed(
        STACKS["aws"](),
        unnamed,
        set_key("route-rest", "metadata.namespace", "other"),
        set_key("route-rest", "spec.parentRefs[0].namespace", "ml"),
    )
    assert violations("GW-01", stack(elsewhere)) == []
    admitted = changed(elsewhere, set_key("gateway", f"{HTTP}.allowedRoutes.namespaces.from", "All"))
    assert [v.resource for v in violations("GW-01", stack(admitted))] == ["route-rest"]


def _with(*extra: dict[str, Any], changes: tuple[Change, ...] = ()) -> list[Fixture]:
    policies = [
        Fixture(f"kubernetes:{o['apiVersion']}:{o['kind']}", f"extra-{i}", o, (), "aws")
        for i, o in enumerate(extra)
    ]
    return changed([*STACKS["aws"](), *policies], *changes)


def _policy(target: dict[str, Any], **body: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "SecurityPolicy",
        "metadata": {"name": "serving-cors", "namespace": "ml"},
        "spec": {"targetRefs": [target], **body},
    }


GATEWAY = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "serving"}
CORS = {"cors": {"allowOrigins": ["https://ml.example.com"]}}
ON_THE_GATEWAY = set_key("api-keys-policy", "spec.targetRefs", [GATEWAY])


def test_a_policy_of_the_gateway_covers_its_routes_unless_a_route_replaces_it() -> None:
    """Envoy Gateway applies the most specific SecurityPolicy: a route's own, without mergeType, replaces
    the Gateway's, so a CORS-only policy on a route leaves it open; with mergeType it adds to it."""
    assert violations("GW-02", stack(_with(changes=(ON_THE_GATEWAY,)))) == []
    replacing = _with(_policy(ROUTE_REST, **CORS), changes=(ON_THE_GATEWAY,))
    assert [v.resource for v in violations("GW-02", stack(replacing))] == ["route-rest"]
    merging = _with(_policy(ROUTE_REST, mergeType="StrategicMerge", **CORS), changes=(ON_THE_GATEWAY,))
    assert violations("GW-02", stack(merging)) == []


def test_a_policy_of_one_rule_does_not_cover_the_route() -> None:
    rule_only = set_key("api-keys-policy", "spec.targetRefs", [{**ROUTE_REST, "sectionName": "predict"}])
    found = violations("GW-02", stack(changed(STACKS["aws"](), rule_only)))
    assert sorted(v.resource for v in found) == ["route-grpc", "route-rest"]


@pytest.mark.parametrize(
    "change",
    [
        set_key("api-keys-policy", "spec.jwt", JWT),
        set_key("api-keys-policy", "spec.jwt", {**JWT, "optional": False}),
        set_key("api-keys", "data", {"partner-b": "a2V5"}),
        set_key(
            "api-keys-policy",
            "spec.targetSelectors",
            [{"kind": k, "matchLabels": {"component": "gateway"}} for k in ("HTTPRoute", "GRPCRoute")],
        ),
    ],
    ids=str,
)
def test_other_authentication_that_passes(change: Change) -> None:
    fixtures = changed(STACKS["aws"](), change)
    if change.label.startswith("spec.targetSelectors"):
        fixtures = changed(fixtures, delete_key("api-keys-policy", "spec.targetRefs"))
    assert violations("GW-02", stack(fixtures)) == []


@pytest.mark.parametrize(
    "solver",
    [
        fixtures_gateway.WEB_IDENTITY,
        {"cloudDNS": {"project": "acme-dev"}},
        {"azureDNS": {"subscriptionID": "0", "resourceGroupName": "dns", "hostedZoneName": "ml.example.com"}},
        {"azureDNS": {"hostedZoneName": "ml.example.com", "managedIdentity": {"clientID": "0000"}}},
    ],
    ids=lambda s: next(iter(s)) + ("-role" if "role" in str(s) else ""),
)
def test_solvers_by_workload_identity_pass(solver: dict[str, Any]) -> None:
    """GKE's and AKS's form for Route 53 (a token of cert-manager's account for a role), and the other
    clouds' DNS by their workload identity."""
    fixtures = [f for f in STACKS["aws"]() if f.name != "acme-issuer"]
    issuer = next(f for f in fixtures_gateway.gateway_objects("gcp", solver) if f.name == "acme-issuer")
    assert violations("GW-03", stack([*fixtures, issuer])) == []
