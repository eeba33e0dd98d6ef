"""Envoy Gateway's controller (v1.9.0), rewritten from its release manifest (`install.yaml`: `helm template eg
charts/gateway-helm --namespace envoy-gateway-system` of envoyproxy/gateway at tag v1.9.0, whose rendering
test/helm/gateway-helm/default-config.out.yaml pins) as typed objects: the `envoy-gateway-system` namespace,
the controller's account and RBAC, its EnvoyGateway config, the certgen Job and its rights, the Deployment,
its Service, and the GatewayClass `envoy` with the EnvoyProxy that shapes every proxy it creates.

Where it departs from the release manifest, and why:
- No topology injector: its MutatingWebhookConfiguration (on `pods/binding` in this namespace, port 9443),
  the controller's `pods`/`pods/binding` rule, certgen's ClusterRole to patch the webhook's CA, and the
  Service's `webhook` port are left out, the config says `proxyTopologyInjector.disabled` and certgen is
  run with `--disable-topology-injector` (the chart's own `topologyInjector.enabled: false`). It only
  labels proxy pods with their zone, for zone-aware routing the gateway does not use; and port 9443 is one
  GKE's control-plane firewall does not open by default (`infra/clouds/gcp/network.py` WEBHOOK_PORTS).
- The controller watches only the serving namespace and its own (`watch_namespaces`, the config's
  `provider.kubernetes.watch` of type `Namespaces`; upstream: every namespace), so its RBAC is the chart's
  watched-namespace form (templates/envoy-gateway-rbac.yaml's first branch): the ClusterRole holds only
  `eg.rbac.cluster` (nodes, namespaces, GatewayClasses, ServiceImports), and `eg.rbac.namespaced` (read
  Secrets, ConfigMaps, Services, Deployments, EndpointSlices, the Gateway API's and Envoy Gateway's kinds;
  update their status) is a Role bound to the controller in each watched namespace. Upstream's ClusterRole
  lets the controller read every Secret in the cluster. Its own namespace is watched too (`watched`): the
  class's EnvoyProxy lives there.
- The config is only what the gateway needs: the controller name, the Kubernetes provider and its watch,
  the shutdown manager's image (the proxies' sidecar, the controller's image) and info logs. The
  rate-limit Deployment's image and patch go: no global rate limit is configured, so nothing deploys it.
- The certgen Job is kept a day after it finishes (upstream: 30 s), has a deadline, and ignores pods a
  node drain or spot reclaim disrupted (RL-05, RL-06). Once it is gone, a `pulumi up` after a refresh
  re-creates it, which re-runs certgen: a no-op, since the Secrets exist. Its Helm hook annotations go
  (Pulumi orders by `depends_on`).
- Two controller replicas (upstream: one) with a PodDisruptionBudget: one leader writes status and the
  proxies' infrastructure, every replica serves xDS, so a proxy always has a controller to reconnect to.
- Pod and container security contexts are the project's restricted ones (`pods.py`, every id set) for the
  image's user 65532; upstream's are the same but for supplemental groups. The proxies' too, whose root
  filesystem stays writable as upstream's (`proxy_spec`). A size-limited `/tmp` emptyDir and a
  size-limited Wasm cache (upstream: unbounded).
- Resources: upstream's requests, with a CPU limit beside its memory limit (WL-07).
- The images are the stack registry's copies, by digest (upstream: docker.io by tag).

Certificates: certgen (`envoy-gateway certgen`, the controller's image) writes four Secrets in this
namespace, each skipped if it exists: `envoy-gateway` (the controller's xDS server certificate, mounted at
/certs: the Deployment cannot start without it), `envoy` (the proxies' client certificate), `envoy-rate-limit`
and `envoy-oidc-hmac` (the OIDC filter's HMAC key). One CA signs them, for five years
(internal/crypto/certgen.go). The controller does not create them itself: only its offline mode does. A
Job fits Pulumi: the provider waits for it to complete before what depends on it, and a new image replaces
it (a Job's template is immutable), which re-runs certgen, a no-op once the Secrets exist. The Secrets are
not declared here: certgen skips a Secret that exists, so an empty one declared beforehand (as Kueue's is)
would stay empty. Rotating them is deleting the four and replacing the Job (`pulumi up --replace`).

Order: everything waits for the CRDs; certgen for its rights; the Deployment for its rights, config,
certificates and network allows; the EnvoyProxy and GatewayClass for the Deployment, so the class is
accepted as soon as it exists. Gateways should wait for `ready`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra import naming, pods
from infra.gateway.serving import GATEWAY_CLASS
from infra.kueue.controller import api_egress
from infra.pods import DNS, PSS_LABELS, Obj

VERSION = "v1.9.0"
"""The release this module follows; its CRDs (`infra/gateway/crds/envoy-gateway`) must match."""
NAMESPACE = "envoy-gateway-system"
FULLNAME = "eg-gateway-helm"
"""The chart's `eg.fullname` for the release `eg` the release manifest is rendered as."""
UID = 65532
"""The image's user (distroless nonroot)."""
REPLICAS = 2
PROXY_REPLICAS = 2
NAME = "envoy-gateway"
"""The Deployment, its Service, its account, and the Secret certgen writes for it."""
CONFIG_MAP = "envoy-gateway-config"
CONFIG_KEY = "envoy-gateway.yaml"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
ENVOY_PROXY = "envoy"
CERTGEN = f"{FULLNAME}-certgen"
CERTGEN_DEADLINE_SECONDS = 600
"""Five tries of a few seconds each, with room for an image pull and a slow API server."""
CERT_SECRETS = ("envoy-gateway", "envoy", "envoy-rate-limit", "envoy-oidc-hmac")
"""What certgen writes (internal/provider/kubernetes/secrets.go CertsToSecret)."""
XDS_PORT, HEALTH_PORT, METRICS_PORT = 18000, 8081, 19001
SERVICE_PORTS = {"grpc": 18000, "ratelimit": 18001, "wasm": 18002, "metrics": 19001}
"""values.tmpl.yaml `deployment.ports`, the Service's and the container's."""
PROXY_LISTENER_PORTS = (10080, 10443)
"""The container ports of a Gateway's listeners on 80 and 443: Envoy Gateway adds 10000 to a privileged
port, so the proxy binds without NET_BIND_SERVICE."""
CONFIG_HASH_ANNOTATION = "gpu-platform/config-hash"
SELECTOR = {
    "control-plane": "envoy-gateway",
    "app.kubernetes.io/name": "gateway-helm",
    "app.kubernetes.io/instance": "eg",
}
"""The chart's selector: `control-plane` and `eg.selectorLabels`."""
CERTGEN_SELECTOR = {"app": "certgen", "app.kubernetes.io/instance": "eg"}
"""The certgen Job's pods (the chart's `app: certgen`), which its own egress policy selects."""
PROXY_SELECTOR = {"app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway"}
"""What Envoy Gateway labels every proxy pod with (internal/infrastructure/kubernetes/proxy/resource.go)."""
_RBAC = "rbac.authorization.k8s.io"
_READ = ["get", "list", "watch"]
_INFRA = ["create", "get", "list", "delete", "deletecollection", "patch", "watch"]
_ELECTION_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
_EG_KINDS = [
    "envoyproxies",
    "envoypatchpolicies",
    "clienttrafficpolicies",
    "backendtrafficpolicies",
    "securitypolicies",
    "envoyextensionpolicies",
    "backends",
]
_ROUTES = ["gateways", "listenersets", "grpcroutes", "httproutes"]
_ROUTES_REST = ["tcproutes", "tlsroutes", "udproutes", "backendtlspolicies"]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


