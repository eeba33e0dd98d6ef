"""The Gateway API objects that put TF Serving behind one HTTPS name per cloud and the global name: what
Envoy Gateway (`gatewayClassName: envoy`) and cert-manager act on, in the serving namespace.

- A Gateway `serving` with two listeners: `https` on 443, terminating TLS with the certificate in Secret
  `serving-tls`, and `http` on 80, to which only the redirect route attaches (HTTP answers nothing else).
- HTTPRoute `serving-redirect` on `http`: every request redirected to https, 301.
- HTTPRoute `serving-rest` on `https`: `/v1/models` and below to TF Serving's REST port;
  GRPCRoute `serving-grpc`: TF Serving's PredictionService to its gRPC port. Both behind the API keys.
- HTTPRoute `serving-status` on `https`: exactly `GET /v1/models/<name>`, TF Serving's model status, without
  a credential. Route 53's health checks can send no header (a HealthCheckConfig has no field for one), so
  they probe this route and look for `AVAILABLE`. An exact path outranks the REST route's prefix (the
  Gateway API's route precedence), so this is the only request without a credential, and it tells a
  caller which versions are loaded and nothing more.
- SecurityPolicy `serving-api-keys` on the REST and gRPC routes: a request without a key in `x-api-key`, or
  with one not among Secret `serving-api-keys`'s values, is answered 401 by Envoy and never reaches TF
  Serving; an accepted key is stripped (`sanitize`) and its client's name forwarded in `x-client-id`.
- Certificate `serving-tls` for `<cloud>.<domain>` and `<domain>`, from the ClusterIssuer `acme`, which
  solves DNS-01 in the stack's Route 53 zone (`infra/dns/`).

Pure functions of `GatewaySpec`: the component that declares them (and waits for Envoy Gateway and
cert-manager) is the workloads' concern. Every object is validated against the pinned CRDs in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
GATEWAY_API = "gateway.networking.k8s.io"
ENVOY_GATEWAY = "gateway.envoyproxy.io"
CERT_MANAGER = "cert-manager.io"
GATEWAY_CLASS = "envoy"
GATEWAY = "serving"
TLS_SECRET = "serving-tls"
KEYS_SECRET = "serving-api-keys"
KEY_HEADER = "x-api-key"
CLIENT_HEADER = "x-client-id"
ISSUER = "acme"
ACME_SERVER = "https://acme-v02.api.letsencrypt.org/directory"
"""Let's Encrypt's production directory (ACME v2)."""
PREDICTION_SERVICE = "tensorflow.serving.PredictionService"
REST_PREFIX = "/v1/models"


def cloud_host(cloud: str, domain: str) -> str:
    """A cloud's own name under the stack's domain."""
    return f"{cloud}.{domain}"


@dataclass(frozen=True, kw_only=True)
class GatewaySpec:
    cloud: str
    domain: str
    namespace: str
    model: str
    service: str
    """TF Serving's Service in `namespace`."""
    rest_port: int
    grpc_port: int
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def hostnames(self) -> list[str]:
        """This cloud's name, which only it answers, and the global name, which every cloud answers."""
        return [cloud_host(self.cloud, self.domain), self.domain]


def _object(
    api: str, kind: str, name: str, spec: Obj, *, namespace: str | None, labels: Mapping[str, str]
) -> Obj:
    metadata: Obj = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}


def _parent(listener: str) -> list[Obj]:
    return [{"group": GATEWAY_API, "kind": "Gateway", "name": GATEWAY, "sectionName": listener}]


