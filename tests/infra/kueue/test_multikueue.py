"""MultiKueue across the clouds (`queues.dispatch`): the manager's quotas (the workers' summed), its
objects and its token refresher on the home cluster, and each worker's side, on prod's plan; none of it
in dev. Every Kueue object validates against the pinned CRDs (tests/infra/kueue/schemas.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from infra.catalog import Cloud
from infra.clouds.base import federated_dir
from infra.config.queues import TeamQueue
from infra.kueue import cluster as kueue_cluster
from infra.kueue import controller, multikueue, refresher
from infra.kueue.multikueue import dispatch_queue, manager_quotas, total
from plan.manifests import integral, manifest
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.federated import answered
from tests.infra.kueue import schemas
from tests.infra.test_config import parse_with
from tests.plans import contract_plan, planned
from trainer.workers_file import parse_workers

KUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:"
SECRET = "kubernetes:core/v1:Secret"
CRON_JOB = "kubernetes:batch/v1:CronJob"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
MULTIKUEUE_TYPES = ("gpu-platform:kueue:MultiKueue", "gpu-platform:kueue:WorkerTokenRefresher")


# --- quota arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantities", "resource", "expected"),
    [
        (["16", "16", "96"], "cpu", "128"),
        (["500m", "1"], "cpu", "1500m"),
        (["64Gi", "30Gi"], "memory", "94Gi"),
        (["1G", "1Gi"], "memory", "2073741824"),
        (["4", "0", "2"], "nvidia.com/gpu", "6"),
        ([], "cpu", "0"),
    ],
)
def test_quantities_add_up_as_kubernetes_reads_them(
    quantities: list[str], resource: str, expected: str
) -> None:
    assert total(quantities, resource) == expected


def test_the_managers_quota_is_every_workers_flavors_summed() -> None:
    """prod's team ml on EKS (g5.xlarge: 4 vCPUs, 16 GiB) and AKS (A100 80 GB: 24 vCPUs, 220 GiB), in
    its two pools of 4 nodes each; the serving pool is not the team's."""
    cfg = parse_with({}, "prod")
    workers: dict[Cloud, tuple[TeamQueue, ...]] = {c: cfg.team_queues(c) for c in ("aws", "azure")}
    by_pool = {(c, f.pool.name): f for c, queues in workers.items() for q in queues for f in q.flavors}
    assert set(by_pool) == {(c, p) for c in ("aws", "azure") for p in ("trainspot", "train")}
    quotas = manager_quotas("ml", workers)
    assert quotas["nvidia.com/gpu"] == str(sum(f.gpus for f in by_pool.values())) == "16"
    assert quotas["cpu"] == total([f.cpu for f in by_pool.values()], "cpu")
    assert quotas["memory"] == total([f.memory for f in by_pool.values()], "memory")
    assert manager_quotas("nobody", workers) == {"cpu": "0", "memory": "0Gi", "nvidia.com/gpu": "0"}


# --- the plans -------------------------------------------------------------------------------------


def _objects(plan: Plan, cloud: str, type_: str) -> list[dict[str, Any]]:
    return [integral(r.inputs) for r in plan.resources if r.cloud == cloud and r.type == type_]


def _named(plan: Plan, cloud: str, type_: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in _objects(plan, cloud, type_) if o["metadata"]["name"] == name]
    return found


def _subject(plan: Plan, cloud: str) -> dict[str, str]:
    """Whom the worker's API server sees the refresher as: EKS's access-entry group, or the object id
    of the managed identity AKS trusts for it (tests/infra/clouds/*/test_api_access.py)."""
    if cloud == "aws":
        (entry,) = [e for e in plan.of_type("aws:eks/accessEntry:AccessEntry") if "-api-" in e.name]
        (group,) = entry.inputs["kubernetesGroups"]
        return {"kind": "Group", "name": group}
    (identity,) = [
        r for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity") if "-api-" in r.name
    ]
    return {"kind": "User", "name": answered("prod", identity)["principalId"]}


