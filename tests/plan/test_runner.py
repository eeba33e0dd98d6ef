"""The plan engine: it runs a program on the mock engine and captures what `pulumi up` would register."""

from __future__ import annotations

import gc
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from plan import fakes, runner, stackfile
from plan.capture import SECRET_MARK, redact
from plan.runner import Plan, PlannedResource
from tests.plans import plan_with

SAMPLE = Path(__file__).parent / "sample"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return runner.run(stackfile.load(SAMPLE, "sample"), "sample")


def named(plan: Plan, name: str) -> PlannedResource:
    return next(r for r in plan.resources if r.name == name)


def test_captures_type_name_parent_and_provider(plan: Plan) -> None:
    bucket = named(plan, "data-bucket")
    assert bucket.type == "aws:s3/bucket:Bucket"
    assert bucket.parent == named(plan, "data").urn
    assert bucket.provider == named(plan, "data-provider").urn
    assert named(plan, "data").parent is None
    assert not named(plan, "data").custom


def test_cloud_comes_from_the_component_tree_or_the_provider(plan: Plan) -> None:
    assert {r.name: r.cloud for r in plan.resources} == {
        "data": "aws",
        "data-provider": "aws",
        "data-key": "aws",
        "data-bucket": "aws",
        "data-policy": "aws",
        "plain": "aws",
        "loose": "aws",
    }


def test_depends_on_covers_outputs_in_inputs_and_explicit_depends_on(plan: Plan) -> None:
    key, bucket = named(plan, "data-key").urn, named(plan, "data-bucket").urn
    assert named(plan, "data-bucket").depends_on == [key]
    assert set(named(plan, "data-policy").depends_on) == {key, bucket}


def test_inputs_are_captured_as_sent_with_options(plan: Plan) -> None:
    assert named(plan, "data-key").inputs == {"enableKeyRotation": True}
    assert named(plan, "data-bucket").protect
    assert not named(plan, "loose").protect


def test_a_secret_map_keeps_its_keys_only_when_asked() -> None:
    """Rendered manifests keep a Secret's shape (its keys) for schema validation, never its values."""
    inputs = {"type": "Opaque", "stringData": {"token": "s3cr3t"}}
    assert redact(inputs, ["stringData"]) == {"type": "Opaque", "stringData": SECRET_MARK}
    shaped = redact(inputs, ["stringData"], keep_keys=True)
    assert shaped == {"type": "Opaque", "stringData": {"token": SECRET_MARK}}


def test_secret_inputs_are_redacted_in_json(plan: Plan) -> None:
    policy = named(plan, "data-policy")
    assert policy.inputs["policy"] == stackfile.SECRET_PLACEHOLDER
    assert policy.to_json()["inputs"]["policy"] == SECRET_MARK


def test_outputs_resolve_and_nested_secrets_are_redacted(plan: Plan) -> None:
    bucket_id = plan.outputs["bucket"]
    assert bucket_id.startswith("data-bucket")
    assert plan.outputs == {"bucket": bucket_id, "nested": {"id": bucket_id, "token": "s3cr3t"}, "size": 2}
    assert plan.public_outputs()["nested"] == {"id": bucket_id, "token": SECRET_MARK}


def test_json_shape(plan: Plan) -> None:
    doc = named(plan, "data-bucket").to_json()
    assert set(doc) == {"type", "name", "parent", "provider", "cloud", "inputs", "dependsOn"}


def test_runs_are_isolated_from_each_other() -> None:
    first = runner.run(stackfile.load(SAMPLE, "sample"), "sample")
    second = runner.run(stackfile.load(SAMPLE, "sample", overrides={"size": 5}), "other")
    assert first.outputs["size"] == 2
    assert second.outputs["size"] == 5
    assert len(first.resources) == len(second.resources) == 7


def test_on_mocks_returns_what_a_program_function_registered_exported_and_returned() -> None:
    def program() -> int:
        size = pulumi.Config().require_int("size")
        key = aws.kms.Key("alone-key")
        bucket = aws.s3.Bucket("alone", tags={"key": key.arn, "size": str(size)})
        pulumi.export("bucket", bucket.id)
        pulumi.export("token", pulumi.Output.secret(pulumi.Config().require("token")))
        return size

    done = runner.on_mocks(stackfile.load(SAMPLE, "sample"), "sample", program)
    assert done.value == 2
    by_name = {r.name: r for r in done.resources}
    assert set(by_name) == {"alone-key", "alone"}
    bucket = by_name["alone"]
    assert (bucket.type, bucket.parent, bucket.depends_on) == (
        "aws:s3/bucket:Bucket",
        None,
        [by_name["alone-key"].urn],
    )
    assert bucket.inputs["tags"]["size"] == "2"
    assert done.outputs["bucket"].startswith("alone")
    assert done.outputs["token"] == stackfile.SECRET_PLACEHOLDER
    assert done.secret_outputs == ["token"]


def test_on_mocks_raises_a_failed_function_as_a_failed_program() -> None:
    error = ValueError("bad contract")

    def program() -> None:
        raise error

    with pytest.raises(runner.ProgramFailedError, match="bad contract") as failed:
        runner.on_mocks(stackfile.load(SAMPLE, "sample"), "sample", program)
    assert failed.value.cause is error
    assert failed.value.registered == []
    assert runner.run(stackfile.load(SAMPLE, "sample"), "sample").outputs["size"] == 2


def test_an_invoke_without_a_fake_is_an_error() -> None:
    with pytest.raises(fakes.UnplannedInvokeError, match="no fake for invoke 'aws:index/nope:nope'"):
        fakes.invoke("aws:index/nope:nope", {})


def test_a_run_after_a_failed_run_completes() -> None:
    """A failed run leaves never-resolving futures in the SDK's process-wide output set; the next run
    must not wait on them (it used to hang)."""
    with pytest.raises(runner.ProgramFailedError):
        plan_with({"gpu-platform:gpuPools": [{"name": "bad", "gpu": "v100", "minNodes": 0, "maxNodes": 1}]})
    again = runner.run(stackfile.load(SAMPLE, "sample"), "sample")
    assert again.outputs["size"] == 2


def test_the_garbage_collector_pauses_for_a_run_and_resumes_as_it_was() -> None:
    seen: list[bool] = []
    with runner._no_cyclic_gc():
        seen.append(gc.isenabled())
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(runner.ProgramFailedError):
            plan_with(
                {"gpu-platform:gpuPools": [{"name": "bad", "gpu": "v100", "minNodes": 0, "maxNodes": 1}]}
            )
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
