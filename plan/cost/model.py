"""The cost estimate's data: a priced rate, the charges a resource incurs, and the estimate's totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HOURS_PER_MONTH = 730
"""The clouds' own convention for monthly figures (8,760 h / 12)."""
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
CURRENCY = "USD"


class PriceError(Exception):
    """A resource the estimate cannot price (an unknown machine type, say): never a silent $0."""


@dataclass(frozen=True)
class Rate:
    """A list price: `usd` per `unit`, from `source` as of `date`."""

    usd: float
    unit: str
    source: str
    date: str


@dataclass(frozen=True)
class Charge:
    """One thing a resource costs: `rate` times a monthly quantity, with the pools at min (idle) and at
    max (busy); `note` states the assumption behind the quantity where there is one."""

    item: str
    rate: Rate
    idle: float
    busy: float | None = None
    note: str = ""

    @property
    def busy_quantity(self) -> float:
        return self.idle if self.busy is None else self.busy


@dataclass(frozen=True)
class CostLine:
    cloud: str
    component: str
    resource: str
    type: str
    charge: Charge

    @property
    def idle_monthly(self) -> float:
        return self.charge.rate.usd * self.charge.idle

    @property
    def busy_monthly(self) -> float:
        return self.charge.rate.usd * self.charge.busy_quantity

    def to_json(self) -> dict[str, Any]:
        c = self.charge
        return {
            "component": self.component,
            "resource": self.resource,
            "type": self.type,
            "item": c.item,
            "unitPrice": c.rate.usd,
            "unit": c.rate.unit,
            "idleQuantity": c.idle,
            "busyQuantity": c.busy_quantity,
            "idleMonthly": round(self.idle_monthly, 2),
            "busyMonthly": round(self.busy_monthly, 2),
            "source": c.rate.source,
            "date": c.rate.date,
            "note": c.note,
        }


@dataclass(frozen=True)
class CloudCost:
    lines: tuple[CostLine, ...]

    @property
    def idle_monthly(self) -> float:
        return sum(line.idle_monthly for line in self.lines)

    @property
    def busy_monthly(self) -> float:
        return sum(line.busy_monthly for line in self.lines)

    def by_component(self) -> dict[str, tuple[float, float]]:
        """Idle and busy monthly totals per component, most expensive idle first."""
        totals: dict[str, tuple[float, float]] = {}
        for line in self.lines:
            idle, busy = totals.get(line.component, (0.0, 0.0))
            totals[line.component] = (idle + line.idle_monthly, busy + line.busy_monthly)
        return dict(sorted(totals.items(), key=lambda kv: -kv[1][0]))


@dataclass(frozen=True)
class Estimate:
    stack: str
    clouds: dict[str, CloudCost] = field(default_factory=dict)
    unpriced: tuple[str, ...] = ()
    """Resource types seen that cost nothing by themselves (IAM, firewall rules...), for the record."""

    @property
    def idle_monthly(self) -> float:
        return sum(c.idle_monthly for c in self.clouds.values())

    @property
    def busy_monthly(self) -> float:
        return sum(c.busy_monthly for c in self.clouds.values())

    def to_json(self) -> dict[str, Any]:
        """The `cost` member of the plan's JSON document."""
        return {
            "currency": CURRENCY,
            "idleMonthly": round(self.idle_monthly, 2),
            "busyMonthly": round(self.busy_monthly, 2),
            "clouds": {
                cloud: {
                    "idleMonthly": round(cost.idle_monthly, 2),
                    "busyMonthly": round(cost.busy_monthly, 2),
                    "lines": [line.to_json() for line in cost.lines],
                }
                for cloud, cost in self.clouds.items()
            },
        }