def _camel(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules as the provider sends them: the Python SDK's snake_case keys in camelCase."""
    names = {"api_groups": "apiGroups", "resource_names": "resourceNames"}
    return [{names.get(k, k): v for k, v in rule.items()} for rule in rules]


def _multikueue(plan: Plan) -> list[PlannedResource]:
    by_urn = plan.by_urn()

    def under(resource: PlannedResource) -> bool:
        current: PlannedResource | None = resource
        while current is not None:
            if current.type.startswith(MULTIKUEUE_TYPES):
                return True
            current = by_urn.get(current.parent) if current.parent else None
        return False

    return [r for r in plan.resources if under(r)]


def test_dev_has_no_multikueue() -> None:
    assert _multikueue(planned("dev")) == []


def test_the_manager_dispatches_to_each_worker_through_a_secret_it_does_not_hold() -> None:
    """No Secret in the plan holds a token: Pulumi creates each empty and leaves its data alone."""
    plan = planned("prod")
    clusters = sorted(_objects(plan, "gcp", f"{KUEUE}MultiKueueCluster"), key=lambda c: c["metadata"]["name"])
    assert [c["metadata"]["name"] for c in clusters] == ["aws", "azure"]
    for cluster in clusters:
        name = cluster["metadata"]["name"]
        source = cluster["spec"]["clusterSource"]["kubeConfig"]
        assert source == {"locationType": "Secret", "location": f"multikueue-{name}"}
        secret = _named(plan, "gcp", SECRET, source["location"])
        assert secret["metadata"]["namespace"] == "kueue-system"
        assert not {"data", "stringData"} & set(secret)
    (resource,) = [r for r in plan.resources if r.type == SECRET and r.name.endswith("aws-kubeconfig")]
    assert {"data", "stringData"} <= set(resource.ignore_changes)
    (config,) = _objects(plan, "gcp", f"{KUEUE}MultiKueueConfig")
    assert config["spec"] == {"clusters": ["aws", "azure"]}
    (check,) = _objects(plan, "gcp", f"{KUEUE}AdmissionCheck")
    assert check["spec"] == {
        "controllerName": "kueue.x-k8s.io/multikueue",
        "parameters": {"apiGroup": "kueue.x-k8s.io", "kind": "MultiKueueConfig", "name": "workers"},
    }


def test_the_managers_team_queue_is_gated_by_multikueue_with_the_workers_quota() -> None:
    plan, cfg = planned("prod"), parse_with({}, "prod")
    queue = _named(plan, "gcp", f"{KUEUE}ClusterQueue", dispatch_queue("ml"))["spec"]
    assert queue["admissionChecksStrategy"] == {"admissionChecks": [{"name": "multikueue"}]}
    (group,) = queue["resourceGroups"]
    (flavor,) = group["flavors"]
    workers: dict[Cloud, tuple[TeamQueue, ...]] = {c: cfg.team_queues(c) for c in ("aws", "azure")}
    quotas = manager_quotas("ml", workers)
    assert {r["name"]: r["nominalQuota"] for r in flavor["resources"]} == quotas
    assert "cohortName" not in queue  # it lends nothing to, and borrows nothing from, the local queues
    local = _named(plan, "gcp", f"{KUEUE}LocalQueue", dispatch_queue("ml"))
    assert (local["metadata"]["namespace"], local["spec"]) == ("ml", {"clusterQueue": "ml-multicloud"})


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_each_worker_mirrors_the_queue_and_binds_the_refreshers_identity(cloud: str) -> None:
    """Read cluster-wide (MultiKueue watches every namespace), write in the team's namespace only."""
    plan = planned("prod")
    local = _named(plan, cloud, f"{KUEUE}LocalQueue", dispatch_queue("ml"))
    assert (local["metadata"]["namespace"], local["spec"]) == ("ml", {"clusterQueue": "ml"})
    read = _named(plan, cloud, CLUSTER_ROLE, multikueue.WORKER_READ)
    assert read["rules"] == _camel(multikueue.WORKER_READ_RULES)
    assert {v for r in read["rules"] for v in r["verbs"]} == {"get", "list", "watch"}
    write = _named(plan, cloud, CLUSTER_ROLE, multikueue.WORKER_WRITE)
    assert write["rules"] == _camel(multikueue.WORKER_WRITE_RULES)
    assert not [r for r in read["rules"] if "secrets" in r["resources"] or "*" in r["verbs"]]
    # Of Secrets, only the pull Secret the refresher writes, declared holding no credential.
    (secrets,) = [r for r in write["rules"] if "secrets" in r["resources"]]
    assert (secrets["resourceNames"], secrets["verbs"]) == ([multikueue.PULL_SECRET], ["get", "patch"])
    pull = _named(plan, cloud, SECRET, multikueue.PULL_SECRET)
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    assert pull["stringData"] == {".dockerconfigjson": '{"auths":{}}'}
    subject = _subject(plan, cloud)
    cluster_wide = _named(plan, cloud, CLUSTER_ROLE_BINDING, multikueue.WORKER_READ)
    (written,) = _objects(plan, cloud, ROLE_BINDING)[-1:]  # the team's; the others are the workloads'
    assert written["metadata"] == {**written["metadata"], "name": multikueue.WORKER_WRITE, "namespace": "ml"}
    for binding, role in ((cluster_wide, multikueue.WORKER_READ), (written, multikueue.WORKER_WRITE)):
        (bound,) = binding["subjects"]
        assert (bound["kind"], bound["name"]) == (subject["kind"], subject["name"])
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role,
        }


