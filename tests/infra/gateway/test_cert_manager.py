"""cert-manager, built alone on the mock engine with a stand-in CRD: the v1.21.1 chart's objects with leader
election in cert-manager, DNS-01 only, two replicas of each part, Pod Security `restricted`, and the webhook
configurations created once the webhook serves, their CA the cainjector's. The chart's text is quoted in
`cert_manager_chart.py` (the tests run without the mirror)."""

from __future__ import annotations

import functools
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.clouds.base import EgressRule
from infra.gateway import cert_manager, crds
from plan.manifests import integral, manifest
from policy.controls import workload_resources
from tests.infra.gateway import cert_manager_chart as chart
from tests.infra.gateway import objects
from tests.infra.gateway.objects import (
    ACCOUNT,
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    CONFIG_MAP,
    DEPLOYMENT,
    MUTATING,
    NAMESPACE,
    PDB,
    POLICY,
    ROLE,
    ROLE_BINDING,
    SERVICE,
    VALIDATING,
    Built,
)
from tests.plans import waits_for

IMAGES = {
    part: f"registry.example.com/gpu-platform/cert-manager-{part}@sha256:" + digit * 64
    for part, digit in (("controller", "a"), ("webhook", "b"), ("cainjector", "c"))
}
LABELS = {"project": "gpu-platform", "stack": "dev", "component": "gateway"}
SYSTEM_POOL = {"gpu-platform/pool": "general"}
IDENTITY = {"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000"}
IDENTITY_POD_LABELS = {"azure.workload.identity/use": "true"}
METADATA_SERVER = (EgressRule("169.254.169.254/32", 80), EgressRule("169.254.169.252/32", 988))
NAMES = ("cert-manager", "cert-manager-webhook", "cert-manager-cainjector")


TOKEN_RULE = {
    "api_groups": [""],
    "resources": ["serviceaccounts/token"],
    "resource_names": ["cert-manager"],
    "verbs": ["create"],
}
"""What a DNS-01 sign-in by web identity needs (`Dns01Access.rules`)."""


@functools.cache
def built() -> Built:
    def program(crd: list[pulumi.Resource]) -> None:
        cert_manager.CertManager(
            "cert-manager",
            cert_manager.CertManagerArgs(
                images=cert_manager.CertManagerImages(
                    controller=pulumi.Output.from_input(IMAGES["controller"]),
                    webhook=IMAGES["webhook"],
                    cainjector=IMAGES["cainjector"],
                ),
                labels=LABELS,
                node_selector=SYSTEM_POOL,
                controller_annotations=IDENTITY,
                controller_pod_labels=IDENTITY_POD_LABELS,
                identity_egress=METADATA_SERVER,
                crds=crd,
                controller_rules=[TOKEN_RULE],
                # A stand-in for the cloud side of the identity (kept out of `objects()`).
                identity_ready=[k8s.core.v1.ConfigMap("stand-in-identity", metadata={"name": "identity"})],
            ),
        )

    return objects.build(program)


def _deployment(name: str) -> dict[str, Any]:
    return built().inputs(DEPLOYMENT, name)


