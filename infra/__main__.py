"""Composition root: load the stack config, build each enabled cloud, then with `serving.domain` the
gateways' keys, addresses, DNS-01 access and names, then each cloud's workloads, then federate the other
clouds to the home cloud's replicator and, with `queues.dispatch`, to its MultiKueue refresher, then export.

Pulumi runs this directory as `__main__` (`main: infra/` in Pulumi.yaml); the offline plan runs it the
same way on the mock engine. Outputs go through the contract in `infra/outputs.py`.
"""

import pulumi

from infra import config, dispatch, gateways, outputs, replication, workloads
from infra.gateway.serving import KEY_HEADER

cfg = config.load()
platforms = replication.platforms(cfg)
front = gateways.build(cfg, platforms)
built = {
    cloud: workloads.build(cfg, p, front.clouds[cloud] if front else None) for cloud, p in platforms.items()
}
replicator = replication.build(cfg, platforms, built)
dispatched = dispatch.build(cfg, platforms, built)
home = built[cfg.training_cloud]


def training(w: workloads.Workloads) -> dict[str, object] | None:
    if w.training_image is None or w.training_job is None:
        return None
    cron_job = replicator.cron_job if replicator is not None else None
    return outputs.entry(
        outputs.TrainingOutputs, image=w.training_image, job=w.training_job, replicator=cron_job
    )


pulumi.export("schemaVersion", outputs.SCHEMA_VERSION)
pulumi.export("stack", cfg.stack)
pulumi.export("environment", cfg.environment)
pulumi.export(
    "clouds",
    {
        cloud: outputs.entry(
            outputs.CloudOutputs,
            region=p.region,
            cluster_name=p.cluster_name,
            bucket_uri=p.bucket_uri,
            registry=p.registry.repository,
            serving_url=built[cloud].serving_url,
            model=outputs.entry(
                outputs.ModelOutputs,
                name=cfg.serving.model_name,
                uri=built[cloud].model_uri,
                serves=cfg.serving.keep_versions,
                trained_on=cfg.training_cloud,
                source_uri=home.model_uri,
            ),
            training=training(built[cloud]),
            network=dict(p.network),
        )
        for cloud, p in platforms.items()
    },
)
pulumi.export(
    "dispatch",
    dispatched
    and outputs.entry(
        outputs.DispatchOutputs,
        manager=cfg.training_cloud,
        workers=list(cfg.dispatch_workers),
        namespace=cfg.namespace,
        template=dispatched.template.name,
        queue=dispatched.queue,
        queues=dispatched.queues,
    ),
)
pulumi.export(
    "serving",
    front
    and cfg.serving.domain
    and outputs.entry(
        outputs.ServingOutputs,
        url=workloads.https_url("", cfg.serving.domain, cfg.serving.model_name),
        clouds={cloud: w.serving_url for cloud, w in built.items()},
        key_header=KEY_HEADER,
        clients=list(front.keys),
        failover_seconds=front.failover_seconds,
    ),
)
pulumi.export(
    "endpoints",
    [outputs.entry(outputs.Endpoint, cloud=cloud, url=w.serving_url) for cloud, w in built.items()],
)
# On their own: a secret inside `clouds` would make the whole map secret to every reader.
pulumi.export("kubeconfigs", pulumi.Output.secret({cloud: p.kubeconfig for cloud, p in platforms.items()}))
pulumi.export("apiKeys", front and pulumi.Output.secret(front.keys))
