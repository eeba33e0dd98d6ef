"""Fakes for the image builder (see `plan.fakes`): what a build and push would report."""

from __future__ import annotations

import hashlib
from typing import Any

from plan.fakes.registry import Ctx, fake_resource


@fake_resource("docker-build:index:Image")
def _image(ctx: Ctx) -> dict[str, Any]:
    """A digest stable per image and inputs, so a changed build context or base shows as a new digest."""
    seed = f"{ctx.name}/{ctx.inputs.get('tags')}/{ctx.inputs.get('dockerfile')}"
    digest = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    tags = ctx.inputs.get("tags") or []
    return {
        "digest": digest,
        "ref": f"{str(tags[0]).rsplit(':', 1)[0]}@{digest}" if tags else "",
        "contextHash": hashlib.sha256(seed.encode()).hexdigest(),
    }
