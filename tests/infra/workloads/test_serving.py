"""The TF Serving endpoint: RL-01 (HA), RL-02 (PDB), RL-03 (probes), RL-04 (rollout), the LoadBalancer
Service with the cloud's annotations, the HPA, the GPU or CPU build per pool, and the model-sync sidecar
configured from the bucket URI's scheme."""

from __future__ import annotations

from typing import Any

import pytest

from infra.workloads import model_sync
from infra.workloads.serving import predict_url
from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import (
    DEPLOYMENT,
    HPA,
    IMAGE,
    PDB,
    SERVICE,
    Cluster,
    env,
    serving_sources,
)


def deployment(cluster: Cluster) -> dict[str, Any]:
    return cluster.one(DEPLOYMENT)


def pod(cluster: Cluster) -> dict[str, Any]:
    spec: dict[str, Any] = deployment(cluster)["spec"]["template"]["spec"]
    return spec


def server(cluster: Cluster) -> dict[str, Any]:
    container: dict[str, Any]
    (container,) = pod(cluster)["containers"]
    return container


def sync(cluster: Cluster) -> dict[str, Any]:
    container: dict[str, Any]
    (container,) = pod(cluster)["initContainers"]
    return container


def load_balancer(cluster: Cluster) -> dict[str, Any]:
    (service,) = [s for s in cluster.of(SERVICE) if s["spec"].get("type") == "LoadBalancer"]
    return service


def test_rl01_replicas_spread_and_not_only_on_spot(any_cluster: Cluster) -> None:
    cfg = any_cluster.cfg
    replicas = deployment(any_cluster)["spec"]["replicas"]
    assert replicas == cfg.serving.replicas
    assert replicas >= 2 or cfg.waived("RL-01", any_cluster.cloud)  # type: ignore[arg-type]
    keys = {c["topologyKey"] for c in pod(any_cluster)["topologySpreadConstraints"]}
    assert "topology.kubernetes.io/zone" in keys
    pool = cfg.pool(cfg.serving.pool)
    assert pool is None or not pool.spot
    assert pod(any_cluster)["nodeSelector"] == {"gpu-platform/pool": cfg.serving.pool}