CLUSTER_RULES: list[Obj] = [
    # templates/_rbac.tpl@v1.9.0 `eg.rbac.cluster`, the ClusterRole's rules once namespaces are watched
    # (templates/envoy-gateway-rbac.yaml, its first branch): cluster-scoped kinds and ServiceImports.
    _rule([""], ["nodes", "namespaces"], _READ),
    _rule(["gateway.networking.k8s.io"], ["gatewayclasses"], ["get", "list", "patch", "update", "watch"]),
    _rule(["gateway.networking.k8s.io"], ["gatewayclasses/status"], ["update"]),
    _rule(["multicluster.x-k8s.io"], ["serviceimports"], _READ),
]
NAMESPACED_RULES: list[Obj] = [
    # `eg.rbac.namespaced`, rule for rule and in its order, without `eg.rbac.namespaced.topologyinjector`:
    # a Role in each watched namespace (templates/envoy-gateway-rbac.yaml's first branch).
    _rule([""], ["configmaps", "secrets", "services"], _READ),
    _rule(["apps"], ["deployments", "daemonsets"], _READ),
    _rule(["discovery.k8s.io"], ["endpointslices"], _READ),
    _rule(["gateway.envoyproxy.io"], [*_EG_KINDS, "httproutefilters"], _READ),
    _rule(["gateway.envoyproxy.io"], [f"{k}/status" for k in _EG_KINDS], ["update"]),
    _rule(
        ["gateway.networking.k8s.io"],
        [*_ROUTES, "referencegrants", *_ROUTES_REST],
        _READ,
    ),
    _rule(["gateway.networking.k8s.io"], [f"{k}/status" for k in _ROUTES + _ROUTES_REST], ["update"]),
]
INFRA_RULES: list[Obj] = [
    # `eg.rbac.infra.basic` (templates/infra-manager-rbac.yaml): the proxies' Deployments, Services,
    # accounts, autoscalers and budgets, which the controller creates in its own namespace.
    _rule([""], ["serviceaccounts", "services", "configmaps"], _INFRA),
    _rule(["apps"], ["deployments", "daemonsets"], _INFRA),
    _rule(["autoscaling"], ["horizontalpodautoscalers"], _INFRA),
    _rule(["policy"], ["poddisruptionbudgets"], _INFRA),
    _rule(["certificates.k8s.io"], ["clustertrustbundles"], ["list", "get", "watch"]),
]
LEADER_ELECTION_RULES: list[Obj] = [
    # templates/leader-election-rbac.yaml@v1.9.0
    _rule([""], ["configmaps"], _ELECTION_VERBS),
    _rule(["coordination.k8s.io"], ["leases"], _ELECTION_VERBS),
    _rule([""], ["events"], ["create", "patch"]),
]
CERTGEN_RULES: list[Obj] = [
    # templates/certgen-rbac.yaml@v1.9.0, the Role (the ClusterRole is the topology injector's).
    _rule([""], ["secrets"], ["get", "create", "update"]),
]


