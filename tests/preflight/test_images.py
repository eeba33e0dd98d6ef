"""`python -m preflight.images`: which images a stack runs, how their pins compare with the digests found,
and `--write`, which pins them in a copy of a stack file without touching anything else."""

from __future__ import annotations

import dataclasses
import difflib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra import config
from infra.config import StackConfig
from infra.versions import EKS_PINS
from infra.workloads import upstream
from plan import stackfile
from preflight import images, oci, pins
from tests.preflight.test_oci import LocalRegistry, running_registry, sha256

ROOT = Path(__file__).resolve().parents[2]
OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
AUTOSCALER, AUTOSCALER_PIN = EKS_PINS["1.35"].cluster_autoscaler.split("@")


def project(tmp_path: Path, stack: str, edit: Callable[[str], str] | None = None) -> Path:
    """A project directory holding Pulumi.yaml and (an edited copy of) the stack's file."""
    shutil.copyfile(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
    edited = edit(text) if edit else text
    assert edit is None or edited != text  # an edit that silently misses would test nothing
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(edited)
    return tmp_path


def load(root: Path, stack: str) -> StackConfig:
    files = stackfile.load(root, stack)
    return config.parse(config.read_raw(files.config.get), stack=stack)


def resolver(digests: dict[str, str]) -> Callable[[str], str]:
    def resolve(ref: str) -> str:
        if ref not in digests:
            raise oci.RegistryError(f"{ref}: manifest unknown (HTTP 404): no such tag or repository")
        return digests[ref]

    return resolve


def everything(digest: str = NEW) -> dict[str, str]:
    """A registry in which every tag the stacks name has `digest`, rclone and the plugin their pins."""
    plugin = upstream.DEVICE_PLUGIN
    return {
        f"{upstream.TF_SERVING.repository}:{upstream.TF_SERVING.version}": digest,
        f"{upstream.TF_SERVING_GPU.repository}:{upstream.TF_SERVING_GPU.version}": digest,
        AUTOSCALER: digest,
        f"{upstream.RCLONE.repository}:{upstream.RCLONE.version}": str(upstream.RCLONE.digest),
        f"{plugin.repository}:{plugin.version}": str(plugin.digest),
    }


def changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines removed and added."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


# --- which images ---------------------------------------------------------------------------------


def test_dev_runs_the_cpu_serving_image_and_the_autoscaler() -> None:
    listed = images.stack_images(load(ROOT, "dev"))
    assert [(i.name, i.tagged, i.pinned) for i in listed] == [
        ("serving", "docker.io/tensorflow/serving:2.21.0", None),
        ("cluster-autoscaler", AUTOSCALER, AUTOSCALER_PIN),
        ("model-sync", "docker.io/rclone/rclone:1.75.1", upstream.RCLONE.digest),
        ("device-plugin", "nvcr.io/nvidia/k8s-device-plugin:v0.17.0", upstream.DEVICE_PLUGIN.digest),
    ]
    assert [str(i.target) for i in listed[:2]] == [
        "gpu-platform:serving.image",
        "gpu-platform:aws.clusterAutoscalerImage",
    ]
    assert listed[2].target is None
    assert listed[3].target is None


def test_prod_serves_on_a_gpu_pool_so_it_pins_gpu_image() -> None:
    serving = images.stack_images(load(ROOT, "prod"))[0]
    assert (serving.tagged, str(serving.target)) == (
        "docker.io/tensorflow/serving:2.21.0-gpu",
        "gpu-platform:serving.gpuImage",
    )


def test_no_autoscaler_without_aws(tmp_path: Path) -> None:
    root = project(tmp_path, "dev", lambda t: t.replace("clouds: [aws, gcp, azure]", "clouds: [gcp, azure]"))
    assert "cluster-autoscaler" not in [i.name for i in images.stack_images(load(root, "dev"))]


def test_a_tag_only_upstream_is_not_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    tag_only = dataclasses.replace(upstream.RCLONE, digest=None)
    monkeypatch.setattr(upstream, "RCLONE", tag_only)
    sync = next(i for i in images.stack_images(load(ROOT, "dev")) if i.name == "model-sync")
    assert (sync.tagged, sync.pinned) == ("docker.io/rclone/rclone:1.75.1", None)


def test_a_configured_serving_image_is_the_one_checked(tmp_path: Path) -> None:
    ref = f"docker.io/tensorflow/serving:2.20.0@{OLD}"
    root = project(
        tmp_path,
        "dev",
        lambda t: t.replace("    modelName: digits\n", f"    modelName: digits\n    image: {ref}\n"),
    )
    serving = images.stack_images(load(root, "dev"))[0]
    assert (serving.tagged, serving.pinned, serving.source) == (
        "docker.io/tensorflow/serving:2.20.0",
        OLD,
        "gpu-platform:serving.image",
    )


def test_split_ref_keeps_a_registry_port_out_of_the_tag() -> None:
    assert images.split_ref(f"127.0.0.1:5000/a/b:1.0@{OLD}") == ("127.0.0.1:5000/a/b", "1.0", OLD)
    assert images.split_ref("127.0.0.1:5000/a/b") == ("127.0.0.1:5000/a/b", "", None)


# --- the report -----------------------------------------------------------------------------------


def test_the_report_says_what_matches_and_what_to_pin(capsys: pytest.CaptureFixture[str]) -> None:
    assert images.main(["--stack", "dev", "--cwd", str(ROOT)], resolve=resolver(everything())) == 0
    out = capsys.readouterr().out
    assert "serving: docker.io/tensorflow/serving:2.21.0\n" in out
    assert f"  found   {NEW}\n  pinned  not pinned (infra/workloads/upstream.py)\n" in out
    assert "  status  NOT PINNED (mirrored by tag): pin it in gpu-platform:serving.image" in out
    assert f"  pinned  {AUTOSCALER_PIN} (infra/versions.py)\n  status  DIFFERS" in out
    assert out.count("  status  matches") == 2  # rclone and the device plugin
    assert (
        "run with --write to pin gpu-platform:serving.image, gpu-platform:aws.clusterAutoscalerImage" in out
    )


def test_a_moved_upstream_py_pin_points_at_that_file(capsys: pytest.CaptureFixture[str]) -> None:
    digests = {**everything(), f"{upstream.RCLONE.repository}:{upstream.RCLONE.version}": NEW}
    assert images.main(["--stack", "dev", "--cwd", str(ROOT)], resolve=resolver(digests)) == 0
    moved = "DIFFERS (the tag has moved, or the pin names another build)"
    assert f"{moved}: update the digest in infra/workloads/upstream.py" in capsys.readouterr().out


def test_an_unresolved_digest_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    digests = everything()
    del digests[AUTOSCALER]
    assert images.main(["--stack", "dev", "--cwd", str(ROOT)], resolve=resolver(digests)) == 1
    captured = capsys.readouterr()
    assert f"  status  UNRESOLVED: {AUTOSCALER}: manifest unknown (HTTP 404)" in captured.out
    assert "1 digest(s) could not be resolved" in captured.err


def test_an_invalid_stack_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "dev", lambda t: t.replace("replicas: 1\n", "replicas: 0\n"))
    assert images.main(["--stack", "dev", "--cwd", str(root)], resolve=resolver({})) == 2
    assert "gpu-platform:serving.replicas" in capsys.readouterr().err


