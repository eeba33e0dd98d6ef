"""Fakes for pulumiverse-time (see `plan.fakes`): a timestamp fixed at creation, the same every plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from plan.fakes.registry import Ctx, fake_resource

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
"""When every `Static` of the plan was created: fixed, so plans compare equal."""


@fake_resource("time:index/static:Static")
def _static(ctx: Ctx) -> dict[str, Any]:
    return {"unix": int(CREATED.timestamp()), "rfc3339": CREATED.isoformat().replace("+00:00", "Z")}
