"""The TF Serving endpoint: a Deployment of the official model server (the GPU build on a GPU pool) fed by
the model-sync sidecar, a LoadBalancer Service with the cloud's annotations (a ClusterIP one behind the
HTTPS gateway, with `serving.domain`), an HPA and a PDB.

`pulumi up` waits for the Service's load-balancer address (the serving URL is made of it), not for the
pods: they are ready only once the training Job, which `up` does not wait for either, has exported a
model. Rollouts stay safe without that wait: no old pod goes before a new one is ready (maxUnavailable 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import pods
from infra.clouds.base import SERVING_PORTS
from infra.config.types import GpuPool, Serving
from infra.pods import Obj
from infra.workloads import model_sync

APP = "serving"
UID = 65532
"""Neither the TF Serving nor the rclone image defines a user: any non-root one will do."""
GRPC_PORT, REST_PORT = SERVING_PORTS
CPU_TARGET_PERCENT = 70
MODEL_SPACE = "10Gi"
"""The published versions (`serving.keepVersions`) plus the one being staged: with the default two kept,
room for a model of up to about 3 GB."""
WAIT_FOR_ADDRESS = {"pulumi.com/waitFor": "jsonpath={.status.loadBalancer.ingress}"}
"""Replaces the default Service await (which also waits for ready pods) with the address alone."""


@dataclass(frozen=True, kw_only=True)
class ServingEndpointArgs:
    namespace: pulumi.Input[str]
    serving: Serving
    pool: GpuPool | None
    """The GPU pool serving runs on; None for the general CPU nodes."""
    image: pulumi.Input[str]
    sync_image: pulumi.Input[str]
    bucket_uri: pulumi.Input[str]
    service_account: pulumi.Input[str]
    pod_labels: Mapping[str, str]
    storage_env: Mapping[str, pulumi.Input[str]]
    service_annotations: Mapping[str, str]
    source_cidrs: Sequence[str]
    """Who may reach the load balancer: `serving.sourceCidrs`, else the cluster network's own ranges."""
    gateway_url: str | None = None
    """With `serving.domain`, this cloud's predict URL through the HTTPS gateway: the Service is then
    `ClusterIP`, reached by the gateway's proxies (and in-cluster clients) only."""
    spot_tolerations: Sequence[Mapping[str, str]]
    identity_ready: Sequence[pulumi.Resource]
    """The cloud side of the serving identity; the model-sync sidecar needs it from its first round."""
    labels: Mapping[str, str]
    selector: Mapping[str, str]


def serving_service(model: str) -> str:
    """The name of TF Serving's Service (and Deployment): what the gateway's routes send requests to."""
    return f"{model}-serving"


def predict_url(status: object, model: str) -> str:
    """`http://HOST:8501/v1/models/<model>:predict` from a Service's load-balancer status."""
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    host = (ingress[0].hostname or ingress[0].ip) if ingress else None
    if not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{REST_PORT}/v1/models/{model}:predict"


class ServingEndpoint(pulumi.ComponentResource):
    url: pulumi.Output[str]

    def __init__(self, name: str, args: ServingEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:ServingEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        model, labels = args.serving.model_name, {**args.labels, **args.selector}
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={
                **pods.metadata(serving_service(model), args.namespace, labels),
                "annotations": pods.SKIP_AWAIT,
            },
            spec=self._spec(args),
            # The HPA owns the replica count once the Deployment exists.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["spec.replicas"], depends_on=list(args.identity_ready)
            ),
        )
        meta = pods.metadata(serving_service(model), args.namespace, labels)
        # The load balancer's address is the URL; behind the gateway nothing is awaited: the default Service
        # await would wait for ready pods, which come only once a model is exported (see above).
        behind_gateway = args.gateway_url is not None
        meta["annotations"] = (
            dict(pods.SKIP_AWAIT) if behind_gateway else {**args.service_annotations, **WAIT_FOR_ADDRESS}
        )
        service = k8s.core.v1.Service(f"{name}-service", metadata=meta, spec=service_spec(args), opts=child)
        self._scaling(name, args, deployment.metadata.name, labels, child)
        self.url = (
            pulumi.Output.from_input(args.gateway_url)
            if args.gateway_url is not None
            else service.status.apply(lambda status: predict_url(status, model))
        )
        self.register_outputs({"url": self.url})

    def _scaling(
        self,
        name: str,
        args: ServingEndpointArgs,
        target: pulumi.Output[str],
        labels: Obj,
        opts: pulumi.ResourceOptions,
    ) -> None:
        s, meta = args.serving, pods.metadata(f"{args.serving.model_name}-serving", args.namespace, labels)
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=meta,
            spec={
                "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": target},
                "min_replicas": s.replicas,
                "max_replicas": s.max_replicas,
                "metrics": [
                    {
                        # The model server's CPU only: the sidecar's would dilute the signal.
                        "type": "ContainerResource",
                        "container_resource": {
                            "name": "cpu",
                            "container": APP,
                            "target": {"type": "Utilization", "average_utilization": CPU_TARGET_PERCENT},
                        },
                    }
                ],
            },
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=meta,
            # One pod at a time may go for node drains and upgrades, never none (a drain would hang).
            spec={"selector": {"match_labels": dict(args.selector)}, "max_unavailable": 1},
            opts=opts,
        )

    def _spec(self, args: ServingEndpointArgs) -> Obj:
        selector = dict(args.selector)
        return {
            "replicas": args.serving.replicas,
            "selector": {"match_labels": selector},
            "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
            "revision_history_limit": 5,
            "template": {
                "metadata": {"labels": {**args.labels, **selector, **args.pod_labels}},
                "spec": pod_spec(args),
            },
        }


