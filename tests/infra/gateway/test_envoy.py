"""Envoy Gateway's controller, built alone on the mock engine with a stand-in CRD: upstream's v1.9.0 release
manifest (`helm template eg charts/gateway-helm`, rendered at the tag in test/helm/gateway-helm/
default-config.out.yaml) without the topology injector, Pod Security `restricted`, certgen before the
controller, and the class `envoy` once the controller serves. The upstream files are not read here (the
tests run without the mirror): each check names the file at the tag it stands for."""

from __future__ import annotations

import functools
from typing import Any

import pulumi
import pytest
import yaml

from infra import naming
from infra.gateway import crds, envoy
from plan.manifests import integral, manifest
from tests.infra.gateway import objects
from tests.infra.gateway.objects import (
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    CONFIG_MAP,
    DEPLOYMENT,
    JOB,
    NAMESPACE,
    POLICY,
    ROLE,
    ROLE_BINDING,
    SERVICE,
    Built,
)
from tests.infra.gateway.schemas import GATEWAY
from tests.plans import waits_for

IMAGE = "registry.example.com/gpu-platform/trainer@sha256:" + "a" * 64
PROXY_IMAGE = "registry.example.com/gpu-platform/trainer@sha256:" + "b" * 64
LABELS = {"project": "gpu-platform", "stack": "dev", "component": "gateway"}
SYSTEM_POOL = {"gpu-platform/pool": "general"}
ANNOTATIONS = {"service.beta.kubernetes.io/aws-load-balancer-type": "external"}
SOURCES = ("198.51.100.0/24", "203.0.113.7/32")
PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass"


@functools.cache
def built() -> Built:
    def program(crd: list[pulumi.Resource]) -> None:
        envoy.EnvoyGateway(
            "gateway",
            envoy.EnvoyGatewayArgs(
                image=pulumi.Output.from_input(IMAGE),
                proxy_image=pulumi.Output.from_input(PROXY_IMAGE),
                labels=LABELS,
                node_selector=SYSTEM_POOL,
                load_balancer_annotations=ANNOTATIONS,
                source_ranges=SOURCES,
                backends={"ml": (8501, 8500)},
                watch_namespaces=("ml",),
                crds=crd,
            ),
        )

    return objects.build(program)


