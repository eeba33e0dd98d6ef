"""The gateway's objects for TF Serving (infra/gateway/serving.py), as the API server would check them
against the pinned CRDs, and wired as the serving contract needs: HTTP only redirects, every route on
HTTPS but the model status needs an API key, and the certificate covers the cloud's name and the global
one."""

from __future__ import annotations

from typing import Any

import pytest

from infra.gateway import serving
from tests.infra.gateway.schemas import GATEWAY

SPEC = serving.GatewaySpec(
    cloud="aws",
    domain="ml.example.com",
    namespace="ml",
    model="digits",
    service="digits-serving",
    rest_port=8501,
    grpc_port=8500,
    labels={"stack": "prod"},
)
ROUTE53 = {"region": "us-west-2", "hostedZoneID": "Z0123456789ABCDEFGHIJ", "role": "arn:aws:iam::1:role/x"}
DNS01 = {"route53": ROUTE53}


def by_name() -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"] + "/" + o["kind"]: o for o in serving.objects(SPEC)}


def on(listener: str) -> list[dict[str, Any]]:
    return [
        o
        for o in serving.objects(SPEC)
        if o["kind"].endswith("Route") and o["spec"]["parentRefs"][0]["sectionName"] == listener
    ]


@pytest.mark.parametrize("name", sorted(by_name()))
def test_each_object_validates_against_its_crd(name: str) -> None:
    assert GATEWAY.validate(by_name()[name]) == []


def test_the_issuer_validates_and_solves_dns01_in_the_stacks_zone_only() -> None:
    issuer = serving.cluster_issuer(domain=SPEC.domain, email=None, dns01=DNS01, labels=SPEC.labels)
    assert GATEWAY.validate(issuer) == []
    (solver,) = issuer["spec"]["acme"]["solvers"]
    assert solver == {"selector": {"dnsZones": [SPEC.domain]}, "dns01": DNS01}
    assert "email" not in issuer["spec"]["acme"]


def test_http_only_redirects_to_https() -> None:
    (redirect,) = on("http")
    (rule,) = redirect["spec"]["rules"]
    assert rule == {
        "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]
    }
    listeners = {x["name"]: x for x in by_name()["serving/Gateway"]["spec"]["listeners"]}
    assert (listeners["http"]["port"], listeners["https"]["port"]) == (80, 443)
    assert listeners["https"]["tls"]["certificateRefs"] == [{"kind": "Secret", "name": serving.TLS_SECRET}]


def test_every_https_route_but_the_model_status_needs_a_key() -> None:
    policy = by_name()[f"{serving.KEYS_SECRET}/SecurityPolicy"]
    guarded = {(t["kind"], t["name"]) for t in policy["spec"]["targetRefs"]}
    https = {(r["kind"], r["metadata"]["name"]) for r in on("https")}
    assert https - guarded == {("HTTPRoute", "serving-status")}
    assert policy["spec"]["apiKeyAuth"]["sanitize"] is True
    (status,) = [r for r in on("https") if r["metadata"]["name"] == "serving-status"]
    (rule,) = status["spec"]["rules"]
    assert rule["matches"] == [{"method": "GET", "path": {"type": "Exact", "value": "/v1/models/digits"}}]


def test_every_route_and_the_certificate_answer_the_clouds_name_and_the_global_one() -> None:
    names = ["aws.ml.example.com", "ml.example.com"]
    for route in [*on("http"), *on("https")]:
        assert route["spec"]["hostnames"] == names, route["metadata"]["name"]
    certificate = by_name()[f"{serving.TLS_SECRET}/Certificate"]
    assert certificate["spec"]["dnsNames"] == names
    assert certificate["spec"]["issuerRef"]["name"] == serving.ISSUER
