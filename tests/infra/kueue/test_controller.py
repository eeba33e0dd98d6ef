"""Kueue's controller manager, built alone on the mock engine with a stand-in CRD: upstream's v0.19.2 release
manifest (kubernetes-sigs/kueue `config/default` at tag v0.19.2), with only the Job integration and its
webhooks, no visibility API, Pod Security `restricted`, and an order in which nothing calls a webhook before
it serves. The upstream files are not read here (the tests run without the mirror): each check names the
file at the tag it stands for."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from kubernetes_validate import utils

from infra import naming
from infra.kueue import controller, crds
from infra.workloads import upstream
from plan import runner, stackfile
from plan.manifests import integral, manifest
from plan.runner import PlannedResource
from tests.plans import ROOT, waits_for

IMAGE = "registry.example.com/gpu-platform/trainer@sha256:" + "a" * 64
"""What `ContainerImages` gives a mirror: the stack's one repository, by the pushed copy's digest."""
LABELS = {"project": "gpu-platform", "stack": "dev", "component": "kueue"}
SYSTEM_POOL = {"gpu-platform/pool": "general"}
TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
NAMESPACE = "kubernetes:core/v1:Namespace"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
MUTATING = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"
VALIDATING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration"
CONFIGURATION_KEYS = {
    # apis/config/v1beta2/configuration_types.go@v0.19.2: the json names of Configuration, with
    # ControllerManager inlined. The manager decodes its file strictly: any other key stops it.
    "apiVersion",
    "kind",
    "namespace",
    "manageJobsWithoutQueueName",
    "managedJobsNamespaceSelector",
    "internalCertManagement",
    "waitForPodsReady",
    "clientConnection",
    "integrations",
    "multiKueue",
    "fairSharing",
    "admissionFairSharing",
    "resources",
    "featureGates",
    "objectRetentionPolicies",
    "visibilityServer",
    "webhook",
    "leaderElection",
    "metrics",
    "health",
    "pprofBindAddress",
    "controller",
    "tls",
}
WAIT_FOR_PODS_READY_KEYS = {"timeout", "blockAdmission", "requeuingStrategy", "recoveryTimeout"}
REQUEUING_KEYS = {"timestamp", "backoffLimitCount", "backoffBaseSeconds", "backoffMaxSeconds"}
CERT_KEYS = {"enable", "webhookServiceName", "webhookSecretName"}


@dataclass(frozen=True)
class Built:
    resources: list[PlannedResource]
    crd: PlannedResource

    def of(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    @property
    def plan(self) -> runner.Plan:
        return runner.Plan("gpu-platform", "dev", self.resources, {}, [])

    def one(self, type_: str) -> dict[str, Any]:
        (found,) = self.of(type_)
        return dict(integral(found.inputs))

    def named(self, type_: str, name: str) -> dict[str, Any]:
        (found,) = [integral(r.inputs) for r in self.of(type_) if r.inputs["metadata"]["name"] == name]
        return dict(found)

    def objects(self) -> list[PlannedResource]:
        """The component's Kubernetes objects (the stand-in CRD left out)."""
        return [r for r in self.resources if r.custom and r.type.startswith("kubernetes:") and r.type != CRD]

    def config(self) -> dict[str, Any]:
        text = self.one(CONFIG_MAP)["data"][controller.CONFIG_KEY]
        loaded: dict[str, Any] = yaml.safe_load(text)
        return loaded

    def pod(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.one(DEPLOYMENT)["spec"]["template"]["spec"]
        return spec


@functools.cache
def built(
    minutes: int = 30, node_selector: tuple[tuple[str, str], ...] | None = (("gpu-platform/pool", "general"),)
) -> Built:
    def program() -> None:
        crd = k8s.apiextensions.v1.CustomResourceDefinition(
            "stand-in-crd",
            metadata={"name": "clusterqueues.kueue.x-k8s.io"},
            spec={
                "group": "kueue.x-k8s.io",
                "names": {"kind": "ClusterQueue", "plural": "clusterqueues"},
                "scope": "Cluster",
                "versions": [{"name": "v1beta2", "served": True, "storage": True}],
            },
        )
        controller.KueueController(
            "kueue",
            controller.KueueControllerArgs(
                image=pulumi.Output.from_input(IMAGE),
                labels=LABELS,
                node_selector=dict(node_selector) if node_selector is not None else None,
                tolerations=[TOLERATION],
                wait_for_pods_ready_minutes=minutes,
                crds=[crd],
            ),
        )

    done = runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", program)
    (crd,) = [r for r in done.resources if r.type == CRD]
    return Built(done.resources, crd)


# --- namespace and network ------------------------------------------------------------------------


def test_the_namespace_enforces_pod_security_restricted() -> None:
    namespace = built().one(NAMESPACE)
    assert namespace["metadata"]["name"] == "kueue-system"
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert LABELS.items() <= labels.items()
    assert labels["app.kubernetes.io/name"] == "kueue"


def test_every_namespaced_object_is_in_kueue_system() -> None:
    cluster_scoped = {NAMESPACE, CLUSTER_ROLE, CLUSTER_ROLE_BINDING, MUTATING, VALIDATING}
    for res in built().objects():
        if res.type not in cluster_scoped:
            assert res.inputs["metadata"]["namespace"] == "kueue-system", res.name


def test_network_default_deny_with_dns_webhook_ingress_and_api_egress() -> None:
    policies = {
        p["metadata"]["name"]: p["spec"] for p in map(integral, (r.inputs for r in built().of(POLICY)))
    }
    assert set(policies) == {"default-deny", "allow-dns", "webhook-ingress", "api-egress"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert {"protocol": "UDP", "port": 53} in policies["allow-dns"]["egress"][0]["ports"]
    (ingress,) = policies["webhook-ingress"]["ingress"]
    # From the control plane, whose address differs per cloud: ports only, and only the webhook's.
    assert ingress == {"ports": [{"protocol": "TCP", "port": 9443}]}
    (egress,) = policies["api-egress"]["egress"]
    # 4443: AKS's API Server VNet Integration documents it beside 443 from the nodes.
    assert egress["ports"] == [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 4443}]
    assert egress["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}]
    for name in ("webhook-ingress", "api-egress"):
        assert policies[name]["podSelector"] == {"matchLabels": {"control-plane": "controller-manager"}}


# --- RBAC -----------------------------------------------------------------------------------------


def test_the_manager_role_is_upstreams() -> None:
    """config/components/rbac/role.yaml@v0.19.2: 47 rules, in controller-gen's order; the webhook
    configurations it may update are the prefixed ones (config/default/webhook_name_reference.yaml)."""
    rules = built().named(CLUSTER_ROLE, "kueue-manager-role")["rules"]
    assert rules == controller.MANAGER_RULES
    assert len(rules) == 47
    assert rules[0] == {
        "apiGroups": [""],
        "resources": ["limitranges", "namespaces", "nodes"],
        "verbs": ["get", "list", "watch"],
    }
    by_names = {tuple(r["resourceNames"]): r for r in rules if "resourceNames" in r}
    assert by_names[("kueue-mutating-webhook-configuration",)]["verbs"] == ["get", "update"]
    assert by_names[("kueue-validating-webhook-configuration",)]["verbs"] == ["get", "update"]
    crd_names = (
        "clusterqueues.kueue.x-k8s.io",
        "cohorts.kueue.x-k8s.io",
        "localqueues.kueue.x-k8s.io",
        "multikueueclusters.kueue.x-k8s.io",
        "workloads.kueue.x-k8s.io",
    )
    assert by_names[crd_names] == {
        "apiGroups": ["apiextensions.k8s.io"],
        "resourceNames": list(crd_names),
        "resources": ["customresourcedefinitions"],
        "verbs": ["get", "update"],
    }
    jobs = {
        "apiGroups": ["batch"],
        "resources": ["jobs"],
        "verbs": ["delete", "get", "list", "patch", "update", "watch"],
    }
    assert jobs in rules
    workloads = {
        "apiGroups": ["kueue.x-k8s.io"],
        "resources": ["workloads"],
        "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
    }
    assert workloads in rules
    assert rules[-1] == {
        "apiGroups": ["workload.codeflare.dev"],
        "resources": ["appwrappers/status"],
        "verbs": ["get", "patch", "update"],
    }
    # Counted on the upstream file: resources and verbs over all rules.
    assert sum(len(r["resources"]) for r in rules) == 95
    assert sum(len(r["verbs"]) for r in rules) == 158


def test_the_namespaced_roles_are_upstreams() -> None:
    """config/components/rbac/{leader_election,manager_secrets,manager_clusterprofiles}_role.yaml@v0.19.2."""
    b = built()
    election = b.named(ROLE, "kueue-leader-election-role")["rules"]
    verbs = ["get", "list", "watch", "create", "update", "patch", "delete"]
    assert election == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": verbs},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": verbs},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    ]
    assert b.named(ROLE, "kueue-manager-secrets-role")["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "update", "watch"]}
    ]
    assert b.named(ROLE, "kueue-manager-clusterprofiles-role")["rules"] == [
        {
            "apiGroups": ["multicluster.x-k8s.io"],
            "resources": ["clusterprofiles"],
            "verbs": ["get", "list", "watch"],
        }
    ]


