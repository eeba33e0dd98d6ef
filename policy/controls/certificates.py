"""The gateway's certificates are obtained by workload identity (GW-03): cert-manager proves each name by
DNS-01, writing a TXT record in the stack's zone, and what lets it write there is never a key held in a
Secret, which would outlive every rotation of the cluster's own identity and could be read by anyone
allowed to read Secrets in cert-manager's namespace."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.model.control import control, resource_rule
from policy.model.props import Props, as_list, get, present, unknown

ISSUER = "kubernetes:cert-manager.io/v1:Issuer"
CLUSTER_ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
KEYLESS = frozenset({"route53", "cloudDNS", "azureDNS"})
"""The DNS-01 providers that can sign in by workload identity; every other one (acmeDNS, akamai,
cloudflare, digitalocean, rfc2136, webhook) is given a Secret, or nothing the plan can check."""
NOT_A_PROVIDER = frozenset({"cnameStrategy"})
STORED = frozenset({"accessKeyID"})
"""A stored credential that is not a `...SecretRef`: route53's access key ID, inline."""

GW03 = control(
    "GW-03",
    "Certificates by workload identity",
    "Every DNS-01 solver of a cert-manager Issuer or ClusterIssuer signs in by workload identity, never with "
    "a stored credential: route53 with no accessKeyID and no ...SecretRef, either ambiently (EKS Pod "
    "Identity) or through role with auth.kubernetes.serviceAccountRef (a token of cert-manager's own "
    "service account); cloudDNS without serviceAccountSecretRef; azureDNS without clientSecretSecretRef; "
    "no other DNS provider.",
)


def _route53(where: str, body: Mapping[str, Any]) -> Iterator[str]:
    role, auth = body.get("role"), body.get("auth")
    account = get(body, "auth.kubernetes.serviceAccountRef.name")
    if present(role) and not present(account):
        yield (
            f"{where}.role needs auth.kubernetes.serviceAccountRef: without a token of cert-manager's own "
            "service account it assumes the role with whatever credentials its environment holds"
        )
    elif present(auth) and not present(role):
        yield f"{where}.auth needs {where}.role, the role cert-manager's token is exchanged for"


@resource_rule(GW03, ISSUER, CLUSTER_ISSUER)
def dns01_keyless(_: str, props: Props) -> Iterator[str]:
    for i, solver in enumerate(as_list(get(props, "spec.acme.solvers"))):
        dns01 = solver.get("dns01") if isinstance(solver, Mapping) else None
        if not isinstance(dns01, Mapping):
            continue
        for provider, body in dns01.items():
            where = f"spec.acme.solvers[{i}].dns01.{provider}"
            if provider in NOT_A_PROVIDER or unknown(body):
                continue
            if provider not in KEYLESS:
                yield (
                    f"{where} signs in with a credential held in a Secret: only route53, cloudDNS and "
                    "azureDNS solvers sign in by workload identity"
                )
                continue
            if not isinstance(body, Mapping):
                continue
            if stored := sorted(k for k in body if k in STORED or k.endswith("SecretRef")):
                yield f"{where} names a stored credential ({', '.join(stored)}): sign in by workload identity"
            if provider == "route53":
                yield from _route53(where, body)