@dataclass(frozen=True, kw_only=True)
class EnvoyGatewayArgs:
    image: pulumi.Input[str]
    """Envoy Gateway's image (docker.io/envoyproxy/gateway:v1.9.0), the stack registry's copy by digest:
    the controller, certgen and the proxies' shutdown manager."""
    proxy_image: pulumi.Input[str]
    """Envoy's (docker.io/envoyproxy/envoy:distroless-v1.39.0, the release's default), by digest."""
    labels: Mapping[str, str]
    node_selector: Mapping[str, str] | None
    """Where the controller, certgen and the proxies run: the system (general) pool; None leaves it to the
    scheduler."""
    tolerations: Sequence[Mapping[str, str]] = ()
    load_balancer_annotations: Mapping[str, pulumi.Input[str]]
    """The annotations of each proxy's `LoadBalancer` Service: each cloud's load balancer reads its own."""
    source_ranges: Sequence[str]
    """Who may reach the proxies' load balancer (`serving.sourceCidrs`): the EnvoyProxy's
    `envoyService.loadBalancerSourceRanges`, which Envoy Gateway copies into the Service's
    `spec.loadBalancerSourceRanges` (NW-04 asks it of every LoadBalancer Service; this one is created by
    the controller, out of the policy pack's sight). Never empty: without it every cloud's service
    controller opens the load balancer to 0.0.0.0/0. Each cloud enforces it where the traffic lands:
    - AWS (the in-tree service controller's NLB, instance targets, client addresses kept): the NLB has no
      security group of its own; the controller opens the Service's node ports in the nodes' cluster
      security group to these ranges only (kubernetes/cloud-provider-aws pkg/providers/v1/
      aws_loadbalancer.go `updateInstanceSecurityGroupsForNLB`, its `clientCIDRs`).
    - GKE: the VPC firewall rule GKE makes for the load balancer admits these sources only
      (cloud.google.com/kubernetes-engine/docs/how-to/service-parameters, `spec.loadBalancerSourceRanges`:
      "firewall rules and source IP address allowlist").
    - AKS: cloud-provider-azure writes an allow rule from these ranges to the frontend address on the
      Service's ports into the NSG it manages on the nodes (kubernetes-sigs/cloud-provider-azure tests/
      e2e/network/network_security_group.go, "with `spec.LoadBalancerSourceRanges`"); the node subnets'
      own NSGs are the stack's and must admit the same (`infra/clouds/azure/network.py`)."""
    crds: Sequence[pulumi.Resource]
    """The Gateway API's and Envoy Gateway's CRDs: every object here waits for them."""
    backends: Mapping[str, Sequence[int]]
    """The namespaces the routes' backends live in, each with the ports the proxies may reach there (TF
    Serving's REST and gRPC ports in the serving namespace): nothing else is reachable from the proxies,
    which face the internet."""
    watch_namespaces: Sequence[str]
    """The namespaces whose Gateways, routes, policies and their Services, Secrets and ConfigMaps the
    controller reads (the serving namespace), each of which must exist before this component: a Role and
    RoleBinding is made in each. `envoy-gateway-system` is always added (`watched`)."""


