"""`python -m examples.app [--outputs FILE|-] [--stack NAME] [--url URL] [--input FILE] [--pin MODE]`:
classify a digit on the platform, whichever cloud answers first in the stack's order, and print which one
did and with which model version. The version is pinned by default (`client.pin`): the newest that every
cloud reporting its versions serves, so a failover to another cloud answers from the same model. `--url`
asks one TF Serving REST server instead of the stack's clouds, such as `python -m trainer serve` on this
machine (`make demo` does)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from examples.app import client
from infra.outputs import PREDICT_URL, SCHEMA_VERSION

# scikit-learn's first handwritten digit (a zero), scaled to [0, 1] as `prepare-data` does, [8, 8, 1].
SAMPLE = [
    [[v / 16] for v in row]
    for row in (
        (0, 0, 5, 13, 9, 1, 0, 0),
        (0, 0, 13, 15, 10, 15, 5, 0),
        (0, 3, 15, 2, 0, 11, 8, 0),
        (0, 4, 12, 0, 0, 8, 8, 0),
        (0, 5, 8, 0, 0, 9, 8, 0),
        (0, 4, 11, 0, 1, 12, 7, 0),
        (0, 2, 14, 5, 10, 12, 0, 0),
        (0, 0, 6, 13, 10, 0, 0, 0),
    )
]


def predict_url(text: str) -> str:
    if not text or not re.match(PREDICT_URL, text):
        expected = "http://HOST:PORT/v1/models/<name>:predict, <name> in lower-case letters, digits and '-'"
        raise argparse.ArgumentTypeError(f"expected a TF Serving predict URL, {expected}; got {text!r}")
    return text


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.app", description=__doc__, allow_abbrev=False)
    parser.add_argument("--outputs", help="saved `pulumi stack output --json`, or - for stdin")
    parser.add_argument("--stack", help="stack to ask `pulumi stack output` for (default: the selected one)")
    parser.add_argument(
        "--url",
        type=predict_url,
        help="one TF Serving predict URL to ask instead of the stack's clouds (its answer names the cloud "
        "`local`), e.g. http://127.0.0.1:8501/v1/models/digits:predict from `python -m trainer serve`",
    )
    parser.add_argument("--input", type=Path, help="JSON list of instances (default: one sample digit)")
    parser.add_argument("--timeout", type=float, default=client.Policy.timeout, help="seconds per request")
    parser.add_argument("--attempts", type=int, default=client.Policy.attempts, help="tries per cloud")
    parser.add_argument(
        "--pin",
        choices=("every", "first", "off"),
        default="every",
        help="the model version asked for: the newest on every cloud (default), the newest on the first "
        "cloud that reports its versions, or off: each cloud's own newest (the version is then unknown)",
    )
    args = parser.parse_args(argv)
    if args.url and (args.outputs or args.stack):
        parser.error(
            "argument --url: asks one server instead of a stack's clouds; leave out --outputs and --stack"
        )
    return args


def targets(args: argparse.Namespace) -> Sequence[client.Target]:
    """The servers to ask, in failover order: the one `--url`, else the stack outputs' endpoints."""
    if args.url:
        return [client.Local(args.url)]
    return client.load(args.outputs, args.stack).endpoints


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        endpoints = targets(args)
    except ValidationError as exc:
        expected = f"schemaVersion {SCHEMA_VERSION}"
        print(f"the stack outputs do not match the contract ({expected}):\n{exc}", file=sys.stderr)
        return 2
    instances = json.loads(args.input.read_text()) if args.input else [SAMPLE]
    policy = client.Policy(timeout=args.timeout, attempts=args.attempts)
    try:
        pin = None if args.pin == "off" else client.pin(endpoints, args.timeout, args.pin)
        result = client.predict(endpoints, instances, policy, pin=pin)
    except client.AllEndpointsFailedError as exc:
        print(exc, file=sys.stderr)
        return 1
    best = [max(range(len(p)), key=p.__getitem__) if isinstance(p, list) else p for p in result.predictions]
    answer = {"cloud": result.cloud, "version": result.version, "classes": best, "failures": result.failures}
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