def _pod(type_: str, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = built().inputs(type_, name)["spec"]["template"]["spec"]
    return pod


def test_every_object_validates_strictly() -> None:
    b = built()
    assert not objects.core_failures(b)
    assert not objects.custom_failures(b)
    assert {manifest(r)["kind"] for r in b.objects()} == {
        "Namespace",
        "NetworkPolicy",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Job",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "EnvoyProxy",
        "GatewayClass",
    }


def test_every_pod_meets_pod_security_restricted() -> None:
    b = built()
    assert not objects.pod_security_failures(b)
    labels = b.inputs(NAMESPACE, "envoy-gateway-system")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    for res in b.objects():
        if res.type in {ROLE, ROLE_BINDING} and res.inputs["metadata"]["namespace"] == "ml":
            # The controller's rights in the watched serving namespace, and nothing else there.
            assert res.inputs["metadata"]["name"].startswith("eg-gateway-helm-envoy-gateway-role"), res.name
        elif res.type not in {NAMESPACE, CLUSTER_ROLE, CLUSTER_ROLE_BINDING, CLASS}:
            assert res.inputs["metadata"]["namespace"] == "envoy-gateway-system", res.name


def test_the_proxies_are_restricted_but_for_their_writable_root() -> None:
    """internal/infrastructure/kubernetes/proxy/resource.go@v1.9.0 leaves both containers' root writable."""
    kube = built().inputs(PROXY, "envoy")["spec"]["provider"]["kubernetes"]
    deployment = kube["envoyDeployment"]
    assert deployment["replicas"] == 2
    assert deployment["container"]["image"] == PROXY_IMAGE
    assert deployment["container"]["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert deployment["pod"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert deployment["pod"]["nodeSelector"] == SYSTEM_POOL
    assert kube["envoyPDB"] == {"minAvailable": 1}


def test_the_load_balancer_admits_the_source_ranges_only() -> None:
    """NW-04 for the Service Envoy Gateway makes from the EnvoyProxy (the CRD's `envoyService`
    `loadBalancerSourceRanges`, valid for a LoadBalancer only); the whole object validates against the
    vendored CRD in test_every_object_validates_strictly."""
    proxy = manifest(built().named(PROXY, "envoy"))
    service = proxy["spec"]["provider"]["kubernetes"]["envoyService"]
    assert service == {
        "type": "LoadBalancer",
        "annotations": ANNOTATIONS,
        "loadBalancerSourceRanges": list(SOURCES),
    }
    assert not GATEWAY.validate(proxy)
    # The schema does check the field: the CRD's CEL rule refuses it on any other Service type.
    service["type"] = "ClusterIP"
    assert any("loadBalancerSourceRanges can only be set" in e for e in GATEWAY.validate(proxy))


def test_no_source_ranges_is_refused() -> None:
    args = envoy.EnvoyGatewayArgs(
        image=IMAGE,
        proxy_image=PROXY_IMAGE,
        labels=LABELS,
        node_selector=None,
        load_balancer_annotations=ANNOTATIONS,
        source_ranges=(),
        backends={},
        watch_namespaces=(),
        crds=(),
    )
    with pytest.raises(ValueError, match="source ranges"):
        envoy.proxy_spec(args)


def test_the_class_is_the_controllers_and_names_the_proxy() -> None:
    spec = built().inputs(CLASS, "envoy")["spec"]
    assert spec == {
        "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
        "parametersRef": {
            "group": "gateway.envoyproxy.io",
            "kind": "EnvoyProxy",
            "name": "envoy",
            "namespace": "envoy-gateway-system",
        },
    }


def test_the_config_is_the_gateway_api_on_kubernetes_without_the_injector() -> None:
    """templates/envoy-gateway-config.yaml@v1.9.0 less the rate-limit Deployment, watching the serving
    namespace and the controller's (api/v1alpha1/envoygateway_types.go KubernetesWatchMode: `type` must be
    `Namespaces`, or the list is ignored); the controller reads it at start, so a change restarts it."""
    b = built()
    text = b.inputs(CONFIG_MAP, "envoy-gateway-config")["data"]["envoy-gateway.yaml"]
    assert yaml.safe_load(text) == {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "EnvoyGateway",
        "gateway": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
        "logging": {"level": {"default": "info"}},
        "provider": {
            "type": "Kubernetes",
            "kubernetes": {
                "shutdownManager": {"image": IMAGE},
                "proxyTopologyInjector": {"disabled": True},
                "watch": {"type": "Namespaces", "namespaces": ["envoy-gateway-system", "ml"]},
            },
        },
    }
    annotations = b.inputs(DEPLOYMENT, "envoy-gateway")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["gpu-platform/config-hash"] == naming.short_hash(text, length=16)


def test_the_controller_runs_as_upstream_runs_it() -> None:
    """templates/envoy-gateway-deployment.yaml@v1.9.0 with the chart's defaults."""
    pod = _pod(DEPLOYMENT, "envoy-gateway")
    (container,) = pod["containers"]
    assert container["image"] == IMAGE
    assert container["args"] == ["server", "--config-path=/config/envoy-gateway.yaml"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "grpc": 18000,
        "ratelimit": 18001,
        "wasm": 18002,
        "metrics": 19001,
    }
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": 8081}
    assert container["startupProbe"]["failureThreshold"] == 30
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8081}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts == {
        "/config": "envoy-gateway-config",
        "/certs": "certs",
        "/var/lib/eg/wasm": "wasm-cache",
        "/tmp": "tmp",
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["certs"]["secret"] == {"secretName": "envoy-gateway"}
    assert pod["serviceAccountName"] == "envoy-gateway"
    assert pod["nodeSelector"] == SYSTEM_POOL
    service = built().inputs(SERVICE, "envoy-gateway")["spec"]
    assert 9443 not in {p["port"] for p in service["ports"]}
    assert (
        service["selector"].items()
        <= built().inputs(DEPLOYMENT, "envoy-gateway")["spec"]["template"]["metadata"]["labels"].items()
    )


# templates/_rbac.tpl@v1.9.0 as rendered in test/helm/gateway-helm/
# envoy-gateway-gateway-namespace-config-watch.out.yaml: `eg.rbac.cluster`, the ClusterRole's rules when
# namespaces are watched, and `eg.rbac.namespaced` without its last rule, the topology injector's
# (`pods`, `pods/binding`), each watched namespace's Role.
CHART_CLUSTER_RULES = """
- apiGroups: [""]
  resources: [nodes, namespaces]
  verbs: [get, list, watch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [gatewayclasses]
  verbs: [get, list, patch, update, watch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [gatewayclasses/status]
  verbs: [update]
- apiGroups: [multicluster.x-k8s.io]
  resources: [serviceimports]
  verbs: [get, list, watch]
"""
CHART_NAMESPACED_RULES = """
- apiGroups: [""]
  resources: [configmaps, secrets, services]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, daemonsets]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [gateway.envoyproxy.io]
  resources: [envoyproxies, envoypatchpolicies, clienttrafficpolicies, backendtrafficpolicies,
    securitypolicies, envoyextensionpolicies, backends, httproutefilters]
  verbs: [get, list, watch]
- apiGroups: [gateway.envoyproxy.io]
  resources: [envoyproxies/status, envoypatchpolicies/status, clienttrafficpolicies/status,
    backendtrafficpolicies/status, securitypolicies/status, envoyextensionpolicies/status, backends/status]
  verbs: [update]
- apiGroups: [gateway.networking.k8s.io]
  resources: [gateways, listenersets, grpcroutes, httproutes, referencegrants, tcproutes, tlsroutes,
    udproutes, backendtlspolicies]
  verbs: [get, list, watch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [gateways/status, listenersets/status, grpcroutes/status, httproutes/status, tcproutes/status,
    tlsroutes/status, udproutes/status, backendtlspolicies/status]
  verbs: [update]
"""


def test_the_cluster_role_is_upstreams_watched_namespace_form() -> None:
    """templates/envoy-gateway-rbac.yaml@v1.9.0 with watched namespaces: the ClusterRole holds only
    `eg.rbac.cluster`, so the controller reads no Secret, ConfigMap or Service outside them; no certgen
    ClusterRole (the topology injector's)."""
    b = built()
    role = b.inputs(CLUSTER_ROLE, "eg-gateway-helm-envoy-gateway-role")
    assert role["rules"] == envoy.CLUSTER_RULES == yaml.safe_load(CHART_CLUSTER_RULES)
    namespaced = {"secrets", "configmaps", "services", "endpointslices", "pods", "pods/binding"}
    assert not any(namespaced & set(r["resources"]) for r in role["rules"])
    assert {r.inputs["metadata"]["name"] for r in b.of(CLUSTER_ROLE)} == {
        "eg-gateway-helm-envoy-gateway-role"
    }
    (binding,) = b.of(CLUSTER_ROLE_BINDING)
    assert binding.inputs["roleRef"]["name"] == "eg-gateway-helm-envoy-gateway-role"
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "envoy-gateway", "namespace": "envoy-gateway-system"}
    ]


