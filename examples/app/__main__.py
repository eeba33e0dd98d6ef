"""`python -m examples.app [--outputs FILE|-] [--stack NAME] [--url URL] [--input FILE] [--pin MODE]
[--api-key-env NAME] [--client NAME] [--ca-file PATH]`: classify a digit on the platform, whichever cloud
answers first in the stack's order, and print which one did and with which model version. The version is
pinned by default (`client.pin`): the newest that every cloud reporting its versions serves, so a failover
to another cloud answers from the same model.

With the serving gateway (the outputs' `serving`, a stack with `serving.domain`) it asks the global name
first, `https://<domain>/...`, which DNS answers with the healthy clouds (the answer names the cloud
`global`), then each cloud's own name in the stack's order, with a client's API key in `x-api-key`: the
one in the environment variable `--api-key-env` names, else the outputs' `apiKeys` entry of `--client`
(outputs read with `--show-secrets`). A refused key ends it at once (exit 1), as every cloud holds the same
keys; TLS is always verified, against the system's CAs and `--ca-file`. `--url` asks one server instead of
the stack's clouds: a TF Serving REST server such as `python -m trainer serve` on this machine (`make demo`
does), or one gateway URL with the key from `--api-key-env`."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from examples.app import client
from infra.outputs import PREDICT_URL, SCHEMA_VERSION, Endpoint, ServingOutputs, StackOutputs

KEY_ENV = "GPU_PLATFORM_API_KEY"
"""The environment variable the API key is read from unless `--api-key-env` names another."""
GLOBAL = "global"
"""How the answer names the cloud when the global name answered: DNS chose it, the app cannot tell."""
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


class UsageError(Exception):
    """What the arguments or the outputs lack, found before any request: exit 2."""


@dataclass(frozen=True)
class Route:
    """Where the requests go, and with what."""

    targets: Sequence[client.Target]
    """Asked in this order."""
    statuses: Sequence[client.Target]
    """Whose model status pins the version: each cloud, not the global name, whose answers come from
    whichever cloud DNS chose."""
    access: client.Access
    key_source: str = ""
    """Where the key came from, for the message when it is refused."""


def predict_url(text: str) -> str:
    if not text or not re.match(PREDICT_URL, text):
        expected = (
            "http://HOST:PORT/v1/models/<name>:predict or https://HOST/v1/models/<name>:predict, <name> in "
            "lower-case letters, digits and '-'"
        )
        raise argparse.ArgumentTypeError(f"expected a TF Serving predict URL, {expected}; got {text!r}")
    return text


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.app", description=__doc__, allow_abbrev=False)
    parser.add_argument("--outputs", help="saved `pulumi stack output --json`, or - for stdin")
    parser.add_argument("--stack", help="stack to ask `pulumi stack output` for (default: the selected one)")
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="ask `pulumi stack output` with --show-secrets, for the API keys (`apiKeys`)",
    )
    parser.add_argument(
        "--url",
        type=predict_url,
        help="one predict URL to ask instead of the stack's clouds (its answer names the cloud `local`), "
        "e.g. http://127.0.0.1:8501/v1/models/digits:predict from `python -m trainer serve`, or a "
        "gateway's https URL with the key from --api-key-env",
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
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help=f"the environment variable that holds the API key (default: {KEY_ENV}); when it is unset, the "
        "key of --client in the outputs' apiKeys",
    )
    parser.add_argument(
        "--client",
        help="whose key to take from the outputs' apiKeys, read with --show-secrets (default: the first "
        "of serving.clients)",
    )
    parser.add_argument(
        "--ca-file",
        type=Path,
        metavar="PATH",
        help="a PEM CA bundle trusted besides the system's CAs, for a private or test CA (TLS is always "
        "verified)",
    )
    args = parser.parse_args(argv)
    if args.url and (args.outputs or args.stack):
        parser.error(
            "argument --url: asks one server instead of a stack's clouds; leave out --outputs and --stack"
        )
    if args.url and (args.client or args.show_secrets):
        parser.error(
            "argument --url: no stack outputs to take a key from; name its variable with --api-key-env"
        )
    if args.url and args.api_key_env and not args.url.startswith("https://"):
        parser.error("argument --api-key-env: a key is sent over https only, and --url is http")
    if args.show_secrets and args.outputs:
        parser.error(
            "argument --show-secrets: applies when the app asks pulumi; save the outputs with "
            "`pulumi stack output --json --show-secrets` instead"
        )
    return args


def api_key(args: argparse.Namespace, outputs: StackOutputs, serving: ServingOutputs) -> tuple[str, str]:
    """The API key, and where it came from: the environment, else the outputs' `apiKeys`."""
    variable = args.api_key_env or KEY_ENV
    if key := os.environ.get(variable):
        return key, f"${variable}"
    name = args.client or serving.clients[0]
    if name not in serving.clients:
        raise UsageError(
            f"argument --client: {name!r} is not one of serving.clients: {', '.join(serving.clients)}"
        )
    if isinstance(outputs.api_keys, dict):
        if name not in outputs.api_keys:
            raise UsageError(f"apiKeys: the outputs hold no key for client {name!r}")
        return outputs.api_keys[name], f"apiKeys[{name}]"
    raise UsageError(
        f"no API key: the serving gateway refuses a request without one in {serving.key_header}. Either set "
        f"{variable} to a client's key (--api-key-env names another variable), or read the outputs with "
        "--show-secrets (`pulumi stack output --json --show-secrets > outputs.json`, then --outputs "
        "outputs.json, or --show-secrets here): their apiKeys hold the key of each client, --client "
        f"(default: {serving.clients[0]})"
    )


