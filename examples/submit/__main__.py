"""`python -m examples.submit --outputs FILE [--team T] [--epochs N] [--batch-size N] [--filters N]
[--dense-units N] [--kubectl BIN] [--timeout S] [--poll S]`: train on whichever cloud has GPUs free.

From the stack outputs (`pulumi stack output --json --show-secrets`, a stack with `queues.dispatch`): read
the template CronJob on the manager, create a Job from it in the team's MultiKueue queue with a model
version of its own (the submission's Unix time) and the trainer options given, then follow it: the cloud
that admitted it, its progress, and on success the exported version's URI. Exit 0 when it completes, 1
when it fails, cannot be created or followed, or is not complete within --timeout, 2 when the outputs or
the arguments cannot be used (nothing is created then). Ctrl-C stops following and leaves the Job.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from examples.app import client
from examples.app.kube import Kubectl, StepError, kubeconfig
from examples.submit import job
from examples.submit.follow import follow
from infra.outputs import SCHEMA_VERSION, DispatchOutputs, StackOutputs

INTERRUPTED = 130


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.submit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--outputs", required=True, help="saved `pulumi stack output --json --show-secrets`, or - for stdin"
    )
    parser.add_argument("--team", help="the team whose queue to submit to (default: the template's)")
    for option in job.OPTIONS:
        flag = "--" + option.replace("_", "-")
        parser.add_argument(flag, type=positive_int, help=f"the trainer's {flag} (default: the template's)")
    parser.add_argument("--kubectl", default="kubectl", help="kubectl binary (default: kubectl on PATH)")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds to wait for the Job")
    parser.add_argument("--poll", type=float, default=15, help="seconds between status reads")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Target:
    dispatch: DispatchOutputs
    queue: str
    model: str


def target(outputs: StackOutputs, team: str | None) -> Target:
    """Where the Job goes; ValueError naming the key when the outputs or `team` cannot say."""
    dispatch = outputs.dispatch
    if dispatch is None:
        raise ValueError(
            "dispatch: not in the outputs: the stack has no `queues.dispatch` (prod, docs/queues.md), so "
            "there is no MultiKueue queue to submit to"
        )
    if team is None:
        return Target(dispatch, dispatch.queue, outputs.clouds[dispatch.manager].model.name)
    if team not in dispatch.queues:
        raise ValueError(f"--team: unknown team {team!r}; allowed: {', '.join(sorted(dispatch.queues))}")
    return Target(dispatch, dispatch.queues[team], outputs.clouds[dispatch.manager].model.name)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        outputs = client.load(args.outputs)
        where = target(outputs, args.team)
    except ValidationError as exc:
        expected = f"schemaVersion {SCHEMA_VERSION}"
        print(f"submit: the stack outputs do not match the contract ({expected}):\n{exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"submit: cannot use the stack outputs: {exc}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    options = {var: getattr(args, o) for o, var in job.OPTIONS.items() if getattr(args, o) is not None}
    d = where.dispatch
    submission = job.Submission(
        job.job_name(where.model, now), d.namespace, where.queue, int(now.timestamp()), options
    )
    with tempfile.TemporaryDirectory(prefix="submit-") as tmp:
        try:
            kube = Kubectl(args.kubectl, kubeconfig(outputs, d.manager, Path(tmp)), d.namespace)
        except ValueError as exc:
            print(f"submit: cannot use the stack outputs: {exc}", file=sys.stderr)
            return 2
        try:
            uid = create(kube, d, submission)
            cloud = follow(kube, submission.name, uid, args.timeout, args.poll)
        except StepError as exc:
            print(f"submit: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            delete = f"kubectl --namespace {d.namespace} delete job {submission.name}"
            print(
                f"submit: stopped following; the job, if created, stays: `{delete}` on {d.manager} ends it",
                file=sys.stderr,
            )
            return INTERRUPTED
    version = submission.version
    if cloud in outputs.clouds:
        print(f"exported model version {version} on {cloud}: {outputs.clouds[cloud].model.uri}/{version}")
    else:
        print(f"exported model version {version} on {cloud or 'a worker its Workload did not name'}")
    return 0


def create(kube: Kubectl, dispatch: DispatchOutputs, submission: job.Submission) -> str:
    """Create the Job from the template in the manager's queue; its uid."""
    cronjob = kube.read("template", "cronjob", dispatch.template)
    if cronjob is None:
        raise StepError(
            "template",
            f"cronjob {dispatch.template} not found in namespace {dispatch.namespace} on {dispatch.manager}",
        )
    created = kube.create("submit", job.build(cronjob, submission))
    print(
        f"submitted job {submission.name} to queue {submission.queue} on {dispatch.manager}, "
        f"model version {submission.version}",
        flush=True,
    )
    uid: str = created["metadata"]["uid"]
    return uid


if __name__ == "__main__":
    sys.exit(main())