def test_each_watched_namespace_has_the_namespaced_rules_bound_to_the_controller() -> None:
    """templates/envoy-gateway-rbac.yaml@v1.9.0's range over the watched namespaces: a Role with
    `eg.rbac.namespaced` (less the topology injector's rule) and its RoleBinding to the controller's
    account, in the serving namespace and the controller's own, where the class's EnvoyProxy is."""
    b = built()
    roles = {
        r.inputs["metadata"]["namespace"]: integral(r.inputs)
        for r in b.of(ROLE)
        if r.inputs["metadata"]["name"] == "eg-gateway-helm-envoy-gateway-role"
    }
    assert set(roles) == {"envoy-gateway-system", "ml"}
    for role in roles.values():
        assert role["rules"] == envoy.NAMESPACED_RULES == yaml.safe_load(CHART_NAMESPACED_RULES)
    bindings = {
        r.inputs["metadata"]["namespace"]: integral(r.inputs)
        for r in b.of(ROLE_BINDING)
        if r.inputs["metadata"]["name"] == "eg-gateway-helm-envoy-gateway-rolebinding"
    }
    assert set(bindings) == set(roles)
    for binding in bindings.values():
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "eg-gateway-helm-envoy-gateway-role",
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "envoy-gateway", "namespace": "envoy-gateway-system"}
        ]
    assert envoy.watched(["ml", "envoy-gateway-system", "ml"]) == ["envoy-gateway-system", "ml"]


