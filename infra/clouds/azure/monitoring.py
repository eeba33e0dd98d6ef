"""Cluster monitoring: a Log Analytics workspace; Container insights, whose agent (the `omsagent` add-on,
with managed-identity auth) sends nothing until a data collection rule says what to collect and where,
and an association binds that rule to the cluster; and a diagnostic setting that sends the control
plane's logs, kube-audit included, into the workspace (CP-06).

Resource-specific tables (`logAnalyticsDestinationType: Dedicated`) keep audit rows in their own
`AKSAudit*` tables, cheaper to query and to retain than the shared `AzureDiagnostics` table.
See https://learn.microsoft.com/azure/aks/monitor-aks-reference
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from infra.clouds.azure.context import AzureContext

CONTROL_PLANE_LOGS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)
"""Besides the audit category: `guard` is the Entra ID / Azure RBAC authorization log."""
INSIGHTS_STREAMS = ["Microsoft-ContainerInsights-Group-Default"]
INSIGHTS_INTERVAL = "1m"
INSIGHTS_ASSOCIATION = "ContainerInsightsExtension"
"""The association name the Azure CLI and Microsoft's templates give the Container insights rule."""


def workspace(
    name: str, context: AzureContext, retention_days: int, parent: pulumi.Resource, protect: bool
) -> azure_native.operationalinsights.Workspace:
    oi = azure_native.operationalinsights
    return oi.Workspace(
        name,
        workspace_name=name,
        resource_group_name=context.resource_group_name,
        location=context.location,
        sku=oi.WorkspaceSkuArgs(name="PerGB2018"),
        retention_in_days=retention_days,
        # Container insights authenticates with its managed identity (`useAADAuth`), so shared keys can go.
        features=oi.WorkspaceFeaturesArgs(disable_local_auth=True),
        tags=context.tags("monitoring"),
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


def container_insights(
    name: str,
    context: AzureContext,
    cluster_id: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> azure_native.monitor.DataCollectionRuleAssociation:
    """The data collection rule Microsoft's MSI onboarding creates (the Azure CLI's `addonconfiguration`,
    Docker-Provider's onboarding templates): the ContainerInsights extension's default stream group into
    the workspace, bound to the cluster."""
    monitor = azure_native.monitor
    rule = monitor.DataCollectionRule(
        name,
        data_collection_rule_name=name,
        resource_group_name=context.resource_group_name,
        location=context.location,
        kind="Linux",
        description="Container insights: container logs, inventories, events and performance counters",
        data_sources=monitor.DataCollectionRuleDataSourcesArgs(
            extensions=[
                monitor.ExtensionDataSourceArgs(
                    name="ContainerInsightsExtension",
                    extension_name="ContainerInsights",
                    streams=INSIGHTS_STREAMS,
                    extension_settings={
                        "dataCollectionSettings": {
                            "interval": INSIGHTS_INTERVAL,
                            "namespaceFilteringMode": "Off",
                            "enableContainerLogV2": True,
                        }
                    },
                )
            ]
        ),
        destinations=monitor.DataCollectionRuleDestinationsArgs(
            log_analytics=[
                monitor.LogAnalyticsDestinationArgs(name="workspace", workspace_resource_id=workspace_id)
            ]
        ),
        data_flows=[monitor.DataFlowArgs(streams=INSIGHTS_STREAMS, destinations=["workspace"])],
        tags=context.tags("monitoring"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return monitor.DataCollectionRuleAssociation(
        f"{name}-association",
        association_name=INSIGHTS_ASSOCIATION,
        resource_uri=cluster_id,
        data_collection_rule_id=rule.id,
        description="Container insights of this cluster",
        opts=pulumi.ResourceOptions(parent=parent),
    )