# --- --write --------------------------------------------------------------------------------------


def write(root: Path, stack: str, digests: dict[str, str]) -> tuple[int, str, str]:
    before = (root / f"Pulumi.{stack}.yaml").read_text()
    code = images.main(["--stack", stack, "--cwd", str(root), "--write"], resolve=resolver(digests))
    return code, before, (root / f"Pulumi.{stack}.yaml").read_text()


def test_write_pins_dev_and_changes_nothing_else(tmp_path: Path) -> None:
    root = project(tmp_path, "dev")
    old_cfg = load(root, "dev")
    code, before, after = write(root, "dev", everything())
    assert code == 0
    removed, added = changes(before, after)
    # The stack sets no autoscaler (it runs the one infra/versions.py records): a differing digest is
    # pinned by adding the key.
    assert removed == []
    assert sorted(added) == [
        f"    clusterAutoscalerImage: {AUTOSCALER}@{NEW}",
        f"    image: docker.io/tensorflow/serving:2.21.0@{NEW}",
    ]
    assert "    memory: 1Gi\n    image: docker.io/tensorflow/serving" in after  # the serving block's end
    assert [line for line in after.splitlines() if "#" in line] == [
        line for line in before.splitlines() if "#" in line
    ]
    new_cfg = load(root, "dev")
    assert new_cfg.serving.image == f"docker.io/tensorflow/serving:2.21.0@{NEW}"
    assert new_cfg.aws is not None
    assert old_cfg.aws is not None
    assert new_cfg.aws.cluster_autoscaler_image == f"{AUTOSCALER}@{NEW}"
    assert new_cfg.model_copy(update={"serving": old_cfg.serving, "aws": old_cfg.aws}) == old_cfg
    assert sorted(p.name for p in root.iterdir()) == ["Pulumi.dev.yaml", "Pulumi.yaml"]  # no temp file left


