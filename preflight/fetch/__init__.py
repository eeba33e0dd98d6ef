"""Fetchers: read the facts of `preflight.facts` with each cloud's official SDK, read-only.

Each cloud module has `login(cfg, stack_config)`, which finds the deployer's credentials and proves them
with one call (or raises `LoginError` with one line saying how to log in), and `fetch(login, cfg)`, which
reads everything else. A read the cloud refuses becomes an `Unreadable`, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from preflight.facts import Read, Unreadable

T = TypeVar("T")


class LoginError(Exception):
    """No usable credentials for a cloud; the message is one line that says how to log in."""

    def __init__(self, cloud: str, message: str) -> None:
        super().__init__(f"{cloud}: {message}")


def attempt(
    read: Callable[[], T],
    permission: str,
    errors: tuple[type[Exception], ...],
    describe: Callable[[Exception], str] = str,
) -> Read[T]:
    """`read()`, or an `Unreadable` naming `permission` when it raises one of the SDK's `errors`."""
    try:
        return read()
    except errors as exc:
        return Unreadable(first_line(describe(exc)), permission)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no message"
