"""The rows preflight reports: one per check, with what was found and, for WARN and FAIL, the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from rich.markup import escape
from rich.table import Table


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


STYLES = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}
CLOUD_ORDER = ("aws", "gcp", "azure", "all")
CHECK_ORDER = ("identity", "versions", "capacity", "names", "prerequisites", "reachability", "tools")


@dataclass(frozen=True)
class Row:
    cloud: str
    """aws, gcp or azure; `all` for what every cloud needs from this machine."""
    check: str
    """identity, versions, capacity, names, prerequisites, reachability or tools."""
    status: Status
    found: str
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


def ordered(rows: list[Row]) -> list[Row]:
    """By cloud, then by check in the order above (a check's rows keep their own order)."""
    return sorted(rows, key=lambda r: (CLOUD_ORDER.index(r.cloud), CHECK_ORDER.index(r.check)))


def failed(rows: list[Row]) -> bool:
    return any(r.status is Status.FAIL for r in rows)


def table(rows: list[Row], stack: str) -> Table:
    counts = {s: sum(r.status is s for r in rows) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items())
    out = Table(title=f"preflight {stack}: {summary}", title_justify="left", show_lines=True)
    for column in ("cloud", "check", "status", "found", "fix"):
        out.add_column(column, overflow="fold")
    for r in rows:
        status = f"[{STYLES[r.status]}]{r.status.value}[/]"
        out.add_row(r.cloud, r.check, status, escape(r.found), escape(r.fix))
    return out


def to_json(rows: list[Row], stack: str) -> dict[str, Any]:
    return {"stack": stack, "failed": failed(rows), "rows": [r.to_json() for r in rows]}