def test_write_pins_prod_gpu_image(tmp_path: Path) -> None:
    root = project(tmp_path, "prod")
    code, before, after = write(root, "prod", everything())
    assert code == 0
    _, added = changes(before, after)
    assert f"    gpuImage: docker.io/tensorflow/serving:2.21.0-gpu@{NEW}" in added
    assert load(root, "prod").serving.gpu_image == f"docker.io/tensorflow/serving:2.21.0-gpu@{NEW}"


def test_write_replaces_a_configured_pin_in_place_and_keeps_its_quotes(tmp_path: Path) -> None:
    line = f'    image: "docker.io/tensorflow/serving:2.20.0@{OLD}"  # pinned by hand\n'
    root = project(
        tmp_path, "dev", lambda t: t.replace("    modelName: digits\n", f"    modelName: digits\n{line}")
    )
    code, before, after = write(root, "dev", {**everything(), "docker.io/tensorflow/serving:2.20.0": NEW})
    assert code == 0
    removed, added = changes(before, after)
    assert removed[-1] == line.rstrip("\n")
    assert added[-1] == line.rstrip("\n").replace(OLD, NEW)
    assert after.index("image:") < after.index("pool: general")  # where it was


def test_write_adds_a_missing_serving_section_with_its_defaults(tmp_path: Path) -> None:
    def drop_serving(text: str) -> str:
        start = text.index("  gpu-platform:serving:\n")
        return text[:start] + text[text.index("  gpu-platform:training:\n") :]

    root = project(tmp_path, "dev", drop_serving)
    old_cfg = load(root, "dev")
    code, _, after = write(root, "dev", everything())
    assert code == 0
    new_cfg = load(root, "dev")
    assert new_cfg.serving == old_cfg.serving.model_copy(
        update={"image": f"docker.io/tensorflow/serving:2.21.0@{NEW}"}
    )
    assert after.rstrip().endswith(f"    image: docker.io/tensorflow/serving:2.21.0@{NEW}")  # config's end
    assert "  gpu-platform:serving:\n    modelName: digits\n" in after


def test_write_into_a_flow_mapping(tmp_path: Path) -> None:
    def flow(text: str) -> str:
        start, end = text.index("  gpu-platform:serving:\n"), text.index("  gpu-platform:training:\n")
        return (
            text[:start]
            + "  gpu-platform:serving: {modelName: digits, pool: general}  # short\n"
            + text[end:]
        )

    root = project(tmp_path, "dev", flow)
    code, _, after = write(root, "dev", everything())
    assert code == 0
    image = f"image: docker.io/tensorflow/serving:2.21.0@{NEW}"
    expected = f"  gpu-platform:serving: {{modelName: digits, pool: general, {image}}}  # short\n"
    assert expected in after


def test_write_with_every_pin_current_leaves_the_file_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = f"    image: docker.io/tensorflow/serving:2.21.0@{NEW}\n"
    root = project(
        tmp_path, "dev", lambda t: t.replace("    modelName: digits\n", f"    modelName: digits\n{line}")
    )
    stat = (root / "Pulumi.dev.yaml").stat()
    code, before, after = write(root, "dev", {**everything(), AUTOSCALER: AUTOSCALER_PIN})
    assert (code, after) == (0, before)
    assert (root / "Pulumi.dev.yaml").stat().st_mtime_ns == stat.st_mtime_ns
    assert "wrote" not in capsys.readouterr().out


