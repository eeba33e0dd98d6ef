"""The cost estimate for people: a Rich table for the terminal and Markdown for a PR comment."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from plan.cost.model import Charge, CloudCost, CostLine, Estimate


def _usd(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _qty(value: float) -> str:
    return f"{value:,.4g}" if value < 1000 else f"{value:,.0f}"


def _unit_price(line: CostLine) -> str:
    usd = line.charge.rate.usd
    return f"{'-' if usd < 0 else ''}${abs(usd):g}/{line.charge.rate.unit}"


def _quantity(line: CostLine) -> str:
    c = line.charge
    if c.busy is None or c.busy == c.idle:
        return _qty(c.idle)
    return f"{_qty(c.idle)} / {_qty(c.busy)}"


def cloud_table(cloud: str, cost: CloudCost, sources: dict[str, int]) -> Table:
    """One cloud's lines, grouped by component; `[n]` points into `sources` (numbered as they come)."""
    table = Table(
        title=f"{cloud}: idle {_usd(cost.idle_monthly)}/month, busy {_usd(cost.busy_monthly)}/month",
        title_justify="left",
    )
    table.add_column("component", overflow="fold", max_width=22)
    table.add_column("item [source]", overflow="fold", ratio=1)
    for column in ("unit price", "qty idle / busy", "idle", "busy"):
        table.add_column(column, justify="right", overflow="fold")
    previous = None
    for line in merged(cost.lines):
        c = line.charge
        ref = sources.setdefault(f"{c.rate.source}, {c.rate.date}", len(sources) + 1)
        component = escape(line.component) if line.component != previous else ""
        if previous is not None and component:
            table.add_section()
        previous = line.component
        table.add_row(
            component,
            f"{escape(c.item)} [dim]\\[{ref}][/]",
            escape(_unit_price(line)),
            _quantity(line),
            _usd(line.idle_monthly),
            _usd(line.busy_monthly),
        )
    return table


def totals_table(estimate: Estimate) -> Table:
    table = Table(title=f"Monthly totals: {estimate.stack}", title_justify="left")
    for column in ("cloud / component", "idle", "busy"):
        table.add_column(column, justify="left" if column.startswith("cloud") else "right")
    for cloud, cost in estimate.clouds.items():
        table.add_row(f"[bold]{cloud}[/]", _usd(cost.idle_monthly), _usd(cost.busy_monthly))
        for component, (idle, busy) in cost.by_component().items():
            table.add_row(f"  {escape(component)}", _usd(idle), _usd(busy))
    table.add_section()
    table.add_row("[bold]total[/]", _usd(estimate.idle_monthly), _usd(estimate.busy_monthly))
    return table


def print_estimate(estimate: Estimate, console: Console) -> None:
    console.print(
        f"[bold]Monthly cost estimate of {estimate.stack}[/] (USD list prices, 730 h/month; "
        "idle: pools at min, busy: pools at max)"
    )
    sources: dict[str, int] = {}
    for cloud, cost in estimate.clouds.items():
        console.print(cloud_table(cloud, cost, sources))
    console.print("[bold]Sources[/] (list price, date)")
    for source, ref in sources.items():
        console.print(f"  \\[{ref}] {escape(source)}", highlight=False)
    notes = {f"{line.charge.item}: {line.charge.note}" for c in estimate.clouds.values() for line in c.lines}
    console.print("[bold]Assumptions[/]")
    for note in sorted(n for n in notes if not n.endswith(": ")):
        console.print(f"  - {escape(note)}", highlight=False)
    console.print(totals_table(estimate))
    if estimate.unpriced:
        console.print(
            f"[bold yellow]not priced (no rule, not declared free):[/] {', '.join(estimate.unpriced)}"
        )


def merged(lines: tuple[CostLine, ...]) -> list[CostLine]:
    """Identical lines of one component (its four KMS keys, say) as one line with the quantities summed."""
    groups: dict[tuple[object, ...], list[CostLine]] = {}
    for line in lines:
        c = line.charge
        groups.setdefault((line.component, c.item, c.rate, c.idle, c.busy, c.note), []).append(line)
    out = []
    for same in groups.values():
        first, n = same[0], len(same)
        if n == 1:
            out.append(first)
            continue
        c = first.charge
        busy = None if c.busy is None else c.busy * n
        charge = Charge(f"{c.item} (x{n})", c.rate, c.idle * n, busy, c.note)
        out.append(CostLine(first.cloud, first.component, first.resource, first.type, charge))
    return out


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def cost_markdown(estimate: Estimate) -> str:
    """The estimate as Markdown: totals per cloud and component, then every priced line in a fold."""
    out = [
        f"### Monthly cost estimate: {estimate.stack}",
        "",
        f"**Idle (GPU and system pools at min): {_usd(estimate.idle_monthly)}** · "
        f"busy (pools at max): {_usd(estimate.busy_monthly)} (USD, list prices, 730 h/month)",
        "",
        "| cloud / component | idle | busy |",
        "|---|---:|---:|",
    ]
    for cloud, cost in estimate.clouds.items():
        out.append(f"| **{cloud}** | **{_usd(cost.idle_monthly)}** | **{_usd(cost.busy_monthly)}** |")
        out += [f"| {_md(c)} | {_usd(i)} | {_usd(b)} |" for c, (i, b) in cost.by_component().items()]
    out += [
        "",
        "<details><summary>Priced lines</summary>",
        "",
        "| cloud | component | item | unit price | quantity idle / busy | idle | busy | source (date) "
        "| assumption |",
        "|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for cloud, cost in estimate.clouds.items():
        for line in merged(cost.lines):
            c = line.charge
            out.append(
                f"| {cloud} | {_md(line.component)} | {_md(c.item)} | {_md(_unit_price(line))} | "
                f"{_quantity(line)} | {_usd(line.idle_monthly)} | {_usd(line.busy_monthly)} | "
                f"{_md(c.rate.source)} ({c.rate.date}) | {_md(c.note)} |"
            )
    out += ["", "</details>"]
    if estimate.unpriced:
        out += ["", f"Not priced (no rule, not declared free): {', '.join(estimate.unpriced)}"]
    return "\n".join(out) + "\n"
