"""Trusted-image admission (CP-13)."""

from __future__ import annotations

from collections.abc import Iterator

from policy.rules.base import control, first, resource_rule
from policy.rules.props import Props, equals, get, is_true

GKE = "gcp:container/cluster:Cluster"
AKS = "azure-native:containerservice:ManagedCluster"

CP13 = control(
    "CP-13",
    "Trusted-image admission",
    "GKE enforces the project's Binary Authorization policy; AKS runs the Azure Policy add-on.",
)


@resource_rule(CP13, GKE, AKS)
def trusted_images(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == GKE.lower():
        mode = get(props, "binaryAuthorization.evaluationMode")
        if not equals(mode, "PROJECT_SINGLETON_POLICY_ENFORCE"):
            yield 'binaryAuthorization.evaluationMode must be "PROJECT_SINGLETON_POLICY_ENFORCE"'
        return
    policy = first(get(props, "addonProfiles", {}), "azurepolicy", "azurePolicy")
    if not is_true(get(policy, "enabled")):
        yield "addonProfiles.azurepolicy.enabled must be true"
