"""The CrossGuard pack: one policy per control, named by its ID, with the right kind and enforcement; and
the real pack process answering the Pulumi engine's gRPC calls, stack-config waivers included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy import pack
from policy.controls import CONTROLS
from tests.plans import ROOT
from tests.policy.fixtures_gcp import cluster_props
from tests.policy.stacks import urn

MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
ADVISORY = analyzer_pb2.EnforcementLevel.Value("ADVISORY")
GKE = "gcp:container/cluster:Cluster"


def test_one_policy_per_control_named_by_its_id() -> None:
    policies = {p.name: p for p in pack.policies()}
    assert set(policies) == {*CONTROLS, pack.ADVISORY_POLICY}
    for control in CONTROLS.values():
        policy = policies[control.id]
        kind = StackValidationPolicy if control.stack_rules else ResourceValidationPolicy
        assert isinstance(policy, kind)
        assert control.title in policy.description
    assert policies["CF-01"].enforcement_level == EnforcementLevel.ADVISORY
    assert policies["ST-01"].enforcement_level == EnforcementLevel.MANDATORY
    assert policies[pack.ADVISORY_POLICY].enforcement_level == EnforcementLevel.ADVISORY


def test_plain_unwraps_proxies_and_keeps_unknowns_as_values() -> None:
    props = unknown_checking_proxy({"a": {"b": [UNKNOWN_STRING_VALUE, {"c": 1}]}, "d": "x"})
    assert pack.plain(props) == {"a": {"b": [UNKNOWN_STRING_VALUE, {"c": 1}]}, "d": "x"}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack as Pulumi runs it (its directory as the working directory), with a stack config that
    waives CP-13 on GCP."""
    waivers = [{"control": "CP-13", "clouds": ["gcp"], "reason": "Binary Authorization policy not ready"}]
    env = {**os.environ, "PULUMI_CONFIG": json.dumps({"gpu-platform:waivers": json.dumps(waivers)})}
    proc = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def test_pack_lists_every_control(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
    assert info.name == "gpu-platform"
    assert {p.name for p in info.policies} == {*CONTROLS, pack.ADVISORY_POLICY}


def test_resource_policy_names_control_and_resource(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    props = cluster_props()
    props["privateClusterConfig"]["enablePrivateNodes"] = False
    del props["binaryAuthorization"]  # CP-13, waived on GCP: reported by advisory-findings only
    request = analyzer_pb2.AnalyzeRequest(
        type=GKE, properties=_struct(props), urn=urn(GKE, "gke"), name="gke"
    )
    diagnostics = analyzer.Analyze(request, timeout=20).diagnostics
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [("CP-02", MANDATORY)]
    assert "CP-02 gke: privateClusterConfig.enablePrivateNodes must be true" in diagnostics[0].message


def test_stack_policy_reports_on_the_resource_and_waivers_advise(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    cluster = cluster_props()
    del cluster["binaryAuthorization"]
    bucket_urn = urn("aws:s3/bucket:Bucket", "data")
    resources = [
        analyzer_pb2.AnalyzerResource(
            type="aws:s3/bucket:Bucket", properties=_struct({"bucket": "b"}), urn=bucket_urn, name="data"
        ),
        analyzer_pb2.AnalyzerResource(
            type=GKE,
            properties=_struct(cluster),
            urn="urn:pulumi:t::p::gpu-platform:gcp:Platform$" + GKE + "::gke",
            name="gke",
        ),
    ]
    diagnostics = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=20
    ).diagnostics
    st01 = [d for d in diagnostics if d.policyName == "ST-01"]
    assert st01
    assert st01[0].urn == bucket_urn
    assert st01[0].enforcementLevel == MANDATORY
    assert "ST-01 data: needs a BucketPublicAccessBlock" in st01[0].message
    assert not [d for d in diagnostics if d.policyName == "CP-13"]
    waived = [d for d in diagnostics if d.policyName == pack.ADVISORY_POLICY and "CP-13 gke" in d.message]
    assert waived
    assert waived[0].enforcementLevel == ADVISORY
    assert "waived on gcp: Binary Authorization policy not ready" in waived[0].message


def test_stack_policy_links_resources_through_property_dependencies(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    bucket_urn = urn("aws:s3/bucket:Bucket", "data")
    blocks = dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
    )
    pab = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    resources = [
        analyzer_pb2.AnalyzerResource(
            type="aws:s3/bucket:Bucket", properties=_struct({"bucket": "b"}), urn=bucket_urn, name="data"
        ),
        analyzer_pb2.AnalyzerResource(
            type=pab,
            properties=_struct({"bucket": "data-id", **blocks}),
            urn=urn(pab, "data-pab"),
            name="data-pab",
            propertyDependencies={"bucket": analyzer_pb2.AnalyzerPropertyDependencies(urns=[bucket_urn])},
        ),
    ]
    request = analyzer_pb2.AnalyzeStackRequest(resources=resources)
    diagnostics = analyzer.AnalyzeStack(request, timeout=20).diagnostics
    assert [d.message for d in diagnostics if d.policyName == "ST-01"] == []
    assert [d for d in diagnostics if d.policyName == "ST-02" and d.urn == bucket_urn]


def _azure(type_: str, name: str, props: dict[str, Any], **extra: Any) -> Any:
    full = f"urn:pulumi:t::p::gpu-platform:azure:Platform${type_}::{name}"
    return analyzer_pb2.AnalyzerResource(type=type_, properties=_struct(props), urn=full, name=name, **extra)


@pytest.mark.parametrize("waits", [True, False])
def test_stack_policy_sees_dependencies(analyzer: analyzer_pb2_grpc.AnalyzerStub, waits: bool) -> None:
    """ID-08 reads the Job's dependencies as the engine sends them (the `dependsOn` option included)."""
    credential = _azure(
        "azure-native:managedidentity:FederatedIdentityCredential",
        "trainer-fic",
        {"subject": "system:serviceaccount:ml:trainer"},
    )
    pod = {"serviceAccountName": "trainer", "containers": [{"name": "t", "image": "x"}]}
    props = {"metadata": {"name": "train", "namespace": "ml"}, "spec": {"template": {"spec": pod}}}
    job = _azure("kubernetes:batch/v1:Job", "train", props, dependencies=[credential.urn] if waits else [])
    request = analyzer_pb2.AnalyzeStackRequest(resources=[credential, job])
    diagnostics = analyzer.AnalyzeStack(request, timeout=20).diagnostics
    found = [d for d in diagnostics if d.policyName == "ID-08"]
    assert [(d.urn, d.enforcementLevel) for d in found] == ([] if waits else [(job.urn, MANDATORY)])
