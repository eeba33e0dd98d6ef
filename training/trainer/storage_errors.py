"""Retries and error messages for storage calls, the same for every backend.

Backends fail differently (s3fs raises OSError subclasses, gcsfs an HttpError with `.code`, the Azure SDK
`HttpResponseError` with `.status_code`), so faults are classified by exception type, class name and
HTTP status rather than by backend. Transient faults are retried with exponential backoff (tenacity);
everything else becomes one `StorageError` line that names the URI and what went wrong.

Each backend also retries inside one call (gcsfs for about 30 s, the Azure SDK for over a minute, with
a stopped server), so an outage is reported only after the attempts times that. Two variables bound it:
TRAINER_STORAGE_ATTEMPTS (attempts per call, default 5) and TRAINER_STORAGE_TIMEOUT (seconds one attempt
may take, the backend's own retries included; default 0, no limit, since a large upload can take long).
An attempt that runs out of time is cancelled and counts as a transient fault.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fsspec.asyn import AsyncFileSystem
from fsspec.exceptions import FSTimeoutError
from fsspec.spec import AbstractFileSystem
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from trainer.errors import StorageError, TrainerError, UsageError

if TYPE_CHECKING:
    from trainer.storage import Location

T = TypeVar("T")

# Defaults; module attributes rather than constants so tests can shorten the backoff.
ATTEMPTS = 5
BACKOFF_SECONDS = 0.5
TIMEOUT_SECONDS = 0.0  # 0: no limit
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


def attempts() -> int:
    """TRAINER_STORAGE_ATTEMPTS, or the default; a bad value is a usage error."""
    raw = os.environ.get("TRAINER_STORAGE_ATTEMPTS", "").strip()
    if not raw:
        return ATTEMPTS
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(
            f"environment variable TRAINER_STORAGE_ATTEMPTS: expected an integer >= 1, got {raw!r}"
        )
    return int(raw)


def timeout() -> float:
    """TRAINER_STORAGE_TIMEOUT in seconds per attempt (0: no limit); a bad value is a usage error."""
    raw = os.environ.get("TRAINER_STORAGE_TIMEOUT", "").strip()
    if not raw:
        return TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise UsageError(f"environment variable TRAINER_STORAGE_TIMEOUT: expected seconds >= 0, got {raw!r}")
    return value


def io_options(fs: AbstractFileSystem) -> dict[str, Any]:
    """Keyword arguments for one blocking call on `fs`: the per-attempt time limit, if any.

    fsspec's asynchronous filesystems (s3fs, gcsfs, adlfs) accept `timeout` on every blocking call and
    cancel the call, their own retries included, when it runs out; local files need no limit.
    """
    limit = timeout()
    return {"timeout": limit} if limit and isinstance(fs, AsyncFileSystem) else {}


def call(loc: Location, verb: str, fn: Callable[[], T]) -> T:
    """Run one storage call with retries; raise a one-line `StorageError` if it still fails."""
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts()),
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
    if isinstance(exc, FSTimeoutError):
        return StorageError(
            f"cannot {verb} {loc.uri}: no answer within {timeout():g} s (TRAINER_STORAGE_TIMEOUT), "
            f"{attempts()} attempt(s)"
        )
    if is_denied(exc):
        return StorageError(f"cannot {verb} {loc.uri}: access denied ({detail})")
    if isinstance(exc, FileNotFoundError) or _status(exc) == 404 or _class_names(exc) & _MISSING_NAMES:
        if loc.bucket is not None and not bucket_exists(loc):
            return StorageError(f"cannot {verb} {loc.uri}: bucket or container {loc.bucket!r} does not exist")
        return StorageError(f"cannot {verb} {loc.uri}: not found")
    tries = f" ({attempts()} attempt(s))" if is_transient(exc) else ""
    return StorageError(f"cannot {verb} {loc.uri}: {type(exc).__name__}: {detail}{tries}")


def is_denied(exc: BaseException) -> bool:
    if isinstance(exc, PermissionError) or _status(exc) in _DENIED_STATUS:
        return True
    return bool(_class_names(exc) & _DENIED_NAMES) or any(w in str(exc) for w in _DENIED_WORDS)


def bucket_exists(loc: Location) -> bool:
    """Whether `loc`'s bucket or container exists, as far as the caller may tell: False only when the
    backend says it is missing. A principal granted one prefix (serving, another cloud's replicator) is
    refused the bucket itself, which s3fs's probe reads as missing, so a listing of the root decides: a
    refusal means it exists, and an error that says neither falls back to the plainer "not found"
    (adlfs's warning that it could not read a refused container's properties is the same refusal)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if loc.fs.exists(loc.bucket, **io_options(loc.fs)):
                return True
        loc.fs.ls(loc.bucket, detail=False, **io_options(loc.fs))
    except FileNotFoundError:
        return False
    except Exception:
        return True
    return True


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