def watched(namespaces: Sequence[str]) -> list[str]:
    """The config's `watch.namespaces`: `envoy-gateway-system` first, then the others, once each. The
    controller's own namespace must be listed: the EnvoyProxy the class names lives there, and in
    `Namespaces` mode every kind but ConfigMaps, Services, EndpointSlices and Secrets is cached only in the
    listed namespaces (internal/provider/kubernetes/kubernetes.go@v1.9.0 `DefaultNamespaces`), so the
    class's `parametersRef` would not be found (processGatewayClassParamsRef reads it from the cache);
    and those four kinds are cached there regardless, which its Role there lets the controller list."""
    return list(dict.fromkeys([NAMESPACE, *namespaces]))


def gateway_config(image: str, namespaces: Sequence[str]) -> Obj:
    """The `gateway.envoyproxy.io/v1alpha1` EnvoyGateway the controller reads at start
    (api/v1alpha1/envoygateway_types.go@v1.9.0). `watch.type` must be `Namespaces` (KubernetesWatchMode):
    without it the controller watches every namespace (`WatchesNamespaces`) and config validation fails
    (api/v1alpha1/validation/envoygateway_validate.go), whatever the list."""
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "EnvoyGateway",
        "gateway": {"controllerName": CONTROLLER_NAME},
        "logging": {"level": {"default": "info"}},
        "provider": {
            "type": "Kubernetes",
            "kubernetes": {
                "shutdownManager": {"image": image},
                "proxyTopologyInjector": {"disabled": True},
                "watch": {"type": "Namespaces", "namespaces": watched(namespaces)},
            },
        },
    }


def config_text(image: str, namespaces: Sequence[str]) -> str:
    return yaml.safe_dump(gateway_config(image, namespaces), sort_keys=False)