def test_the_refresher_presents_one_token_per_worker_and_may_only_patch_their_secrets() -> None:
    plan = planned("prod")
    job = _named(plan, "gcp", CRON_JOB, refresher.APP)
    assert job["metadata"]["namespace"] == "kueue-system"
    assert job["spec"]["schedule"] == f"*/{refresher.INTERVAL_MINUTES} * * * *"
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "trainer", "refresh-workers"]
    contracts = contract_plan("prod").outputs["contracts"]
    audiences = {
        v["name"].removesuffix("-token"): v["projected"]["sources"][0]["serviceAccountToken"]["audience"]
        for v in pod["volumes"]
        if "projected" in v
    }
    assert set(audiences) == {"aws", "azure"}
    for cloud, audience in audiences.items():
        assert audience.startswith(contracts[cloud]["api"]["audience"].split("projects/")[0])
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert {mounts[f"{c}-token"] for c in audiences} == {federated_dir(c) for c in ("aws", "azure")}
    (rule,) = _named(plan, "gcp", ROLE, refresher.APP)["rules"]
    assert rule == {
        "apiGroups": [""],
        "resources": ["secrets"],
        "resourceNames": ["multikueue-aws", "multikueue-azure"],
        "verbs": ["get", "patch"],
    }
    workers = json.loads(_named(plan, "gcp", CONFIG_MAP, refresher.APP)["data"][refresher.CONFIG_FILE])
    assert [(w["name"], w["secret"]) for w in workers["workers"]] == [
        ("aws", "multikueue-aws"),
        ("azure", "multikueue-azure"),
    ]
    for worker in workers["workers"]:
        api = contracts[worker["cloud"]]["api"]
        assert set(worker[worker["cloud"]]) == set(api["token"])
        assert worker["server"].startswith("https://")


def test_the_refresher_pulls_as_the_managers_puller_and_the_trainer_accepts_its_file() -> None:
    """The planned workers file is one `refresh-workers` parses; its registry is the manager's, for the
    pull Secret every worker declares, and the pod carries the puller's identity."""
    plan = planned("prod")
    text = _named(plan, "gcp", CONFIG_MAP, refresher.APP)["data"][refresher.CONFIG_FILE]
    registry = parse_workers(json.loads(text)).registry
    assert registry is not None
    assert (registry.cloud, registry.secret, registry.namespaces) == ("gcp", multikueue.PULL_SECRET, ("ml",))
    assert plan.outputs["clouds"]["gcp"]["registry"].startswith(registry.host + "/")
    account = _named(plan, "gcp", "kubernetes:core/v1:ServiceAccount", refresher.APP)
    email = account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
    assert json.loads(text)["registry"]["gcp"] == {"serviceAccount": email}
    egress = _named(
        plan, "gcp", "kubernetes:networking.k8s.io/v1:NetworkPolicy", f"{refresher.APP}-identity-egress"
    )
    assert egress["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": refresher.APP}
    assert egress["spec"]["egress"]


def test_every_multikueue_object_validates_against_the_pinned_crds() -> None:
    found = [manifest(r) for r in planned("prod").resources if r.type.startswith(KUEUE)]
    kinds = {o["kind"] for o in found}
    assert {"MultiKueueCluster", "MultiKueueConfig", "AdmissionCheck"} <= kinds
    failures = [f"{o['kind']}/{o['metadata']['name']}: {e}" for o in found for e in schemas.validate(o)]
    assert failures == []


def test_the_manager_gives_a_dispatched_job_longer_to_be_ready_than_its_worker() -> None:
    """The worker sees the pods and gives up first; a manager that did would delete the worker's copy."""
    plan = planned("prod")

    def timeout(cloud: str) -> str:
        data = _named(plan, cloud, CONFIG_MAP, controller.CONFIG_MAP)["data"][controller.CONFIG_KEY]
        return str(yaml.safe_load(data)["waitForPodsReady"]["timeout"])

    assert timeout("gcp") == f"{kueue_cluster.MANAGER_WAIT_FOR_PODS_READY_MINUTES}m"
    assert {timeout("aws"), timeout("azure")} == {f"{kueue_cluster.WAIT_FOR_PODS_READY_MINUTES}m"}
    assert kueue_cluster.MANAGER_WAIT_FOR_PODS_READY_MINUTES > kueue_cluster.WAIT_FOR_PODS_READY_MINUTES
