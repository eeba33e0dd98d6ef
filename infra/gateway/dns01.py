"""What cert-manager on each cluster needs to answer ACME's DNS-01 challenges for the serving names, in
words no cloud's SDK is needed to read: the cluster it runs on, the names it may prove, and what its
ClusterIssuer's solver, its service account and its RBAC carry.

The zone belongs to one account (`serving.dns`), whichever cluster asks: so the zone's cloud declares
every cluster's access, its own keylessly by its workload identity and the others' by federation from
their token issuers, and no cluster holds a key (docs/decisions/0018).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.catalog import Cloud
from infra.clouds.base import ForeignWorkload, IdentityBinding
from infra.config.types import ACME_CHALLENGE

NAMESPACE = "cert-manager"
"""cert-manager's namespace, which is also the cluster resource namespace of its ClusterIssuers: the
namespace of the service account a solver's `serviceAccountRef` names."""
SERVICE_ACCOUNT = "cert-manager"
"""The controller's service account, which solves the challenges: the only subject any zone trusts."""


def challenge_names(domain: str, cloud: Cloud) -> tuple[str, ...]:
    """The TXT names `cloud`'s cluster writes: the challenges of `<domain>` (every cluster serves it)
    and of `<cloud>.<domain>` (its own name), lowercase and without a trailing dot."""
    return (f"{ACME_CHALLENGE}.{domain}", f"{ACME_CHALLENGE}.{cloud}.{domain}")


@dataclass(frozen=True, kw_only=True)
class SolverCluster:
    """A cluster whose cert-manager answers DNS-01 challenges in the zone."""

    cloud: Cloud
    issuer: pulumi.Input[str]
    """Its service-account token issuer, exactly as its tokens carry it in `iss`."""
    namespace: str = NAMESPACE
    service_account: str = SERVICE_ACCOUNT

    def foreign(self) -> ForeignWorkload:
        """The solver as a foreign workload, for a zone of another cloud than the cluster's (no prefix)."""
        return ForeignWorkload(
            cloud=self.cloud,
            issuer=self.issuer,
            namespace=self.namespace,
            service_account=self.service_account,
            prefix="",
        )


@dataclass(frozen=True, kw_only=True)
class Dns01Access:
    """What one cluster's cert-manager needs to solve in the zone; never a secret."""

    solver: Mapping[str, Any]
    """The ClusterIssuer's `spec.acme.solvers[].dns01` body (`{"route53": {...}}`)."""
    binding: IdentityBinding
    """What cert-manager's service account and pods carry; `ready` holds the trust and the grant."""
    rules: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    """RBAC rules a Role in `NAMESPACE`, bound to cert-manager's service account, must grant: where the
    solver mints its own token with the TokenRequest API, `create` on its own `serviceaccounts/token`."""


def token_request_rule(service_account: str) -> Mapping[str, Any]:
    """Let a service account request tokens for itself, and for no other account."""
    return {
        "apiGroups": [""],
        "resources": ["serviceaccounts/token"],
        "resourceNames": [service_account],
        "verbs": ["create"],
    }
