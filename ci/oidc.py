"""`python3 -m ci.oidc --out FILE [--audience A] [--every SECONDS]`: write the job's GitHub OIDC token to
FILE, then (with --every) keep rewriting it with a fresh one until the job ends.

kubelogin's `workloadidentity` login (and azure-identity's WorkloadIdentityCredential, which preflight
uses) read the federated token from `AZURE_FEDERATED_TOKEN_FILE` each time they need an Entra token. A
GitHub token expires minutes after it is issued, while an Entra token lasts about an hour, so a deploy
longer than that needs the file to hold a new GitHub token whenever Entra is asked again. The request URL
and bearer come from `ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`, which GitHub sets for jobs with
`id-token: write`; they stay valid for the whole job.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

AZURE_AUDIENCE = "api://AzureADTokenExchange"


class TokenError(Exception):
    pass


def request_token(request_url: str, bearer: str, audience: str, timeout: float = 30) -> str:
    parts = urllib.parse.urlsplit(request_url)
    query = urllib.parse.urlencode([*urllib.parse.parse_qsl(parts.query), ("audience", audience)])
    url = urllib.parse.urlunsplit(parts._replace(query=query))
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bearer}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            value = json.load(response).get("value")
    except (OSError, ValueError) as exc:
        raise TokenError(f"cannot get a GitHub OIDC token: {exc}") from exc
    if not isinstance(value, str) or not value:
        raise TokenError("GitHub answered without a token")
    return value


def write_token(out: Path, token: str) -> None:
    """Replace `out` atomically, readable by this user only: a reader never sees half a token."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.touch(mode=0o600)
    partial.write_text(token)
    partial.replace(out)


def refresh(out: Path, audience: str, env: dict[str, str]) -> None:
    url, bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_URL"), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise TokenError("ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are unset: the job needs `id-token: write`")
    write_token(out, request_token(url, bearer, audience))


def keep_fresh(
    out: Path, audience: str, every: float, env: dict[str, str], rounds: int | None = None
) -> None:
    """Refresh every `every` seconds (`rounds` times, or forever); a failed refresh is retried sooner and
    leaves the last good token in place."""
    done = 0
    while rounds is None or done < rounds:
        try:
            refresh(out, audience, env)
            wait = every
        except TokenError as exc:
            print(f"ci.oidc: {exc}; retrying", file=sys.stderr, flush=True)
            wait = min(every, 15)
        done += 1
        if rounds is None or done < rounds:
            time.sleep(wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ci.oidc", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the token file")
    parser.add_argument(
        "--audience", default=AZURE_AUDIENCE, help=f"token audience (default {AZURE_AUDIENCE})"
    )
    parser.add_argument("--every", type=float, help="keep refreshing, every this many seconds")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    try:
        refresh(args.out, args.audience, env)
    except TokenError as exc:
        print(f"::error title=GitHub OIDC token::{exc}")
        return 1
    if args.every:
        time.sleep(args.every)
        keep_fresh(args.out, args.audience, args.every, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
