"""AKS planned maintenance: when the cluster's auto-upgrade (`upgradeChannel`) and node image upgrade
(`nodeOSUpgradeChannel`) may run. Without a schedule they run at any hour, and a GPU node drained mid-run
costs a training Job its progress since the last checkpoint.

Both schedules take the stack's one weekly window (AKS's weekly schedule names a single day; at least
four hours, which AKS asks for with auto-upgrade). See learn.microsoft.com/azure/aks/planned-maintenance
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import containerservice as cs

from infra.clouds.azure.context import AzureContext
from infra.config.types import MaintenanceWindow

SCHEDULES = ("aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule")
"""The two configuration names AKS reads; any other name is ignored by the upgrade channels."""


def schedules(
    name: str,
    context: AzureContext,
    cluster_name: pulumi.Input[str],
    window: MaintenanceWindow,
    parent: pulumi.Resource,
    *,
    after: pulumi.Resource,
) -> list[cs.MaintenanceConfiguration]:
    (day,) = window.days  # config validation allows one day for AKS
    weekly = cs.MaintenanceWindowArgs(
        schedule=cs.ScheduleArgs(weekly=cs.WeeklyScheduleArgs(day_of_week=day, interval_weeks=1)),
        start_time=window.start_time,
        utc_offset="+00:00",
        duration_hours=window.duration_hours,
    )
    return [
        cs.MaintenanceConfiguration(
            f"{name}-{config}",
            config_name=config,
            resource_group_name=context.resource_group_name,
            resource_name_=cluster_name,
            maintenance_window=weekly,
            # Written once the pools are: a cluster update while a pool is being written is refused.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[after]),
        )
        for config in SCHEDULES
    ]
