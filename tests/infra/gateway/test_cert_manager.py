"""cert-manager, built alone on the mock engine with a stand-in CRD: the v1.21.1 chart's objects with leader
election in cert-manager, DNS-01 only, no ingress-shim (nor any controller the platform does not use, nor
their RBAC), two replicas of each part, Pod Security `restricted`, and the webhook configurations created
once the webhook serves, their CA the cainjector's. The chart's text is quoted in
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
CONTROLLERS = (
    "*,-ingress-shim,-gateway-shim,-certificaterequests-issuer-ca,-certificaterequests-issuer-selfsigned,"
    "-certificaterequests-issuer-vault,-certificaterequests-issuer-venafi,"
    "-certificatesigningrequests-issuer-acme,-certificatesigningrequests-issuer-ca,"
    "-certificatesigningrequests-issuer-selfsigned,-certificatesigningrequests-issuer-venafi,"
    "-certificatesigningrequests-issuer-vault"
)
"""The controller's `--controllers`: upstream's defaults (`*`) but the shims, the issuer types other than
ACME and the experimental CSR controllers."""


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
    """The args the chart's templates write, rendered with its defaults, leader election here, and
    `extraArgs` naming the controllers that do not run."""
    extra_args = chart.CONTROLLER_ARGS.replace(chart.EXTRA_ARGS, f"- --controllers={CONTROLLERS}")
    assert _container("cert-manager")["args"] == _rendered(extra_args)
    assert _container("cert-manager-webhook")["args"] == _rendered(chart.WEBHOOK_ARGS)
    assert _container("cert-manager-cainjector")["args"] == _rendered(chart.CAINJECTOR_ARGS)
    args = _container("cert-manager")["args"]
    assert not [a for a in args if a.startswith(("--acme-http01-solver-image", "--dns01-recursive"))]


def _enabled(flag: str, *, gates: bool) -> set[str]:
    """cmd/controller/app/options/options.go@v1.21.1 `EnabledControllers` for `--controllers=<flag>`:
    `*` (or only `-name`s) is the defaults, a bare name adds itself; with `gates`, the Gateway API and
    the experimental CSR feature gate add theirs; each `-name` is removed last."""
    named = flag.split(",")
    disabled = {n[1:] for n in named if n.startswith("-")}
    enabled = set(chart.DEFAULT_CONTROLLERS) if "*" in named or len(disabled) == len(named) else set()
    enabled |= {n for n in named if n != "*" and not n.startswith("-")}
    if gates:
        enabled |= {"gateway-shim", *(n for n in chart.ALL_CONTROLLERS if n.startswith("certificatesigning"))}
    return enabled - disabled


def test_the_controller_runs_no_shim_and_only_the_acme_issuers_controllers() -> None:
    """No Ingress (ingress-shim, on by default) or Gateway (gateway-shim) anywhere can get a certificate
    from the ClusterIssuer; nor does any issuer type other than ACME sign, even were the Gateway API or
    the CSR controllers' feature gate turned on. Every name is one the controller knows: an unknown one
    fails its configuration's validation and the controller does not start."""
    (flag,) = [a for a in _container("cert-manager")["args"] if a.startswith("--controllers=")]
    value = flag.removeprefix("--controllers=")
    assert value == CONTROLLERS
    names = value.split(",")
    assert names[0] == "*"
    assert {n.removeprefix("-") for n in names[1:]} <= set(chart.ALL_CONTROLLERS)
    needed = set(chart.DEFAULT_CONTROLLERS) - {
        "ingress-shim",
        *(f"certificaterequests-issuer-{kind}" for kind in ("ca", "selfsigned", "vault", "venafi")),
    }
    for gates in (False, True):
        enabled = _enabled(value, gates=gates)
        assert "ingress-shim" not in enabled
        assert "gateway-shim" not in enabled
        assert enabled == needed, gates
    # The controllers the ACME ClusterIssuer's certificate goes through all run.
    assert {
        "clusterissuers",
        "certificates-trigger",
        "certificates-key-manager",
        "certificates-request-manager",
        "certificates-issuing",
        "certificates-readiness",
        "certificates-revision-manager",
        "certificaterequests-approver",
        "certificaterequests-issuer-acme",
        "orders",
        "challenges",
    } <= needed
    # Upstream's `*` alone would run the ingress-shim.
    assert "ingress-shim" in _enabled("*", gates=False)


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


