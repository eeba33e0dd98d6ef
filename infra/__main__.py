"""Composition root: load the stack config, build each enabled cloud, then its workloads, then export.

Pulumi runs this directory as `__main__` (`main: infra/` in Pulumi.yaml); the offline plan runs it the
same way on the mock engine. Outputs go through the contract in `infra/outputs.py`.
"""

import pulumi

from infra import clouds, config, outputs, workloads

cfg = config.load()
platforms = [clouds.build(cloud, cfg) for cloud in cfg.clouds]
built = [(p, workloads.build(cfg, p)) for p in platforms]

pulumi.export("schemaVersion", outputs.SCHEMA_VERSION)
pulumi.export("stack", cfg.stack)
pulumi.export("environment", cfg.environment)
pulumi.export(
    "clouds",
    {
        p.cloud: outputs.entry(
            outputs.CloudOutputs,
            region=p.region,
            cluster_name=p.cluster_name,
            bucket_uri=p.bucket_uri,
            registry=p.registry.repository,
            training_image=w.training_image,
            training_job=w.training_job,
            model_uri=w.model_uri,
            serving_url=w.serving_url,
            network=dict(p.network),
        )
        for p, w in built
    },
)
pulumi.export(
    "endpoints", [outputs.entry(outputs.Endpoint, cloud=p.cloud, url=w.serving_url) for p, w in built]
)
# On their own: a secret inside `clouds` would make the whole map secret to every reader.
pulumi.export("kubeconfigs", pulumi.Output.secret({p.cloud: p.kubeconfig for p in platforms}))
