"""cert-manager's access to the serving zone in Route 53, for every cluster of the stack: a role per
cluster whose one inline policy changes only that cluster's challenge records (`_acme-challenge.<domain>`
and `_acme-challenge.<cloud>.<domain>`, TXT only), with no key anywhere.

- EKS: an IAM role trusted by EKS Pod Identity for this cluster's `cert-manager/cert-manager` only
  (`policies.pod_identity_trust`), and its association. cert-manager's solver uses the ambient
  credentials the agent hands the pod, so the ClusterIssuer names no `role` (with one, cert-manager
  would `sts:AssumeRole` into it again, which a Pod Identity trust refuses).
- GKE and AKS: a role trusted by web identity from that cluster's issuer for the subject
  `system:serviceaccount:cert-manager:cert-manager` and the audience `sts.amazonaws.com`, through the
  issuer's one IAM OIDC provider, which `FederatedTrust` shares with `federate` and `admit_api` (IAM
  refuses a second provider for the same URL). The ClusterIssuer names the role and
  `auth.kubernetes.serviceAccountRef`: cert-manager mints a 10-minute token for its own service account
  with the TokenRequest API (which its Role must allow) and calls `AssumeRoleWithWebIdentity`.

The solver names the zone (`hostedZoneID`), so it never looks zones up by name, and the region (Route 53
is global; the region picks the STS endpoint and the partition when no `AWS_REGION` is set, as on GKE and
AKS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext
from infra.clouds.aws.federation import STS_AUDIENCE, FederatedTrust
from infra.clouds.aws.pod_identity import PodIdentityNames, pod_identity_role
from infra.clouds.base import ForeignWorkload, IdentityBinding
from infra.gateway.dns01 import Dns01Access, SolverCluster, challenge_names, token_request_rule


def grant(context: AwsContext, zone_id: str, names: Sequence[str]) -> pulumi.Output[str]:
    """The zone's DNS-01 policy for `names`, in the account's partition."""
    return context.partition.apply(lambda partition: policies.route53_dns01_policy(partition, zone_id, names))


def _route53(context: AwsContext, zone_id: str, **more: Any) -> dict[str, Any]:
    return {"route53": {"region": context.region, "hostedZoneID": zone_id, **more}}


@dataclass(frozen=True, kw_only=True)
class Dns01SolverArgs:
    """This account's own EKS cluster, whose cert-manager solves in `zone_id` for `domain`."""

    context: AwsContext
    zone_id: str
    domain: str
    cluster: SolverCluster
    cluster_name: str
    """The EKS cluster's fixed name, which the Pod Identity trust names by ARN."""
    cluster_output: pulumi.Input[str]
    """The same name as an Output, so the association waits for the cluster."""


class Dns01Solver(pulumi.ComponentResource):
    """The EKS cluster's cert-manager role, grant and association; `access` is what cert-manager needs."""

    access: Dns01Access

    def __init__(self, name: str, args: Dns01SolverArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:aws:Dns01Solver", name, None, opts)
        context, child, cluster = args.context, pulumi.ResourceOptions(parent=self), args.cluster
        ns, sa = cluster.namespace, cluster.service_account
        made = pod_identity_role(
            context,
            PodIdentityNames(role=f"{name}-role", policy=f"{name}-policy", association=f"{name}-association"),
            cluster_name=args.cluster_name,
            cluster=args.cluster_output,
            namespace=ns,
            service_account=sa,
            policy=grant(context, args.zone_id, challenge_names(args.domain, cluster.cloud)),
            component="dns",
            opts=child,
            description=f"Pod Identity role of {ns}/{sa}: ACME DNS-01 in the serving zone",
        )
        self.access = Dns01Access(
            solver=_route53(context, args.zone_id),
            # The agent hands credentials only to pods started after the association exists.
            binding=IdentityBinding(service_account=sa, ready=(made.association, made.policy)),
        )
        self.register_outputs({"roleArn": made.role.arn})


def federated(
    trust: FederatedTrust, workload: ForeignWorkload, *, context: AwsContext, zone_id: str, domain: str
) -> Dns01Access:
    """A role for another cloud's cert-manager, `workload`, trusted through `trust`, its issuer's."""
    sa = workload.service_account
    role, policy = trust.dns01_solver(
        workload, grant(context, zone_id, challenge_names(domain, workload.cloud))
    )
    account = {"name": sa, "audiences": [STS_AUDIENCE]}
    return Dns01Access(
        solver=_route53(context, zone_id, role=role.arn, auth={"kubernetes": {"serviceAccountRef": account}}),
        # STS refuses the token until the role trusts it; Route 53 refuses changes until the grant exists.
        binding=IdentityBinding(service_account=sa, ready=(role, policy)),
        rules=(token_request_rule(sa),),
    )