def test_every_binding_binds_the_managers_account_to_its_role() -> None:
    b = built()
    subject = {"kind": "ServiceAccount", "name": "kueue-controller-manager", "namespace": "kueue-system"}
    bindings = {
        r.inputs["metadata"]["name"]: integral(r.inputs)
        for r in b.of(CLUSTER_ROLE_BINDING) + b.of(ROLE_BINDING)
    }
    assert {name: o["roleRef"]["name"] for name, o in bindings.items()} == {
        "kueue-manager-rolebinding": "kueue-manager-role",
        "kueue-metrics-auth-rolebinding": "kueue-metrics-auth-role",
        "kueue-leader-election-rolebinding": "kueue-leader-election-role",
        "kueue-manager-secrets-rolebinding": "kueue-manager-secrets-role",
        "kueue-manager-clusterprofiles-rolebinding": "kueue-manager-clusterprofiles-role",
    }
    for binding in bindings.values():
        assert binding["subjects"] == [subject]
    assert b.pod()["serviceAccountName"] == "kueue-controller-manager"


def test_only_the_viewers_aggregated_into_the_built_in_roles_are_kept() -> None:
    names = {r.inputs["metadata"]["name"] for r in built().of(CLUSTER_ROLE)}
    assert names == {
        "kueue-manager-role",
        "kueue-metrics-auth-role",
        "kueue-metrics-reader",
        "kueue-localqueue-viewer-role",
        "kueue-workload-viewer-role",
    }
    viewer = built().named(CLUSTER_ROLE, "kueue-workload-viewer-role")
    for role in ("view", "edit", "admin"):
        assert viewer["metadata"]["labels"][f"rbac.authorization.k8s.io/aggregate-to-{role}"] == "true"
    assert all("create" not in r["verbs"] for r in viewer["rules"])


