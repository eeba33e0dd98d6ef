"""The cloud-agnostic workloads, one `Workloads` component per cloud: GPU device support where the cloud
lacks it, the namespace and its policies, the images, the training Job and the TF Serving endpoint.

Everything here talks to one cluster through the contract's Kubernetes provider, which the component
hands to all its children; what differs between clouds comes from the contract as data (annotations,
environment, tolerations, missing capabilities), never from a branch on the cloud's name. Only
pulumi_kubernetes and pulumi_docker_build are imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from infra import naming
from infra.clouds.base import GENERAL_POOL, MODELS_PREFIX, POOL_LABEL, Capability, CloudPlatform, WorkloadRole
from infra.config import StackConfig
from infra.gateway import envoy
from infra.gateway import serving as gateway_objects
from infra.gateway.cluster import IMAGES as GATEWAY_IMAGES
from infra.gateway.cluster import ServingGateway, ServingGatewayArgs
from infra.kueue.cluster import Kueue, KueueArgs
from infra.pods import Obj, app_labels
from infra.workloads import upstream
from infra.workloads.device_plugin import GpuDevicePlugin, GpuDevicePluginArgs
from infra.workloads.image import ContainerImages, ContainerImagesArgs
from infra.workloads.namespace import WorkloadNamespace, WorkloadNamespaceArgs
from infra.workloads.serving import (
    GRPC_PORT,
    REST_PORT,
    ServingEndpoint,
    ServingEndpointArgs,
    serving_service,
)
from infra.workloads.trainer_env import WORKER_PORT, TrainerEnv, TrainerEnvArgs
from infra.workloads.training import JobTemplateArgs, TrainingJob, TrainingJobArgs

if TYPE_CHECKING:
    from infra.gateways import CloudFront

APPS: dict[WorkloadRole, str] = {"trainer": "trainer", "serving": "tf-serving", "replicator": "replicator"}
"""The `app.kubernetes.io/name` of each role's pods."""


@dataclass(frozen=True, kw_only=True)
class WorkloadsArgs:
    config: StackConfig
    platform: CloudPlatform
    front: CloudFront | None = None
    """With `serving.domain`: what this cluster's HTTPS gateway needs (`infra/gateways.py`)."""


def mirrors(cfg: StackConfig, platform: CloudPlatform) -> dict[str, upstream.Upstream]:
    """The third-party images this cluster runs: the serving build for its pool, rclone, Kueue, and the
    device plugin where the cloud does not provide one."""
    s = cfg.serving
    on_gpu = cfg.pool(s.pool) is not None
    configured = s.gpu_image if on_gpu else s.image
    default = upstream.TF_SERVING_GPU if on_gpu else upstream.TF_SERVING
    images = {
        "serving": upstream.from_ref(default.name, configured) if configured else default,
        "model-sync": upstream.RCLONE,
        "kueue": upstream.KUEUE,
    }
    if platform.lacks(Capability.GPU_DEVICE_PLUGIN):
        images["device-plugin"] = upstream.DEVICE_PLUGIN
    if cfg.serving.domain is not None:
        images |= {
            "envoy-gateway": upstream.ENVOY_GATEWAY,
            "envoy": upstream.ENVOY,
            **{f"cert-manager-{part}": image for part, image in upstream.CERT_MANAGER.items()},
        }
    return images


def serving_sources(cfg: StackConfig, platform: CloudPlatform, front: CloudFront | None) -> tuple[str, ...]:
    """Who may reach the serving load balancer: the configured CIDRs (required when public), else the
    cluster network's own ranges, never the whole internet. Behind the gateway TF Serving has no load
    balancer of its own (the gateway's admits the configured CIDRs): none."""
    if front is not None:
        return ()
    return tuple(cfg.serving.source_cidrs) or platform.internal_sources


def gateway_proxies() -> Obj:
    """The gateway's proxy pods as a NetworkPolicy peer: the only pods that may reach TF Serving behind it."""
    return {
        "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": envoy.NAMESPACE}},
        "pod_selector": {"match_labels": dict(envoy.PROXY_SELECTOR)},
    }


def https_url(cloud: str, domain: str, model: str) -> str:
    """A predict URL through the gateway: `https://<cloud>.<domain>/...`, or the global name's with `cloud`
    empty."""
    host = gateway_objects.cloud_host(cloud, domain) if cloud else domain
    return f"https://{host}/v1/models/{model}:predict"


def model_uri(bucket_uri: pulumi.Input[str], model: str) -> pulumi.Output[str]:
    """A model's base path in a bucket: `<bucket>/models/<name>`, holding one directory per version."""
    return pulumi.Output.concat(bucket_uri, "/", MODELS_PREFIX, model)


