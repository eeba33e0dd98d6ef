"""Value types for command-line options: each parses a string or says what is allowed instead.

They raise `argparse.ArgumentTypeError`, so argparse names the option in its error line; the same
functions check values that come from environment variables.
"""

from __future__ import annotations

import argparse
import re
import urllib.parse
from collections.abc import Callable

from trainer.config import ReplicaLocation
from trainer.storage import SCHEMES

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LOCATION_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")  # a DNS label, as Kubernetes names are


def _number(text: str, kind: type[int] | type[float], allowed: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None


def positive_int(text: str) -> int:
    value = int(_number(text, int, "an integer >= 1"))
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = int(_number(text, int, "an integer >= 0"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(_number(text, int, f"an integer >= {low}"))
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    return parse


def between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        allowed = f"an integer from {low} to {high}"
        value = int(_number(text, int, allowed))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
        return value

    return parse


def positive_float(text: str) -> float:
    value = _number(text, float, "a number > 0")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text, float, "a number >= 0")
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = _number(text, float, "a number between 0 and 1 (exclusive)")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text!r}")
    return value


def dropout(text: str) -> float:
    value = _number(text, float, "a rate in [0, 1)")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a rate in [0, 1), got {text!r}")
    return value


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise argparse.ArgumentTypeError(f"expected one of {sorted(_TRUE | _FALSE)}, got {text!r}")


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    return parse


def uri(text: str) -> str:
    """A local path or a URI with a supported scheme; buckets are checked when first used."""
    scheme, sep, rest = text.partition("://")
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a local path or URI, got an empty string")
    if sep and scheme not in (*SCHEMES, "file"):
        allowed = ", ".join(f"{s}://" for s in SCHEMES)
        raise argparse.ArgumentTypeError(f"expected a local path or a {allowed} URI, got {text!r}")
    if sep and scheme != "file" and not rest.strip("/"):
        raise argparse.ArgumentTypeError(f"expected a bucket or container in the URI, got {text!r}")
    return text


def https_url(text: str) -> str:
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme != "https" or not parsed.hostname:
        raise argparse.ArgumentTypeError(f"expected an https:// URL with a host, got {text!r}")
    return text


def source(text: str) -> str:
    return text if text == "digits" else uri(text)


def model_name(text: str) -> str:
    """A model's name in TF Serving's URLs, as the stack outputs allow it: a DNS label."""
    if not _LOCATION_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected lower-case letters, digits and '-' (e.g. digits), got {text!r}"
        )
    return text


def replica_location(text: str) -> ReplicaLocation:
    """`NAME=URI`: a cloud's name (lower-case letters, digits and hyphens) and a model base path."""
    name, sep, location = text.partition("=")
    if not sep or not _LOCATION_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"expected NAME=URI with NAME in lower-case letters, digits and '-' (e.g. gcp=gs://bucket/models/"
            f"digits), got {text!r}"
        )
    try:
        return ReplicaLocation(name, uri(location))
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"in {text!r}: {exc}") from None