# --- configuration --------------------------------------------------------------------------------


def test_the_config_holds_only_keys_of_the_v1beta2_configuration() -> None:
    config = built().config()
    assert set(config) <= CONFIGURATION_KEYS
    assert set(config["waitForPodsReady"]) <= WAIT_FOR_PODS_READY_KEYS
    assert set(config["waitForPodsReady"]["requeuingStrategy"]) <= REQUEUING_KEYS
    assert set(config["internalCertManagement"]) <= CERT_KEYS
    assert (config["apiVersion"], config["kind"]) == ("config.kueue.x-k8s.io/v1beta2", "Configuration")


def test_the_config_queues_jobs_all_or_nothing_and_shares_fairly() -> None:
    config = built(minutes=45).config()
    assert config["integrations"] == {"frameworks": ["batch/job"]}
    assert config["manageJobsWithoutQueueName"] is False
    assert config["waitForPodsReady"] == {
        "timeout": "45m",
        "blockAdmission": True,
        "requeuingStrategy": {"timestamp": "Eviction", "backoffBaseSeconds": 60, "backoffMaxSeconds": 3600},
    }
    assert config["fairSharing"] == {
        "preemptionStrategies": ["LessThanOrEqualToFinalShare", "LessThanInitialShare"]
    }
    assert config["internalCertManagement"] == {
        "enable": True,
        "webhookServiceName": "kueue-webhook-service",
        "webhookSecretName": "kueue-webhook-server-cert",
    }
    assert config["featureGates"] == {"VisibilityOnDemand": False}


