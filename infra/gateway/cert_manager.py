"""cert-manager (v1.21.1), rewritten from its Helm chart (deploy/charts/cert-manager of
cert-manager/cert-manager at tag v1.21.1, release `cert-manager` in namespace `cert-manager`, the chart's
default values) as typed objects: the `cert-manager` namespace; the controller, the webhook and the
cainjector, each with its account, RBAC, Deployment, Service and PodDisruptionBudget; and the webhook's two
configurations.

Where it departs from the chart, and why:
- Leader election in `cert-manager` (the chart's `global.leaderElection.namespace` defaults to kube-system):
  the controller and the cainjector are told `--leader-election-namespace=cert-manager` and their
  leader-election Roles and bindings live here, so nothing of this release writes in kube-system.
- DNS-01 only: the controller gets no `--acme-http01-solver-image`. It then defaults to
  `quay.io/jetstack/cert-manager-acmesolver:v1.21.1` (internal/apis/config/controller/v1alpha1/defaults.go),
  an image it runs only to solve an HTTP-01 challenge, in a solver pod of the Certificate's namespace;
  no issuer here has an HTTP-01 solver, so it is never pulled (one that had would pull it from quay.io by
  tag, which WL-08 would report). The challenges role keeps only HTTP-01's reads: the challenges controller
  waits for its informers on pods and services (metadata only, those labelled as solvers) and on Ingresses
  to sync before it starts, whichever solver is used (pkg/controller/acmechallenges/controller.go), so it
  still lists and watches them; it never creates, updates or deletes them without an HTTP-01 challenge, so
  those verbs are gone, and so are the HTTPRoute rule (its informer is made and started only with the
  Gateway API enabled, which it is not) and OpenShift's `routes/custom-host`.
- Fewer controllers (`--controllers`, DISABLED_CONTROLLERS), where upstream runs every default one (`*`):
  - `ingress-shim`, on by default, makes a Certificate for any Ingress in any namespace that names an
    issuer (`cert-manager.io/cluster-issuer: acme`): whoever may write an Ingress anywhere could have the
    ClusterIssuer sign a publicly trusted certificate for the serving names into a Secret of their own
    namespace, key included. The platform's one Certificate is the stack's. `gateway-shim` does the same
    for Gateways; it runs only with the Gateway API enabled (`enableGatewayAPI`, off by default) and is
    named anyway, so that enabling it cannot reopen the hole. (The ListenerSet shim needs the Gateway API
    enabled too, and cannot be named: the controller refuses a name outside its known controllers.)
    Their role, `cert-manager-controller-ingress-shim`, is not declared but for one rule: upstream grants
    the `create` and `delete` of CertificateRequests only there, and certificates-request-manager (which
    creates requests and deletes stale ones) and certificates-revision-manager (which deletes old ones)
    need them, so that rule is in `cert-manager-controller-certificates` instead. The rest goes: `create`
    and `delete` of Certificates, reads of Ingresses, Gateways, HTTPRoutes and ListenerSets and updates of
    their finalizers (the challenges role still reads Ingresses, above).
  - `certificaterequests-issuer-{ca,selfsigned,vault,venafi}`: each signs only the requests of an issuer
    of its own type, and the one issuer here is ACME.
  - `certificatesigningrequests-issuer-*`: cert-manager's issuers signing Kubernetes
    CertificateSigningRequests, alpha and off unless their feature gate is set; named so that setting it
    would not bring them back. Their role, `cert-manager-controller-certificatesigningrequests` (update
    and sign CSRs, create SubjectAccessReviews, which nothing else of the controller does), is not
    declared.
- DNS-01 propagation is checked as upstream does by default: the zone's nameservers are found through the
  pod's resolver (kube-dns), then each authoritative nameserver is asked directly on port 53
  (pkg/issuer/acme/dns/util/wait.go). No `--dns01-recursive-nameservers-only`: asking only recursive
  resolvers would see their cached answers, a negative answer for the TXT record included, for up to the
  zone's negative TTL, and which resolver to trust differs per cloud. The price is egress to port 53 on
  the internet (the zones are public Route 53, Cloud DNS and Azure DNS zones).
- No user-facing aggregate roles (`cert-manager-view`, `-edit`, `-cluster-view`, aggregated into the built-in
  view, edit, admin and cluster-reader roles): the certificates and issuers here are the platform's,
  declared by the stack; aggregating `edit` would let any namespace editor create Issuers and
  Certificates, and nothing else binds them.
- Two replicas of each Deployment (upstream: one), spread over nodes and zones, each with a
  PodDisruptionBudget (minAvailable 1) and a rollout that starts a new pod before an old one goes: the
  policy pack holds every Deployment outside kube-system to that (RL-01, RL-02, RL-04). The webhook needs
  it most: both configurations are `failurePolicy: Fail`, so every cert-manager object's write goes through
  it; every replica serves. The controller and the cainjector elect a leader (leases
  `cert-manager-controller`, `cert-manager-cainjector-leader-election[-core]`); the standby takes over
  once the lease lapses (a minute) rather than after a lost node's pods are evicted (five).
- Probes where upstream has none (RL-03): the controller's readiness is its liveness endpoint (`/livez` on
  9403, the only one it serves); the cainjector serves no health endpoint, so both its probes ask its
  metrics endpoint (`/metrics` on 9402), which answers once its manager runs. The webhook's are upstream's.
- Pod and container security contexts are the project's restricted ones (`pods.py`, every id set) for the
  images' user 65532; upstream's are the same but for the ids. A size-limited `/tmp` emptyDir each (WL-06).
- Resources: upstream sets none; requests and limits here (WL-07).
- No startupapicheck Job (a Helm post-install hook that waits for the webhook): the webhook configurations'
  `pulumi.com/waitFor` does that here.
- The images are the stack registry's copies, by digest (upstream: quay.io/jetstack by tag).
- The cloud's DNS-01 identity: annotations on the controller's account and labels on its pods, given per
  cloud, and egress to the node-local identity endpoints (`identity_egress`). The clouds' DNS APIs and the
  ACME server are on 443 anywhere but link-local.

Certificates: the webhook's own. Its dynamic serving authority (`--dynamic-serving-ca-secret-*`) creates the
Secret `cert-manager-webhook-ca` with a self-signed CA, marks it for direct injection, and signs its serving
certificate with it for the three names of its Service; the cainjector copies the CA into both webhook
configurations (`cert-manager.io/inject-ca-from-secret`). The Secret is not declared here: the webhook
creates it (its Role can create Secrets) and rotates it. Pulumi never sets `caBundle`, which under
server-side apply stays the cainjector's, and ignores it on update (`ignore_changes`), so a state that
picked it up (a refresh, an import) makes no diff that would revert the cainjector's work.

Order: everything waits for the CRDs; each Deployment for the RBAC and the network allows; the webhook
configurations for the webhook (which must serve) and the cainjector (which must inject), then, through
`pulumi.com/waitFor`, for the CA in them. Until the CA is in, every write of a cert-manager object fails,
so Issuers and Certificates should wait for `ready`. On destroy the webhook configurations go first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra import pods
from infra.clouds.base import EgressRule
from infra.kueue.controller import CA_BUNDLE, WAIT_FOR_CA, api_egress
from infra.pods import ANYWHERE, DNS, LINK_LOCAL, PSS_LABELS, Obj, identity_egress

VERSION = "v1.21.1"
"""The release this module follows; its CRDs (`infra/gateway/crds/cert-manager`) must match."""
NAMESPACE = "cert-manager"
INSTANCE = "cert-manager"
"""The Helm release the chart is rendered as: the prefix of every name (`cert-manager.fullname`)."""
UID = 65532
"""The images' user (distroless nonroot)."""
REPLICAS = 2
CONTROLLER = "cert-manager"
WEBHOOK = "cert-manager-webhook"
CAINJECTOR = "cert-manager-cainjector"
"""The chart's `cert-manager.fullname`, `webhook.fullname` and `cainjector.fullname`: each Deployment, its
account, its Service and its PodDisruptionBudget."""
WEBHOOK_CA_SECRET = f"{WEBHOOK}-ca"
WEBHOOK_PORT, WEBHOOK_HEALTH_PORT = 10250, 6080
"""The chart's `webhook.securePort` (a port GKE's control-plane firewall opens, `infra/clouds/gcp/network.py`
WEBHOOK_PORTS) and the webhook's default healthz port."""
METRICS_PORT, CONTROLLER_HEALTH_PORT = 9402, 9403
INJECT_CA = {"cert-manager.io/inject-ca-from-secret": f"{NAMESPACE}/{WEBHOOK_CA_SECRET}"}
DISABLE_VALIDATION = "cert-manager.io/disable-validation"
SCRAPE = {"prometheus.io/path": "/metrics", "prometheus.io/scrape": "true", "prometheus.io/port": "9402"}
"""The chart's pod annotations with `prometheus.enabled` (its default) and no ServiceMonitor."""

