"""`--markdown FILE`: the plan as a pull-request comment: resources and findings per cloud, the changes
against the base plan (with node-replacement warnings), the findings grouped by control, the deploy-time
notices (versions leaving support, images not pinned), and the waivers.
Long lists are cut so that two stacks fit in one comment (GitHub allows 65,536 characters)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from infra.catalog import CLOUDS
from infra.config import StackConfig
from plan.diff import Diff
from plan.notices import Notice
from plan.runner import Plan
from policy.controls import CONTROLS
from policy.engine import Finding

MAX_ROWS = 40
NO_CLOUD = "cross-cloud"


def cell(value: object) -> str:
    """A value safe inside a Markdown table cell."""
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 120 else text[:117] + "..."


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    rows = list(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n_{len(rows) - MAX_ROWS} more not shown; see the job's plan artifacts._")
    return lines


def _summary(plan: Plan, findings: Sequence[Finding]) -> list[str]:
    resources = Counter(r.cloud or NO_CLOUD for r in plan.resources if r.custom)
    mandatory = Counter(f.cloud or NO_CLOUD for f in findings if f.severity == "mandatory")
    advisory = Counter(f.cloud or NO_CLOUD for f in findings if f.severity == "advisory")
    clouds = [c for c in [*CLOUDS, NO_CLOUD] if resources[c] or mandatory[c] or advisory[c]]
    rows = [(c, resources[c], mandatory[c], advisory[c]) for c in clouds]
    rows.append(("**total**", sum(resources.values()), sum(mandatory.values()), sum(advisory.values())))
    return table(("cloud", "resources", "mandatory violations", "advisory findings"), rows)


def _changes(diff: Diff) -> list[str]:
    lines = [
        "### Changes against the base branch",
        "",
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed.",
    ]
    if diff.empty():
        return [*lines, ""]
    lines += [""] + [f"> **Warning:** {w}" for w in diff.warnings]
    rows: list[Sequence[object]] = [("added", t, n, "") for t, n in diff.added]
    rows += [("removed", t, n, "") for t, n in diff.removed]
    rows += [("changed", c.type, c.name, ", ".join(p for p, _, _ in c.paths)) for c in diff.changed]
    return [*lines, "", *table(("change", "type", "name", "inputs"), rows), ""]


def _findings(findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return ["### Policy", "", f"All {len(CONTROLS)} controls pass.", ""]
    rows = [
        (f"{f.control} {CONTROLS[f.control].title}", f.severity, f.cloud or "", f.resource, f.message)
        for f in findings
    ]
    return [
        "### Policy findings",
        "",
        *table(("control", "severity", "cloud", "resource", "message"), rows),
        "",
    ]


def _waivers(cfg: StackConfig) -> list[str]:
    if not cfg.waivers:
        return ["### Waivers", "", "None.", ""]
    rows = [(w.control, ", ".join(w.clouds), w.reason) for w in cfg.waivers]
    return ["### Waivers", "", *table(("control", "clouds", "reason"), rows), ""]


def _notices(notes: Sequence[Notice]) -> list[str]:
    if not notes:
        return [
            "### Deploy-time notices",
            "",
            "None: every version is supported for the next 90 days and every image is pinned.",
            "",
        ]
    rows = [(n.kind, n.cloud or "", n.subject, n.message) for n in notes]
    return ["### Deploy-time notices", "", *table(("kind", "cloud", "subject", "notice"), rows), ""]


def render(
    plan: Plan,
    cfg: StackConfig,
    findings: Sequence[Finding],
    notes: Sequence[Notice] = (),
    diff: Diff | None = None,
) -> str:
    failing = sum(f.severity == "mandatory" for f in findings)
    verdict = f"{failing} mandatory violation(s)" if failing else "no mandatory violations"
    lines = [f"## Offline plan `{plan.project}/{plan.stack}`: {verdict}", "", *_summary(plan, findings), ""]
    if diff is not None:
        lines += _changes(diff)
    lines += _findings(findings) + _notices(notes) + _waivers(cfg)
    return "\n".join(lines)
