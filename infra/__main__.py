"""Composition root: load the stack config, build each enabled cloud, then its workloads, then export.

Pulumi runs this directory as `__main__` (`main: infra/` in Pulumi.yaml); the offline plan runs it the
same way on the mock engine.
"""

import pulumi

from infra import clouds, config, outputs

cfg = config.load()
platforms = [clouds.build(cloud, cfg) for cloud in cfg.clouds if clouds.available(cloud)]

pulumi.export("schemaVersion", outputs.SCHEMA_VERSION)
pulumi.export("stack", cfg.stack)
pulumi.export("environment", cfg.environment)
pulumi.export(
    "clouds",
    {
        p.cloud: {
            "region": p.region,
            "clusterName": p.cluster_name,
            "kubeconfig": pulumi.Output.secret(p.kubeconfig),
            "bucketUri": p.bucket_uri,
            "registry": p.registry.repository,
            "network": p.network,
        }
        for p in platforms
    },
)
pulumi.export("endpoints", [])
