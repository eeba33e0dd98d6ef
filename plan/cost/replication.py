"""Pricing the replicator: each model version it copies leaves the home cloud for every other cloud's
bucket, and is read back from there to verify it before it is committed (training/README.md).

So per pair and per GB replicated: the home cloud's internet egress, the target's internet egress for the
read-back (billed by the target, to the bucket's owner), and the home NAT's processing both ways. Ingress
is free on all three clouds. Volumes are `Assumed.REPLICATED_GB` a month per target.
"""

from __future__ import annotations

from typing import Any

from plan.cost import prices as p
from plan.cost.context import Context, Rule
from plan.cost.model import Charge
from plan.runner import PlannedResource

LOCATIONS_ENV = "TRAINER_REPLICATE_LOCATIONS"


def targets(res: PlannedResource) -> list[str]:
    """The clouds a replicator CronJob copies to from its home cloud: its `TRAINER_REPLICATE_LOCATIONS`
    (`cloud=uri,...`) but the home's. A version a worker exports is priced as if the home had."""
    pod = (((res.inputs.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    containers: list[dict[str, Any]] = (pod.get("spec") or {}).get("containers") or []
    values = [
        e.get("value") for c in containers for e in c.get("env") or [] if e.get("name") == LOCATIONS_ENV
    ]
    names = [t.split("=", 1)[0] for v in values if isinstance(v, str) for t in v.split(",") if "=" in t]
    return [name for name in names if name != res.cloud]


def cron_job(res: PlannedResource, ctx: Context) -> list[Charge]:
    home, gb = res.cloud, p.Assumed.REPLICATED_GB
    if home is None:
        return []
    charges = []
    for target in targets(res):
        note = f"{gb:g} GB of new model versions a month"
        charges += [
            Charge(f"replication to {target}: egress from {home}", p.EGRESS[home], gb, note=note),
            Charge(
                f"replication to {target}: verifying read-back, egress from {target}",
                p.EGRESS[target],
                gb,
                note=f"{note}; billed by {target}",
            ),
            Charge(f"replication to {target}: NAT processing at {home}", p.NAT_GB[home], 2 * gb, note=note),
        ]
    return charges


RULES: dict[str, Rule] = {"kubernetes:batch/v1:CronJob": cron_job}