_RBAC = "rbac.authorization.k8s.io"
_CM, _ACME = "cert-manager.io", "acme.cert-manager.io"
_READ = ["get", "list", "watch"]
_EVENTS_RULE: Obj = {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]}


@dataclass(frozen=True)
class Part:
    """One of the chart's three workloads: its `*.name`, its `app.kubernetes.io/component`, its fullname."""

    name: str
    component: str
    fullname: str

    @property
    def selector(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": self.name,
            "app.kubernetes.io/instance": INSTANCE,
            "app.kubernetes.io/component": self.component,
        }

    def labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The chart's labels of every object of the part (less Helm's own), after the given ones."""
        return {**labels, "app": self.name, **self.selector, "app.kubernetes.io/version": VERSION}


CONTROLLER_PART = Part("cert-manager", "controller", CONTROLLER)
WEBHOOK_PART = Part("webhook", "webhook", WEBHOOK)
CAINJECTOR_PART = Part("cainjector", "cainjector", CAINJECTOR)


def _rule(groups: list[str], resources: list[str], verbs: list[str], names: Sequence[str] = ()) -> Obj:
    rule: Obj = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = list(names)
    return rule


_SECRETS_WRITE = ["get", "list", "watch", "create", "update", "delete"]
CONTROLLER_CLUSTER_ROLES: dict[str, list[Obj]] = {
    # templates/rbac.yaml@v1.21.1, rule for rule and in its order, each bound to the controller's account by
    # a ClusterRoleBinding of the same name, but for what the module's docstring lists: the challenges
    # role without HTTP-01's writes, no roles for the ingress-shim and the CSR controllers, which do not
    # run, and the one rule of the ingress-shim's role that other controllers need in the certificates
    # role. Upstream's comments are kept where they explain a rule.
    f"{CONTROLLER}-controller-issuers": [
        _rule([_CM], ["issuers", "issuers/status"], ["update", "patch"]),
        _rule([_CM], ["issuers"], _READ),
        _rule([""], ["secrets"], _SECRETS_WRITE),
        _EVENTS_RULE,
    ],
    f"{CONTROLLER}-controller-clusterissuers": [
        _rule([_CM], ["clusterissuers", "clusterissuers/status"], ["update", "patch"]),
        _rule([_CM], ["clusterissuers"], _READ),
        _rule([""], ["secrets"], _SECRETS_WRITE),
        _EVENTS_RULE,
    ],
    f"{CONTROLLER}-controller-certificates": [
        _rule(
            [_CM],
            ["certificates", "certificates/status", "certificaterequests", "certificaterequests/status"],
            ["update", "patch"],
        ),
        _rule([_CM], ["certificates", "certificaterequests", "clusterissuers", "issuers"], _READ),
        # For clusters with the OwnerReferencesPermissionEnforcement admission controller.
        _rule([_CM], ["certificates/finalizers", "certificaterequests/finalizers"], ["update"]),
        _rule([_ACME], ["orders"], ["create", "delete", "get", "list", "watch"]),
        _rule([""], ["secrets"], [*_SECRETS_WRITE, "patch"]),
        _EVENTS_RULE,
        # Not upstream's here, but the one rule of the ingress-shim's role the certificates controllers
        # need: certificates-request-manager creates and deletes CertificateRequests, and
        # certificates-revision-manager deletes old ones (see the module's docstring).
        _rule([_CM], ["certificaterequests"], ["create", "delete"]),
    ],
    f"{CONTROLLER}-controller-orders": [
        _rule([_ACME], ["orders", "orders/status"], ["update", "patch"]),
        _rule([_ACME], ["orders", "challenges"], _READ),
        _rule([_CM], ["clusterissuers", "issuers"], _READ),
        _rule([_ACME], ["challenges"], ["create", "delete"]),
        _rule([_ACME], ["orders/finalizers"], ["update"]),
        _rule([_CM], ["clusterissuers/finalizers", "issuers/finalizers"], ["update"]),
        _rule([""], ["secrets"], _READ),
        _EVENTS_RULE,
    ],
    f"{CONTROLLER}-controller-challenges": [
        _rule([_ACME], ["challenges", "challenges/status"], ["update", "patch"]),
        _rule([_ACME], ["challenges"], _READ),
        _rule([_CM], ["issuers", "clusterissuers"], _READ),
        # The ACME account's private key, to complete challenges.
        _rule([""], ["secrets"], _READ),
        _EVENTS_RULE,
        # HTTP-01's, reads only: the controller waits for these informers to sync (see the module's
        # docstring).
        _rule([""], ["pods", "services"], _READ),
        _rule(["networking.k8s.io"], ["ingresses"], _READ),
        # For clusters with the OwnerReferencesPermissionEnforcement admission controller (HTTP-01's solver
        # objects name their Challenge as owner). Kept as upstream's: no write of its own, only what that
        # admission controller asks before an owner reference to a Challenge is set.
        _rule([_ACME], ["challenges/finalizers"], ["update"]),
        # DNS-01's, upstream's duplicate of the secrets rule above.
        _rule([""], ["secrets"], _READ),
    ],
    # The chart's `approveSignerNames` (its default): CertificateRequests for cert-manager.io issuers are
    # approved by the controller itself.
    f"{CONTROLLER}-controller-approve:cert-manager-io": [
        _rule(
            [_CM],
            ["signers"],
            ["approve"],
            ["issuers.cert-manager.io/*", "clusterissuers.cert-manager.io/*"],
        ),
    ],
}
_LEASES = "coordination.k8s.io"
CONTROLLER_ROLES: dict[str, list[Obj]] = {
    # templates/rbac.yaml@v1.21.1, in `global.leaderElection.namespace`: here, cert-manager.
    f"{CONTROLLER}:leaderelection": [
        _rule([_LEASES], ["leases"], ["get", "update", "patch"], ["cert-manager-controller"]),
        _rule([_LEASES], ["leases"], ["create"]),
    ],
}
WEBHOOK_CLUSTER_ROLES: dict[str, list[Obj]] = {
    # templates/webhook-rbac.yaml@v1.21.1
    f"{WEBHOOK}:subjectaccessreviews": [
        _rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"])
    ],
}
WEBHOOK_ROLES: dict[str, list[Obj]] = {
    # templates/webhook-rbac.yaml@v1.21.1: its CA's Secret; create cannot be limited to one name.
    f"{WEBHOOK}:dynamic-serving": [
        _rule([""], ["secrets"], ["get", "list", "watch", "update"], [WEBHOOK_CA_SECRET]),
        _rule([""], ["secrets"], ["create"]),
    ],
}
_INJECTS = ["get", "list", "watch", "update", "patch"]
CAINJECTOR_CLUSTER_ROLES: dict[str, list[Obj]] = {
    # templates/cainjector-rbac.yaml@v1.21.1
    CAINJECTOR: [
        _rule([_CM], ["certificates"], _READ),
        _rule([""], ["secrets"], _READ),
        _rule([""], ["events"], ["get", "create", "update", "patch"]),
        _rule(
            ["admissionregistration.k8s.io"],
            ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
            _INJECTS,
        ),
        _rule(["apiregistration.k8s.io"], ["apiservices"], _INJECTS),
        _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], _INJECTS),
    ],
}
CAINJECTOR_ROLES: dict[str, list[Obj]] = {
    # templates/cainjector-rbac.yaml@v1.21.1, in `global.leaderElection.namespace`: here, cert-manager.
    f"{CAINJECTOR}:leaderelection": [
        _rule(
            [_LEASES],
            ["leases"],
            ["get", "update", "patch"],
            ["cert-manager-cainjector-leader-election", "cert-manager-cainjector-leader-election-core"],
        ),
        _rule([_LEASES], ["leases"], ["create"]),
    ],
}

DISABLED_CONTROLLERS = (
    # Certificates for whoever may write an Ingress or a Gateway.
    "ingress-shim",
    "gateway-shim",
    # Issuer types the platform has none of.
    "certificaterequests-issuer-ca",
    "certificaterequests-issuer-selfsigned",
    "certificaterequests-issuer-vault",
    "certificaterequests-issuer-venafi",
    # Kubernetes CSRs (alpha, off by their feature gate as well).
    "certificatesigningrequests-issuer-acme",
    "certificatesigningrequests-issuer-ca",
    "certificatesigningrequests-issuer-selfsigned",
    "certificatesigningrequests-issuer-venafi",
    "certificatesigningrequests-issuer-vault",
)
"""The controllers the controller does not run (see the module's docstring): each name is one of the
binary's known controllers (internal/apis/config/controller/v1alpha1/defaults.go@v1.21.1 AllControllers),
which it checks at start. `-name` after `*` removes it from the defaults, last, after any feature gate has
added its own (cmd/controller/app/options/options.go@v1.21.1 EnabledControllers)."""
CONTROLLERS = ",".join(["*", *(f"-{name}" for name in DISABLED_CONTROLLERS)])
CONTROLLER_ARGS = [
    # templates/deployment.yaml@v1.21.1 with the chart's defaults (`global.logLevel: 2`,
    # `maxConcurrentChallenges: 60`), leader election here, no HTTP-01 solver image, and `--controllers`
    # where the chart writes `extraArgs`.
    "--v=2",
    "--cluster-resource-namespace=$(POD_NAMESPACE)",
    f"--leader-election-namespace={NAMESPACE}",
    f"--controllers={CONTROLLERS}",
    "--max-concurrent-challenges=60",
]
WEBHOOK_ARGS = [
    # templates/webhook-deployment.yaml@v1.21.1 with the chart's defaults (`webhook.securePort: 10250`,
    # no `webhook.config`, so the dynamic serving authority).
    "--v=2",
    f"--secure-port={WEBHOOK_PORT}",
    "--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)",
    f"--dynamic-serving-ca-secret-name={WEBHOOK_CA_SECRET}",
    f"--dynamic-serving-dns-names={WEBHOOK}",
    f"--dynamic-serving-dns-names={WEBHOOK}.$(POD_NAMESPACE)",
    f"--dynamic-serving-dns-names={WEBHOOK}.$(POD_NAMESPACE).svc",
]
CAINJECTOR_ARGS = [
    # templates/cainjector-deployment.yaml@v1.21.1, leader election here.
    "--v=2",
    f"--leader-election-namespace={NAMESPACE}",
]


def _webhook(verb: str, rule: Obj, namespace_selector: Obj | None) -> Obj:
    """templates/webhook-{mutating,validating}-webhook.yaml@v1.21.1: one webhook, v1 only, converted
    requests included (`matchPolicy: Equivalent`), `webhook.timeoutSeconds: 30`, `failurePolicy: Fail`."""
    hook: Obj = {
        "name": "webhook.cert-manager.io",
        "rules": [rule],
        "admissionReviewVersions": ["v1"],
        "matchPolicy": "Equivalent",
        "timeoutSeconds": 30,
        "failurePolicy": "Fail",
        "sideEffects": "None",
        "clientConfig": {"service": {"name": WEBHOOK, "namespace": NAMESPACE, "path": f"/{verb}"}},
    }
    if namespace_selector is not None:
        hook["namespaceSelector"] = namespace_selector
    return hook


MUTATING_WEBHOOK = _webhook(
    "mutate",
    {
        "apiGroups": [_CM],
        "apiVersions": ["v1"],
        "operations": ["CREATE"],
        "resources": ["certificaterequests"],
    },
    None,
)
VALIDATING_WEBHOOK = _webhook(
    "validate",
    {
        "apiGroups": [_CM, _ACME],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["*/*"],
    },
    # The chart's `webhook.validatingWebhookConfiguration.namespaceSelector`.
    {"matchExpressions": [{"key": DISABLE_VALIDATION, "operator": "NotIn", "values": ["true"]}]},
)


@dataclass(frozen=True, kw_only=True)
class CertManagerImages:
    """quay.io/jetstack/cert-manager-{controller,webhook,cainjector}:v1.21.1, the stack registry's copies by
    digest."""

    controller: pulumi.Input[str]
    webhook: pulumi.Input[str]
    cainjector: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class CertManagerArgs:
    images: CertManagerImages
    labels: Mapping[str, str]
    node_selector: Mapping[str, str] | None
    """Where the three run: the system (general) pool; None leaves it to the scheduler (on Linux nodes)."""
    tolerations: Sequence[Mapping[str, str]] = ()
    controller_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """On the controller's account: the cloud identity it solves DNS-01 as (EKS IRSA's role ARN, GKE's
    Google service account, Azure's client id)."""
    controller_pod_labels: Mapping[str, str] = field(default_factory=dict)
    """On the controller's pods, beside the chart's: what the cloud's identity webhook looks for (Azure's
    `azure.workload.identity/use`)."""
    identity_egress: Sequence[EgressRule] = ()
    """The node-local identity endpoints the controller must reach (GKE's metadata server, EKS's Pod Identity
    agent); none on Azure."""
    crds: Sequence[pulumi.Resource]
    """cert-manager's CRDs (or the component that creates them): every object here waits for them."""
    controller_rules: Sequence[Obj] = ()
    """More rules for the controller, in its namespace: where it signs in to the DNS provider with a token
    of its own account (`Dns01Access.rules`: TokenRequest on that account only)."""
    identity_ready: Sequence[pulumi.Resource] = ()
    """The cloud side of the controller's DNS-01 identity: a controller started before it gets no
    credentials (EKS Pod Identity hands them only to pods started after the association)."""


DNS01_TOKEN_ROLE = "cert-manager:dns01-token"


class CertManager(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    deployments: dict[str, k8s.apps.v1.Deployment]
    """By fullname: the controller's, the webhook's and the cainjector's."""
    ready: list[pulumi.Resource]
    """The controller and both webhook configurations, once the CA is in them: Issuers and Certificates
    should wait for these."""

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gateway:CertManager", name, None, opts)
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=list(args.crds))
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {**args.labels, **PSS_LABELS}},
            opts=after_crds,
        )
        self.namespace = ns = namespace.metadata.name
        policies: list[pulumi.Resource] = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}",
                metadata=pods.metadata(policy, ns, args.labels),
                spec=spec,
                opts=after_crds,
            )
            for policy, spec in network_policies(args.identity_egress).items()
        ]
        parts = {
            CONTROLLER_PART: (
                CONTROLLER_CLUSTER_ROLES,
                {
                    **CONTROLLER_ROLES,
                    **({DNS01_TOKEN_ROLE: list(args.controller_rules)} if args.controller_rules else {}),
                },
                args.controller_annotations,
            ),
            WEBHOOK_PART: (WEBHOOK_CLUSTER_ROLES, WEBHOOK_ROLES, {}),
            CAINJECTOR_PART: (CAINJECTOR_CLUSTER_ROLES, CAINJECTOR_ROLES, {}),
        }
        rbac: list[pulumi.Resource] = []
        for part, (cluster_roles, roles, account_annotations) in parts.items():
            rbac += self._rbac(
                name,
                part,
                ns=ns,
                labels=args.labels,
                cluster_roles=cluster_roles,
                roles=roles,
                annotations=account_annotations,
                opts=after_crds,
            )
        services = {
            part.fullname: k8s.core.v1.Service(
                f"{name}-{part.name}-service",
                metadata=pods.metadata(part.fullname, ns, part.labels(args.labels)),
                spec={"type": "ClusterIP", "ports": ports, "selector": part.selector},
                opts=after_crds,
            )
            for part, ports in _service_ports().items()
        }
        after_rbac = pulumi.ResourceOptions(parent=self, depends_on=[*args.crds, *policies, *rbac])
        self.deployments = {}
        for part, spec in deployment_specs(args).items():
            self.deployments[part.fullname] = k8s.apps.v1.Deployment(
                f"{name}-{part.name}-deployment",
                metadata=pods.metadata(part.fullname, ns, part.labels(args.labels)),
                spec=spec,
                opts=pulumi.ResourceOptions.merge(
                    after_rbac,
                    pulumi.ResourceOptions(
                        depends_on=list(args.identity_ready if part == CONTROLLER_PART else ())
                    ),
                ),
            )
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-{part.name}-pdb",
                metadata=pods.metadata(part.fullname, ns, part.labels(args.labels)),
                spec={"min_available": 1, "selector": {"match_labels": part.selector}},
                opts=after_crds,
            )
        webhooks = self._webhooks(name, args.labels, services[WEBHOOK])
        self.ready = [self.deployments[CONTROLLER], *webhooks]
        self.register_outputs({"namespace": ns})

    def _rbac(
        self,
        name: str,
        part: Part,
        *,
        ns: pulumi.Output[str],
        labels: Mapping[str, str],
        cluster_roles: Mapping[str, list[Obj]],
        roles: Mapping[str, list[Obj]],
        annotations: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions,
    ) -> list[pulumi.Resource]:
        """The part's account (templates/*serviceaccount.yaml@v1.21.1, its token mounted by the pods that
        use it rather than by default), its roles and their bindings; returns those."""
        part_labels = part.labels(labels)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-{part.name}-account",
            metadata={**pods.metadata(part.fullname, ns, part_labels), "annotations": dict(annotations)},
            automount_service_account_token=False,
            opts=opts,
        )
        subjects = [{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": NAMESPACE}]
        made: list[pulumi.Resource] = [account]
        for role_name, rules in cluster_roles.items():
            logical = f"{name}-{role_name.replace(':', '-')}"
            cluster_role = k8s.rbac.v1.ClusterRole(
                logical,
                metadata={"name": role_name, "labels": part_labels},
                rules=rules,
                opts=opts,
            )
            made += [
                cluster_role,
                k8s.rbac.v1.ClusterRoleBinding(
                    f"{logical}-binding",
                    metadata={"name": role_name, "labels": part_labels},
                    role_ref={"apiGroup": _RBAC, "kind": "ClusterRole", "name": cluster_role.metadata.name},
                    subjects=subjects,
                    opts=opts,
                ),
            ]
        for role_name, rules in roles.items():
            logical = f"{name}-{role_name.replace(':', '-')}"
            role = k8s.rbac.v1.Role(
                logical,
                metadata=pods.metadata(role_name, ns, part_labels),
                rules=rules,
                opts=opts,
            )
            made += [
                role,
                k8s.rbac.v1.RoleBinding(
                    f"{logical}-binding",
                    metadata=pods.metadata(role_name, ns, part_labels),
                    role_ref={"apiGroup": _RBAC, "kind": "Role", "name": role.metadata.name},
                    subjects=subjects,
                    opts=opts,
                ),
            ]
        return made

    def _webhooks(
        self, name: str, labels: Mapping[str, str], service: k8s.core.v1.Service
    ) -> list[pulumi.Resource]:
        # After the webhook serves and the cainjector runs, or every cert-manager object's write would fail
        # until they do; the cainjector then puts the webhook's CA in within moments, which `waitFor`
        # waits for.
        opts = pulumi.ResourceOptions(
            parent=self,
            depends_on=[self.deployments[WEBHOOK], self.deployments[CAINJECTOR], service],
            ignore_changes=[CA_BUNDLE],
        )
        metadata = {
            "name": WEBHOOK,
            "labels": WEBHOOK_PART.labels(labels),
            "annotations": {**INJECT_CA, **WAIT_FOR_CA},
        }
        mutating = k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            f"{name}-mutating-webhook", metadata=metadata, webhooks=[MUTATING_WEBHOOK], opts=opts
        )
        validating = k8s.admissionregistration.v1.ValidatingWebhookConfiguration(
            f"{name}-validating-webhook", metadata=metadata, webhooks=[VALIDATING_WEBHOOK], opts=opts
        )
        return [mutating, validating]


def _service_ports() -> dict[Part, list[Obj]]:
    """templates/service.yaml, webhook-service.yaml and cainjector-service.yaml@v1.21.1 (`prometheus.enabled`,
    its default, without a PodMonitor)."""
    metrics: Obj = {"name": "http-metrics", "port": METRICS_PORT, "protocol": "TCP"}
    return {
        CONTROLLER_PART: [metrics],
        WEBHOOK_PART: [
            {"name": "https", "port": 443, "protocol": "TCP", "target_port": "https"},
            {"name": "metrics", "port": METRICS_PORT, "protocol": "TCP", "target_port": "http-metrics"},
        ],
        CAINJECTOR_PART: [metrics],
    }


_POD_NAMESPACE: Obj = {
    "name": "POD_NAMESPACE",
    "value_from": {"field_ref": {"field_path": "metadata.namespace"}},
}
_METRICS_PORT: Obj = {"container_port": METRICS_PORT, "name": "http-metrics", "protocol": "TCP"}


def _http_probe(path: str, port: str | int, **timing: int) -> Obj:
    return {"http_get": {"path": path, "port": port, "scheme": "HTTP"}, **timing}


def _containers() -> dict[Part, Obj]:
    """Each part's container as the chart's templates at the tag write it, but for the image, the security
    context, the resources, the mounts and the probes upstream lacks."""
    controller_liveness = _http_probe(
        "/livez",
        "http-healthz",
        initial_delay_seconds=10,
        period_seconds=10,
        timeout_seconds=15,
        success_threshold=1,
        failure_threshold=8,
    )
    metrics_probe = _http_probe("/metrics", "http-metrics", period_seconds=10, timeout_seconds=5)
    return {
        CONTROLLER_PART: {
            "name": "cert-manager-controller",
            "args": CONTROLLER_ARGS,
            "ports": [
                _METRICS_PORT,
                {"container_port": CONTROLLER_HEALTH_PORT, "name": "http-healthz", "protocol": "TCP"},
            ],
            "liveness_probe": controller_liveness,
            "readiness_probe": {**controller_liveness, "failure_threshold": 3},
            "resources": {
                "requests": {"cpu": "50m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "512Mi"},
            },
        },
        WEBHOOK_PART: {
            "name": "cert-manager-webhook",
            "args": WEBHOOK_ARGS,
            "ports": [
                {"name": "https", "protocol": "TCP", "container_port": WEBHOOK_PORT},
                {"name": "healthcheck", "protocol": "TCP", "container_port": WEBHOOK_HEALTH_PORT},
                _METRICS_PORT,
            ],
            "liveness_probe": _http_probe(
                "/livez",
                "healthcheck",
                initial_delay_seconds=60,
                period_seconds=10,
                timeout_seconds=1,
                success_threshold=1,
                failure_threshold=3,
            ),
            "readiness_probe": _http_probe(
                "/healthz",
                "healthcheck",
                initial_delay_seconds=5,
                period_seconds=5,
                timeout_seconds=1,
                success_threshold=1,
                failure_threshold=3,
            ),
            "resources": {
                "requests": {"cpu": "20m", "memory": "64Mi"},
                "limits": {"cpu": "200m", "memory": "256Mi"},
            },
        },
        CAINJECTOR_PART: {
            "name": "cert-manager-cainjector",
            "args": CAINJECTOR_ARGS,
            "ports": [_METRICS_PORT],
            "liveness_probe": {**metrics_probe, "initial_delay_seconds": 30, "failure_threshold": 6},
            "readiness_probe": {**metrics_probe, "initial_delay_seconds": 5},
            # It caches every CRD, webhook configuration and Secret of the cluster.
            "resources": {
                "requests": {"cpu": "20m", "memory": "128Mi"},
                "limits": {"cpu": "200m", "memory": "512Mi"},
            },
        },
    }


def deployment_specs(args: CertManagerArgs) -> dict[Part, Obj]:
    """templates/deployment.yaml, webhook-deployment.yaml and cainjector-deployment.yaml@v1.21.1 with the
    chart's default values but for the replicas and what the module's docstring lists."""
    images = {
        CONTROLLER_PART: args.images.controller,
        WEBHOOK_PART: args.images.webhook,
        CAINJECTOR_PART: args.images.cainjector,
    }
    specs: dict[Part, Obj] = {}
    for part, container in _containers().items():
        tmp_volume, tmp_mount = pods.scratch("tmp", pods.TMP, "16Mi")
        pod: Obj = {
            "service_account_name": part.fullname,
            # Each is an API client: its token is the point.
            "automount_service_account_token": True,
            "enable_service_links": False,
            "termination_grace_period_seconds": 30,
            "security_context": pods.pod_security(UID),
            "containers": [
                {
                    **container,
                    "image": images[part],
                    "image_pull_policy": "IfNotPresent",
                    "security_context": pods.container_security(UID),
                    "env": [_POD_NAMESPACE],
                    "volume_mounts": [tmp_mount],
                }
            ],
            "volumes": [tmp_volume],
            "node_selector": {"kubernetes.io/os": "linux", **(args.node_selector or {})},
            "topology_spread_constraints": pods.spread(part.selector),
        }
        if args.tolerations:
            pod["tolerations"] = [dict(t) for t in args.tolerations]
        pod_labels = part.labels(args.labels)
        if part is CONTROLLER_PART:
            pod_labels = {**args.controller_pod_labels, **pod_labels}
        specs[part] = {
            "replicas": REPLICAS,
            "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
            "selector": {"match_labels": part.selector},
            "template": {"metadata": {"labels": pod_labels, "annotations": SCRAPE}, "spec": pod},
        }
    return specs


def network_policies(identity: Sequence[EgressRule]) -> dict[str, Obj]:
    """Default-deny (NW-03) with DNS; every part's calls to the API server; the API server's calls to the
    webhook (from the control plane, whose address differs per cloud, hence the port only); the controller's
    calls to the ACME server and the clouds' DNS APIs (443) and to the zones' authoritative nameservers (53),
    anywhere but the node's link-local endpoints, and to the identity endpoints it is given. Nothing scrapes
    the metrics ports yet: no ingress for them."""
    controller = {"match_labels": CONTROLLER_PART.selector}
    specs: dict[str, Obj] = {
        "default-deny": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
        "allow-dns": {
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [{"to": [DNS], "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")]}],
        },
        "api-egress": api_egress({"app.kubernetes.io/instance": INSTANCE}),
        "webhook-ingress": {
            "pod_selector": {"match_labels": WEBHOOK_PART.selector},
            "policy_types": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": WEBHOOK_PORT}]}],
        },
        "controller-egress": {
            "pod_selector": controller,
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [{"ip_block": {"cidr": ANYWHERE, "except_": [LINK_LOCAL]}}],
                    "ports": [
                        {"protocol": "UDP", "port": 53},
                        {"protocol": "TCP", "port": 53},
                        {"protocol": "TCP", "port": 443},
                    ],
                }
            ],
        },
    }
    if identity:
        specs["identity-egress"] = identity_egress(identity, controller)
    return specs
