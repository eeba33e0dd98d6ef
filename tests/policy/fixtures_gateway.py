"""The serving gateway's objects on one cluster, as the program's own builders make them (infra/gateway/
serving.py, envoy.py): the Gateway, its routes, the API-key SecurityPolicy, the Certificate, the ACME
ClusterIssuer, the EnvoyProxy and the GatewayClass that names it; and the API-key Secret, whose builder the
wiring holds, in the shape the SecurityPolicy reads (one key per client)."""

from __future__ import annotations

from typing import Any

from infra.clouds.aws.federation import STS_AUDIENCE
from infra.gateway import dns01, envoy, serving
from tests.policy.fixtures_k8s import DIGEST, NS
from tests.policy.stacks import Fixture

DOMAIN = "ml.example.com"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
SOURCES = ("198.51.100.0/24",)
LABELS = {"project": "gpu-platform", "component": "gateway"}
AMBIENT = {"route53": {"region": "us-east-1", "hostedZoneID": ZONE_ID}}
"""EKS: cert-manager signs in with what the Pod Identity agent hands it (infra/clouds/aws/dns01.py)."""
WEB_IDENTITY = {
    "route53": {
        **AMBIENT["route53"],
        "role": "arn:aws:iam::123456789012:role/dns01-gcp",
        "auth": {
            "kubernetes": {"serviceAccountRef": {"name": dns01.SERVICE_ACCOUNT, "audiences": [STS_AUDIENCE]}}
        },
    }
}
"""GKE and AKS: a token of cert-manager's own service account, exchanged for the role."""
NAMES = {
    ("Gateway", serving.GATEWAY): "gateway",
    ("HTTPRoute", "serving-redirect"): "route-redirect",
    ("HTTPRoute", "serving-rest"): "route-rest",
    ("HTTPRoute", "serving-status"): "route-status",
    ("GRPCRoute", "serving-grpc"): "route-grpc",
    ("SecurityPolicy", serving.KEYS_SECRET): "api-keys-policy",
    ("Certificate", serving.TLS_SECRET): "tls-certificate",
    ("ClusterIssuer", serving.ISSUER): "acme-issuer",
}
"""Logical names, by kind and object name, for the mutations to name."""


def spec(cloud: str) -> serving.GatewaySpec:
    return serving.GatewaySpec(
        cloud=cloud,
        domain=DOMAIN,
        namespace=NS,
        model="digits",
        service="serving",
        rest_port=8501,
        grpc_port=8500,
        labels=LABELS,
    )


def _fixture(obj: dict[str, Any], cloud: str, name: str | None = None) -> Fixture:
    kind = obj["kind"]
    logical = name or NAMES[(kind, obj["metadata"]["name"])]
    version = obj["apiVersion"] if "/" in obj["apiVersion"] else f"core/{obj['apiVersion']}"
    return Fixture(f"kubernetes:{version}:{kind}", logical, obj, (), cloud)


def api_keys() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": serving.KEYS_SECRET, "namespace": NS},
        "type": "Opaque",
        "stringData": {"partner-a": "k" * 32},
    }


def proxy(source_ranges: tuple[str, ...] = SOURCES) -> dict[str, Any]:
    args = envoy.EnvoyGatewayArgs(
        image=f"registry.example.com/gateway{DIGEST}",
        proxy_image=f"registry.example.com/envoy{DIGEST}",
        labels=LABELS,
        node_selector={"gpu-platform/pool": "general"},
        load_balancer_annotations={},
        source_ranges=source_ranges,
        crds=(),
        backends={NS: (8501, 8500)},
        watch_namespaces=(NS,),
    )
    metadata = {"name": envoy.ENVOY_PROXY, "namespace": envoy.NAMESPACE, "labels": LABELS}
    return {
        "apiVersion": f"{serving.ENVOY_GATEWAY}/v1alpha1",
        "kind": "EnvoyProxy",
        "metadata": metadata,
        "spec": envoy.proxy_spec(args),
    }


def gateway_class() -> dict[str, Any]:
    """The class `EnvoyGateway` declares (its spec is inline there, so it is restated from its names)."""
    params = {"group": serving.ENVOY_GATEWAY, "kind": "EnvoyProxy", "name": envoy.ENVOY_PROXY}
    return {
        "apiVersion": f"{serving.GATEWAY_API}/v1",
        "kind": "GatewayClass",
        "metadata": {"name": serving.GATEWAY_CLASS, "labels": LABELS},
        "spec": {
            "controllerName": envoy.CONTROLLER_NAME,
            "parametersRef": {**params, "namespace": envoy.NAMESPACE},
        },
    }


def gateway_objects(cloud: str, solver: dict[str, Any] | None = None) -> list[Fixture]:
    """One cluster's gateway; `solver` is its issuer's DNS-01 body (default: EKS's, ambient)."""
    issuer = serving.cluster_issuer(domain=DOMAIN, email=None, dns01=solver or AMBIENT, labels=LABELS)
    return [
        *(_fixture(obj, cloud) for obj in [*serving.objects(spec(cloud)), issuer]),
        _fixture(api_keys(), cloud, "api-keys"),
        _fixture(proxy(), cloud, "envoy-proxy"),
        _fixture(gateway_class(), cloud, "gateway-class"),
    ]
