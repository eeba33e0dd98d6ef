"""`python -m preflight --stack NAME [--cloud aws|gcp|azure] [--json FILE] [--cwd DIR] [--ip-url URL]
[--ip-ranges-url URL]`: read-only checks, with the deployer's own credentials, of what the offline plan
cannot see (see docs/preflight.md): identity, versions, capacity, names, prerequisites, reachability
(with `serving.domain`, Route 53's health checkers' too) and tools.

Exit codes: 0 nothing failed (warnings allowed); 1 a check failed (each FAIL row names its fix); 2 the
stack config is invalid, or a cloud has no usable credentials (one line each, saying how to log in).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from rich.console import Console

from infra import config
from infra.catalog import CLOUDS, Cloud
from infra.config import StackConfig
from plan import stackfile
from preflight import report
from preflight.checks import aws as aws_checks
from preflight.checks import azure as azure_checks
from preflight.checks import gcp as gcp_checks
from preflight.checks import local as local_checks
from preflight.fetch import LoginError
from preflight.fetch import local as local_fetch
from preflight.report import Row

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_CHECK = 0, 1, 2
Checker = Callable[[], list[Row]]


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m preflight",
        description=__doc__,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--cloud", choices=CLOUDS, help="check only this cloud (default: every enabled one)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory (default: .)")
    parser.add_argument(
        "--ip-url",
        default=local_fetch.IP_URL,
        metavar="URL",
        help=f"a service answering with this machine's egress address (default: {local_fetch.IP_URL})",
    )
    parser.add_argument(
        "--ip-ranges-url",
        default=local_fetch.IP_RANGES_URL,
        metavar="URL",
        help="AWS's ip-ranges.json, read with serving.domain for Route 53's health-checker ranges "
        f"(default: {local_fetch.IP_RANGES_URL})",
    )
    return parser.parse_args(argv)


def _login(cloud: Cloud, cfg: StackConfig, provider_config: dict[str, str], today: date) -> Checker:
    """Log in to `cloud` (or raise LoginError) and return what fetches its facts and checks them."""
    if cloud == "aws" and cfg.aws:
        from preflight.fetch import aws  # noqa: PLC0415 - each SDK loads only for a cloud the stack enables

        aws_login = aws.login(cfg.aws)
        return lambda: aws_checks.check(aws.fetch(aws_login, cfg), cfg, today)
    if cloud == "gcp":
        from preflight.fetch import gcp  # noqa: PLC0415

        gcp_login = gcp.login()
        return lambda: gcp_checks.check(gcp.fetch(gcp_login, cfg), cfg)
    from preflight.fetch import azure  # noqa: PLC0415

    azure_login = azure.login(provider_config.get("azure-native:subscriptionId"))
    return lambda: azure_checks.check(azure.fetch(azure_login, cfg), cfg)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    console, errors = Console(), Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        files = stackfile.load(args.cwd, args.stack)
        cfg = config.parse(config.read_raw(files.config.get), stack=args.stack)
    except (stackfile.StackFileError, config.ConfigError) as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        return EXIT_CANNOT_CHECK
    if args.cloud and args.cloud not in cfg.clouds:
        errors.print(
            f"[bold red]error:[/] stack {args.stack} does not enable {args.cloud} ({', '.join(cfg.clouds)})"
        )
        return EXIT_CANNOT_CHECK
    clouds: tuple[Cloud, ...] = (args.cloud,) if args.cloud else cfg.clouds
    # azure-identity logs every credential it tried as a warning; the one line below says it all.
    logging.getLogger("azure").setLevel(logging.CRITICAL)
    checkers: list[Checker] = []
    today = date.today()
    for cloud in clouds:
        try:
            checkers.append(_login(cloud, cfg, files.config, today))
        except LoginError as exc:
            errors.print(str(exc), markup=False)
    if len(checkers) < len(clouds):
        return EXIT_CANNOT_CHECK
    with ThreadPoolExecutor(max_workers=len(clouds) + 1) as pool:
        ranges_url = args.ip_ranges_url if cfg.serving.domain is not None else None
        here = pool.submit(local_fetch.fetch, clouds, args.ip_url, ranges_url)
        per_cloud = [pool.submit(checker) for checker in checkers]
        rows = [row for future in per_cloud for row in future.result()]
        rows = report.ordered(rows + local_checks.check(cfg, clouds, here.result()))
    console.print(report.table(rows, args.stack))
    if args.json:
        args.json.write_text(json.dumps(report.to_json(rows, args.stack), indent=2) + "\n")
        console.print(f"wrote {args.json}")
    return EXIT_FAILED if report.failed(rows) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