def route(args: argparse.Namespace) -> Route:
    """The one `--url`; else the stack outputs' endpoints, or with `serving` the global name and then each
    cloud's, with the API key."""
    if args.url:
        variable = args.api_key_env or KEY_ENV
        url = [client.Local(args.url)]
        return Route(
            url, url, client.Access(os.environ.get(variable) or None, ca_file=args.ca_file), f"${variable}"
        )
    outputs = client.load(args.outputs, args.stack, args.show_secrets)
    serving = outputs.serving
    if serving is None:
        return Route(outputs.endpoints, outputs.endpoints, client.Access(ca_file=args.ca_file))
    key, source = api_key(args, outputs, serving)
    clouds = [Endpoint(cloud=cloud, url=url) for cloud, url in serving.clouds.items()]
    access = client.Access(key, serving.key_header, args.ca_file)
    return Route([client.Local(serving.url, GLOBAL), *clouds], clouds, access, source)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        way = route(args)
    except ValidationError as exc:
        expected = f"schemaVersion {SCHEMA_VERSION}"
        print(f"the stack outputs do not match the contract ({expected}):\n{exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        way.access.opener()
    except OSError as exc:  # ssl.SSLError too
        print(f"argument --ca-file: cannot load {args.ca_file}: {exc}", file=sys.stderr)
        return 2
    instances = json.loads(args.input.read_text()) if args.input else [SAMPLE]
    policy = client.Policy(timeout=args.timeout, attempts=args.attempts)
    try:
        pin = (
            None if args.pin == "off" else client.pin(way.statuses, args.timeout, args.pin, access=way.access)
        )
        result = client.predict(way.targets, instances, policy, pin=pin, access=way.access)
    except client.KeyRefusedError as exc:
        detail = "every cloud holds the same keys, so no other was asked"
        print(f"{exc} (the key from {way.key_source}); {detail}", file=sys.stderr)
        return 1
    except client.AllEndpointsFailedError as exc:
        print(exc, file=sys.stderr)
        return 1
    best = [max(range(len(p)), key=p.__getitem__) if isinstance(p, list) else p for p in result.predictions]
    answer = {"cloud": result.cloud, "version": result.version, "classes": best, "failures": result.failures}
    print(json.dumps(answer, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