def test_write_still_pins_what_resolved_and_exits_1(tmp_path: Path) -> None:
    digests = everything()
    del digests["docker.io/tensorflow/serving:2.21.0"]
    code, before, after = write(project(tmp_path, "dev"), "dev", digests)
    assert code == 1
    assert changes(before, after)[1] == [f"    clusterAutoscalerImage: {AUTOSCALER}@{NEW}"]


def test_a_block_scalar_value_is_left_to_the_operator() -> None:
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    block = text.replace("    modelName: digits\n", "    modelName: digits\n    image: >-\n      x\n")
    target = pins.Target("serving", "image", "image")
    with pytest.raises(pins.WriteError, match="not a one-line value"):
        pins.edit_stack_text(block, {target: "x"}, project="gpu-platform", effective={})


REFUSED_EDITS = {
    # An edit that also changes another value fails the YAML document's check...
    "document": ("    replicas: 1\n", "    replicas: 2\n", False, "would change more than the pinned values"),
    # ... and, without that check, the stack loader's: another key, or another field of a pinned section.
    "other-key": (
        "namespace: ml\n",
        "namespace: ml2\n",
        True,
        "would change other keys too: gpu-platform:namespace",
    ),
    "same-section": (
        "    replicas: 1\n",
        "    replicas: 2\n",
        True,
        "does not parse to the same config plus the pins",
    ),
}


@pytest.mark.parametrize("case", REFUSED_EDITS.values(), ids=REFUSED_EDITS.keys())
def test_an_edit_that_would_change_another_value_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, str, bool, str],
) -> None:
    old, new, skip_document_check, error = case
    edit = pins.edit_stack_text
    monkeypatch.setattr(pins, "edit_stack_text", lambda *a, **k: edit(*a, **k).replace(old, new, 1))
    if skip_document_check:
        monkeypatch.setattr(pins, "check_document", lambda *a, **k: None)
    code, before, after = write(project(tmp_path, "dev"), "dev", everything())
    assert (code, after) == (1, before)
    assert error in capsys.readouterr().err


# --- end to end, against a real registry ----------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with running_registry(tmp_path_factory.mktemp("registry")) as started:
        yield started


def test_write_against_a_real_registry(
    registry: LocalRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serving = registry.push_index("tensorflow/serving", "2.21.0", content=b"serving")[0]
    autoscaler = registry.push_image("autoscaling/cluster-autoscaler", "v1.35.0", content=b"ca")
    sync = registry.push_image("rclone/rclone", "1.75.1", content=b"rclone")
    monkeypatch.setattr(
        upstream,
        "TF_SERVING",
        dataclasses.replace(upstream.TF_SERVING, repository=f"{registry.host}/tensorflow/serving"),
    )
    monkeypatch.setattr(
        upstream,
        "RCLONE",
        upstream.Upstream("rclone", f"{registry.host}/rclone/rclone", "1.75.1", sha256(sync)),
    )
    monkeypatch.setattr(
        upstream,
        "DEVICE_PLUGIN",
        upstream.Upstream(
            "nvidia-device-plugin", f"{registry.host}/nvidia/k8s-device-plugin", "v0.17.0", OLD
        ),
    )
    ca_ref = f"{registry.host}/autoscaling/cluster-autoscaler:v1.35.0"
    pinned = f'    kubernetesVersion: "1.35"\n    clusterAutoscalerImage: {ca_ref}@{OLD}\n'
    root = project(tmp_path, "dev", lambda t: t.replace('    kubernetesVersion: "1.35"\n', pinned, 1))

    assert (
        images.main(["--stack", "dev", "--cwd", str(root), "--write"]) == 1
    )  # the device plugin is not there
    out = capsys.readouterr().out
    assert f"{registry.host}/nvidia/k8s-device-plugin:v0.17.0: manifest unknown (HTTP 404)" in out
    assert "model-sync" in out
    assert out.count("status  matches") == 1
    cfg = load(root, "dev")
    assert cfg.serving.image == f"{registry.host}/tensorflow/serving:2.21.0@{sha256(serving)}"
    assert cfg.aws is not None
    assert cfg.aws.cluster_autoscaler_image == f"{ca_ref}@{sha256(autoscaler)}"
