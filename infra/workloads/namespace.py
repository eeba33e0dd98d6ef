"""The workload namespace: Pod Security `restricted` enforced, default-deny network policy with the few
allows the workloads need, and one service account per workload role with its cloud identity.

What a NetworkPolicy can and cannot say here:
- Object storage and Azure AD are public HTTPS endpoints with changing addresses, and the standard API has
  no DNS names, so egress allows TCP 443 to any address except link-local (the metadata ranges, which
  get their own, port-exact rules from the cloud contract).
- Serving ingress comes from in-cluster clients and from the load balancer. The Service keeps client
  addresses (`externalTrafficPolicy: Local`), so `ipBlock` sees the real source: the same ranges the
  load balancer admits (the configured source CIDRs, else the cluster network's own ranges). Behind the
  HTTPS gateway (`serving.domain`) there is no load balancer, and only the gateway's proxies may connect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.clouds.base import EgressRule, IdentityBinding, WorkloadRole
from infra.pods import ANYWHERE, DNS, LINK_LOCAL, PSS_LABELS, Obj, identity_egress

APP_LABEL = "app.kubernetes.io/name"


@dataclass(frozen=True, kw_only=True)
class WorkloadNamespaceArgs:
    name: str
    labels: Mapping[str, str]
    identities: Mapping[WorkloadRole, IdentityBinding]
    apps: Mapping[WorkloadRole, str]
    """The `app.kubernetes.io/name` of each role's pods."""
    trainer_port: int
    serving_ports: Sequence[int]
    serving_sources: Sequence[str]
    serving_peers: Sequence[Obj] = ({"namespace_selector": {}},)
    """The pods that may reach serving's ports from inside the cluster: any, by default; behind the gateway
    only its proxies, so that no pod of the cluster gets round the API keys."""
    identity_egress: Sequence[EgressRule]


class WorkloadNamespace(pulumi.ComponentResource):
    name: pulumi.Output[str]
    accounts: dict[WorkloadRole, pulumi.Output[str]]

    def __init__(self, name: str, args: WorkloadNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:Namespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.name, "labels": {**args.labels, **PSS_LABELS}},
            opts=child,
        )
        self.name = namespace.metadata.name
        self.accounts = {
            role: self._account(f"{name}-{role}", binding, args.labels, child)
            for role, binding in args.identities.items()
        }
        for policy, spec in policies(args).items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}",
                metadata={"name": policy, "namespace": self.name, "labels": dict(args.labels)},
                spec=spec,
                opts=child,
            )
        self.register_outputs({"name": self.name})

    def _account(
        self, name: str, binding: IdentityBinding, labels: Mapping[str, str], opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        """ID-07: a dedicated account per role, without an API token: no workload calls the Kubernetes API,
        and the identity webhooks (EKS Pod Identity, Azure Workload Identity) inject their own projected
        token volume; GKE's metadata server needs none."""
        account = k8s.core.v1.ServiceAccount(
            name,
            metadata={
                "name": binding.service_account,
                "namespace": self.name,
                "labels": dict(labels),
                "annotations": dict(binding.annotations),
            },
            automount_service_account_token=False,
            opts=opts,
        )
        account_name: pulumi.Output[str] = account.metadata.name
        return account_name


def _apps(args: WorkloadNamespaceArgs, *roles: WorkloadRole) -> Obj:
    values = [args.apps[r] for r in roles]
    return {"match_expressions": [{"key": APP_LABEL, "operator": "In", "values": values}]}


def _ports(protocol: str, *ports: int) -> list[Obj]:
    return [{"protocol": protocol, "port": p} for p in ports]


def policies(args: WorkloadNamespaceArgs) -> dict[str, Obj]:
    """NetworkPolicy specs by name: deny everything (NW-03), then allow what each workload needs."""
    trainer, workloads = _apps(args, "trainer"), _apps(args, "trainer", "serving", "replicator")
    peers = [{"pod_selector": trainer}]
    sources = [{"ip_block": {"cidr": c}} for c in args.serving_sources]
    specs: dict[str, Obj] = {
        "default-deny": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
        "allow-dns": {
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [{"to": [DNS], "ports": _ports("UDP", 53) + _ports("TCP", 53)}],
        },
        "serving-ingress": {
            "pod_selector": _apps(args, "serving"),
            "policy_types": ["Ingress"],
            "ingress": [
                {"from_": [*args.serving_peers, *sources], "ports": _ports("TCP", *args.serving_ports)}
            ],
        },
        "trainer-peers": {
            "pod_selector": trainer,
            "policy_types": ["Ingress", "Egress"],
            "ingress": [{"from_": peers, "ports": _ports("TCP", args.trainer_port)}],
            "egress": [{"to": peers, "ports": _ports("TCP", args.trainer_port)}],
        },
        "storage-egress": {
            "pod_selector": workloads,
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [{"ip_block": {"cidr": ANYWHERE, "except_": [LINK_LOCAL]}}],
                    "ports": _ports("TCP", 443),
                }
            ],
        },
    }
    if args.identity_egress:
        specs["identity-egress"] = identity_egress(args.identity_egress, workloads)
    return specs