def gateway(spec: GatewaySpec) -> Obj:
    same_namespace = {"namespaces": {"from": "Same"}}
    listeners = [
        {
            "name": "https",
            "port": 443,
            "protocol": "HTTPS",
            "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]},
            "allowedRoutes": same_namespace,
        },
        {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": same_namespace},
    ]
    body = {"gatewayClassName": GATEWAY_CLASS, "listeners": listeners}
    return _object(
        f"{GATEWAY_API}/v1", "Gateway", GATEWAY, body, namespace=spec.namespace, labels=spec.labels
    )


def routes(spec: GatewaySpec) -> list[Obj]:
    """The redirect, the authenticated REST and gRPC routes, and the unauthenticated model status."""
    model_path = f"/v1/models/{spec.model}"
    rest_backend = [{"name": spec.service, "port": spec.rest_port}]
    redirect = {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    http = f"{GATEWAY_API}/v1"
    return [
        _object(
            http,
            "HTTPRoute",
            "serving-redirect",
            {"parentRefs": _parent("http"), "hostnames": spec.hostnames, "rules": [{"filters": [redirect]}]},
            namespace=spec.namespace,
            labels=spec.labels,
        ),
        _object(
            http,
            "HTTPRoute",
            "serving-rest",
            {
                "parentRefs": _parent("https"),
                "hostnames": spec.hostnames,
                "rules": [
                    {
                        # TF Serving's whole REST API (status, metadata, `:predict` and the
                        # other verbs, by version or not), which answers for its own model only.
                        "matches": [{"path": {"type": "PathPrefix", "value": REST_PREFIX}}],
                        "backendRefs": rest_backend,
                    }
                ],
            },
            namespace=spec.namespace,
            labels=spec.labels,
        ),
        _object(
            http,
            "HTTPRoute",
            "serving-status",
            {
                "parentRefs": _parent("https"),
                "hostnames": spec.hostnames,
                "rules": [
                    {
                        "matches": [{"method": "GET", "path": {"type": "Exact", "value": model_path}}],
                        "backendRefs": rest_backend,
                    }
                ],
            },
            namespace=spec.namespace,
            labels=spec.labels,
        ),
        _object(
            http,
            "GRPCRoute",
            "serving-grpc",
            {
                "parentRefs": _parent("https"),
                "hostnames": spec.hostnames,
                "rules": [
                    {
                        "matches": [{"method": {"service": PREDICTION_SERVICE}}],
                        "backendRefs": [{"name": spec.service, "port": spec.grpc_port}],
                    }
                ],
            },
            namespace=spec.namespace,
            labels=spec.labels,
        ),
    ]


def security_policy(spec: GatewaySpec) -> Obj:
    """API keys on every route but the redirect and the model status."""
    targets = [
        {"group": GATEWAY_API, "kind": "HTTPRoute", "name": "serving-rest"},
        {"group": GATEWAY_API, "kind": "GRPCRoute", "name": "serving-grpc"},
    ]
    auth = {
        "credentialRefs": [{"kind": "Secret", "name": KEYS_SECRET}],
        "extractFrom": [{"headers": [KEY_HEADER]}],
        "forwardClientIDHeader": CLIENT_HEADER,
        "sanitize": True,
    }
    body = {"targetRefs": targets, "apiKeyAuth": auth}
    return _object(
        f"{ENVOY_GATEWAY}/v1alpha1",
        "SecurityPolicy",
        KEYS_SECRET,
        body,
        namespace=spec.namespace,
        labels=spec.labels,
    )


def certificate(spec: GatewaySpec) -> Obj:
    body = {
        "secretName": TLS_SECRET,
        "dnsNames": spec.hostnames,
        "issuerRef": {"group": CERT_MANAGER, "kind": "ClusterIssuer", "name": ISSUER},
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
    }
    return _object(
        f"{CERT_MANAGER}/v1", "Certificate", TLS_SECRET, body, namespace=spec.namespace, labels=spec.labels
    )


def cluster_issuer(
    *, domain: str, email: str | None, dns01: Mapping[str, Any], labels: Mapping[str, str]
) -> Obj:
    """ACME by DNS-01 in the stack's zone: `dns01` is the solver's body (`Dns01Access.solver`,
    infra/gateway/dns01.py), which names the provider, the zone, and how this cluster's cert-manager signs
    in."""
    acme: Obj = {
        "server": ACME_SERVER,
        "privateKeySecretRef": {"name": f"{ISSUER}-account"},
        "solvers": [{"selector": {"dnsZones": [domain]}, "dns01": dict(dns01)}],
    }
    if email:
        acme["email"] = email
    return _object(
        f"{CERT_MANAGER}/v1", "ClusterIssuer", ISSUER, {"acme": acme}, namespace=None, labels=labels
    )


def objects(spec: GatewaySpec) -> list[Obj]:
    """Everything in the serving namespace, the gateway first."""
    return [gateway(spec), *routes(spec), security_policy(spec), certificate(spec)]
