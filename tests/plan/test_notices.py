"""Deploy-time notices on the real plans: Kubernetes minors close to the end of standard support, and
third-party images mirrored by tag, in the CLI, the JSON document and the pull-request comment."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from infra import versions
from infra.workloads import upstream
from plan import markdown, notices
from plan.__main__ import EXIT_OK, main
from plan.runner import Plan
from tests.conftest import AS_OF
from tests.infra.clouds.gcp.helpers import stack_config
from tests.plans import ROOT

TODAY = datetime.date.fromisoformat(AS_OF)
PLACEHOLDER = "sha256:" + "0" * 3
"""The start of an all-zero digest, which the program once used for a digest not looked up yet."""


def test_no_version_notice_while_support_lasts_beyond_90_days(stack_plan: Plan) -> None:
    found = notices.collect(stack_plan, stack_config(stack_plan), TODAY)
    assert [n for n in found if n.kind == "version"] == []


def test_a_minor_within_90_days_of_its_end_is_named_with_the_date(stack_plan: Plan) -> None:
    """On 2027-01-15, 1.35 has 71 days left on EKS, 75 on AKS, 86 on GKE: each cloud says so, and which
    minor to move to."""
    found = notices.collect(stack_plan, stack_config(stack_plan), datetime.date(2027, 1, 15))
    by_cloud = {n.cloud: n.message for n in found if n.kind == "version"}
    assert by_cloud == {
        "aws": "leaves aws's standard support on 2027-03-27, in 71 days: move kubernetesVersion to 1.36",
        "gcp": "leaves gcp's standard support on 2027-04-11, in 86 days: move kubernetesVersion to 1.36",
        "azure": "leaves azure's standard support on 2027-03-31, in 75 days: move kubernetesVersion to 1.36",
    }
    assert versions.WARN_DAYS == 90


def test_images_mirrored_by_tag_are_named_once_per_cloud(stack_plan: Plan) -> None:
    """TF Serving, Kueue and (prod, with a domain) the gateway's images have no verified digest: each cloud
    mirrors them by tag; rclone and the device plugin are pinned and never named."""
    images = [n for n in notices.collect(stack_plan, stack_config(stack_plan), TODAY) if n.kind == "image"]
    tag = "2.21.0-gpu" if stack_plan.stack == "prod" else "2.21.0"
    unpinned: tuple[str, ...] = (f"docker.io/tensorflow/serving:{tag}", "registry.k8s.io/kueue/kueue:v0.19.2")
    if stack_plan.stack == "prod":
        gateway = (upstream.ENVOY_GATEWAY, upstream.ENVOY, *upstream.CERT_MANAGER.values())
        unpinned = (*unpinned, *(image.ref for image in gateway))
    assert sorted((n.cloud, n.subject) for n in images) == [
        (cloud, image) for cloud in ("aws", "azure", "gcp") for image in sorted(unpinned)
    ]
    assert all(f"--stack {stack_plan.stack} --write" in n.message for n in images)


def test_no_placeholder_digest_anywhere_in_the_plans(stack_plan: Plan) -> None:
    assert PLACEHOLDER not in json.dumps([r.to_json() for r in stack_plan.resources])


def test_notices_reach_the_json_and_the_pull_request_comment(tmp_path: Path, dev_plan: Plan) -> None:
    out, comment = tmp_path / "plan.json", tmp_path / "plan.md"
    assert (
        main(["--stack", "dev", "--cwd", str(ROOT), "--json", str(out), "--markdown", str(comment)])
        == EXIT_OK
    )
    doc = json.loads(out.read_text())
    assert {n["kind"] for n in doc["notices"]} == {"image"}
    text = comment.read_text()
    assert "### Deploy-time notices" in text
    assert "docker.io/tensorflow/serving:2.21.0" in text
    cfg = stack_config(dev_plan)
    quiet = markdown.render(dev_plan, cfg, [], [])
    assert "None: every version is supported for the next 90 days and every image is pinned." in quiet


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_sha256_placeholder_in_the_repository(stack: str) -> None:
    """No all-zero placeholder digest in any stack file or in the program that `pulumi up` runs."""
    texts = [
        (ROOT / f"Pulumi.{stack}.yaml").read_text(),
        *(p.read_text() for p in (ROOT / "infra").rglob("*.py")),
    ]
    assert not any(PLACEHOLDER in t for t in texts)
