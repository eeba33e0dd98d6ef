"""The base of every config section, and the one form of a config problem: `key: got VALUE; expected WHAT`."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from infra.naming import PROJECT

P = f"{PROJECT}:"
"""The prefix of every project config key in a problem."""


def problem(key: str, got: object, expected: str) -> str:
    return f"{key}: got {json.dumps(got, default=str)}; expected {expected}"


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)


class Section(BaseModel):
    """Base for config sections: immutable, camelCase keys as in the stack files, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)