class EnvoyGateway(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    deployment: k8s.apps.v1.Deployment
    gateway_class: pulumi.Output[str]
    ready: list[pulumi.Resource]
    """The EnvoyProxy and the GatewayClass, created once the controller serves: Gateways wait for these."""

    def __init__(self, name: str, args: EnvoyGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gateway:EnvoyGateway", name, None, opts)
        labels = {**args.labels, "app.kubernetes.io/name": "gateway-helm", "app.kubernetes.io/instance": "eg"}
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=list(args.crds))
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {**labels, **PSS_LABELS}},
            opts=after_crds,
        )
        ns = namespace.metadata.name
        self.namespace = ns
        policies: list[pulumi.Resource] = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}", metadata=pods.metadata(policy, ns, labels), spec=spec, opts=after_crds
            )
            for policy, spec in network_policies(args.backends).items()
        ]
        # Upstream's accounts carry no token; the pods that call the API mount theirs.
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata=pods.metadata(NAME, ns, labels),
            automount_service_account_token=False,
            opts=after_crds,
        )
        rbac = self._rbac(name, account, watched(args.watch_namespaces), labels, after_crds)
        # A certgen pod started before its egress policy times out against the API server, and a failed
        # Job fails the update: it waits for the policies, and a failed one is replaced on the next `up`.
        after_policies = pulumi.ResourceOptions.merge(after_crds, pulumi.ResourceOptions(depends_on=policies))
        certgen = self._certgen(name, args, ns, labels, after_policies)
        text = pulumi.Output.from_input(args.image).apply(lambda i: config_text(i, args.watch_namespaces))
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=pods.metadata(CONFIG_MAP, ns, labels),
            data={CONFIG_KEY: text},
            opts=after_crds,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=pods.metadata(NAME, ns, {**labels, "control-plane": "envoy-gateway"}),
            spec={
                "type": "ClusterIP",
                "selector": SELECTOR,
                "ports": [{"name": n, "port": p, "target_port": p} for n, p in SERVICE_PORTS.items()],
            },
            opts=after_crds,
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=pods.metadata(NAME, ns, {**labels, "control-plane": "envoy-gateway"}),
            spec=text.apply(lambda t: deployment_spec(args, labels, t)),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*args.crds, *policies, *rbac, config, certgen]
            ),
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=pods.metadata(NAME, ns, labels),
            spec={"min_available": 1, "selector": {"match_labels": SELECTOR}},
            opts=after_crds,
        )
        after_controller = pulumi.ResourceOptions(parent=self, depends_on=[*args.crds, self.deployment])
        proxy = k8s.apiextensions.CustomResource(
            f"{name}-proxy",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="EnvoyProxy",
            metadata=pods.metadata(ENVOY_PROXY, ns, labels),
            spec=proxy_spec(args),
            opts=after_controller,
        )
        gateway_class = k8s.apiextensions.CustomResource(
            f"{name}-class",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata={"name": GATEWAY_CLASS, "labels": dict(labels)},
            spec={
                "controllerName": CONTROLLER_NAME,
                "parametersRef": {
                    "group": "gateway.envoyproxy.io",
                    "kind": "EnvoyProxy",
                    "name": ENVOY_PROXY,
                    "namespace": NAMESPACE,
                },
            },
            opts=pulumi.ResourceOptions.merge(after_controller, pulumi.ResourceOptions(depends_on=[proxy])),
        )
        self.gateway_class = gateway_class.metadata.apply(lambda m: str(m["name"]))
        self.ready = [proxy, gateway_class]
        self.register_outputs({"namespace": ns, "gatewayClass": self.gateway_class})

    def _rbac(
        self,
        name: str,
        account: k8s.core.v1.ServiceAccount,
        namespaces: Sequence[str],
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> list[pulumi.Resource]:
        """templates/envoy-gateway-rbac.yaml (watched namespaces set), infra-manager-rbac.yaml and
        leader-election-rbac.yaml@v1.9.0: the roles the controller is bound to, and the bindings; returns
        those."""
        subjects = [{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": NAMESPACE}]
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata={"name": f"{FULLNAME}-envoy-gateway-role", "labels": dict(labels)},
            rules=CLUSTER_RULES,
            opts=opts,
        )
        made: list[pulumi.Resource] = [
            cluster_role,
            k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-rolebinding",
                metadata={"name": f"{FULLNAME}-envoy-gateway-rolebinding", "labels": dict(labels)},
                role_ref={"apiGroup": _RBAC, "kind": "ClusterRole", "name": cluster_role.metadata.name},
                subjects=subjects,
                opts=opts,
            ),
        ]
        for ns in namespaces:
            # The controller's namespace through the account, so its Role waits for the Namespace.
            where: pulumi.Input[str] = account.metadata.namespace if ns == NAMESPACE else ns
            role = k8s.rbac.v1.Role(
                f"{name}-role-{ns}",
                metadata=pods.metadata(f"{FULLNAME}-envoy-gateway-role", where, labels),
                rules=NAMESPACED_RULES,
                opts=opts,
            )
            made += [
                role,
                k8s.rbac.v1.RoleBinding(
                    f"{name}-rolebinding-{ns}",
                    metadata=pods.metadata(
                        f"{FULLNAME}-envoy-gateway-rolebinding", role.metadata.namespace, labels
                    ),
                    role_ref={"apiGroup": _RBAC, "kind": "Role", "name": role.metadata.name},
                    subjects=subjects,
                    opts=opts,
                ),
            ]
        namespaced = {
            ("infra-manager", "infra-manager"): INFRA_RULES,
            ("leader-election-role", "leader-election-rolebinding"): LEADER_ELECTION_RULES,
        }
        for (role_name, binding_name), rules in namespaced.items():
            role = k8s.rbac.v1.Role(
                f"{name}-{role_name}",
                metadata=pods.metadata(f"{FULLNAME}-{role_name}", account.metadata.namespace, labels),
                rules=rules,
                opts=opts,
            )
            made += [
                role,
                k8s.rbac.v1.RoleBinding(
                    f"{name}-{binding_name}",
                    metadata=pods.metadata(f"{FULLNAME}-{binding_name}", role.metadata.namespace, labels),
                    role_ref={"apiGroup": _RBAC, "kind": "Role", "name": role.metadata.name},
                    subjects=subjects,
                    opts=opts,
                ),
            ]
        return made

    def _certgen(
        self,
        name: str,
        args: EnvoyGatewayArgs,
        ns: pulumi.Output[str],
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> k8s.batch.v1.Job:
        """templates/certgen-rbac.yaml and certgen.yaml@v1.9.0, less the topology injector's ClusterRole."""
        account = k8s.core.v1.ServiceAccount(
            f"{name}-certgen-account",
            metadata=pods.metadata(CERTGEN, ns, labels),
            automount_service_account_token=False,
            opts=opts,
        )
        role = k8s.rbac.v1.Role(
            f"{name}-certgen-role",
            metadata=pods.metadata(CERTGEN, ns, labels),
            rules=CERTGEN_RULES,
            opts=opts,
        )
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-certgen-rolebinding",
            metadata=pods.metadata(CERTGEN, ns, labels),
            role_ref={"apiGroup": _RBAC, "kind": "Role", "name": role.metadata.name},
            subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": NAMESPACE}],
            opts=opts,
        )
        pod: Obj = {
            "service_account_name": CERTGEN,
            "automount_service_account_token": True,
            "security_context": pods.pod_security(UID),
            "restart_policy": "Never",
            "containers": [
                {
                    "name": "envoy-gateway-certgen",
                    "image": args.image,
                    "image_pull_policy": "IfNotPresent",
                    "command": ["envoy-gateway", "certgen"],
                    "args": ["--disable-topology-injector"],
                    "env": _ENV,
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "32Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"},
                    },
                    "security_context": pods.container_security(UID),
                    "volume_mounts": [{"name": "tmp", "mount_path": pods.TMP}],
                }
            ],
            "volumes": [{"name": "tmp", "empty_dir": {"size_limit": "16Mi"}}],
            **_placement(args),
        }
        return k8s.batch.v1.Job(
            f"{name}-certgen",
            metadata={
                **pods.metadata(CERTGEN, ns, labels),
                "annotations": {"pulumi.com/replaceUnready": "true"},
            },
            spec={
                "backoff_limit": 4,
                "completions": 1,
                "parallelism": 1,
                "active_deadline_seconds": CERTGEN_DEADLINE_SECONDS,
                "ttl_seconds_after_finished": 24 * 3600,
                "pod_failure_policy": {
                    "rules": [{"action": "Ignore", "on_pod_conditions": [{"type": "DisruptionTarget"}]}]
                },
                "template": {"metadata": {"labels": {**labels, **CERTGEN_SELECTOR}}, "spec": pod},
            },
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[account, role, binding])
            ),
        )


