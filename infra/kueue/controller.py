"""Kueue's controller manager (v0.19.2), rewritten from its release manifest (`kustomize build config/default`
of kubernetes-sigs/kueue at tag v0.19.2) as typed objects: the `kueue-system` namespace, the manager's
account and RBAC, its Configuration, the Deployment, its Services, and the admission webhooks.

Where it departs from the release manifest, and why:
- Only `batch/job` is integrated (`integrations.frameworks`), so the webhook configurations keep only the
  Job webhooks and those of Kueue's own kinds. Upstream registers one for every framework, pods included,
  all `failurePolicy: Fail`: every Pod, Deployment or StatefulSet created outside kube-system and
  kueue-system would then depend on this one controller, for frameworks it does not manage.
- No visibility API: its APIServices (`v1beta1`/`v1beta2.visibility.kueue.x-k8s.io`), Service and the
  auth-reader RoleBinding in kube-system are left out, and the server behind them is switched off
  (feature gate `VisibilityOnDemand: false`, so port 8082 and its `/visibility` emptyDir go too). It is
  optional (on-demand lists of pending workloads), and its port is one GKE's control-plane firewall does not
  open (`infra/clouds/gcp/network.py` WEBHOOK_PORTS): an unreachable APIService makes API discovery report
  the group as failing, which kubectl, Pulumi and namespace deletion all trip over.
- User-facing ClusterRoles: only the two viewers that upstream aggregates into the built-in view, edit and
  admin roles for Kueue's namespaced kinds (LocalQueues and Workloads: a team sees its queue and why its Job
  waits). The `kueue-batch-admin`/`kueue-batch-user` aggregates, the editors, the viewers of frameworks
  that are off, and those of the visibility API are left out; nothing here binds them.
- Pod and container security contexts are the project's restricted ones (`pods.py`: every user and group
  id set, as Azure Policy's restricted rules want) for the image's user 65532, plus a size-limited `/tmp`
  emptyDir (WL-06); upstream sets runAsNonRoot, seccomp, no escalation, drop ALL and a read-only root.
- The image is the stack registry's copy, by digest, so it is pulled if not present (upstream: Always).

Certificates are Kueue's own (`internalCertManagement`, on by default): its rotator writes the Secret
`kueue-webhook-server-cert`, which must exist for it to fill (it gets, never creates: upstream ships it
empty, and so do we), and injects the CA into both webhook configurations (and into the conversion webhooks
of five CRDs, which the CRD component must leave alone). Pulumi never sets those fields, and under
server-side apply (the provider's default) a field it does not set stays the rotator's. They are also
ignored on update (`ignore_changes`: the Secret's `data`, each webhook's `clientConfig.caBundle`), so a
state that picked them up (a refresh, an import) does not make a diff that would revert the rotator's work.

Order: everything waits for the CRDs; the Deployment for its RBAC, config, Secret and network allows;
the webhook configurations for the Deployment to be ready (its readiness probe passes once the
certificates exist and the webhook server is up) and then, through `pulumi.com/waitFor`, for the
rotator's CA in them. Until that CA is in, calls the webhooks intercept fail (`failurePolicy: Fail`), so
what creates Kueue objects or queued Jobs should wait for `ready`. On destroy the webhooks go first,
before the server that answers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra import naming, pods
from infra.pods import ANYWHERE, DNS, LINK_LOCAL, PSS_LABELS, Obj

VERSION = "v0.19.2"
"""The release this module follows; its CRDs (`infra/kueue/crds`) and image (`upstream.KUEUE`) must match."""
NAMESPACE = "kueue-system"
PREFIX = "kueue-"
"""The release manifest's kustomize namePrefix."""
UID = 65532
REPLICAS = 2
"""The image's user (`USER 65532:65532`, distroless nonroot)."""
SERVICE_ACCOUNT = f"{PREFIX}controller-manager"
DEPLOYMENT = f"{PREFIX}controller-manager"
CONFIG_MAP = f"{PREFIX}manager-config"
CONFIG_KEY = "controller_manager_config.yaml"
CONFIG_PATH = f"/{CONFIG_KEY}"
WEBHOOK_SERVICE = f"{PREFIX}webhook-service"
WEBHOOK_SECRET = f"{PREFIX}webhook-server-cert"
METRICS_SERVICE = f"{PREFIX}controller-manager-metrics-service"
MUTATING = f"{PREFIX}mutating-webhook-configuration"
VALIDATING = f"{PREFIX}validating-webhook-configuration"
"""The rotator derives both names from the webhook Service's (`<base>-webhook-service`)."""
WEBHOOK_PORT, METRICS_PORT, HEALTH_PORT = 9443, 8443, 8081
API_SERVER_PORTS = (443, 4443)
"""What the API server listens on, as a pod's egress sees it after the `kubernetes` Service's DNAT: 443 on
EKS, GKE and MultiKueue's workers; AKS with API Server VNet Integration also documents 4443 from the nodes
to the API server subnet, and which of the two the Service's endpoints name is not settled offline."""
CERT_DIR = "/tmp/k8s-webhook-server/serving-certs"
CONFIG_HASH_ANNOTATION = "gpu-platform/config-hash"
WAIT_FOR_CA = {"pulumi.com/waitFor": "jsonpath={.webhooks[*].clientConfig.caBundle}"}
"""Created, a webhook configuration is usable only once the rotator has put its CA in."""
CA_BUNDLE = "webhooks[*].clientConfig.caBundle"
SELECTOR = {"control-plane": "controller-manager"}
"""Upstream's selector label (kustomize `labels` with includeSelectors)."""
KUEUE_LABELS = {"app.kubernetes.io/name": "kueue", **SELECTOR}
"""What upstream's kustomization labels every object with."""
SYSTEM_NAMESPACES = ("kube-system", NAMESPACE)
MANAGED_NAMESPACES = {
    "matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(SYSTEM_NAMESPACES)}
    ]
}
"""The Job webhooks' namespaceSelector: kustomize copies vpod's onto every framework's webhook
(config/components/webhook/kustomization.yaml@v0.19.2); Kueue's own kinds have none."""
_RBAC = "rbac.authorization.k8s.io"
_KUEUE = "kueue.x-k8s.io"
_READ = ["get", "list", "watch"]
_STATUS = ["get", "patch", "update"]
_FULL = ["delete", "get", "list", "patch", "update", "watch"]