def _container(name: str) -> dict[str, Any]:
    (container,) = _deployment(name)["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _rendered(text: str) -> Any:
    for template, value in chart.VALUES.items():
        text = text.replace(template, value)
    return yaml.safe_load(text)


def test_every_object_validates_strictly() -> None:
    b = built()
    assert not objects.core_failures(b)
    assert {manifest(r)["kind"] for r in b.objects()} == {
        "Namespace",
        "NetworkPolicy",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }


def test_every_pod_passes_the_policy_packs_workload_rules() -> None:
    """WL-01..WL-06 (pod security), WL-07 (requests and limits) and WL-08's digest pin."""
    b = built()
    assert not objects.pod_security_failures(b)
    for res in b.of(DEPLOYMENT):
        props = integral(res.inputs)
        assert not list(workload_resources.resources(res.type, props)), res.name
        assert not list(workload_resources.pinned(res.type, props)), res.name
    labels = b.inputs(NAMESPACE, "cert-manager")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    for res in b.objects():
        if res.type not in {NAMESPACE, CLUSTER_ROLE, CLUSTER_ROLE_BINDING, MUTATING, VALIDATING}:
            assert res.inputs["metadata"]["namespace"] == "cert-manager", res.name


def test_each_part_runs_twice_spread_with_a_budget_and_a_surge() -> None:
    """RL-01, RL-02 and RL-04 hold every Deployment outside kube-system; RL-03 wants both probes."""
    b = built()
    budgets = {p.inputs["metadata"]["name"]: integral(p.inputs)["spec"] for p in b.of(PDB)}
    assert set(budgets) == set(NAMES)
    for name in NAMES:
        spec = _deployment(name)["spec"]
        assert spec["replicas"] == 2
        assert spec["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        }
        pod = spec["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] == 30
        assert len(pod["topologySpreadConstraints"]) == 2
        assert pod["nodeSelector"] == {"kubernetes.io/os": "linux", **SYSTEM_POOL}
        assert budgets[name] == {"minAvailable": 1, "selector": spec["selector"]}
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        container = _container(name)
        assert {"livenessProbe", "readinessProbe"} <= set(container), name


def test_the_images_are_the_given_ones() -> None:
    for part, name in zip(("controller", "webhook", "cainjector"), NAMES, strict=True):
        assert _container(name)["image"] == IMAGES[part]


def test_the_args_are_the_charts() -> None:
    """The args the chart's templates write, rendered with its defaults and leader election here."""
    assert _container("cert-manager")["args"] == _rendered(chart.CONTROLLER_ARGS)
    assert _container("cert-manager-webhook")["args"] == _rendered(chart.WEBHOOK_ARGS)
    assert _container("cert-manager-cainjector")["args"] == _rendered(chart.CAINJECTOR_ARGS)
    args = _container("cert-manager")["args"]
    assert not [a for a in args if a.startswith(("--acme-http01-solver-image", "--dns01-recursive"))]


def test_the_probes_and_ports_are_upstreams_where_it_has_them() -> None:
    """templates/webhook-deployment.yaml and deployment.yaml@v1.21.1 with values.yaml's timings."""
    webhook = _container("cert-manager-webhook")
    assert {p["name"]: p["containerPort"] for p in webhook["ports"]} == {
        "https": 10250,
        "healthcheck": 6080,
        "http-metrics": 9402,
    }
    assert webhook["livenessProbe"] == {
        "httpGet": {"path": "/livez", "port": "healthcheck", "scheme": "HTTP"},
        "initialDelaySeconds": 60,
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert webhook["readinessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": "healthcheck",
        "scheme": "HTTP",
    }
    controller = _container("cert-manager")
    assert controller["livenessProbe"] == {
        "httpGet": {"path": "/livez", "port": "http-healthz", "scheme": "HTTP"},
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "timeoutSeconds": 15,
        "successThreshold": 1,
        "failureThreshold": 8,
    }
    assert {p["name"]: p["containerPort"] for p in controller["ports"]} == {
        "http-metrics": 9402,
        "http-healthz": 9403,
    }
    for name in NAMES:
        assert _container(name)["env"] == [
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}
        ]


def test_the_controller_carries_the_clouds_identity() -> None:
    b = built()
    account = b.inputs(ACCOUNT, "cert-manager")["metadata"]
    assert account["annotations"] == IDENTITY
    labels = _deployment("cert-manager")["spec"]["template"]["metadata"]["labels"]
    assert labels.items() >= IDENTITY_POD_LABELS.items()
    for name in ("cert-manager-webhook", "cert-manager-cainjector"):
        assert not b.inputs(ACCOUNT, name)["metadata"].get("annotations")
        assert (
            "azure.workload.identity/use" not in _deployment(name)["spec"]["template"]["metadata"]["labels"]
        )


def test_rbac_is_the_charts_and_binds_each_role_to_its_part() -> None:
    b = built()
    declared = {r.inputs["metadata"]["name"]: r for r in b.of(CLUSTER_ROLE) + b.of(ROLE)}
    # The chart's roles, and the DNS-01 sign-in's (ours, tested below).
    assert set(declared) == {*chart.ROLES, cert_manager.DNS01_TOKEN_ROLE}
    for name, (template, kind, rules) in chart.ROLES.items():
        res = declared[name]
        assert res.type == (CLUSTER_ROLE if kind == "ClusterRole" else ROLE), name
        assert integral(res.inputs)["rules"] == yaml.safe_load(rules), f"{name} against {template}"
    bindings = {
        r.inputs["metadata"]["name"]: integral(r.inputs)
        for r in b.of(CLUSTER_ROLE_BINDING) + b.of(ROLE_BINDING)
    }
    assert set(bindings) == {*chart.ROLES, cert_manager.DNS01_TOKEN_ROLE}
    for name, binding in bindings.items():
        assert binding["roleRef"]["name"] == name
        (subject,) = binding["subjects"]
        account = next(n for n in reversed(NAMES) if name.startswith(n))
        assert subject == {"kind": "ServiceAccount", "name": account, "namespace": "cert-manager"}, name
    for role in b.of(ROLE) + b.of(ROLE_BINDING):
        assert role.inputs["metadata"]["namespace"] == "cert-manager"


def test_the_webhooks_are_the_charts() -> None:
    b = built()
    validating = b.inputs(VALIDATING, "cert-manager-webhook")
    mutating = b.inputs(MUTATING, "cert-manager-webhook")
    assert validating["webhooks"] == yaml.safe_load(chart.VALIDATING_WEBHOOK)
    assert mutating["webhooks"] == yaml.safe_load(chart.MUTATING_WEBHOOK)
    service = b.inputs(SERVICE, "cert-manager-webhook")["spec"]
    assert {"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"} in service["ports"]
    assert (
        service["selector"].items()
        <= _deployment("cert-manager-webhook")["spec"]["template"]["metadata"]["labels"].items()
    )


def test_the_ca_is_the_cainjectors_and_pulumi_waits_for_it() -> None:
    b = built()
    key = chart.INJECT_CA.split(":")[0]
    for res in b.of(MUTATING) + b.of(VALIDATING):
        assert res.ignore_changes == ["webhooks[*].clientConfig.caBundle"]
        assert res.inputs["metadata"]["annotations"] == {
            key: "cert-manager/cert-manager-webhook-ca",
            "pulumi.com/waitFor": "jsonpath={.webhooks[*].clientConfig.caBundle}",
        }
        for hook in res.inputs["webhooks"]:
            assert "caBundle" not in hook["clientConfig"]
    # The webhook writes its CA's Secret itself: declaring it would race it.
    assert not b.of("kubernetes:core/v1:Secret")


def test_order_crds_rbac_deployments_webhooks() -> None:
    b = built()
    for res in b.objects():
        assert waits_for(b.plan, res, b.crd), res.name
    deployments = {r.inputs["metadata"]["name"]: r for r in b.of(DEPLOYMENT)}
    grants = b.of(ROLE_BINDING) + b.of(CLUSTER_ROLE_BINDING) + b.of(ACCOUNT) + b.of(POLICY)
    for deployment in deployments.values():
        for grant in grants:
            assert waits_for(b.plan, deployment, grant), (deployment.name, grant.name)
    for res in b.of(MUTATING) + b.of(VALIDATING):
        for name in ("cert-manager-webhook", "cert-manager-cainjector"):
            assert deployments[name].urn in res.depends_on


def test_the_network_allows_dns01_the_api_and_the_webhook_only() -> None:
    policies = {p.inputs["metadata"]["name"]: integral(p.inputs)["spec"] for p in built().of(POLICY)}
    assert set(policies) == {
        "default-deny",
        "allow-dns",
        "api-egress",
        "webhook-ingress",
        "controller-egress",
        "identity-egress",
    }
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (webhook,) = policies["webhook-ingress"]["ingress"]
    assert webhook == {"ports": [{"protocol": "TCP", "port": 10250}]}
    (egress,) = policies["controller-egress"]["egress"]
    assert egress["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}]
    assert {(p["protocol"], p["port"]) for p in egress["ports"]} == {("UDP", 53), ("TCP", 53), ("TCP", 443)}
    controller = {"matchLabels": cert_manager.CONTROLLER_PART.selector}
    assert policies["controller-egress"]["podSelector"] == controller
    assert policies["identity-egress"]["podSelector"] == controller
    assert [r["to"][0]["ipBlock"]["cidr"] for r in policies["identity-egress"]["egress"]] == [
        "169.254.169.254/32",
        "169.254.169.252/32",
    ]
    # All three call the API server.
    assert policies["api-egress"]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/instance": "cert-manager"}
    }
    for name in NAMES:
        labels = _deployment(name)["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "cert-manager"


def test_the_release_is_the_vendored_crds() -> None:
    assert cert_manager.VERSION == crds.CERT_MANAGER.tag == "v1.21.1"


def test_the_controller_gets_its_dns01_rules_and_waits_for_its_identity() -> None:
    """On GKE and AKS it mints its own token for Route 53 (TokenRequest); on EKS Pod Identity gives
    credentials only to pods started after the association."""
    b = built()
    role = b.inputs(ROLE, cert_manager.DNS01_TOKEN_ROLE)
    (rule,) = role["rules"]
    assert rule == {
        "apiGroups": [""],
        "resources": ["serviceaccounts/token"],
        "resourceNames": ["cert-manager"],
        "verbs": ["create"],
    }
    binding = b.inputs(ROLE_BINDING, cert_manager.DNS01_TOKEN_ROLE)
    (subject,) = binding["subjects"]
    assert subject == {"kind": "ServiceAccount", "name": "cert-manager", "namespace": "cert-manager"}
    identity = b.named(CONFIG_MAP, "identity")
    for deployment in b.of(DEPLOYMENT):
        name = deployment.inputs["metadata"]["name"]
        assert (identity.urn in deployment.depends_on) == (name == "cert-manager"), name
