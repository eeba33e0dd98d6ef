"""Fakes for kubernetes resources the program reads back (see `plan.fakes`).

Kubernetes echoes an object's spec; what the program reads beyond it is a LoadBalancer Service's status,
which the cloud's load-balancer controller fills in: a hostname where the annotations ask for an AWS
load balancer (whose controller answers with a DNS name), an address elsewhere.
"""

from __future__ import annotations

from typing import Any

from plan.fakes.registry import Ctx, fake_resource

HOSTNAME_ANNOTATION_PREFIX = "service.beta.kubernetes.io/aws-load-balancer"


@fake_resource("kubernetes:core/v1:Service")
def _service(ctx: Ctx) -> dict[str, Any]:
    spec = ctx.inputs.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return {}
    annotations = (ctx.inputs.get("metadata") or {}).get("annotations") or {}
    digits = int(ctx.hex(6), 16)
    if any(key.startswith(HOSTNAME_ANNOTATION_PREFIX) for key in annotations):
        ingress = {"hostname": f"k8s-{ctx.hex(8)}-{ctx.hex(10)[2:]}.elb.amazonaws.com"}
    else:
        ingress = {"ip": f"10.{digits % 250}.{(digits >> 8) % 250}.{(digits >> 16) % 250 + 1}"}
    return {"status": {"loadBalancer": {"ingress": [ingress]}}}
