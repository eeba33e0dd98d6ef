"""Trusted-image and pod-security admission on AKS: the Azure Policy add-on (Gatekeeper) enforces the
policies assigned at the cluster's scope, and enforces nothing without them.

Two built-ins, both assigned to the cluster with effect `Deny`:
- "Kubernetes cluster containers should only use allowed images": only the stack's own registry, where
  every image the workloads run is built or mirrored.
- the initiative "Kubernetes cluster pod security restricted standards for Linux-based workloads".

AKS's own namespaces are left out as Azure's defaults leave them out: their images come from Microsoft's
registry and some of their pods need host access. The GPU device plugin's namespace is left out of the
pod-security initiative only: it needs a hostPath (workloads/device_plugin.py), and its image is ours.
Definitions: github.com/Azure/azure-policy, built-in-policies/{policyDefinitions,policySetDefinitions}/
Kubernetes (ContainerAllowedImages.json, Kubernetes_PSPRestrictedStandard.json).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization

from infra.clouds.azure.context import AzureContext

_BUILT_IN = "/providers/Microsoft.Authorization"
ALLOWED_IMAGES = f"{_BUILT_IN}/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
RESTRICTED_PODS = f"{_BUILT_IN}/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00"
AKS_NAMESPACES = ("kube-system", "gatekeeper-system", "azure-arc", "azure-extensions-usage-system")
"""The definitions' default `excludedNamespaces`."""
RUN_COMMAND_NAMESPACE = "aks-command"
"""Where `az aks command invoke` runs its pods, from Microsoft's images: the way in to a private cluster."""


def allowed_images_regex(login_server: str, repository: str | None = None) -> str:
    """Images of this registry only, the host anchored, any repository under it; and `repository` (another
    cloud's, on a MultiKueue worker) by digest only."""
    own = f"{re.escape(login_server)}/.+"
    if repository is None:
        return f"^{own}$"
    return f"^(?:{own}|{re.escape(repository)}@sha256:[0-9a-f]{{64}})$"


def assignments(
    name: str,
    context: AzureContext,
    *,
    cluster_id: pulumi.Input[str],
    login_server: pulumi.Input[str],
    admit_image: pulumi.Input[str] | None,
    node_agent_namespaces: Sequence[str],
    opts: pulumi.ResourceOptions,
) -> list[authorization.PolicyAssignment]:
    def assign(role: str, definition: str, parameters: dict[str, object]) -> authorization.PolicyAssignment:
        return authorization.PolicyAssignment(
            f"{name}-{role}",
            policy_assignment_name=f"{context.stack}-{role}",
            display_name=f"gpu-platform {context.stack}: {role}",
            scope=cluster_id,
            policy_definition_id=definition,
            enforcement_mode="Default",
            parameters={key: {"value": value} for key, value in parameters.items()},
            opts=opts,
        )

    return [
        assign(
            "allowed-images",
            ALLOWED_IMAGES,
            {
                "effect": "Deny",
                "allowedContainerImagesRegex": pulumi.Output.all(login_server, admit_image).apply(
                    lambda values: allowed_images_regex(*values)
                ),
                "excludedNamespaces": [*AKS_NAMESPACES, RUN_COMMAND_NAMESPACE],
            },
        ),
        assign(
            "restricted-pods",
            RESTRICTED_PODS,
            {"effect": "Deny", "excludedNamespaces": [*AKS_NAMESPACES, *node_agent_namespaces]},
        ),
    ]
