"""The gateway's validator: each sample of what the gateway will render passes, and each fails, once and in
the CRD's own words, when a field is given a value the API server refuses or a field it does not know."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.crd_schemas import program, transition
from tests.infra.gateway.samples import SAMPLES, Obj
from tests.infra.gateway.schemas import GATEWAY

Mutation = Callable[[Obj], None]


def spec_set(path: str, value: Any) -> Mutation:
    """Set `spec.<path>`, a dotted path whose numeric parts index lists."""

    def mutate(obj: Obj) -> None:
        *parents, last = path.split(".")
        node = obj["spec"]
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def spec_drop(path: str) -> Mutation:
    def mutate(obj: Obj) -> None:
        *parents, last = path.split(".")
        node = obj["spec"]
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return mutate


WRONG: dict[str, tuple[Mutation, str]] = {
    "GatewayClass": (
        spec_set("controllerName", "envoy gateway"),
        "spec.controllerName: 'envoy gateway' does not match",
    ),
    "Gateway": (
        spec_set("listeners.1.tls", {"mode": "Terminate", "certificateRefs": [{"name": "serving-tls"}]}),
        "spec.listeners: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    ),
    "HTTPRoute redirect": (
        spec_set("rules.0.filters.0.requestRedirect.statusCode", 200),
        "spec.rules[0].filters[0].requestRedirect.statusCode: 200 is not one of [301, 302, 303, 307, 308]",
    ),
    "HTTPRoute REST": (
        spec_drop("rules.0.backendRefs.0.port"),
        "spec.rules[0].backendRefs[0]: Must have port for Service reference",
    ),
    "GRPCRoute": (
        spec_set("rules.0.matches.0.method", {}),
        "spec.rules[0].matches[0].method: One or both of 'service' or 'method' must be specified",
    ),
    "SecurityPolicy API keys": (
        spec_set("apiKeyAuth.extractFrom.0.params", ["api_key"]),
        "spec.apiKeyAuth.extractFrom[0]: exactly one of headers, params, or cookies must be specified",
    ),
    "SecurityPolicy JWT": (
        spec_set("targetRefs.0.kind", "Service"),
        "spec: this policy can only have a targetRefs[*].kind of Gateway/ListenerSet/HTTPRoute/GRPCRoute",
    ),
    "ClusterIssuer Route 53": (
        spec_drop("acme.server"),
        "spec.acme: 'server' is a required property",
    ),
    "ClusterIssuer Cloud DNS": (
        spec_drop("acme.solvers.0.dns01.cloudDNS.project"),
        "spec.acme.solvers[0].dns01.cloudDNS: 'project' is a required property",
    ),
    "ClusterIssuer Azure DNS": (
        spec_set("acme.solvers.0.dns01.azureDNS.environment", "AzureMoonCloud"),
        "spec.acme.solvers[0].dns01.azureDNS.environment: 'AzureMoonCloud' is not one of",
    ),
    "Certificate": (
        spec_set("privateKey.algorithm", "DSA"),
        "spec.privateKey.algorithm: 'DSA' is not one of",
    ),
}
UNKNOWN: dict[str, tuple[str | int, ...]] = {
    "GatewayClass": ("spec",),
    "Gateway": ("spec", "listeners", 0, "tls"),
    "HTTPRoute redirect": ("spec", "rules", 0, "filters", 0, "requestRedirect"),
    "HTTPRoute REST": ("spec", "rules", 0, "backendRefs", 0),
    "GRPCRoute": ("spec", "rules", 0, "matches", 0, "method"),
    "SecurityPolicy API keys": ("spec", "apiKeyAuth"),
    "SecurityPolicy JWT": ("spec", "jwt", "providers", 0, "remoteJWKS"),
    "ClusterIssuer Route 53": ("spec", "acme", "solvers", 0, "dns01", "route53"),
    "ClusterIssuer Cloud DNS": ("spec", "acme", "solvers", 0, "dns01", "cloudDNS"),
    "ClusterIssuer Azure DNS": ("spec", "acme", "solvers", 0, "dns01", "azureDNS", "managedIdentity"),
    "Certificate": ("spec", "issuerRef"),
}


def label(name: str, obj: Obj) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']} {'/'.join(n for n in (meta.get('namespace'), meta['name']) if n)}"


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_validates(name: str) -> None:
    assert GATEWAY.validate(SAMPLES[name]) == []


@pytest.mark.parametrize("name", SAMPLES)
def test_a_wrong_value_is_refused_in_the_crds_words(name: str) -> None:
    mutate, expected = WRONG[name]
    wrong = copy.deepcopy(SAMPLES[name])
    mutate(wrong)
    errors = GATEWAY.validate(wrong)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{label(name, wrong)}: {expected}"), errors


@pytest.mark.parametrize("name", SAMPLES)
def test_an_unknown_field_is_refused_where_it_stands(name: str) -> None:
    wrong = copy.deepcopy(SAMPLES[name])
    node: Any = wrong
    for part in UNKNOWN[name]:
        node = node[part]
    node["accessKey"] = "x"
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in UNKNOWN[name]).lstrip(".")
    assert GATEWAY.validate(wrong) == [
        f"{label(name, wrong)}: {where}: Additional properties are not allowed ('accessKey' was unexpected)"
    ]


def test_the_version_written_is_the_one_kubernetes_prefers() -> None:
    kinds = GATEWAY.kinds
    assert len(kinds) == 24
    assert kinds["ReferenceGrant"].written == "v1"
    assert kinds["ReferenceGrant"].storage == "v1beta1"
    assert {k.written for k in kinds.values() if k.group == "gateway.envoyproxy.io"} == {"v1alpha1"}
    assert {k.written for k in kinds.values() if k.group.endswith("cert-manager.io")} == {"v1"}
    assert GATEWAY.validate(
        {**SAMPLES["HTTPRoute REST"], "apiVersion": "gateway.networking.k8s.io/v1beta1"}
    ) == [
        "HTTPRoute serving/serving-rest: apiVersion: 'gateway.networking.k8s.io/v1beta1': write "
        "gateway.networking.k8s.io/v1"
    ]
    cluster_scoped = {**SAMPLES["Certificate"], "kind": "ClusterIssuer"}
    assert GATEWAY.validate(cluster_scoped) == [
        "ClusterIssuer serving/serving-tls: metadata.namespace: ClusterIssuer is cluster-scoped: no namespace"
    ]


def test_a_rule_cel_python_cannot_evaluate_is_reported_not_passed() -> None:
    node = {"x-kubernetes-validations": [{"rule": "self.missing > 1", "message": "never shown"}]}
    (error,) = GATEWAY.server_checks(node, {})
    assert error.startswith(".: CEL rule failed to evaluate (no such member in mapping: 'missing')")


def _rules(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for n in node for r in _rules(n)]
    if not isinstance(node, dict):
        return []
    return [v["rule"] for v in node.get("x-kubernetes-validations", [])] + _rules(list(node.values()))


def test_every_rule_of_the_kinds_we_render_compiles_in_cel_python() -> None:
    """Each compiles here; whether it evaluates is checked where a sample reaches it."""
    kinds = {o["kind"] for o in SAMPLES.values()}
    rules = {r for kind in kinds for r in _rules(GATEWAY.schema(kind)) if not transition(r)}
    assert len(rules) > 100
    for rule in rules:
        program(rule)