class Workloads(pulumi.ComponentResource):
    """One cluster's workloads. The home cloud's (`training.cloud`) runs the stack's training Job; with
    `queues.dispatch` each worker runs the Jobs MultiKueue gives it, so it has the trainer's environment
    too (`trainer_env`). `infra/replication.py` adds the replicator, which copies each version the others
    serve."""

    name: str
    """The component's name, which every child's name starts with."""
    trains: bool
    trainer_env: TrainerEnv | None
    """The trainer's environment in this cluster, where it trains (the home cluster, or a worker)."""
    training_image: pulumi.Output[str] | None
    training_job: pulumi.Output[str] | None
    model_uri: pulumi.Output[str]
    serving_url: pulumi.Output[str]
    namespace: WorkloadNamespace
    labels: dict[str, str]
    kueue: Kueue
    kueue_labels: dict[str, str]

    def __init__(self, name: str, args: WorkloadsArgs, opts: pulumi.ResourceOptions | None = None):
        cfg, platform = args.config, args.platform
        # Every Kubernetes resource below inherits this provider: they all land in this cloud's cluster.
        own = pulumi.ResourceOptions(providers={"kubernetes": platform.k8s_provider})
        super().__init__(
            "gpu-platform:workloads:Workloads", name, None, pulumi.ResourceOptions.merge(opts, own)
        )
        child = pulumi.ResourceOptions(parent=self)
        self.name = name
        self.trains = cfg.training_cloud == platform.cloud
        labels = naming.labels(cfg.stack, platform.cloud, "workloads")
        built = self._images(name, args, labels, child)
        sources = serving_sources(cfg, platform, args.front)
        namespace = WorkloadNamespace(
            f"{name}-namespace",
            WorkloadNamespaceArgs(
                name=cfg.namespace,
                labels=labels,
                identities=platform.identities,
                apps=APPS,
                trainer_port=WORKER_PORT,
                serving_ports=(GRPC_PORT, REST_PORT),
                serving_sources=sources,
                **({"serving_peers": (gateway_proxies(),)} if args.front else {}),
                identity_egress=platform.identity_egress,
            ),
            child,
        )
        self.namespace, self.labels = namespace, labels
        self.kueue_labels = naming.labels(cfg.stack, platform.cloud, "kueue")
        self.kueue = queues = Kueue(
            f"{name}-kueue",
            KueueArgs(
                image=built.mirrored["kueue"],
                labels=self.kueue_labels,
                node_selector={POOL_LABEL: GENERAL_POOL},
                cohort=cfg.queues.cohort,
                pools=cfg.pools_on(platform.cloud),
                teams=cfg.team_queues(platform.cloud),
                spot_tolerations=platform.spot_tolerations,
                dispatches=cfg.queues.dispatch is not None and self.trains,
                namespaces=[namespace],
            ),
            child,
        )
        self.model_uri = model_uri(platform.bucket_uri, cfg.serving.model_name)
        self.training_image, self.training_job, self.trainer_env = built.trainer, None, None
        if self.trains or platform.cloud in cfg.dispatch_workers:
            self.trainer_env = TrainerEnv(
                f"{name}-trainer-env",
                TrainerEnvArgs(
                    namespace=namespace.name,
                    model_name=cfg.serving.model_name,
                    bucket_uri=platform.bucket_uri,
                    storage_env=platform.storage_env,
                    labels=labels,
                    selector=app_labels(APPS["trainer"], cfg.stack),
                ),
                child,
            )
        if built.trainer is not None and self.trainer_env is not None:
            job = self._training(
                name,
                args=args,
                namespace=namespace,
                ready=[*queues.ready, *self.trainer_env.ready],
                image=built.trainer,
                labels=labels,
                opts=child,
            )
            self.training_job = job.job_name
        serving = self._serving(
            name, args=args, namespace=namespace, images=built, sources=sources, labels=labels, opts=child
        )
        self.serving_url = serving.url
        if args.front is not None:
            self._gateway(name, args.front, args=args, namespace=namespace, images=built, opts=child)
        outputs = {"modelUri": self.model_uri, "servingUrl": self.serving_url}
        if self.training_image is not None and self.training_job is not None:
            outputs |= {"trainingImage": self.training_image, "trainingJob": self.training_job}
        self.register_outputs(outputs)

    def _images(
        self, name: str, args: WorkloadsArgs, labels: dict[str, str], opts: pulumi.ResourceOptions
    ) -> ContainerImages:
        """The images, and the device plugin that runs one of them where the cloud lacks its own."""
        cfg, platform = args.config, args.platform
        images = mirrors(cfg, platform)
        for ref in (u.ref for u in images.values() if not u.pinned):
            pulumi.log.warn(
                f"{ref} is mirrored by tag: the pods run the digest of the copy in the stack's registry; "
                f"pin it with `python -m preflight.images --stack {cfg.stack} --write`"
            )
        built = ContainerImages(
            f"{name}-images",
            ContainerImagesArgs(
                registry=platform.registry,
                trainer=self.trains,
                prebuilt_trainer=cfg.training.image,
                mirrors=images,
            ),
            opts,
        )
        if "device-plugin" in built.mirrored:
            GpuDevicePlugin(
                f"{name}-device-plugin",
                GpuDevicePluginArgs(
                    image=built.mirrored["device-plugin"],
                    labels=labels,
                    spot_tolerations=platform.spot_tolerations,
                ),
                opts,
            )
        return built

    def _training(
        self,
        name: str,
        *,
        args: WorkloadsArgs,
        namespace: WorkloadNamespace,
        ready: list[pulumi.Resource],
        image: pulumi.Output[str],
        labels: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> TrainingJob:
        cfg, platform = args.config, args.platform
        identity = platform.identities["trainer"]
        return TrainingJob(
            f"{name}-training",
            TrainingJobArgs(
                namespace=namespace.name,
                template=JobTemplateArgs(
                    image=image,
                    training=cfg.training,
                    model_name=cfg.serving.model_name,
                    queue=self.kueue.local_queues[cfg.training_team().name],
                    service_account=namespace.accounts["trainer"],
                    pod_labels=identity.pod_labels,
                    grace_seconds=platform.spot_notice_seconds,
                    labels=labels,
                    selector=app_labels(APPS["trainer"], cfg.stack),
                ),
                ready=[*identity.ready, *ready],
            ),
            opts,
        )

    def _gateway(
        self,
        name: str,
        front: CloudFront,
        *,
        args: WorkloadsArgs,
        namespace: WorkloadNamespace,
        images: ContainerImages,
        opts: pulumi.ResourceOptions,
    ) -> ServingGateway:
        cfg, platform = args.config, args.platform
        spec = gateway_objects.GatewaySpec(
            cloud=platform.cloud,
            domain=front.domain,
            namespace=cfg.namespace,
            model=cfg.serving.model_name,
            service=serving_service(cfg.serving.model_name),
            rest_port=REST_PORT,
            grpc_port=GRPC_PORT,
            labels=self.labels,
        )
        return ServingGateway(
            f"{name}-gateway",
            ServingGatewayArgs(
                spec=spec,
                images={image: images.mirrored[image] for image in GATEWAY_IMAGES},
                serving_namespace=namespace,
                address=front.address,
                source_ranges=cfg.serving.source_cidrs,
                dns01=front.dns01,
                keys=front.keys,
                node_selector={POOL_LABEL: GENERAL_POOL},
                identity_egress=platform.identity_egress,
                labels=naming.labels(cfg.stack, platform.cloud, "gateway"),
            ),
            opts,
        )

    def _serving(
        self,
        name: str,
        *,
        args: WorkloadsArgs,
        namespace: WorkloadNamespace,
        images: ContainerImages,
        sources: tuple[str, ...],
        labels: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> ServingEndpoint:
        cfg, platform = args.config, args.platform
        return ServingEndpoint(
            f"{name}-serving",
            ServingEndpointArgs(
                namespace=namespace.name,
                serving=cfg.serving,
                pool=cfg.pool(cfg.serving.pool),
                image=images.mirrored["serving"],
                sync_image=images.mirrored["model-sync"],
                bucket_uri=platform.bucket_uri,
                service_account=namespace.accounts["serving"],
                pod_labels=platform.identities["serving"].pod_labels,
                storage_env=platform.storage_env,
                service_annotations=platform.service_annotations,
                source_cidrs=sources,
                gateway_url=(
                    https_url(platform.cloud, args.front.domain, cfg.serving.model_name)
                    if args.front
                    else None
                ),
                spot_tolerations=platform.spot_tolerations,
                identity_ready=platform.identities["serving"].ready,
                labels=labels,
                selector=app_labels(APPS["serving"], cfg.stack),
            ),
            opts,
        )


def build(cfg: StackConfig, platform: CloudPlatform, front: CloudFront | None = None) -> Workloads:
    return Workloads(
        f"{cfg.stack}-{platform.cloud}-workloads", WorkloadsArgs(config=cfg, platform=platform, front=front)
    )
