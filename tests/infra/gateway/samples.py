"""Hand-written objects of the shapes the gateway will render: a Gateway with an HTTPS listener and an HTTP
one that only redirects, the routes to TF Serving's REST (8501) and gRPC (8500) ports, the API-key and JWT
SecurityPolicies, an ACME DNS-01 ClusterIssuer per cloud DNS, each signing in by workload identity, and
the Certificate the HTTPS listener serves."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
GATEWAY_API = "gateway.networking.k8s.io"
NAMESPACE = "serving"
HOST = "serving.dev.example.com"
ACME = "https://acme-v02.api.letsencrypt.org/directory"


def obj(api: str, kind: str, name: str, spec: Obj, namespace: str | None = NAMESPACE) -> Obj:
    metadata: Obj = {"name": name, "labels": {"app.kubernetes.io/part-of": "gpu-platform"}}
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {**metadata, "namespace": namespace} if namespace else metadata,
        "spec": spec,
    }


def parent(section: str) -> list[Obj]:
    return [{"group": GATEWAY_API, "kind": "Gateway", "name": "serving", "sectionName": section}]


def target(kind: str, name: str) -> list[Obj]:
    return [{"group": GATEWAY_API, "kind": kind, "name": name}]


def issuer(name: str, solver: Obj) -> Obj:
    acme = {
        "server": ACME,
        "email": "platform@example.com",
        "privateKeySecretRef": {"name": f"acme-{name}"},
        "solvers": [{"selector": {"dnsZones": ["dev.example.com"]}, "dns01": solver}],
    }
    return obj("cert-manager.io/v1", "ClusterIssuer", name, {"acme": acme}, namespace=None)


SAMPLES: dict[str, Obj] = {
    "GatewayClass": obj(
        f"{GATEWAY_API}/v1",
        "GatewayClass",
        "envoy-gateway",
        {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
        namespace=None,
    ),
    "Gateway": obj(
        f"{GATEWAY_API}/v1",
        "Gateway",
        "serving",
        {
            "gatewayClassName": "envoy-gateway",
            "listeners": [
                {
                    "name": "https",
                    "hostname": HOST,
                    "port": 443,
                    "protocol": "HTTPS",
                    "tls": {
                        "mode": "Terminate",
                        "certificateRefs": [{"kind": "Secret", "name": "serving-tls"}],
                    },
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                },
                {
                    "name": "http",
                    "hostname": HOST,
                    "port": 80,
                    "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                },
            ],
        },
    ),
    "HTTPRoute redirect": obj(
        f"{GATEWAY_API}/v1",
        "HTTPRoute",
        "serving-redirect",
        {
            "parentRefs": parent("http"),
            "hostnames": [HOST],
            "rules": [
                {
                    "filters": [
                        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
                    ]
                }
            ],
        },
    ),
    "HTTPRoute REST": obj(
        f"{GATEWAY_API}/v1",
        "HTTPRoute",
        "serving-rest",
        {
            "parentRefs": parent("https"),
            "hostnames": [HOST],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/v1/models"}}],
                    "backendRefs": [{"name": "tf-serving", "port": 8501}],
                }
            ],
        },
    ),
    "GRPCRoute": obj(
        f"{GATEWAY_API}/v1",
        "GRPCRoute",
        "serving-grpc",
        {
            "parentRefs": parent("https"),
            "hostnames": [HOST],
            "rules": [
                {
                    "matches": [{"method": {"service": "tensorflow.serving.PredictionService"}}],
                    "backendRefs": [{"name": "tf-serving", "port": 8500}],
                }
            ],
        },
    ),
    "SecurityPolicy API keys": obj(
        "gateway.envoyproxy.io/v1alpha1",
        "SecurityPolicy",
        "serving-api-keys",
        {
            "targetRefs": target("HTTPRoute", "serving-rest") + target("GRPCRoute", "serving-grpc"),
            "apiKeyAuth": {
                "credentialRefs": [{"kind": "Secret", "name": "serving-api-keys"}],
                "extractFrom": [{"headers": ["x-api-key"]}],
                "forwardClientIDHeader": "x-client-id",
                "sanitize": True,
            },
        },
    ),
    "SecurityPolicy JWT": obj(
        "gateway.envoyproxy.io/v1alpha1",
        "SecurityPolicy",
        "serving-jwt",
        {
            "targetRefs": target("HTTPRoute", "serving-rest"),
            "jwt": {
                "providers": [
                    {
                        "name": "issuer",
                        "issuer": "https://issuer.example.com",
                        "audiences": ["gpu-platform"],
                        "remoteJWKS": {"uri": "https://issuer.example.com/.well-known/jwks.json"},
                    }
                ]
            },
        },
    ),
    "ClusterIssuer Route 53": issuer(
        "acme-route53", {"route53": {"region": "eu-west-1", "hostedZoneID": "Z0123456789ABCDEFGHIJ"}}
    ),
    "ClusterIssuer Cloud DNS": issuer("acme-clouddns", {"cloudDNS": {"project": "gpu-platform-dev"}}),
    "ClusterIssuer Azure DNS": issuer(
        "acme-azuredns",
        {
            "azureDNS": {
                "subscriptionID": "00000000-0000-0000-0000-000000000000",
                "resourceGroupName": "gpu-platform-dev",
                "hostedZoneName": "dev.example.com",
                "environment": "AzurePublicCloud",
                "managedIdentity": {"clientID": "11111111-1111-1111-1111-111111111111"},
            }
        },
    ),
    "Certificate": obj(
        "cert-manager.io/v1",
        "Certificate",
        "serving-tls",
        {
            "secretName": "serving-tls",
            "dnsNames": [HOST],
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "acme-route53"},
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        },
    ),
}
