"""Row builders the per-cloud checks share."""

from __future__ import annotations

from preflight.facts import Name, Quota, Unreadable
from preflight.report import Row, Status


def unreadable(cloud: str, check: str, what: str, failure: Unreadable, status: Status = Status.WARN) -> Row:
    """A fact that could not be read: WARN by default (unknown, not known bad), with the permission."""
    return Row(cloud, check, status, f"could not read {what}: {failure.error}", f"grant {failure.permission}")


def quota_row(cloud: str, label: str, quota: Quota, need: int, *, unit: str, fix: str) -> Row:
    """PASS when the quota's limit covers `need`; the usage is shown where known (others may share it)."""
    usage = "" if quota.usage is None else f" (in use now: {quota.usage:g})"
    found = f"{label}: limit {quota.limit:g} {unit}{usage}, the pools need {need}"
    if quota.limit < need:
        return Row(cloud, "capacity", Status.FAIL, found, fix)
    return Row(cloud, "capacity", Status.PASS, found)


def name_row(cloud: str, what: str, key: str, name: str, state: Name) -> Row:
    """A globally unique name: free or already ours passes; taken or invalid fails."""
    detail = f" ({state.detail})" if state.detail else ""
    if state.state == "free":
        return Row(cloud, "names", Status.PASS, f"{what} {name} is free")
    if state.state == "ours":
        return Row(cloud, "names", Status.PASS, f"{what} {name} already exists and is ours{detail}")
    verb = "is taken by someone else" if state.state == "taken" else "is refused"
    return Row(cloud, "names", Status.FAIL, f"{what} {name} {verb}{detail}", f"choose another {key}")
