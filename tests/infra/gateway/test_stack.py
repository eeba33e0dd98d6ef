"""The gateway as the stacks declare it: prod serves under a domain on every cloud, dev keeps its internal
HTTP endpoints. Each object is read from the offline plan, checked against the pinned CRDs, and followed
to what it names: the Secret the API keys come from, the issuer, the addresses DNS points at."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.types import ROUTE53_CHECKER_REGIONS
from infra.gateway import serving
from plan.manifests import integral
from plan.runner import Plan, PlannedResource
from tests.infra.gateway.schemas import GATEWAY
from tests.plans import planned, stack_values, waits_for

CLOUDS = ("aws", "gcp", "azure")
GATEWAY_API = "kubernetes:gateway.networking.k8s.io/v1:"
ENVOY = "kubernetes:gateway.envoyproxy.io/v1alpha1:"
CERTS = "kubernetes:cert-manager.io/v1:"
CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
KINDS = ("gateway.networking.k8s.io", "gateway.envoyproxy.io", "cert-manager.io")


@pytest.fixture(scope="module")
def prod() -> Plan:
    return planned("prod")


def serving_config() -> dict[str, Any]:
    return dict(stack_values("prod")["gpu-platform:serving"])


def objects(plan: Plan, cloud: str, type_: str) -> list[PlannedResource]:
    return [r for r in plan.of_type(type_) if r.cloud == cloud]


def one(plan: Plan, cloud: str, type_: str, name: str | None = None) -> PlannedResource:
    (found,) = [
        r for r in objects(plan, cloud, type_) if name is None or r.inputs["metadata"]["name"] == name
    ]
    return found


def test_dev_has_no_gateway_and_keeps_http() -> None:
    dev = planned("dev")
    assert not [r for r in dev.resources if r.type.startswith(tuple(f"kubernetes:{k}/" for k in KINDS))]
    assert not [r for r in dev.resources if r.type.startswith(("aws:route53/", "random:"))]
    assert dev.outputs["serving"] is None
    assert dev.outputs["apiKeys"] is None
    assert all(e["url"].startswith("http://") or not e["url"] for e in dev.outputs["endpoints"])


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_gateway_object_passes_the_pinned_crds(prod: Plan, cloud: str) -> None:
    found = [r for r in prod.resources if r.cloud == cloud and r.type.split(":")[1].split("/")[0] in KINDS]
    kinds = {r.type.rsplit(":", 1)[1] for r in found}
    assert kinds == {
        "Gateway",
        "GatewayClass",
        "HTTPRoute",
        "GRPCRoute",
        "EnvoyProxy",
        "SecurityPolicy",
        "Certificate",
        "ClusterIssuer",
    }
    for res in found:
        assert GATEWAY.validate(integral(res.inputs)) == [], res.name


@pytest.mark.parametrize("cloud", CLOUDS)
def test_https_for_the_clouds_name_and_the_global_name_and_http_only_redirects(
    prod: Plan, cloud: str
) -> None:
    domain = serving_config()["domain"]
    gateway = one(prod, cloud, GATEWAY_API + "Gateway")
    listeners = {item["name"]: item for item in gateway.inputs["spec"]["listeners"]}
    assert (listeners["https"]["port"], listeners["https"]["protocol"]) == (443, "HTTPS")
    assert listeners["https"]["tls"]["certificateRefs"] == [{"kind": "Secret", "name": serving.TLS_SECRET}]
    assert (listeners["http"]["port"], listeners["http"]["protocol"]) == (80, "HTTP")
    on_http = [
        r
        for r in objects(prod, cloud, GATEWAY_API + "HTTPRoute")
        + objects(prod, cloud, GATEWAY_API + "GRPCRoute")
        if any(p["sectionName"] == "http" for p in r.inputs["spec"]["parentRefs"])
    ]
    assert [r.inputs["metadata"]["name"] for r in on_http] == ["serving-redirect"]
    (rule,) = on_http[0].inputs["spec"]["rules"]
    assert rule == {
        "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]
    }
    certificate = one(prod, cloud, CERTS + "Certificate")
    assert certificate.inputs["spec"]["dnsNames"] == [f"{cloud}.{domain}", domain]
    assert certificate.inputs["spec"]["issuerRef"]["name"] == serving.ISSUER


@pytest.mark.parametrize("cloud", CLOUDS)
def test_routes_reach_tf_serving_behind_the_api_keys_of_every_client(prod: Plan, cloud: str) -> None:
    config = serving_config()
    service = one(prod, cloud, SERVICE, f"{config['modelName']}-serving")
    assert service.inputs["spec"]["type"] == "ClusterIP"
    rest = one(prod, cloud, GATEWAY_API + "HTTPRoute", "serving-rest")
    grpc = one(prod, cloud, GATEWAY_API + "GRPCRoute", "serving-grpc")
    assert rest.inputs["spec"]["rules"][0]["backendRefs"] == [
        {"name": f"{config['modelName']}-serving", "port": 8501}
    ]
    assert grpc.inputs["spec"]["rules"][0]["backendRefs"] == [
        {"name": f"{config['modelName']}-serving", "port": 8500}
    ]
    policy = one(prod, cloud, ENVOY + "SecurityPolicy")
    targets = {t["name"] for t in policy.inputs["spec"]["targetRefs"]}
    assert targets == {"serving-rest", "serving-grpc"}
    auth = policy.inputs["spec"]["apiKeyAuth"]
    assert auth["credentialRefs"] == [{"kind": "Secret", "name": serving.KEYS_SECRET}]
    keys = one(prod, cloud, SECRET, serving.KEYS_SECRET)
    assert keys.inputs["metadata"]["namespace"] == policy.inputs["metadata"]["namespace"] == "ml"
    assert set(keys.inputs["stringData"]) == set(config["auth"]["clients"])
    assert any(path.startswith("stringData") for path in keys.secret_paths)
    status = one(prod, cloud, GATEWAY_API + "HTTPRoute", "serving-status")
    (match,) = status.inputs["spec"]["rules"][0]["matches"]
    assert match == {"method": "GET", "path": {"type": "Exact", "value": f"/v1/models/{config['modelName']}"}}


def test_each_client_has_one_key_on_every_cloud(prod: Plan) -> None:
    """The global name may send a client to any cloud: every gateway holds the same keys, one per client."""
    held = [one(prod, cloud, SECRET, serving.KEYS_SECRET).inputs["stringData"] for cloud in CLOUDS]
    assert held[0] == held[1] == held[2]
    assert len(set(held[0].values())) == len(held[0])


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_gateway_waits_for_its_class_issuer_keys_and_address_grant(prod: Plan, cloud: str) -> None:
    gateway = one(prod, cloud, GATEWAY_API + "Gateway")
    for needed in (
        one(prod, cloud, GATEWAY_API + "GatewayClass"),
        one(prod, cloud, ENVOY + "EnvoyProxy"),
        one(prod, cloud, CERTS + "ClusterIssuer"),
        one(prod, cloud, SECRET, serving.KEYS_SECRET),
    ):
        assert waits_for(prod, gateway, needed), needed.name
    if cloud == "azure":
        (grant,) = [r for r in prod.resources if r.name.endswith("-gateway-ip-network")]
        assert waits_for(prod, gateway, grant)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_issuer_solves_in_the_zone_keylessly(prod: Plan, cloud: str) -> None:
    zone = serving_config()["dns"]["zoneId"]
    issuer = one(prod, cloud, CERTS + "ClusterIssuer")
    (solver,) = issuer.inputs["spec"]["acme"]["solvers"]
    route53 = solver["dns01"]["route53"]
    assert route53["hostedZoneID"] == zone
    assert not {k for k in route53 if k.startswith(("accessKey", "secretAccessKey"))}
    controller = one(prod, cloud, "kubernetes:apps/v1:Deployment", "cert-manager")
    if cloud == "aws":  # EKS Pod Identity: ambient credentials, no role to assume again
        assert "role" not in route53
        (association,) = [r for r in prod.resources if r.name == "prod-aws-dns01-association"]
        assert association.inputs["serviceAccount"] == "cert-manager"
        assert waits_for(prod, controller, association)
    else:
        assert route53["auth"]["kubernetes"]["serviceAccountRef"]["name"] == "cert-manager"
        (role,) = [r for r in prod.resources if r.name == f"prod-aws-federation-{cloud}-dns01-role"]
        assert waits_for(prod, controller, role)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_proxies_load_balancer_is_the_clouds_reserved_address_for_the_sources_only(
    prod: Plan, cloud: str
) -> None:
    proxy = one(prod, cloud, ENVOY + "EnvoyProxy")
    service = proxy.inputs["spec"]["provider"]["kubernetes"]["envoyService"]
    assert service["loadBalancerSourceRanges"] == serving_config()["sourceCidrs"]
    annotation = {
        "aws": "service.beta.kubernetes.io/aws-load-balancer-eip-allocations",
        "gcp": "networking.gke.io/load-balancer-ip-addresses",
        "azure": "service.beta.kubernetes.io/azure-pip-name",
    }[cloud]
    assert service["annotations"][annotation]


def test_route53_names_each_cloud_and_routes_the_domain_by_health(prod: Plan) -> None:
    config = serving_config()
    domain, zone = config["domain"], config["dns"]["zoneId"]
    checks = {r.inputs["fqdn"]: r for r in prod.of_type(CHECK)}
    assert set(checks) == {f"{cloud}.{domain}" for cloud in CLOUDS}
    for check in checks.values():
        assert (check.inputs["type"], check.inputs["port"]) == ("HTTPS_STR_MATCH", 443)
        assert check.inputs["resourcePath"] == f"/v1/models/{config['modelName']}"
        assert check.inputs["searchString"] == '"AVAILABLE"'  # not UNAVAILABLE
        assert check.inputs["regions"] == list(ROUTE53_CHECKER_REGIONS)
    records = [r for r in prod.of_type(RECORD) if r.inputs["type"] == "A"]
    assert {r.inputs["zoneId"] for r in prod.of_type(RECORD)} == {zone}
    per_cloud = [r for r in records if r.inputs["name"] != domain]
    assert sorted(r.inputs["name"] for r in per_cloud) == sorted(checks)
    assert not any("healthCheckId" in r.inputs for r in per_cloud)
    global_ = [r for r in records if r.inputs["name"] == domain]
    assert {r.inputs["setIdentifier"] for r in global_} == set(CLOUDS)
    for record in global_:
        assert record.inputs["multivalueAnswerRoutingPolicy"] is True
        check = checks[f"{record.inputs['setIdentifier']}.{domain}"]
        assert check.urn in record.property_dependencies["healthCheckId"]
    assert prod.outputs["serving"]["failoverSeconds"] == 96


def test_outputs_carry_the_https_names_and_keep_the_keys_secret(prod: Plan) -> None:
    config = serving_config()
    domain, model = config["domain"], config["modelName"]
    out = prod.outputs["serving"]
    assert out["url"] == f"https://{domain}/v1/models/{model}:predict"
    assert out["clouds"] == {c: f"https://{c}.{domain}/v1/models/{model}:predict" for c in CLOUDS}
    assert out["clients"] == list(config["auth"]["clients"])
    assert [e["url"] for e in prod.outputs["endpoints"]] == list(out["clouds"].values())
    assert "apiKeys" in prod.secret_outputs