def test_rl02_pdb_selects_the_serving_pods_and_allows_one_disruption(any_cluster: Cluster) -> None:
    pdb = any_cluster.one(PDB)["spec"]
    labels = deployment(any_cluster)["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["maxUnavailable"] == 1
    assert "minAvailable" not in pdb


def test_rl03_probes(any_cluster: Cluster) -> None:
    container, model = server(any_cluster), any_cluster.cfg.serving.model_name
    assert container["readinessProbe"]["httpGet"] == {"path": f"/v1/models/{model}", "port": 8501}
    assert container["livenessProbe"]
    assert container["startupProbe"]["httpGet"]["path"] == f"/v1/models/{model}"
    assert sync(any_cluster)["startupProbe"]


def test_rl04_zero_downtime_rollout(any_cluster: Cluster) -> None:
    spec = deployment(any_cluster)["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    assert spec["template"]["spec"]["terminationGracePeriodSeconds"] > 0


def test_the_model_server_serves_the_synced_model(any_cluster: Cluster) -> None:
    container, model = server(any_cluster), any_cluster.cfg.serving.model_name
    assert f"--model_base_path=/models/{model}" in container["args"]
    assert {"--port=8500", "--rest_api_port=8501"} <= set(container["args"])
    assert {p["containerPort"] for p in container["ports"]} == {8500, 8501}
    assert sync(any_cluster)["restartPolicy"] == "Always"  # a native sidecar
    assert env(sync(any_cluster))["MODEL_NAME"] == model


def test_gpu_build_only_on_a_gpu_pool(any_cluster: Cluster) -> None:
    cfg = any_cluster.cfg
    on_gpu = cfg.pool(cfg.serving.pool) is not None
    (mirror,) = [
        i for i in any_cluster.of(IMAGE) if "tensorflow/serving" in i["dockerfile"].get("inline", "")
    ]
    assert mirror["dockerfile"]["inline"].strip().endswith("-gpu") == on_gpu
    tolerations = pod(any_cluster).get("tolerations", [])
    assert any(t["key"] == "nvidia.com/gpu" for t in tolerations) == on_gpu


def test_serving_service(any_cluster: Cluster) -> None:
    """A load balancer of the cloud's kind; with a domain only the gateway's proxies (and in-cluster
    clients) reach TF Serving, through a ClusterIP Service the routes name."""
    model = any_cluster.cfg.serving.model_name
    service = any_cluster.named(SERVICE, f"{model}-serving")
    spec = service["spec"]
    assert {p["port"] for p in spec["ports"]} == {8500, 8501}
    assert (
        spec["selector"].items() <= deployment(any_cluster)["spec"]["template"]["metadata"]["labels"].items()
    )
    if any_cluster.gateway:
        assert spec["type"] == "ClusterIP"
        assert "loadBalancerSourceRanges" not in spec
        assert service["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
        return
    assert spec["type"] == "LoadBalancer"
    # Never left empty: the clouds would then open the load balancer (and EKS the node ports) to all.
    assert spec["loadBalancerSourceRanges"] == serving_sources(any_cluster)
    assert "0.0.0.0/0" not in spec["loadBalancerSourceRanges"]
    annotations = service["metadata"]["annotations"]
    assert annotations["pulumi.com/waitFor"] == "jsonpath={.status.loadBalancer.ingress}"


def test_load_balancer_carries_the_contract_annotations(double: doubles.Built) -> None:
    annotations = load_balancer(double.cluster)["metadata"]["annotations"]
    assert double.double.service_annotations.items() <= annotations.items()


def test_hpa_scales_the_deployment_between_the_configured_bounds(any_cluster: Cluster) -> None:
    spec, s = any_cluster.one(HPA)["spec"], any_cluster.cfg.serving
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment(any_cluster)["metadata"]["name"],
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (s.replicas, s.max_replicas)
    (metric,) = spec["metrics"]
    assert metric["containerResource"]["container"] == server(any_cluster)["name"]


def test_model_sync_reads_the_bucket_through_workload_identity(double: doubles.Built) -> None:
    values = env(sync(double.cluster))
    bucket = double.double.bucket_uri.split("://", 1)[1]
    backend, expected = model_sync.BACKENDS[double.double.bucket_uri.split("://", 1)[0]]
    assert values["MODEL_SOURCE"] == f":{backend}:{bucket}/models/{double.cluster.cfg.serving.model_name}"
    assert expected.items() <= values.items()
    assert double.double.storage_env.items() <= values.items()
    names = [e["name"] for e in sync(double.cluster)["env"]]
    # $(AWS_REGION) and the like expand only from variables defined earlier in the list.
    assert all(names.index(k) < names.index("MODEL_SOURCE") for k in double.double.storage_env)


def test_model_sync_refuses_an_unknown_store() -> None:
    with pytest.raises(ValueError, match="expected one of"):
        model_sync.source("ftp://bucket", "digits")


def test_serving_url_from_the_load_balancer(double: doubles.Built) -> None:
    host = "k8s-" if double.double.service_annotations else "10."
    assert double.serving_url.startswith(f"http://{host}")
    assert double.serving_url.endswith(":8501/v1/models/digits:predict")


@pytest.mark.parametrize(
    ("ingress", "url"),
    [
        ({"hostname": "lb.example.com", "ip": None}, "http://lb.example.com:8501/v1/models/m:predict"),
        ({"hostname": None, "ip": "10.0.0.7"}, "http://10.0.0.7:8501/v1/models/m:predict"),
        ({"hostname": None, "ip": "fd00::7"}, "http://[fd00::7]:8501/v1/models/m:predict"),
        (None, ""),
    ],
)
def test_predict_url(ingress: dict[str, str | None] | None, url: str) -> None:
    class Status:
        class load_balancer:  # noqa: N801 (the SDK's attribute name)
            pass

    Status.load_balancer.ingress = [type("Ingress", (), ingress)()] if ingress else []  # type: ignore[attr-defined]
    assert predict_url(Status(), "m") == url