_NAMESPACE_REF = {"field_ref": {"api_version": "v1", "field_path": "metadata.namespace"}}
_ENV: list[Obj] = [
    {"name": "ENVOY_GATEWAY_NAMESPACE", "value_from": _NAMESPACE_REF},
    {"name": "KUBERNETES_CLUSTER_DOMAIN", "value": "cluster.local"},
]


def _placement(args: EnvoyGatewayArgs) -> Obj:
    placed: Obj = {}
    if args.node_selector is not None:
        placed["node_selector"] = dict(args.node_selector)
    if args.tolerations:
        placed["tolerations"] = [dict(t) for t in args.tolerations]
    return placed


def deployment_spec(args: EnvoyGatewayArgs, labels: Mapping[str, str], config: str) -> Obj:
    """templates/envoy-gateway-deployment.yaml@v1.9.0 with the chart's default values."""
    tmp_volume, tmp_mount = pods.scratch("tmp", pods.TMP, "64Mi")
    wasm_volume, wasm_mount = pods.scratch("wasm-cache", "/var/lib/eg/wasm", "256Mi")
    probe = {"period_seconds": 10, "success_threshold": 1, "timeout_seconds": 1}
    container: Obj = {
        "name": "envoy-gateway",
        "image": args.image,
        "image_pull_policy": "IfNotPresent",
        "args": ["server", f"--config-path=/config/{CONFIG_KEY}"],
        "env": _ENV,
        "ports": [{"container_port": p, "name": n} for n, p in SERVICE_PORTS.items()],
        "startup_probe": {
            "http_get": {"path": "/healthz", "port": HEALTH_PORT},
            **probe,
            "failure_threshold": 30,
            "period_seconds": 1,
        },
        "liveness_probe": {
            "http_get": {"path": "/healthz", "port": HEALTH_PORT},
            **probe,
            "period_seconds": 20,
        },
        "readiness_probe": {"http_get": {"path": "/readyz", "port": HEALTH_PORT}, **probe},
        "resources": {
            "limits": {"cpu": "1", "memory": "1024Mi"},
            "requests": {"cpu": "100m", "memory": "256Mi"},
        },
        "security_context": pods.container_security(UID),
        "volume_mounts": [
            {"name": "envoy-gateway-config", "mount_path": "/config", "read_only": True},
            {"name": "certs", "mount_path": "/certs", "read_only": True},
            wasm_mount,
            tmp_mount,
        ],
    }
    pod: Obj = {
        "service_account_name": NAME,
        "automount_service_account_token": True,
        "termination_grace_period_seconds": 10,
        "security_context": pods.pod_security(UID),
        "containers": [container],
        "volumes": [
            {"name": "envoy-gateway-config", "config_map": {"name": CONFIG_MAP, "default_mode": 0o644}},
            {"name": "certs", "secret": {"secret_name": NAME}},
            wasm_volume,
            tmp_volume,
        ],
        **_placement(args),
        "topology_spread_constraints": pods.spread(SELECTOR),
    }
    return {
        "replicas": REPLICAS,
        "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
        "selector": {"match_labels": SELECTOR},
        "template": {
            "metadata": {
                "labels": {**labels, **SELECTOR},
                # A new config restarts the controller, which reads it only at start.
                "annotations": {CONFIG_HASH_ANNOTATION: naming.short_hash(config, length=16)},
            },
            "spec": pod,
        },
    }