def test_the_config_keeps_upstreams_manager_settings() -> None:
    """config/components/manager/controller_manager_config.yaml@v0.19.2."""
    config = built().config()
    assert config["health"] == {"healthProbeBindAddress": ":8081"}
    assert config["metrics"] == {"bindAddress": ":8443"}
    assert config["webhook"] == {"port": 9443}
    assert config["leaderElection"] == {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"}
    assert config["clientConnection"] == {"qps": 300, "burst": 500}
    assert config["controller"]["groupKindConcurrency"]["Workload.kueue.x-k8s.io"] == 10


def test_a_timeout_under_a_minute_is_refused() -> None:
    with pytest.raises(ValueError, match="a minute or more"):
        controller.manager_config(0)


def test_a_config_change_restarts_the_manager() -> None:
    def annotation(b: Built) -> str:
        value: str = b.one(DEPLOYMENT)["spec"]["template"]["metadata"]["annotations"][
            "gpu-platform/config-hash"
        ]
        return value

    before, after = built(minutes=30), built(minutes=45)
    assert annotation(before) != annotation(after)
    for b in (before, after):
        text = b.one(CONFIG_MAP)["data"][controller.CONFIG_KEY]
        assert annotation(b) == naming.short_hash(text, length=16)
    assert annotation(built(minutes=30)) == annotation(before)


# --- the Deployment -------------------------------------------------------------------------------


def test_the_manager_runs_the_given_image_as_upstream_runs_it() -> None:
    """config/components/manager/manager.yaml@v0.19.2 with config/default's config, webhook and metrics
    patches."""
    deployment = built().one(DEPLOYMENT)
    assert deployment["metadata"]["name"] == "kueue-controller-manager"
    assert deployment["spec"]["replicas"] == controller.REPLICAS == 2
    # The rollout keeps a webhook server up throughout.
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    assert deployment["spec"]["selector"] == {"matchLabels": {"control-plane": "controller-manager"}}
    pod = built().pod()
    (container,) = pod["containers"]
    assert container["image"] == IMAGE
    assert container["command"] == ["/manager"]
    assert container["args"] == ["--config=/controller_manager_config.yaml", "--zap-log-level=2"]
    assert {p["containerPort"]: p["name"] for p in container["ports"]} == {
        9443: "webhook-server",
        8443: "metrics",
    }
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8081}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8081}
    assert container["resources"] == {
        "limits": {"cpu": "2", "memory": "512Mi"},
        "requests": {"cpu": "500m", "memory": "512Mi"},
    }
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/controller_manager_config.yaml"]["subPath"] == "controller_manager_config.yaml"
    assert mounts["/tmp/k8s-webhook-server/serving-certs"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["manager-config"]["configMap"] == {"name": "kueue-manager-config"}
    assert volumes["cert"]["secret"] == {"secretName": "kueue-webhook-server-cert", "defaultMode": 420}
    assert pod["terminationGracePeriodSeconds"] == 10


def test_no_visibility_server() -> None:
    pod = built().pod()
    (container,) = pod["containers"]
    assert 8082 not in {p["containerPort"] for p in container["ports"]}
    assert "visibility" not in {v["name"] for v in pod["volumes"]}
    types = {r.type for r in built().resources}
    assert not any("APIService" in t for t in types)
    assert {s.inputs["metadata"]["name"] for s in built().of(SERVICE)} == {
        "kueue-webhook-service",
        "kueue-controller-manager-metrics-service",
    }


def test_the_pod_meets_pod_security_restricted() -> None:
    pod = built().pod()
    context = pod["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 65532
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert not security.get("privileged")
    for volume in pod["volumes"]:
        assert set(volume) - {"name"} <= {"configMap", "secret", "emptyDir"}, volume
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(key)
    assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}


def test_the_manager_runs_where_it_is_told() -> None:
    pod = built().pod()
    assert pod["nodeSelector"] == SYSTEM_POOL
    assert pod["tolerations"] == [TOLERATION]
    assert "nodeSelector" not in built(node_selector=None).pod()


# --- Services and webhooks ------------------------------------------------------------------------


def test_the_services_select_the_manager() -> None:
    b = built()
    webhook = b.named(SERVICE, "kueue-webhook-service")["spec"]
    assert webhook["ports"] == [{"port": 443, "protocol": "TCP", "targetPort": 9443}]
    metrics = b.named(SERVICE, "kueue-controller-manager-metrics-service")["spec"]
    assert metrics["ports"] == [{"name": "https", "port": 8443, "protocol": "TCP", "targetPort": 8443}]
    template = b.one(DEPLOYMENT)["spec"]["template"]["metadata"]["labels"]
    for spec in (webhook, metrics):
        assert spec["selector"] == {"control-plane": "controller-manager"}
        assert spec["selector"].items() <= template.items()


def _hooks(type_: str) -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = built().one(type_)["webhooks"]
    return hooks


def test_only_the_job_webhooks_and_kueues_own_are_registered() -> None:
    """config/components/webhook/manifests.yaml@v0.19.2 registers every framework, pods and Deployments
    included, each `failurePolicy: Fail`: with only batch/job managed, the rest would make their creation
    depend on this controller for nothing."""
    assert [h["name"] for h in _hooks(MUTATING)] == [
        "mclusterqueue.kb.io",
        "mjob.kb.io",
        "mresourceflavor.kb.io",
        "mworkload.kb.io",
    ]
    assert [h["name"] for h in _hooks(VALIDATING)] == [
        "vclusterqueue.kb.io",
        "vcohort.kb.io",
        "vjob.kb.io",
        "vresourceflavor.kb.io",
        "vworkload.kb.io",
    ]
    for hook in _hooks(MUTATING) + _hooks(VALIDATING):
        for rule in hook["rules"]:
            assert set(rule["apiGroups"]) <= {"batch", "kueue.x-k8s.io"}, hook["name"]
            assert not set(rule["resources"]) & {"pods", "deployments", "statefulsets"}, hook["name"]


def test_the_kept_webhooks_are_upstreams() -> None:
    mjob, vworkload = _hooks(MUTATING)[1], _hooks(VALIDATING)[4]
    assert mjob == {
        "admissionReviewVersions": ["v1"],
        "clientConfig": {
            "service": {
                "name": "kueue-webhook-service",
                "namespace": "kueue-system",
                "path": "/mutate-batch-v1-job",
            }
        },
        "failurePolicy": "Fail",
        "name": "mjob.kb.io",
        # config/components/webhook/kustomization.yaml@v0.19.2 copies vpod's selector onto mjob and vjob.
        "namespaceSelector": {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": ["kube-system", "kueue-system"],
                }
            ]
        },
        "rules": [
            {"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["jobs"]}
        ],
        "sideEffects": "None",
    }
    assert vworkload["clientConfig"]["service"]["path"] == "/validate-kueue-x-k8s-io-v1beta2-workload"
    assert vworkload["rules"][0]["resources"] == ["workloads", "workloads/status"]
    assert vworkload["rules"][0]["operations"] == ["CREATE", "UPDATE"]
    assert "namespaceSelector" not in vworkload
    for hook in _hooks(MUTATING) + _hooks(VALIDATING):
        assert (hook["failurePolicy"], hook["sideEffects"]) == ("Fail", "None")
        assert "caBundle" not in hook["clientConfig"]
        assert "objectSelector" not in hook
        assert "timeoutSeconds" not in hook


