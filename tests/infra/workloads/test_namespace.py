"""NW-03 and WL-09: the workload namespace enforces Pod Security `restricted`, denies all traffic by
default, and allows only DNS, serving ingress, trainer peers, HTTPS egress and the identity endpoints.
ID-07: one service account per workload role on every cloud, each used only by its role's pods: serving
everywhere, the trainer and the replicator on the home cloud."""

from __future__ import annotations

from typing import Any

from infra.clouds.base import SERVICE_ACCOUNTS
from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import (
    ACCOUNT,
    NAMESPACE,
    POLICY,
    Cluster,
    containers,
    pod_template,
    serving_sources,
)

PSS = {f"pod-security.kubernetes.io/{m}": "restricted" for m in ("enforce", "audit", "warn")}
APP_LABEL = "app.kubernetes.io/name"


def policies(cluster: Cluster) -> dict[str, dict[str, Any]]:
    found = [p for p in cluster.of(POLICY) if p["metadata"]["namespace"] == cluster.cfg.namespace]
    return {p["metadata"]["name"]: p["spec"] for p in found}


def ports(rule: dict[str, Any]) -> set[tuple[str, int]]:
    return {(p["protocol"], p["port"]) for p in rule["ports"]}


def test_wl09_namespace_enforces_restricted(cluster: Cluster) -> None:
    ns = cluster.named(NAMESPACE, cluster.cfg.namespace)
    assert PSS.items() <= ns["metadata"]["labels"].items()
    assert cluster.cfg.namespace != "default"


def test_wl09_every_namespaced_object_is_outside_default(cluster: Cluster) -> None:
    for obj in cluster.manifests():
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] not in ("", "default"), obj["metadata"]["name"]


def test_wl09_no_secret_in_environment(cluster: Cluster) -> None:
    for _, _, pod in cluster.pods():
        for container in containers(pod):
            sources = [e["valueFrom"] for e in container.get("env", []) if "valueFrom" in e]
            assert all(set(s) == {"fieldRef"} for s in sources), container["name"]
            assert all("secretRef" not in s for s in container.get("envFrom", [])), container["name"]


def test_nw03_default_deny_in_the_workload_namespace(cluster: Cluster) -> None:
    deny = policies(cluster)["default-deny"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_nw03_dns_egress_to_kube_dns(cluster: Cluster) -> None:
    dns = policies(cluster)["allow-dns"]
    assert dns["podSelector"] == {}
    (rule,) = dns["egress"]
    assert ports(rule) == {("UDP", 53), ("TCP", 53)}
    (peer,) = rule["to"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}


def test_serving_ingress_only_on_its_ports(cluster: Cluster) -> None:
    spec = policies(cluster)["serving-ingress"]
    (rule,) = spec["ingress"]
    assert ports(rule) == {("TCP", 8500), ("TCP", 8501)}
    blocks = [p["ipBlock"]["cidr"] for p in rule["from"] if "ipBlock" in p]
    assert blocks == serving_sources(cluster)
    assert "0.0.0.0/0" not in blocks
    peers = [p for p in rule["from"] if "ipBlock" not in p]
    if cluster.gateway:  # only the proxies, or any pod of the cluster could skip the API keys
        assert peers == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}},
                "podSelector": {
                    "matchLabels": {
                        "app.kubernetes.io/component": "proxy",
                        "app.kubernetes.io/managed-by": "envoy-gateway",
                    }
                },
            }
        ]
    else:
        assert peers == [{"namespaceSelector": {}}]
    assert spec["podSelector"]["matchExpressions"][0]["values"] == ["tf-serving"]


def test_trainer_workers_reach_each_other_on_the_worker_port(cluster: Cluster) -> None:
    spec = policies(cluster)["trainer-peers"]
    assert ports(spec["ingress"][0]) == ports(spec["egress"][0]) == {("TCP", 2222)}
    assert spec["ingress"][0]["from"] == spec["egress"][0]["to"] == [{"podSelector": spec["podSelector"]}]


def test_https_egress_to_storage_but_not_link_local(cluster: Cluster) -> None:
    spec = policies(cluster)["storage-egress"]
    (rule,) = spec["egress"]
    assert ports(rule) == {("TCP", 443)}
    assert rule["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}]
    (selector,) = spec["podSelector"]["matchExpressions"]
    assert (selector["key"], selector["operator"]) == (APP_LABEL, "In")
    assert set(selector["values"]) == {"trainer", "tf-serving", "replicator"}


def test_every_workload_pod_reaches_its_storage(any_cluster: Cluster) -> None:
    """The replicator writes the other clouds' buckets over HTTPS, as the trainer and model-sync read and
    write their own: the storage egress selects each of their pods."""
    (selector,) = policies(any_cluster)["storage-egress"]["podSelector"]["matchExpressions"]
    for _, obj, _ in any_cluster.workload_pods():
        app = pod_template(obj)["metadata"]["labels"][APP_LABEL]
        assert app in selector["values"], obj["metadata"]["name"]


def test_identity_endpoints_are_exact_link_local_hosts(cluster: Cluster) -> None:
    spec = policies(cluster).get("identity-egress")
    for rule in spec["egress"] if spec else []:
        (peer,) = rule["to"]
        assert peer["ipBlock"]["cidr"].startswith("169.254.")
        assert peer["ipBlock"]["cidr"].endswith("/32")


def test_identity_egress_follows_the_contract(double: doubles.Built) -> None:
    spec = policies(double.cluster).get("identity-egress")
    found = [(r["to"][0]["ipBlock"]["cidr"], r["ports"][0]["port"]) for r in spec["egress"]] if spec else []
    assert found == [(r.cidr, r.port) for r in double.double.identity_egress]


def test_id07_dedicated_service_accounts_without_token(cluster: Cluster) -> None:
    """Every cloud declares the account of each role (the contract's identities cover them all, whichever
    cloud is home); only the home cloud runs pods as the trainer and the replicator."""
    accounts = {a["metadata"]["name"]: a for a in cluster.of(ACCOUNT)}
    assert set(accounts) == {"trainer", "serving", "replicator"} == set(SERVICE_ACCOUNTS.values())
    assert all(a["automountServiceAccountToken"] is False for a in accounts.values())
    used = {}
    for kind, obj, pod in cluster.workload_pods():
        assert pod["serviceAccountName"] in accounts, obj["metadata"]["name"]
        assert pod["serviceAccountName"] != "default"
        assert pod["automountServiceAccountToken"] is False
        used[kind] = pod["serviceAccountName"]
    at_home = {"Job": "trainer", "CronJob": "replicator"} if cluster.trains else {}
    assert used == {"Deployment": "serving", **at_home}


def test_id07_accounts_carry_the_contract_identity(double: doubles.Built) -> None:
    for account in double.cluster.of(ACCOUNT):
        role = account["metadata"]["name"]
        assert account["metadata"]["annotations"] == {"example.com/identity": f"{role}-id"}
    source = double.double
    for _, _, pod in double.cluster.workload_pods():
        assert pod["serviceAccountName"] in ("trainer", "serving")
    for _, obj, _ in double.cluster.workload_pods():
        labels = pod_template(obj)["metadata"]["labels"]
        assert source.pod_labels.items() <= labels.items()
