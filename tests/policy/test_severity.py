"""Severity: a finding fails unless its control is advisory by nature (CF-01), the stack waives the control
for the resource's cloud, or the rule says why it only advises (node agents, vendor images pinned by
digest, ACR below Premium)."""

from __future__ import annotations

from policy import engine
from policy.controls import CONTROLS
from tests.policy.conftest import STACKS
from tests.policy.stacks import Fixture, changed, set_key, stack, violations


def _finding(
    fixtures: list[Fixture], control_id: str, waivers: engine.Waivers | None = None
) -> engine.Finding:
    found = [
        f for f in engine.evaluate(stack(fixtures, protect=True), waivers or {}) if f.control == control_id
    ]
    assert found, control_id
    return found[0]


def test_a_waiver_makes_its_control_advisory_on_its_clouds_only() -> None:
    fixtures = changed(STACKS["azure"](), set_key("account", "encryption", {}))
    waived = _finding(fixtures, "ST-12", {("ST-12", "azure"): "dev holds no customer data"})
    assert (waived.severity, waived.reason) == ("advisory", "waived on azure: dev holds no customer data")
    assert _finding(fixtures, "ST-12", {("ST-12", "aws"): "not this cloud"}).severity == "mandatory"


def _node_agent(namespace: str, kind: str = "DaemonSet") -> list[Fixture]:
    """A device-plugin-like agent: host path, root, default service account without a token, in its own
    namespace at the PSS level it needs, with a default-deny policy and no egress (so no DNS needed)."""
    pod = {
        "automountServiceAccountToken": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "agent",
                "image": "us-central1-docker.pkg.dev/acme-dev/ml/agent@sha256:" + "c" * 64,
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                "resources": {
                    "requests": {"cpu": "10m", "memory": "8Mi"},
                    "limits": {"cpu": "10m", "memory": "8Mi"},
                },
                "volumeMounts": [{"name": "sockets", "mountPath": "/var/lib/kubelet/device-plugins"}],
            }
        ],
        "volumes": [{"name": "sockets", "hostPath": {"path": "/var/lib/kubelet/device-plugins"}}],
    }
    labels = {"pod-security.kubernetes.io/enforce": "privileged"}
    deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    meta = {"name": "agent", "namespace": namespace}
    return [
        Fixture(
            "kubernetes:core/v1:Namespace",
            "agents-ns",
            {"metadata": {"name": namespace, "labels": labels}},
            (),
            "gcp",
        ),
        Fixture(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "agents-deny",
            {"metadata": meta, "spec": deny},
            (),
            "gcp",
        ),
        Fixture(
            f"kubernetes:apps/v1:{kind}",
            "agent",
            {"metadata": meta, "spec": {"template": {"spec": pod}}},
            (),
            "gcp",
        ),
    ]


def test_node_agents_get_advisory_findings_for_what_they_need() -> None:
    findings = engine.evaluate(stack([*STACKS["gcp"](), *_node_agent("agents")], protect=True), {})
    assert {f.severity for f in findings} == {"advisory"}
    assert {(f.control, f.resource) for f in findings} == {
        ("WL-01", "agent"),
        ("WL-05", "agent"),
        ("WL-06", "agent"),
        ("ID-07", "agent"),
        ("WL-09", "agents-ns"),
    }


def test_a_privileged_namespace_with_other_workloads_fails() -> None:
    fixtures = [*STACKS["gcp"](), *_node_agent("agents", kind="Deployment")]
    mandatory = [f for f in engine.evaluate(stack(fixtures, protect=True), {}) if f.severity == "mandatory"]
    assert ("WL-09", "agents-ns") in {(f.control, f.resource) for f in mandatory}
    assert ("WL-05", "agent") in {(f.control, f.resource) for f in mandatory}


def test_kube_system_controllers_may_keep_their_token() -> None:
    fixtures = changed(
        STACKS["gcp"](),
        set_key("serving", "metadata.namespace", "kube-system"),
        set_key("serving", "spec.template.spec.automountServiceAccountToken", True),
        set_key("serving-sa", "metadata.namespace", "kube-system"),
    )
    tokens = [f for f in engine.evaluate(stack(fixtures), {}) if f.control == "ID-07"]
    assert [(f.severity, f.resource) for f in tokens] == [("advisory", "serving")]


def test_vendor_images_pinned_by_digest_are_advisory() -> None:
    image = "docker.io/tensorflow/serving@sha256:" + "b" * 64
    fixtures = changed(STACKS["gcp"](), set_key("serving", "spec.template.spec.containers[0].image", image))
    finding = _finding(fixtures, "WL-08")
    assert (finding.severity, finding.resource) == ("advisory", "serving")


def test_acr_network_lockdown_advises_below_premium() -> None:
    fixtures = changed(
        STACKS["azure"](),
        set_key("acr", "sku.name", "Standard"),
        set_key("acr", "publicNetworkAccess", "Enabled"),
    )
    finding = _finding(fixtures, "RG-03")
    assert finding.severity == "advisory"
    assert "Premium" in str(finding.reason)


def test_config_validation_is_advisory_by_nature_and_finds_nothing_on_inputs() -> None:
    assert CONTROLS["CF-01"].advisory
    assert violations("CF-01", stack(STACKS["gcp"]())) == []


def test_parse_waivers_needs_a_reason() -> None:
    raw = [
        {"control": "ST-12", "clouds": ["azure"], "reason": "no customer data in dev"},
        {"control": "CP-04", "clouds": ["aws"], "reason": ""},
        "not a waiver",
    ]
    assert engine.parse_waivers(raw) == {("ST-12", "azure"): "no customer data in dev"}
    assert engine.parse_waivers(None) == {}
