"""Pricing rules for Kubernetes objects that make the cloud create something billed: a Service of type
LoadBalancer gets one load balancer from its cluster's cloud, and so does Envoy Gateway's EnvoyProxy, whose
controller makes the proxies' LoadBalancer Service at run time. Every other object runs on priced nodes."""

from __future__ import annotations

from typing import Any

from plan.cost import aws
from plan.cost import prices as p
from plan.cost.context import Context, Rule
from plan.cost.model import HOURS_PER_MONTH, Charge, PriceError
from plan.runner import PlannedResource

AWS_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
AWS_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
H = HOURS_PER_MONTH


def _aws_internet_facing(annotations: dict[str, Any]) -> bool:
    """The AWS Load Balancer Controller makes internal NLBs unless the scheme says otherwise; the in-tree
    controller makes internet-facing ones unless told `internal`: both spellings are honoured."""
    if AWS_SCHEME in annotations:
        return bool(annotations[AWS_SCHEME] == "internet-facing")
    return str(annotations.get(AWS_INTERNAL, "false")).lower() != "true"


def service(res: PlannedResource, ctx: Context) -> list[Charge]:
    spec: dict[str, Any] = res.inputs.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return []
    annotations: dict[str, Any] = (res.inputs.get("metadata") or {}).get("annotations") or {}
    return _balancer(res, ctx, public_addresses=_aws_internet_facing(annotations))


def envoy_proxy(res: PlannedResource, ctx: Context) -> list[Charge]:
    """The gateway's load balancer (one Gateway per class), on the stack's reserved addresses, which are
    priced as what they are (an Elastic IP per public subnet on AWS)."""
    return _balancer(res, ctx, public_addresses=False)


def _balancer(res: PlannedResource, ctx: Context, *, public_addresses: bool) -> list[Charge]:
    if res.cloud == "aws":
        return aws.nlb(public_addresses, aws.public_subnets(ctx, res.cloud))
    if res.cloud == "gcp":
        note = "GKE's passthrough load balancer: one forwarding rule per Service"
        return [Charge("load balancer forwarding rule", p.GCP_FORWARDING_RULE, H, note=note)]
    if res.cloud == "azure":
        note = "AKS adds the Service's rules to the cluster's Standard load balancer (internal or public)"
        return [Charge("Standard load balancer", p.AZURE_LB_HOUR, H, note=note)]
    raise PriceError("a LoadBalancer Service whose cluster's cloud the plan cannot tell")


RULES: dict[str, Rule] = {
    "kubernetes:core/v1:Service": service,
    "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy": envoy_proxy,
}
