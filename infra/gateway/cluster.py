"""One cluster's HTTPS gateway in front of TF Serving, with `serving.domain`: the CRDs, Envoy Gateway,
cert-manager signing in to the DNS zone as its own workload identity, the ACME ClusterIssuer, the API keys'
Secret, and the serving objects of `serving.py` (Gateway, routes, SecurityPolicy, Certificate).

Order, each step created once what it needs is running:
1. the CRDs; then Envoy Gateway (its controller watches the serving namespace, which must exist first) and
   cert-manager (its controller waits for its DNS-01 identity: EKS Pod Identity hands credentials only to
   pods started after the association);
2. the ClusterIssuer once cert-manager's webhook serves with its CA injected, and the keys' Secret;
3. the serving objects once the controller is ready and the issuer exists. The Gateway also waits for what
   the cloud's load balancer controller needs beyond the reserved addresses (`GatewayAddress.ready`):
   Envoy Gateway creates the proxies' `LoadBalancer` Service as soon as it accepts the Gateway.

pulumi-kubernetes waits for no custom resource's conditions, so `pulumi up` ends once these objects exist,
before the class is accepted, the certificate issued or the load balancer ready: a new cluster serves HTTPS
minutes later (docs/serving.md says how to follow it), which is what the health checks wait for too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import pods
from infra.clouds.base import EgressRule, GatewayAddress
from infra.gateway import serving
from infra.gateway.cert_manager import CertManager, CertManagerArgs, CertManagerImages
from infra.gateway.definitions import GatewayCrds
from infra.gateway.dns01 import Dns01Access
from infra.gateway.envoy import EnvoyGateway, EnvoyGatewayArgs

IMAGES = (
    "envoy-gateway",
    "envoy",
    "cert-manager-controller",
    "cert-manager-webhook",
    "cert-manager-cainjector",
)
"""The mirrored images the gateway runs, by their names in the workloads' mirrors (`upstream.py`)."""


@dataclass(frozen=True, kw_only=True)
class ServingGatewayArgs:
    spec: serving.GatewaySpec
    images: Mapping[str, pulumi.Input[str]]
    """Every name of `IMAGES`, the stack registry's copy by digest."""
    serving_namespace: pulumi.Resource
    """The namespace `spec.namespace` names: the controller's Role there needs it."""
    address: GatewayAddress
    source_ranges: Sequence[str]
    """Who may reach the gateway's load balancer (`serving.sourceCidrs`)."""
    dns01: Dns01Access
    keys: Mapping[str, pulumi.Input[str]]
    """Each client's API key (secret), the same on every cloud: the global name may send a client anywhere."""
    node_selector: Mapping[str, str]
    identity_egress: Sequence[EgressRule]
    labels: Mapping[str, str]


class ServingGateway(pulumi.ComponentResource):
    def __init__(self, name: str, args: ServingGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gateway:ServingGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec, labels, images = args.spec, dict(args.labels), args.images
        crds = GatewayCrds(f"{name}-crds", labels, child).definitions
        envoy = EnvoyGateway(
            f"{name}-envoy",
            EnvoyGatewayArgs(
                image=images["envoy-gateway"],
                proxy_image=images["envoy"],
                labels=labels,
                node_selector=args.node_selector,
                load_balancer_annotations=args.address.annotations,
                source_ranges=args.source_ranges,
                crds=crds,
                backends={spec.namespace: [spec.rest_port, spec.grpc_port]},
                watch_namespaces=[spec.namespace],
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[args.serving_namespace]),
        )
        binding = args.dns01.binding
        certs = CertManager(
            f"{name}-cert-manager",
            CertManagerArgs(
                images=CertManagerImages(
                    controller=images["cert-manager-controller"],
                    webhook=images["cert-manager-webhook"],
                    cainjector=images["cert-manager-cainjector"],
                ),
                labels=labels,
                node_selector=args.node_selector,
                controller_annotations=binding.annotations,
                controller_pod_labels=binding.pod_labels,
                identity_egress=args.identity_egress,
                crds=crds,
                controller_rules=[dict(rule) for rule in args.dns01.rules],
                identity_ready=binding.ready,
            ),
            child,
        )
        issuer = self._custom(
            f"{name}-issuer",
            serving.cluster_issuer(domain=spec.domain, email=None, dns01=args.dns01.solver, labels=labels),
            after=certs.ready,
        )
        keys = k8s.core.v1.Secret(
            f"{name}-api-keys",
            metadata=pods.metadata(serving.KEYS_SECRET, spec.namespace, labels),
            type="Opaque",
            string_data=pulumi.Output.secret(dict(args.keys)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.serving_namespace]),
        )
        after = [*envoy.ready, *certs.ready, issuer, keys]
        for obj in serving.objects(spec):
            waits = [*after, *args.address.ready] if obj["kind"] == "Gateway" else after
            self._custom(f"{name}-{obj['kind'].lower()}-{obj['metadata']['name']}", obj, after=waits)
        self.register_outputs({})

    def _custom(
        self, name: str, obj: serving.Obj, *, after: Sequence[pulumi.Resource]
    ) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            name,
            api_version=obj["apiVersion"],
            kind=obj["kind"],
            metadata=obj["metadata"],
            spec=obj["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