def test_the_ca_is_kueues_and_pulumi_waits_for_it() -> None:
    b = built()
    for type_, name in ((MUTATING, controller.MUTATING), (VALIDATING, controller.VALIDATING)):
        (res,) = b.of(type_)
        assert res.inputs["metadata"]["name"] == name
        assert res.ignore_changes == ["webhooks[*].clientConfig.caBundle"]
        assert res.inputs["metadata"]["annotations"] == {
            "pulumi.com/waitFor": "jsonpath={.webhooks[*].clientConfig.caBundle}"
        }
    # The rotator's Secret: declared empty (it fills it, but does not create it), its data left alone.
    (secret,) = b.of(SECRET)
    assert secret.inputs["metadata"]["name"] == "kueue-webhook-server-cert"
    assert not secret.inputs.get("data")
    assert not secret.inputs.get("stringData")
    assert secret.ignore_changes == ["data"]


# --- order ----------------------------------------------------------------------------------------


def test_everything_waits_for_the_crds() -> None:
    b = built()
    for res in b.objects():
        assert waits_for(b.plan, res, b.crd), res.name


def test_the_webhooks_wait_for_the_manager_and_its_service() -> None:
    b = built()
    (deployment,) = b.of(DEPLOYMENT)
    webhook_service = next(
        r for r in b.of(SERVICE) if r.inputs["metadata"]["name"] == "kueue-webhook-service"
    )
    for res in b.of(MUTATING) + b.of(VALIDATING):
        assert deployment.urn in res.depends_on
        assert webhook_service.urn in res.depends_on


