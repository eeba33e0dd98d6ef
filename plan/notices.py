"""Deploy-time notices: facts that do not fail a plan but will matter soon, or need a person.

- A Kubernetes minor that leaves its cloud's standard support within `versions.WARN_DAYS` (config
  validation refuses one that has left it already).
- A third-party image mirrored by tag, not by digest: `pulumi up` copies whatever the tag points at then,
  and the pods run that copy's digest in the stack's own registry; pinning the upstream digest makes the
  copy reproducible (`python -m preflight.images --stack NAME --write`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.markup import escape

from infra import versions
from infra.config import StackConfig
from plan.runner import Plan

IMAGE = "docker-build:index:Image"
_FROM = re.compile(r"^FROM\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Notice:
    kind: Literal["version", "image"]
    cloud: str | None
    subject: str
    message: str

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind, "cloud": self.cloud, "subject": self.subject, "message": self.message}


def collect(plan: Plan, cfg: StackConfig, on: datetime.date) -> list[Notice]:
    return [*_versions(cfg, on), *_images(plan)]


def _versions(cfg: StackConfig, on: datetime.date) -> list[Notice]:
    found = []
    for cloud in cfg.clouds:
        section = getattr(cfg, cloud)
        minor = section.kubernetes_version
        left = versions.days_left(cloud, minor, on)
        if left is not None and left < versions.WARN_DAYS:
            end = versions.SUPPORT[cloud][minor].standard_end
            newer = [m for m in versions.creatable(cloud, on) if m > minor]
            move = f"move kubernetesVersion to {newer[-1]}" if newer else "no newer minor is recorded yet"
            found.append(
                Notice(
                    "version",
                    cloud,
                    f"Kubernetes {minor}",
                    f"leaves {cloud}'s standard support on {end}, in {left} days: {move}",
                )
            )
    return found


def _images(plan: Plan) -> list[Notice]:
    found = {}
    for image in plan.of_type(IMAGE):
        inline = (image.inputs.get("dockerfile") or {}).get("inline") or ""
        for ref in _FROM.findall(inline):
            if "@sha256:" not in ref:
                found[(image.cloud, ref)] = Notice(
                    "image",
                    image.cloud,
                    ref,
                    "mirrored by tag: pods run the digest of the copy `pulumi up` makes; pin the upstream "
                    f"digest with `python -m preflight.images --stack {plan.stack} --write`",
                )
    return [found[key] for key in sorted(found)]


def print_notices(notices: list[Notice], console: Console) -> None:
    if not notices:
        return
    console.print(f"[bold]Deploy-time notices:[/] {len(notices)}")
    for n in notices:
        console.print(f"  [yellow]{n.kind}[/] {n.cloud or ''} {escape(n.subject)}: {escape(n.message)}")
