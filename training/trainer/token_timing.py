"""When a short-lived credential in a Secret is due, and until when a new one may stay there.

Shared by the kubeconfig Secrets (`worker_tokens`) and the registry pull Secrets (`pull_secrets`): each
records the expiry of what it holds in annotation `gpu-platform/token-expires-at` (ISO 8601 UTC), is
rewritten only when less than the margin is left, and a new credential stays at most an hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EXPIRY_ANNOTATION = "gpu-platform/token-expires-at"
MAX_LIFETIME = timedelta(hours=1)
"""The longest a credential stays in a Secret before it is replaced."""


class TokenError(Exception):
    """A token that could not be minted, or that is not acceptable; the message is one line."""


def refresh_margin(interval_minutes: int) -> timedelta:
    """How much validity a Secret's token must have left to be kept: two runs of the CronJob and a minute,
    so that one failed or skipped run still leaves a valid token for the next."""
    return timedelta(minutes=2 * interval_minutes + 1)


def needs_refresh(expires_at: datetime | None, now: datetime, margin: timedelta) -> bool:
    """Whether a token expiring at `expires_at` (None: no token, or its expiry is unknown) must be replaced
    at `now`: when less than `margin` is left."""
    return expires_at is None or expires_at - now < margin


def parse_expiry(text: object) -> datetime | None:
    """An ISO 8601 time with a zone (as `format_expiry` writes it), or None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else None


def format_expiry(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def replace_by(expires_at: datetime, now: datetime, margin: timedelta) -> datetime:
    """When a freshly minted token must be replaced: at its expiry, or an hour after minting if it lives
    longer (Entra ID may give 60 to 90 minutes, and its lifetime cannot be set for a managed identity), so
    no token stays in a Secret beyond an hour. Refuses a token already due for replacement."""
    expires_at = min(expires_at, now + MAX_LIFETIME)
    if needs_refresh(expires_at, now, margin):
        raise TokenError(
            f"the token is valid for only {span(expires_at - now)}, less than the refresh margin of "
            f"{span(margin)}: lower --interval-minutes"
        )
    return expires_at


def span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m{seconds:02d}s" if seconds and minutes < 5 else f"{sign}{minutes}m"


def now() -> datetime:
    return datetime.now(UTC)
