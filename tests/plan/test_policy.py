"""The offline plan runs the policy rules: dev and prod pass every mandatory control, a program change
that breaks a control (a switch's backing resource included) makes the plan exit 1 naming it (config
that breaks one is refused with exit 2, see test_cli.py), and a stack waiver turns the finding
advisory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_azure_native.authorization as az_policy
import pulumi_azure_native.containerservice as aks
import pulumi_azure_native.monitor as az_monitor
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest
from pulumi_aws import s3

from infra import config
from plan import policy, runner, stackfile
from plan.__main__ import EXIT_OK, EXIT_VIOLATIONS, main
from tests.plan.test_cli import write_stack
from tests.plans import ROOT, stack_values


def test_stack_plans_have_no_mandatory_violations(stack_plan: runner.Plan) -> None:
    files = stackfile.load(ROOT, stack_plan.stack)
    cfg = config.parse(config.read_raw(files.config.get), stack=stack_plan.stack)
    findings = policy.check(stack_plan, cfg)
    assert policy.mandatory(findings) == [], [str(f) for f in findings]


def _wrap(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, change: Callable[[dict[str, Any]], None]
) -> None:
    """Replace `module.name` (a resource class) by one that edits its keyword arguments first."""
    real = getattr(module, name)

    def patched(resource_name: str, *args: Any, **kwargs: Any) -> Any:
        change(kwargs)
        return real(resource_name, *args, **kwargs)

    monkeypatch.setattr(module, name, patched)


def _unversioned(kwargs: dict[str, Any]) -> None:
    kwargs["versioning"] = {"enabled": False}


def _suspended(kwargs: dict[str, Any]) -> None:
    kwargs["versioning_configuration"] = {"status": "Suspended"}


def _open_endpoint(kwargs: dict[str, Any]) -> None:
    kwargs["master_authorized_networks_config"]["cidr_blocks"].append({"cidr_block": "0.0.0.0/0"})


def _untainted_gpu_pool(kwargs: dict[str, Any]) -> None:
    if str(kwargs.get("vm_size", "")).startswith("Standard_N"):
        kwargs["node_taints"] = []


def _admit_all(kwargs: dict[str, Any]) -> None:
    kwargs["default_admission_rule"] = {
        "evaluation_mode": "ALWAYS_ALLOW",
        "enforcement_mode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
    }


def _audit_only(kwargs: dict[str, Any]) -> None:
    kwargs["parameters"]["effect"] = {"value": "Audit"}


def _nothing_flows(kwargs: dict[str, Any]) -> None:
    kwargs["data_flows"] = []


def _no_deadline(kwargs: dict[str, Any]) -> None:
    del kwargs["spec"]["active_deadline_seconds"]


def _no_wait_for_identity(kwargs: dict[str, Any]) -> None:
    kwargs["opts"] = pulumi.ResourceOptions(parent=kwargs["opts"].parent)


def _any_service_account(kwargs: dict[str, Any]) -> None:
    kwargs["attribute_condition"] = "assertion.sub.startsWith('system:serviceaccount:')"


def _gateway_broken(kwargs: dict[str, Any]) -> None:
    """The proxies' load balancer open to all, the REST route on plain HTTP, gRPC without the API keys.
    Each spec is built afresh for its object (infra/gateway), so it is changed in place."""
    kind, spec = kwargs.get("kind"), kwargs.get("spec") or {}
    if kind == "EnvoyProxy":
        del spec["provider"]["kubernetes"]["envoyService"]["loadBalancerSourceRanges"]
    elif kind == "HTTPRoute" and kwargs["metadata"]["name"] == "serving-rest":
        spec["parentRefs"][0]["sectionName"] = "http"
    elif kind == "SecurityPolicy":
        spec["targetRefs"] = [t for t in spec["targetRefs"] if t["kind"] != "GRPCRoute"]


def _https() -> dict[str, Any]:
    """dev's config with prod's serving under a domain, so that the gateway is planned too."""
    serving = stack_values("prod")["gpu-platform:serving"]
    keys = ("exposure", "sourceCidrs", "domain", "dns", "auth")
    return {"gpu-platform:serving": {k: serving[k] for k in keys}}


Break = tuple[Any, str, Callable[[dict[str, Any]], None], str, str]
"""(SDK module, resource class, change to its arguments, the control it breaks, the resource named)."""
BREAKS: dict[str, Break] = {
    "gcs-versioning": (gcp.storage, "Bucket", _unversioned, "ST-08", "dev-gcp-storage-bucket"),
    "s3-versioning": (s3, "BucketVersioning", _suspended, "ST-03", "dev-aws-storage-versioning"),
    "api-open": (gcp.container, "Cluster", _open_endpoint, "CP-02", "dev-gcp-gke-cluster"),
    "gpu-taint-dropped": (aks, "AgentPool", _untainted_gpu_pool, "ND-08", "dev-azure-cluster-gpu-train"),
    "binauthz-admits-all": (gcp.binaryauthorization, "Policy", _admit_all, "CP-13", "dev-gcp-binauthz"),
    "admission-audits-only": (
        az_policy,
        "PolicyAssignment",
        _audit_only,
        "CP-13",
        "dev-azure-admission-allowed-images",
    ),
    "insights-collects-nothing": (
        az_monitor,
        "DataCollectionRule",
        _nothing_flows,
        "CP-06",
        "dev-azure-cluster-insights",
    ),
    # The gateway's, with prod's domain over dev (`_HTTPS`): every cloud's, here AWS's.
    "gateway-load-balancer-open": (
        k8s.apiextensions,
        "CustomResource",
        _gateway_broken,
        "NW-04",
        "dev-aws-workloads-gateway-envoy-proxy",
    ),
    "rest-route-on-plain-http": (
        k8s.apiextensions,
        "CustomResource",
        _gateway_broken,
        "GW-01",
        "dev-aws-workloads-gateway-httproute-serving-rest",
    ),
    "grpc-without-api-keys": (
        k8s.apiextensions,
        "CustomResource",
        _gateway_broken,
        "GW-02",
        "dev-aws-workloads-gateway-grpcroute-serving-grpc",
    ),
    "job-no-deadline": (k8s.batch.v1, "Job", _no_deadline, "RL-06", "dev-aws-workloads-training-job"),
    "job-does-not-wait-for-identity": (
        k8s.batch.v1,
        "Job",
        _no_wait_for_identity,
        "ID-08",
        "dev-aws-workloads-training-job",
    ),
    "replicator-does-not-wait-for-its-trusts": (
        k8s.batch.v1,
        "CronJob",
        _no_wait_for_identity,
        "ID-08",
        "dev-aws-workloads-replicator-cronjob",
    ),
    "federation-admits-any-service-account": (
        gcp.iam,
        "WorkloadIdentityPoolProvider",
        _any_service_account,
        "ID-09",
        "dev-gcp-federation-aws-provider",
    ),
}


def test_breaking_controls_exits_1_naming_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every break at once, in one plan of the dev stack with a domain (a plan takes seconds, and twelve
    took a minute of the suite): each breaks its own control on its own resource, so each finding is that
    break's."""
    for module, name, change in {(m, n, c) for m, n, c, _, _ in BREAKS.values()}:
        _wrap(monkeypatch, module, name, change)
    project = write_stack(tmp_path, "dev", _https())
    out = tmp_path / "plan.json"
    assert main(["--stack", "dev", "--cwd", str(project), "--json", str(out)]) == EXIT_VIOLATIONS
    violations = json.loads(out.read_text())["violations"]
    assert set(violations[0]) == {"control", "severity", "resource", "message"}
    found = {(v["control"], v["resource"]) for v in violations if v["severity"] == "mandatory"}
    printed = capsys.readouterr().out
    for what, (_, _, _, control, resource) in BREAKS.items():
        assert (control, resource) in found, what
        assert control in printed, what
        assert resource in printed, what


def test_a_waiver_in_the_stack_config_makes_the_violation_advisory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wrap(monkeypatch, gcp.storage, "Bucket", _unversioned)
    waivers = [
        *stack_values("dev")["gpu-platform:waivers"],
        {"control": "ST-08", "clouds": ["gcp"], "reason": "a scratch stack whose data is disposable"},
    ]
    project = write_stack(tmp_path, "waived", {"gpu-platform:waivers": waivers})
    out = tmp_path / "plan.json"
    assert main(["--stack", "waived", "--cwd", str(project), "--json", str(out)]) == EXIT_OK
    st08 = [v for v in json.loads(out.read_text())["violations"] if v["control"] == "ST-08"]
    assert st08
    assert all(v["severity"] == "advisory" for v in st08)
