"""Cluster monitoring: a Log Analytics workspace for Container insights, and a diagnostic setting that
sends the control plane's logs, kube-audit included, into it (CP-06).

Resource-specific tables (`logAnalyticsDestinationType: Dedicated`) keep audit rows in their own
`AKSAudit*` tables, cheaper to query and to retain than the shared `AzureDiagnostics` table.
See https://learn.microsoft.com/azure/aks/monitor-aks-reference
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from infra.clouds.azure.common import Scope

CONTROL_PLANE_LOGS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)
"""Besides the audit category: `guard` is the Entra ID / Azure RBAC authorization log."""


def workspace(
    name: str, scope: Scope, retention_days: int, parent: pulumi.Resource, protect: bool
) -> azure_native.operationalinsights.Workspace:
    oi = azure_native.operationalinsights
    return oi.Workspace(
        name,
        workspace_name=name,
        resource_group_name=scope.resource_group_name,
        location=scope.location,
        sku=oi.WorkspaceSkuArgs(name="PerGB2018"),
        retention_in_days=retention_days,
        # Container insights authenticates with its managed identity (`useAADAuth`), so shared keys can go.
        features=oi.WorkspaceFeaturesArgs(disable_local_auth=True),
        tags=scope.tags("monitoring"),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )


def audit_logs(
    name: str,
    cluster_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    audit_category: str,
    parent: pulumi.Resource,
) -> azure_native.monitor.DiagnosticSetting:
    monitor = azure_native.monitor
    return monitor.DiagnosticSetting(
        name,
        name=name,
        resource_uri=cluster_id,
        workspace_id=workspace_id,
        log_analytics_destination_type="Dedicated",
        logs=[
            monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
            for category in (audit_category, *CONTROL_PLANE_LOGS)
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
