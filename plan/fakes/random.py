"""Fakes for pulumi-random (see `plan.fakes`): a password of the requested length, the same every plan and
different per resource, so a plan shows distinct keys without any randomness."""

from __future__ import annotations

import hashlib
import string

from plan.fakes.registry import Ctx, fake_resource

_ALPHABET = string.ascii_letters + string.digits


@fake_resource("random:index/randomPassword:RandomPassword")
def _password(ctx: Ctx) -> dict[str, object]:
    length = int(ctx.inputs.get("length", 16))
    digest = hashlib.sha256(f"{ctx.stack}/{ctx.name}".encode()).digest() * (length // 32 + 1)
    return {"result": "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])}