def test_the_other_roles_are_upstreams_without_the_topology_injector() -> None:
    """templates/infra-manager-rbac.yaml, leader-election-rbac.yaml and certgen-rbac.yaml@v1.9.0 in the
    controller's namespace, unchanged by the watch (ControllerNamespace deploy mode)."""
    b = built()
    others = {
        r.inputs["metadata"]["name"]
        for r in b.of(ROLE)
        if r.inputs["metadata"]["name"] != "eg-gateway-helm-envoy-gateway-role"
    }
    assert others == {
        "eg-gateway-helm-infra-manager",
        "eg-gateway-helm-leader-election-role",
        "eg-gateway-helm-certgen",
    }
    assert b.inputs(ROLE, "eg-gateway-helm-infra-manager")["rules"] == envoy.INFRA_RULES
    assert b.inputs(ROLE, "eg-gateway-helm-certgen")["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "update"]}
    ]
    for binding in b.of(ROLE_BINDING) + b.of(CLUSTER_ROLE_BINDING):
        (subject,) = binding.inputs["subjects"]
        assert subject["namespace"] == "envoy-gateway-system"


def test_certgen_makes_the_secrets_once_and_stays() -> None:
    """templates/certgen.yaml@v1.9.0 with --disable-topology-injector, kept a day; the Secrets it writes are
    not declared (it skips one that exists)."""
    b = built()
    job = b.inputs(JOB, "eg-gateway-helm-certgen")
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400
    assert job["spec"]["activeDeadlineSeconds"] == 600
    assert job["spec"]["podFailurePolicy"]["rules"] == [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
    ]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["envoy-gateway", "certgen"]
    assert container["args"] == ["--disable-topology-injector"]
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "eg-gateway-helm-certgen"
    assert not b.of("kubernetes:core/v1:Secret")


def test_order_crds_certgen_controller_class() -> None:
    b = built()
    (deployment,) = b.of(DEPLOYMENT)
    (job,) = b.of(JOB)
    for res in b.objects():
        assert waits_for(b.plan, res, b.crd), res.name
    for res in [job, *b.of(CONFIG_MAP), *b.of(POLICY), *b.of(ROLE_BINDING), *b.of(CLUSTER_ROLE_BINDING)]:
        assert waits_for(b.plan, deployment, res), res.name
    certgen_binding = b.named(ROLE_BINDING, "eg-gateway-helm-certgen")
    assert certgen_binding.urn in job.depends_on
    # A certgen pod before its egress policy could not reach the API server; a failed Job is replaced.
    for policy in b.of(POLICY):
        assert waits_for(b.plan, job, policy), policy.name
    assert job.inputs["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}
    for type_ in (PROXY, CLASS):
        (res,) = b.of(type_)
        assert deployment.urn in res.depends_on
    (proxy,) = b.of(PROXY)
    (gateway_class,) = b.of(CLASS)
    assert proxy.urn in gateway_class.depends_on


def test_the_network_lets_proxies_reach_the_controller_and_clients_the_proxies() -> None:
    policies = {p.inputs["metadata"]["name"]: integral(p.inputs)["spec"] for p in built().of(POLICY)}
    assert set(policies) == {
        "default-deny",
        "allow-dns",
        "api-egress",
        "certgen-api-egress",
        "xds-ingress",
        "proxy-ingress",
        "proxy-egress",
    }
    (xds,) = policies["xds-ingress"]["ingress"]
    assert xds["ports"] == [{"protocol": "TCP", "port": 18000}]
    assert xds["from"] == [{"podSelector": {"matchLabels": envoy.PROXY_SELECTOR}}]
    (listeners,) = policies["proxy-ingress"]["ingress"]
    assert listeners == {"ports": [{"protocol": "TCP", "port": 10080}, {"protocol": "TCP", "port": 10443}]}
    # The proxies face the internet: they reach TF Serving's ports in the serving namespace and nothing else.
    (_, backend) = policies["proxy-egress"]["egress"]
    assert backend == {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ml"}}}],
        "ports": [{"protocol": "TCP", "port": 8501}, {"protocol": "TCP", "port": 8500}],
    }
    # certgen writes its Secrets through the API server: its pods are the ones its egress policy selects.
    (job,) = built().of(JOB)
    pod_labels = integral(job.inputs)["spec"]["template"]["metadata"]["labels"]
    selected = policies["certgen-api-egress"]["podSelector"]["matchLabels"]
    assert selected.items() <= pod_labels.items()


def test_the_release_is_the_vendored_crds() -> None:
    assert envoy.VERSION == crds.ENVOY_GATEWAY.tag == "v1.9.0"