def proxy_spec(args: EnvoyGatewayArgs) -> Obj:
    """The EnvoyProxy every Gateway of the class gets (api/v1alpha1/envoyproxy_types.go@v1.9.0): its proxy
    Deployment, restricted, and its LoadBalancer Service. The container security context replaces the
    default of both the envoy container and the shutdown manager (internal/infrastructure/kubernetes/proxy/
    resource.go): the same, with every id set, and the root filesystem writable as upstream leaves it (envoy
    writes its log and sockets there, the shutdown manager /tmp/shutdown-ready). The Service keeps Envoy
    Gateway's `externalTrafficPolicy: Local` (the CRD's default), so the proxies see client addresses; the
    proxies spread over zones and nodes."""
    if not args.source_ranges:
        raise ValueError("the gateway's load balancer needs source ranges: none opens it to 0.0.0.0/0")
    pod: Obj = {
        "securityContext": _camel(pods.pod_security(UID)),
        "labels": dict(args.labels),
        # Soft, as the controller's: a zone or node lost takes one proxy, not both, where there is room.
        "topologySpreadConstraints": [
            _camel(c)
            for c in pods.spread(PROXY_SELECTOR, ("topology.kubernetes.io/zone", "kubernetes.io/hostname"))
        ],
    }
    if args.node_selector is not None:
        pod["nodeSelector"] = dict(args.node_selector)
    if args.tolerations:
        pod["tolerations"] = [dict(t) for t in args.tolerations]
    return {
        "provider": {
            "type": "Kubernetes",
            "kubernetes": {
                "envoyDeployment": {
                    "replicas": PROXY_REPLICAS,
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                    },
                    "pod": pod,
                    "container": {
                        "image": args.proxy_image,
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "512Mi"},
                            "limits": {"cpu": "1", "memory": "1Gi"},
                        },
                        "securityContext": {
                            **_camel(pods.container_security(UID)),
                            "readOnlyRootFilesystem": False,
                        },
                    },
                },
                "envoyPDB": {"minAvailable": 1},
                "envoyService": {
                    "type": "LoadBalancer",
                    "annotations": dict(args.load_balancer_annotations),
                    "loadBalancerSourceRanges": list(args.source_ranges),
                },
            },
        }
    }