def _rule(groups: list[str], resources: list[str], verbs: list[str], names: Sequence[str] = ()) -> Obj:
    rule: Obj = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = list(names)
    return rule


MANAGER_RULES: list[Obj] = [
    # config/components/rbac/role.yaml@v0.19.2 (controller-gen output), rule for rule and in its order;
    # resourceNames of the webhook configurations carry the namePrefix (config/default/
    # webhook_name_reference.yaml). Rules of frameworks that are off stay: the manager's informers and
    # noop webhooks are upstream's business, and the role is kept identical to review it against upstream.
    _rule([""], ["limitranges", "namespaces", "nodes"], _READ),
    _rule([""], ["pods"], _FULL),
    _rule([""], ["pods/finalizers"], ["get", "update"]),
    _rule([""], ["pods/status"], ["get", "patch"]),
    _rule([""], ["podtemplates"], ["create", "delete", "get", "list", "update", "watch"]),
    _rule(["admissionregistration.k8s.io"], ["mutatingwebhookconfigurations"], ["get", "update"], [MUTATING]),
    _rule(
        ["admissionregistration.k8s.io"],
        ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
        ["list", "watch"],
    ),
    _rule(
        ["admissionregistration.k8s.io"], ["validatingwebhookconfigurations"], ["get", "update"], [VALIDATING]
    ),
    _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], ["list", "watch"]),
    _rule(
        ["apiextensions.k8s.io"],
        ["customresourcedefinitions"],
        ["get"],
        ["clusterprofiles.multicluster.x-k8s.io"],
    ),
    _rule(
        ["apiextensions.k8s.io"],
        ["customresourcedefinitions"],
        ["get", "update"],
        [f"{kind}.{_KUEUE}" for kind in ("clusterqueues", "cohorts", "localqueues", "multikueueclusters")]
        + [f"workloads.{_KUEUE}"],
    ),
    _rule(["apps"], ["deployments", "replicasets", "statefulsets"], _READ),
    _rule(["autoscaling.x-k8s.io"], ["provisioningrequests"], ["create", *_FULL]),
    _rule(["autoscaling.x-k8s.io"], ["provisioningrequests/status"], ["get"]),
    _rule(["batch"], ["jobs"], _FULL),
    _rule(["batch"], ["jobs/finalizers", "jobs/status"], _STATUS),
    _rule(["events.k8s.io"], ["events"], ["create", "patch", "update", "watch"]),
    _rule(
        ["flowcontrol.apiserver.k8s.io"], ["flowschemas", "prioritylevelconfigurations"], ["list", "watch"]
    ),
    _rule(["flowcontrol.apiserver.k8s.io"], ["flowschemas/status"], ["patch"]),
    _rule(["jobset.x-k8s.io"], ["jobsets"], _FULL),
    _rule(["jobset.x-k8s.io"], ["jobsets/finalizers"], ["get", "update"]),
    _rule(["jobset.x-k8s.io"], ["jobsets/status"], _STATUS),
    _rule(["kubeflow.org"], ["jaxjobs"], ["get", "list", "patch", "update", "watch"]),
    _rule(
        ["kubeflow.org"],
        [
            f"{k}/finalizers"
            for k in ("jaxjobs", "mpijobs", "paddlejobs", "pytorchjobs", "tfjobs", "xgboostjobs")
        ],
        ["get", "update"],
    ),
    _rule(
        ["kubeflow.org"],
        [f"{k}/status" for k in ("jaxjobs", "mpijobs", "paddlejobs", "pytorchjobs", "tfjobs", "xgboostjobs")],
        _STATUS,
    ),
    _rule(["kubeflow.org"], ["mpijobs", "paddlejobs", "pytorchjobs", "tfjobs", "xgboostjobs"], _FULL),
    _rule(
        [_KUEUE],
        ["admissionchecks", "clusterqueues", "resourceflavors", "topologies"],
        ["get", "list", "update", "watch"],
    ),
    _rule(
        [_KUEUE],
        [f"{k}/finalizers" for k in ("admissionchecks", "clusterqueues", "resourceflavors", "topologies")]
        + ["workloads/finalizers"],
        ["update"],
    ),
    _rule(
        [_KUEUE],
        [
            f"{k}/status"
            for k in (
                "admissionchecks",
                "clusterqueues",
                "cohorts",
                "localqueues",
                "multikueueclusters",
                "workloads",
            )
        ],
        _STATUS,
    ),
    _rule(
        [_KUEUE],
        [
            "cohorts",
            "localqueues",
            "multikueueclusters",
            "multikueueconfigs",
            "provisioningrequestconfigs",
            "workloadpriorityclasses",
        ],
        _READ,
    ),
    _rule([_KUEUE], ["workloads"], ["create", *_FULL]),
    _rule(["leaderworkerset.x-k8s.io"], ["leaderworkersets"], _READ),
    _rule(["leaderworkerset.x-k8s.io"], ["leaderworkersets/status"], _STATUS),
    _rule(["node.k8s.io"], ["runtimeclasses"], _READ),
    _rule(["ray.io"], ["rayclusters", "rayjobs", "rayservices"], _FULL),
    _rule(
        ["ray.io"],
        ["rayclusters/finalizers", "rayjobs/finalizers", "rayservices/finalizers"],
        ["get", "update"],
    ),
    _rule(["ray.io"], ["rayclusters/status", "rayjobs/status", "rayservices/status"], _STATUS),
    _rule(
        ["resource.k8s.io"],
        ["deviceclasses", "resourceclaims", "resourceclaimtemplates", "resourceslices"],
        _READ,
    ),
    _rule(["scheduling.k8s.io"], ["priorityclasses"], _READ),
    _rule(["sparkoperator.k8s.io"], ["sparkapplications"], _FULL),
    _rule(["trainer.kubeflow.org"], ["clustertrainingruntimes", "trainingruntimes"], _READ),
    _rule(["trainer.kubeflow.org"], ["trainjobs"], ["get", "list", "patch", "update", "watch"]),
    _rule(["trainer.kubeflow.org"], ["trainjobs/finalizers"], ["get", "update"]),
    _rule(["trainer.kubeflow.org"], ["trainjobs/status"], _STATUS),
    _rule(["workload.codeflare.dev"], ["appwrappers"], _FULL),
    _rule(["workload.codeflare.dev"], ["appwrappers/finalizers"], ["get", "update"]),
    _rule(["workload.codeflare.dev"], ["appwrappers/status"], _STATUS),
]
_ELECTION_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
LEADER_ELECTION_RULES: list[Obj] = [
    # config/components/rbac/leader_election_role.yaml@v0.19.2
    _rule([""], ["configmaps"], _ELECTION_VERBS),
    _rule(["coordination.k8s.io"], ["leases"], _ELECTION_VERBS),
    _rule([""], ["events"], ["create", "patch"]),
]
SECRETS_RULES: list[Obj] = [
    # config/components/rbac/manager_secrets_role.yaml@v0.19.2: the webhook certificate, and MultiKueue's
    # worker kubeconfigs, all in kueue-system.
    _rule([""], ["secrets"], ["get", "list", "update", "watch"]),
]
CLUSTER_PROFILES_RULES: list[Obj] = [
    # config/components/rbac/manager_clusterprofiles_role.yaml@v0.19.2
    _rule(["multicluster.x-k8s.io"], ["clusterprofiles"], _READ),
]
METRICS_AUTH_RULES: list[Obj] = [
    # config/components/rbac/metrics_auth_role.yaml@v0.19.2: the metrics endpoint authenticates and
    # authorizes its callers through the API.
    _rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
    _rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
]
METRICS_READER_RULES: list[Obj] = [
    # config/components/rbac/metrics_reader_role.yaml@v0.19.2: for a scraper to be bound to.
    {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
]
_AGGREGATED = {f"{_RBAC}/aggregate-to-{role}": "true" for role in ("view", "admin", "edit")}
VIEWER_ROLES: dict[str, tuple[Obj, list[Obj]]] = {
    # config/components/rbac/{localqueue,workload}_viewer_role.yaml@v0.19.2: name -> (labels, rules)
    f"{PREFIX}localqueue-viewer-role": (
        {
            "rbac.kueue.x-k8s.io/role": "localqueue-viewer",
            "rbac.kueue.x-k8s.io/batch-admin": "true",
            "rbac.kueue.x-k8s.io/batch-user": "true",
            **_AGGREGATED,
        },
        [_rule([_KUEUE], ["localqueues"], _READ), _rule([_KUEUE], ["localqueues/status"], ["get"])],
    ),
    f"{PREFIX}workload-viewer-role": (
        {
            "rbac.kueue.x-k8s.io/role": "workload-viewer",
            "rbac.kueue.x-k8s.io/batch-admin": "true",
            "rbac.kueue.x-k8s.io/batch-user": "true",
            **_AGGREGATED,
        },
        [_rule([_KUEUE], ["workloads"], _READ), _rule([_KUEUE], ["workloads/status"], ["get"])],
    ),
}


def _webhook(
    verb: Literal["mutate", "validate"],
    kind: str,
    rule: tuple[str, str, list[str]],
    operations: list[str],
    *,
    jobs: bool = False,
) -> Obj:
    """One entry of config/components/webhook/manifests.yaml@v0.19.2: controller-gen's name
    `<m|v><kind>.kb.io` and path `/<verb>-<group, dots as dashes>-<version>-<kind>`, `failurePolicy: Fail`,
    `sideEffects: None`, no timeout or objectSelector; `rule` is (group, version, resources)."""
    group, version, resources = rule
    hook: Obj = {
        "admissionReviewVersions": ["v1"],
        "clientConfig": {
            "service": {
                "name": WEBHOOK_SERVICE,
                "namespace": NAMESPACE,
                "path": f"/{verb}-{group.replace('.', '-')}-{version}-{kind}",
            }
        },
        "failurePolicy": "Fail",
        "name": f"{verb[0]}{kind}.kb.io",
        "rules": [
            {"apiGroups": [group], "apiVersions": [version], "operations": operations, "resources": resources}
        ],
        "sideEffects": "None",
    }
    if jobs:
        hook["namespaceSelector"] = MANAGED_NAMESPACES
    return hook


_CREATE, _WRITE = ["CREATE"], ["CREATE", "UPDATE"]
_JOBS = ("batch", "v1", ["jobs"])
MUTATING_WEBHOOKS: list[Obj] = [
    # Upstream's entries for Kueue's kinds and batch/v1 Jobs, in its order. Every other framework's
    # (appwrapper, deployment, jaxjob, jobset, leaderworkerset, mpijob, paddlejob, pod, pytorchjob,
    # raycluster, rayjob, rayservice, sparkapplication, statefulset, tfjob, trainjob, xgboostjob) is left out.
    _webhook("mutate", "clusterqueue", (_KUEUE, "v1beta2", ["clusterqueues"]), _CREATE),
    _webhook("mutate", "job", _JOBS, _CREATE, jobs=True),
    _webhook("mutate", "resourceflavor", (_KUEUE, "v1beta2", ["resourceflavors"]), _CREATE),
    _webhook("mutate", "workload", (_KUEUE, "v1beta2", ["workloads"]), _CREATE),
]
VALIDATING_WEBHOOKS: list[Obj] = [
    _webhook("validate", "clusterqueue", (_KUEUE, "v1beta2", ["clusterqueues"]), _WRITE),
    _webhook("validate", "cohort", (_KUEUE, "v1beta2", ["cohorts"]), _WRITE),
    _webhook("validate", "job", _JOBS, _WRITE, jobs=True),
    _webhook("validate", "resourceflavor", (_KUEUE, "v1beta2", ["resourceflavors"]), _WRITE),
    _webhook("validate", "workload", (_KUEUE, "v1beta2", ["workloads", "workloads/status"]), _WRITE),
]


@dataclass(frozen=True, kw_only=True)
class KueueControllerArgs:
    image: pulumi.Input[str]
    """Kueue's image (`upstream.KUEUE`, the same release as the CRDs), the stack registry's copy by digest."""
    labels: Mapping[str, str]
    node_selector: Mapping[str, str] | None
    """Where the manager runs: the system (general) pool; None leaves it to the scheduler."""
    tolerations: Sequence[Mapping[str, str]]
    wait_for_pods_ready_minutes: int
    """How long an admitted Job's pods have to all become ready before Kueue evicts and requeues it."""
    block_admission: bool = True
    """Admit one Job at a time while an admitted one's pods are not all ready. Off on a MultiKueue manager:
    there a dispatched Job counts as not ready from its quota reservation until a worker runs it, with no
    timeout, and would hold back every other admission on the cluster."""
    crds: Sequence[pulumi.Resource]
    """Kueue's CRDs (or the component that creates them): every object here waits for them."""


def manager_config(wait_for_pods_ready_minutes: int, block_admission: bool = True) -> Obj:
    """The `config.kueue.x-k8s.io/v1beta2` Configuration. Upstream's (config/components/manager/
    controller_manager_config.yaml@v0.19.2) for the manager itself; then only `batch/job`; and what upstream
    leaves commented out set explicitly. Every key is one of apis/config/v1beta2/configuration_types.go
    @v0.19.2, which the manager decodes strictly (an unknown key stops it)."""
    if wait_for_pods_ready_minutes < 1:
        raise ValueError(
            f"waitForPodsReady needs a timeout of a minute or more: {wait_for_pods_ready_minutes}"
        )
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": f":{HEALTH_PORT}"},
        "metrics": {"bindAddress": f":{METRICS_PORT}"},
        "webhook": {"port": WEBHOOK_PORT},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "controller": {
            "groupKindConcurrency": {
                "Job.batch": 5,
                "Pod": 5,
                "Workload.kueue.x-k8s.io": 10,
                "LocalQueue.kueue.x-k8s.io": 5,
                "Cohort.kueue.x-k8s.io": 1,
                "ClusterQueue.kueue.x-k8s.io": 5,
                "ResourceFlavor.kueue.x-k8s.io": 1,
            }
        },
        "clientConnection": {"qps": 300, "burst": 500},
        # A Job without the queue label runs as if Kueue were not there; queued Jobs name their LocalQueue.
        "manageJobsWithoutQueueName": False,
        # The defaults, spelled out: the names the Service, Secret and webhook configurations here use.
        "internalCertManagement": {
            "enable": True,
            "webhookServiceName": WEBHOOK_SERVICE,
            "webhookSecretName": WEBHOOK_SECRET,
        },
        # All-or-nothing for multi-pod Jobs: quota is reserved for every pod at once, and a Job whose pods
        # are not all ready in time is evicted and requeued with backoff (60 s doubling to an hour).
        # blockAdmission admits workloads one after another while one's pods are not all ready, so two
        # multi-worker Jobs never each hold half the GPUs waiting for the other's; the price is slower
        # admission when there would be room for both (site/content/en/docs/tasks/manage/
        # setup_wait_for_pods_ready.md@v0.19.2). The timeout must cover a GPU node's scale-up from zero
        # and the image pull.
        "waitForPodsReady": {
            "timeout": f"{wait_for_pods_ready_minutes}m",
            "blockAdmission": block_admission,
            "requeuingStrategy": {
                "timestamp": "Eviction",
                "backoffBaseSeconds": 60,
                "backoffMaxSeconds": 3600,
            },
        },
        "integrations": {"frameworks": ["batch/job"]},
        # Borrowed quota is shared by the ClusterQueues' weights; preemption to restore a fair share.
        "fairSharing": {"preemptionStrategies": ["LessThanOrEqualToFinalShare", "LessThanInitialShare"]},
        # No visibility server: its APIService is not installed (see the module's docstring).
        "featureGates": {"VisibilityOnDemand": False},
    }