def _rules(name: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = yaml.safe_load(chart.ROLES[name][2])
    return rules


def _less(rules: list[dict[str, Any]], group: str, resources: list[str], verbs: set[str]) -> None:
    """Take `verbs` out of the one rule of `rules` on `resources` of `group`, which must hold them all;
    the rule goes if none is left."""
    (index,) = [i for i, r in enumerate(rules) if r["apiGroups"] == [group] and r["resources"] == resources]
    rule = rules[index]
    assert verbs <= set(rule["verbs"]), (group, resources, verbs)
    kept = [v for v in rule["verbs"] if v not in verbs]
    if kept:
        rule["verbs"] = kept
    else:
        del rules[index]


SHIM_ROLE = "cert-manager-controller-ingress-shim"
CSR_ROLE = "cert-manager-controller-certificatesigningrequests"
NOT_DECLARED = {SHIM_ROLE, CSR_ROLE}
"""The roles of the controllers that do not run: the ingress-shim (and gateway-shim) and the experimental
CertificateSigningRequest controllers."""
REQUESTS_WRITE = {
    "apiGroups": ["cert-manager.io"],
    "resources": ["certificaterequests"],
    "verbs": ["create", "delete"],
}
"""The ingress-shim role's one rule that other controllers need: certificates-request-manager creates and
deletes CertificateRequests, certificates-revision-manager deletes them; the chart grants it nowhere else."""


def expected_roles() -> dict[str, list[dict[str, Any]]]:
    """The chart's roles, departing exactly as the module's docstring says."""
    roles = {name: _rules(name) for name in chart.ROLES if name not in NOT_DECLARED}
    # The ingress-shim role's CertificateRequest create and delete, in the certificates controllers' role.
    shim_writes = _rules(SHIM_ROLE)[0]
    assert shim_writes["resources"] == ["certificates", "certificaterequests"]
    assert set(REQUESTS_WRITE["verbs"]) <= set(shim_writes["verbs"])
    roles["cert-manager-controller-certificates"].append(REQUESTS_WRITE)
    # HTTP-01's writes, and the HTTPRoute and OpenShift rules; the informers' reads stay.
    challenges = roles["cert-manager-controller-challenges"]
    _less(challenges, "", ["pods", "services"], {"create", "delete"})
    _less(challenges, "networking.k8s.io", ["ingresses"], {"create", "delete", "update"})
    _less(
        challenges,
        "gateway.networking.k8s.io",
        ["httproutes"],
        {"get", "list", "watch", "create", "delete", "update"},
    )
    _less(challenges, "route.openshift.io", ["routes/custom-host"], {"create"})
    return roles


def test_rbac_is_the_charts_and_binds_each_role_to_its_part() -> None:
    b = built()
    declared = {r.inputs["metadata"]["name"]: r for r in b.of(CLUSTER_ROLE) + b.of(ROLE)}
    expected = expected_roles()
    # The chart's roles but those of the controllers that do not run, and the DNS-01 sign-in's (ours,
    # tested below).
    assert set(declared) == {*expected, cert_manager.DNS01_TOKEN_ROLE}
    for name, rules in expected.items():
        template, kind, _ = chart.ROLES[name]
        res = declared[name]
        assert res.type == (CLUSTER_ROLE if kind == "ClusterRole" else ROLE), name
        assert integral(res.inputs)["rules"] == rules, f"{name} against {template}"
    bindings = {
        r.inputs["metadata"]["name"]: integral(r.inputs)
        for r in b.of(CLUSTER_ROLE_BINDING) + b.of(ROLE_BINDING)
    }
    assert set(bindings) == {*expected, cert_manager.DNS01_TOKEN_ROLE}
    for name, binding in bindings.items():
        assert binding["roleRef"]["name"] == name
        (subject,) = binding["subjects"]
        account = next(n for n in reversed(NAMES) if name.startswith(n))
        assert subject == {"kind": "ServiceAccount", "name": account, "namespace": "cert-manager"}, name
    for role in b.of(ROLE) + b.of(ROLE_BINDING):
        assert role.inputs["metadata"]["namespace"] == "cert-manager"


def test_the_controller_writes_no_ingress_gateway_solver_or_certificate() -> None:
    """What the ingress-shim, HTTP-01 and the CSR controllers wrote is not granted: the controller only reads
    pods, services and Ingresses (its challenges informers), never Gateways or routes, creates no
    Certificate and signs no Kubernetes CSR. It may still create and delete CertificateRequests, which
    the chart grants in the ingress-shim's role alone."""
    b = built()
    rules = [
        rule
        for role in b.of(CLUSTER_ROLE) + b.of(ROLE)
        if role.inputs["metadata"]["name"].startswith(("cert-manager-controller", "cert-manager:"))
        for rule in integral(role.inputs)["rules"]
    ]
    verbs: dict[str, set[str]] = {}
    for rule in rules:
        for resource in rule["resources"]:
            verbs.setdefault(resource, set()).update(rule["verbs"])
    for resource in ("pods", "services", "ingresses"):
        assert verbs[resource] == {"get", "list", "watch"}, resource
    for resource in (
        "gateways",
        "httproutes",
        "listenersets",
        "routes/custom-host",
        "ingresses/finalizers",
        "certificatesigningrequests",
        "subjectaccessreviews",
    ):
        assert resource not in verbs, resource
    assert "create" not in verbs["certificates"]
    assert "delete" not in verbs["certificates"]
    assert {"create", "delete"} <= verbs["certificaterequests"]
    granting = [
        name
        for name in chart.ROLES
        for rule in _rules(name)
        if "certificaterequests" in rule["resources"] and "create" in rule["verbs"]
    ]
    assert granting == [SHIM_ROLE]


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
