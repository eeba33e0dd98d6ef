"""Retries and error messages for storage calls, the same for every backend.

Backends fail differently (s3fs raises OSError subclasses, gcsfs an HttpError with `.code`, the Azure SDK
`HttpResponseError` with `.status_code`), so faults are classified by exception type, class name and
HTTP status rather than by backend. Transient faults are retried with exponential backoff (tenacity);
everything else becomes one `StorageError` line that names the URI and what went wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from trainer.errors import StorageError, TrainerError

if TYPE_CHECKING:
    from trainer.storage import Location

T = TypeVar("T")

# Module attributes rather than constants so tests can shorten the backoff.
ATTEMPTS = 5
BACKOFF_SECONDS = 0.5
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
_TRANSIENT_NAMES = {
    "EndpointConnectionError",  # botocore
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ServiceRequestError",  # azure-core: the request never reached the service
    "ServiceResponseError",
    "ClientConnectionError",  # aiohttp, under s3fs, gcsfs and adlfs
    "ServerDisconnectedError",
    "ClientPayloadError",
}
_DENIED_STATUS = {401, 403}
_DENIED_NAMES = {"ClientAuthenticationError"}
_DENIED_WORDS = ("AccessDenied", "AuthorizationFailure", "Forbidden", "InvalidAccessKeyId")
_MISSING_NAMES = {"ResourceNotFoundError"}


def call(loc: Location, verb: str, fn: Callable[[], T]) -> T:
    """Run one storage call with retries; raise a one-line `StorageError` if it still fails."""
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=BACKOFF_SECONDS, max=8),
        reraise=True,
    )
    try:
        return retrying(fn)
    except TrainerError:
        raise
    except Exception as exc:
        raise describe(exc, loc, verb) from exc


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        return False
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return bool(_class_names(exc) & _TRANSIENT_NAMES) or _status(exc) in _TRANSIENT_STATUS


def describe(exc: BaseException, loc: Location, verb: str) -> StorageError:
    """Turn a backend exception into a `StorageError` saying what failed and why, on one line."""
    detail = _first_line(exc)
    if _is_denied(exc):
        return StorageError(f"cannot {verb} {loc.uri}: access denied ({detail})")
    if isinstance(exc, FileNotFoundError) or _status(exc) == 404 or _class_names(exc) & _MISSING_NAMES:
        if loc.bucket is not None and not _bucket_exists(loc):
            return StorageError(f"cannot {verb} {loc.uri}: bucket or container {loc.bucket!r} does not exist")
        return StorageError(f"cannot {verb} {loc.uri}: not found")
    return StorageError(f"cannot {verb} {loc.uri}: {type(exc).__name__}: {detail}")


def _is_denied(exc: BaseException) -> bool:
    if isinstance(exc, PermissionError) or _status(exc) in _DENIED_STATUS:
        return True
    return bool(_class_names(exc) & _DENIED_NAMES) or any(w in str(exc) for w in _DENIED_WORDS)


def _bucket_exists(loc: Location) -> bool:
    try:
        return bool(loc.fs.exists(loc.bucket))
    except Exception:
        return True  # unknown: fall back to the plainer "not found"


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return None


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