def _camel(context: Obj) -> Obj:
    """A spec fragment from `pods.py` (a security context, a spread) as a custom resource spells it: no SDK
    name translation there."""

    def key(snake: str) -> str:
        head, *rest = snake.split("_")
        return head + "".join(part.title() for part in rest)

    return {key(k): _camel(v) if isinstance(v, dict) else v for k, v in context.items()}


def network_policies(backends: Mapping[str, Sequence[int]]) -> dict[str, Obj]:
    """Default-deny (NW-03) with DNS; the controller's calls to the API server; the proxies' xDS calls to
    the controller; the proxies' listeners open to clients (through the load balancer, whose source differs
    per cloud, hence ports only), and the proxies' calls to the backends' ports in their namespaces only
    (Envoy Gateway routes to endpoint addresses, so pod-level rules apply)."""
    proxies = {"match_labels": PROXY_SELECTOR}
    return {
        "default-deny": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
        "allow-dns": {
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [{"to": [DNS], "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")]}],
        },
        "api-egress": {**api_egress(SELECTOR)},
        # certgen writes the controller's and the proxies' TLS Secrets through the API server.
        "certgen-api-egress": {**api_egress(CERTGEN_SELECTOR)},
        "xds-ingress": {
            "pod_selector": {"match_labels": SELECTOR},
            "policy_types": ["Ingress"],
            "ingress": [
                {"from": [{"pod_selector": proxies}], "ports": [{"protocol": "TCP", "port": XDS_PORT}]}
            ],
        },
        "proxy-ingress": {
            "pod_selector": proxies,
            "policy_types": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": p} for p in PROXY_LISTENER_PORTS]}],
        },
        "proxy-egress": {
            "pod_selector": proxies,
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [{"pod_selector": {"match_labels": SELECTOR}}],
                    "ports": [{"protocol": "TCP", "port": XDS_PORT}],
                },
                *(
                    {
                        "to": [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": ns}}}],
                        "ports": [{"protocol": "TCP", "port": port} for port in ports],
                    }
                    for ns, ports in sorted(backends.items())
                ),
            ],
        },
    }