def config_text(wait_for_pods_ready_minutes: int, block_admission: bool = True) -> str:
    return yaml.safe_dump(manager_config(wait_for_pods_ready_minutes, block_admission), sort_keys=False)


class KueueController(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    deployment: k8s.apps.v1.Deployment
    ready: list[pulumi.Resource]
    """The webhook configurations, each created once the manager serves and its CA is in: Kueue objects
    and queued Jobs should wait for these."""

    def __init__(self, name: str, args: KueueControllerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:kueue:KueueController", name, None, opts)
        labels = {**args.labels, **KUEUE_LABELS}
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=list(args.crds))
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": NAMESPACE, "labels": {**labels, **PSS_LABELS}},
            opts=after_crds,
        )
        self.namespace = ns = namespace.metadata.name
        policies: list[pulumi.Resource] = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}", metadata=pods.metadata(policy, ns, labels), spec=spec, opts=after_crds
            )
            for policy, spec in network_policies().items()
        ]
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account", metadata=pods.metadata(SERVICE_ACCOUNT, ns, labels), opts=after_crds
        )
        rbac = self._rbac(name, account, labels, after_crds)
        text = config_text(args.wait_for_pods_ready_minutes, args.block_admission)
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=pods.metadata(CONFIG_MAP, ns, labels),
            data={CONFIG_KEY: text},
            opts=after_crds,
        )
        # Upstream's empty Secret (config/components/internalcert/secret.yaml): the rotator fills it.
        secret = k8s.core.v1.Secret(
            f"{name}-webhook-cert",
            metadata=pods.metadata(WEBHOOK_SECRET, ns, labels),
            opts=pulumi.ResourceOptions.merge(after_crds, pulumi.ResourceOptions(ignore_changes=["data"])),
        )
        webhook_service = k8s.core.v1.Service(
            f"{name}-webhook-service",
            metadata=pods.metadata(
                WEBHOOK_SERVICE, ns, {**labels, "app.kubernetes.io/component": "webhook-service"}
            ),
            spec={
                "ports": [{"port": 443, "protocol": "TCP", "target_port": WEBHOOK_PORT}],
                "selector": SELECTOR,
            },
            opts=after_crds,
        )
        k8s.core.v1.Service(
            f"{name}-metrics-service",
            metadata=pods.metadata(
                METRICS_SERVICE, ns, {**labels, "app.kubernetes.io/component": "metrics-service"}
            ),
            spec={
                "ports": [
                    {"name": "https", "port": METRICS_PORT, "protocol": "TCP", "target_port": METRICS_PORT}
                ],
                "selector": SELECTOR,
            },
            opts=after_crds,
        )
        # Pulumi waits for the rollout: the pod is ready once its certificates exist and the webhook server
        # is up (upstream's /readyz). It starts with its rights, config, Secret and network allows in place.
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=pods.metadata(DEPLOYMENT, ns, {**labels, "app.kubernetes.io/component": "controller"}),
            spec=deployment_spec(args, labels, text),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*args.crds, *policies, *rbac, config, secret]
            ),
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=pods.metadata(DEPLOYMENT, ns, labels),
            spec={"min_available": 1, "selector": {"match_labels": SELECTOR}},
            opts=after_crds,
        )
        self.ready = self._webhooks(name, labels, webhook_service)
        self.register_outputs({"namespace": ns})

    def _rbac(
        self,
        name: str,
        account: k8s.core.v1.ServiceAccount,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> list[pulumi.Resource]:
        """config/components/rbac@v0.19.2 as the release manifest names and binds it (namePrefix kueue-):
        the roles the manager is bound to, and the bindings; returns those."""
        subjects = [{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": NAMESPACE}]
        made: list[pulumi.Resource] = []
        for role_name, rules in {"manager": MANAGER_RULES, "metrics-auth": METRICS_AUTH_RULES}.items():
            cluster_role = k8s.rbac.v1.ClusterRole(
                f"{name}-{role_name}-role",
                metadata={"name": f"{PREFIX}{role_name}-role", "labels": dict(labels)},
                rules=rules,
                opts=opts,
            )
            binding = k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-{role_name}-rolebinding",
                metadata={"name": f"{PREFIX}{role_name}-rolebinding", "labels": dict(labels)},
                role_ref={"apiGroup": _RBAC, "kind": "ClusterRole", "name": cluster_role.metadata.name},
                subjects=subjects,
                opts=opts,
            )
            made += [cluster_role, binding]
        namespaced = {
            "leader-election": LEADER_ELECTION_RULES,
            "manager-secrets": SECRETS_RULES,
            "manager-clusterprofiles": CLUSTER_PROFILES_RULES,
        }
        for role_name, rules in namespaced.items():
            role = k8s.rbac.v1.Role(
                f"{name}-{role_name}-role",
                metadata=pods.metadata(f"{PREFIX}{role_name}-role", account.metadata.namespace, labels),
                rules=rules,
                opts=opts,
            )
            role_binding = k8s.rbac.v1.RoleBinding(
                f"{name}-{role_name}-rolebinding",
                metadata=pods.metadata(f"{PREFIX}{role_name}-rolebinding", role.metadata.namespace, labels),
                role_ref={"apiGroup": _RBAC, "kind": "Role", "name": role.metadata.name},
                subjects=subjects,
                opts=opts,
            )
            made += [role, role_binding]
        # Bound to nobody here: for a metrics scraper, and (aggregated) for the built-in user roles.
        unbound: dict[str, tuple[Obj, list[Obj]]] = {f"{PREFIX}metrics-reader": ({}, METRICS_READER_RULES)}
        unbound |= VIEWER_ROLES
        for role_name, (role_labels, rules) in unbound.items():
            k8s.rbac.v1.ClusterRole(
                f"{name}-{role_name.removeprefix(PREFIX)}",
                metadata={"name": role_name, "labels": {**labels, **role_labels}},
                rules=rules,
                opts=opts,
            )
        return made

    def _webhooks(
        self, name: str, labels: Mapping[str, str], service: k8s.core.v1.Service
    ) -> list[pulumi.Resource]:
        # After the manager is ready, or every Job create (and Kueue object write) would fail until it is;
        # the rotator then puts its CA in within moments, which `waitFor` waits for.
        opts = pulumi.ResourceOptions(
            parent=self, depends_on=[self.deployment, service], ignore_changes=[CA_BUNDLE]
        )
        metadata = {"labels": dict(labels), "annotations": WAIT_FOR_CA}
        mutating = k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            f"{name}-mutating-webhooks",
            metadata={"name": MUTATING, **metadata},
            webhooks=MUTATING_WEBHOOKS,
            opts=opts,
        )
        validating = k8s.admissionregistration.v1.ValidatingWebhookConfiguration(
            f"{name}-validating-webhooks",
            metadata={"name": VALIDATING, **metadata},
            webhooks=VALIDATING_WEBHOOKS,
            opts=opts,
        )
        return [mutating, validating]


def deployment_spec(args: KueueControllerArgs, labels: Mapping[str, str], config: str) -> Obj:
    """config/components/manager/manager.yaml@v0.19.2 with config/default's patches (config, webhook and
    metrics ports and mounts), without the visibility server's."""
    template_labels = {**labels, **SELECTOR}
    tmp_volume, tmp_mount = pods.scratch("tmp", pods.TMP, "64Mi")
    container: Obj = {
        "name": "manager",
        "image": args.image,
        "image_pull_policy": "IfNotPresent",
        "command": ["/manager"],
        "args": [f"--config={CONFIG_PATH}", "--zap-log-level=2"],
        "ports": [
            {"container_port": WEBHOOK_PORT, "name": "webhook-server", "protocol": "TCP"},
            {"container_port": METRICS_PORT, "name": "metrics", "protocol": "TCP"},
        ],
        "security_context": pods.container_security(UID),
        "liveness_probe": {
            "http_get": {"path": "/healthz", "port": HEALTH_PORT},
            "initial_delay_seconds": 15,
            "period_seconds": 20,
        },
        "readiness_probe": {
            "http_get": {"path": "/readyz", "port": HEALTH_PORT},
            "initial_delay_seconds": 5,
            "period_seconds": 10,
        },
        # Upstream's values; limits on both (WL-07).
        "resources": {
            "limits": {"cpu": "2", "memory": "512Mi"},
            "requests": {"cpu": "500m", "memory": "512Mi"},
        },
        "volume_mounts": [
            {"name": "manager-config", "mount_path": CONFIG_PATH, "sub_path": CONFIG_KEY},
            tmp_mount,
            {"name": "cert", "mount_path": CERT_DIR, "read_only": True},
        ],
    }
    pod: Obj = {
        "service_account_name": SERVICE_ACCOUNT,
        # The manager is an API client: its token is the point (ID-07 expects none in workload pods).
        "automount_service_account_token": True,
        "termination_grace_period_seconds": 10,
        "security_context": pods.pod_security(UID),
        "containers": [container],
        "volumes": [
            {"name": "manager-config", "config_map": {"name": CONFIG_MAP}},
            tmp_volume,
            {"name": "cert", "secret": {"secret_name": WEBHOOK_SECRET, "default_mode": 0o644}},
        ],
    }
    if args.node_selector is not None:
        pod["node_selector"] = dict(args.node_selector)
    if args.tolerations:
        pod["tolerations"] = [dict(t) for t in args.tolerations]
    # Spread over nodes and zones where there are several; one node still takes both.
    pod["topology_spread_constraints"] = pods.spread(SELECTOR)
    return {
        # Two: every replica serves the webhooks, which every Job's creation goes through (failurePolicy
        # Fail); one leader runs the controllers (leader election), and a standby takes over on failure.
        # The chart's `replicas` and its PodDisruptionBudget (minAvailable 1) are the upstream knobs.
        "replicas": REPLICAS,
        # The new pod is ready, serving the webhooks, before an old one goes (RL-04).
        "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
        "selector": {"match_labels": SELECTOR},
        "template": {
            "metadata": {
                "labels": template_labels,
                "annotations": {
                    "kubectl.kubernetes.io/default-container": "manager",
                    # A new config restarts the manager, which reads it only at start.
                    CONFIG_HASH_ANNOTATION: naming.short_hash(config, length=16),
                },
            },
            "spec": pod,
        },
    }


def network_policies() -> dict[str, Obj]:
    """Default-deny (NW-03) with DNS, and what the manager needs: the API server's calls to its webhooks
    (which come from the control plane, whose address no pod or namespace selector matches and which
    differs per cloud, hence ports only) and its own calls to API servers (this cluster's and, with
    MultiKueue, the workers'). Nothing scrapes the metrics port (8443) yet: no ingress for it."""
    manager = {"match_labels": SELECTOR}
    return {
        "default-deny": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
        "allow-dns": {
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [{"to": [DNS], "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")]}],
        },
        "webhook-ingress": {
            "pod_selector": manager,
            "policy_types": ["Ingress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": WEBHOOK_PORT}]}],
        },
        "api-egress": api_egress(SELECTOR),
    }


def api_egress(selector: Mapping[str, str]) -> Obj:
    """Egress to API servers for the pods `selector` picks: this cluster's, whose address after the
    `kubernetes` Service's DNAT differs per cloud, and other clouds' (MultiKueue's workers, the token
    services the refresher calls), which no rule can name; the node's link-local metadata endpoints
    stay out."""
    return {
        "pod_selector": {"match_labels": dict(selector)},
        "policy_types": ["Egress"],
        "egress": [
            {
                "to": [{"ip_block": {"cidr": ANYWHERE, "except_": [LINK_LOCAL]}}],
                "ports": [{"protocol": "TCP", "port": port} for port in API_SERVER_PORTS],
            }
        ],
    }
