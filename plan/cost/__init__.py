"""The offline plan's monthly cost estimate: `estimate(plan)`, then `print_estimate` or `cost_markdown`,
and `Estimate.to_json()` for the plan's JSON document."""

from plan.cost.estimate import estimate
from plan.cost.model import CostLine, Estimate, PriceError
from plan.cost.render import cost_markdown, print_estimate

__all__ = ["CostLine", "Estimate", "PriceError", "cost_markdown", "estimate", "print_estimate"]