def test_the_manager_starts_with_its_rights_config_secret_and_network() -> None:
    b = built()
    (deployment,) = b.of(DEPLOYMENT)
    needed = b.of(CONFIG_MAP) + b.of(SECRET) + b.of(POLICY) + b.of(ROLE_BINDING) + b.of(CLUSTER_ROLE_BINDING)
    for res in needed:
        assert res.urn in deployment.depends_on, res.name


# --- schemas and versions -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cached_schemas() -> Iterator[None]:
    original = utils.schema_contents
    utils.schema_contents = functools.cache(original)
    yield
    utils.schema_contents = original


@pytest.mark.usefixtures("cached_schemas")
@pytest.mark.parametrize("version", ["1.35.0", "1.36.0"])
def test_every_object_validates_strictly(version: str) -> None:
    """As `kubernetes-validate --strict` would (tests/infra/workloads/test_manifests.py): the stacks run
    1.35, and 1.36 is the next upgrade."""
    objects = [manifest(r) for r in built().objects()]
    text = yaml.safe_dump_all(objects, sort_keys=True)
    failures = []
    for obj in (d for d in yaml.safe_load_all(text) if d):
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not failures, "\n".join(failures)
    assert {o["kind"] for o in objects} == {
        "Namespace",
        "NetworkPolicy",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Secret",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }


def test_the_image_the_crds_and_the_manifest_are_one_release() -> None:
    assert controller.VERSION == crds.KUEUE_VERSION == upstream.KUEUE.version == "v0.19.2"
    assert upstream.KUEUE.repository == "registry.k8s.io/kueue/kueue"
    assert not upstream.KUEUE.pinned
    assert (controller.NAMESPACE, controller.WEBHOOK_SERVICE) == (crds.NAMESPACE, crds.WEBHOOK_SERVICE)