def pod_spec(args: ServingEndpointArgs) -> Obj:
    tmp, tmp_mount = pods.scratch("tmp", pods.TMP, "1Gi")
    models, _ = pods.scratch("models", model_sync.MODELS, MODEL_SPACE)
    return {
        "service_account_name": args.service_account,
        "automount_service_account_token": False,
        "security_context": pods.pod_security(UID),
        **pods.placement(args.pool, args.spot_tolerations),
        # Soft spreading: a zone out of GPU capacity should cost balance, not a replica.
        "topology_spread_constraints": pods.spread(args.selector, pods.ZONE_THEN_NODE),
        "termination_grace_period_seconds": 30,
        "init_containers": [
            model_sync.sidecar(
                args.sync_image,
                bucket_uri=args.bucket_uri,
                model=args.serving.model_name,
                keep_versions=args.serving.keep_versions,
                storage_env=args.storage_env,
                uid=UID,
            )
        ],
        "containers": [server(args, tmp_mount)],
        "volumes": [models, tmp],
    }


def server(args: ServingEndpointArgs, tmp_mount: Obj) -> Obj:
    s = args.serving
    model_path = f"/v1/models/{s.model_name}"
    return {
        "name": APP,
        "image": args.image,
        "command": ["/usr/bin/tensorflow_model_server"],
        "args": [
            f"--port={GRPC_PORT}",
            f"--rest_api_port={REST_PORT}",
            f"--model_name={s.model_name}",
            f"--model_base_path={model_sync.MODELS}/{s.model_name}",
            f"--file_system_poll_wait_seconds={model_sync.INTERVAL_SECONDS}",
        ],
        # The root filesystem is read-only and the user has no home: caches (CUDA's included) go to /tmp.
        "env": pods.env({"HOME": pods.TMP}),
        "ports": [
            {"name": "grpc", "container_port": GRPC_PORT},
            {"name": "http", "container_port": REST_PORT},
        ],
        "startup_probe": {
            "http_get": {"path": model_path, "port": REST_PORT},
            "period_seconds": 10,
            "failure_threshold": 30,  # five minutes to load a large model
        },
        "readiness_probe": {"http_get": {"path": model_path, "port": REST_PORT}, "period_seconds": 5},
        "liveness_probe": {"tcp_socket": {"port": GRPC_PORT}, "period_seconds": 10, "failure_threshold": 3},
        # A few seconds for the load balancer to stop sending before the server goes.
        "lifecycle": {"pre_stop": {"exec_": {"command": ["sleep", "5"]}}},
        "resources": pods.resources(s.cpu, s.memory, 1 if args.pool else 0),
        "security_context": pods.container_security(UID),
        "volume_mounts": [{"name": "models", "mount_path": model_sync.MODELS, "read_only": True}, tmp_mount],
    }


def service_spec(args: ServingEndpointArgs) -> Obj:
    ports = [
        {"name": "grpc", "port": GRPC_PORT, "target_port": GRPC_PORT, "protocol": "TCP"},
        {"name": "http", "port": REST_PORT, "target_port": REST_PORT, "protocol": "TCP"},
    ]
    if args.gateway_url is not None:
        return {"type": "ClusterIP", "selector": dict(args.selector), "ports": ports}
    spec: Obj = {
        "type": "LoadBalancer",
        "selector": dict(args.selector),
        # Keep client addresses, so the NetworkPolicy's source CIDRs see the real source.
        "external_traffic_policy": "Local",
        "ports": ports,
        # Without it the clouds' service controllers open the load balancer (and on EKS the node ports
        # in the node security group) to 0.0.0.0/0, even for an internal load balancer.
        "load_balancer_source_ranges": list(args.source_cidrs),
    }
    return spec
