"""A tiny program for the plan engine's own tests: a component, a provider, dependencies, a secret."""

import pulumi
import pulumi_aws as aws

config = pulumi.Config()


class Store(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:aws:Store", name, None, opts)
        provider = aws.Provider(
            f"{name}-provider", region="eu-west-1", opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.key = aws.kms.Key(f"{name}-key", enable_key_rotation=True, opts=child)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            tags={"key": self.key.arn},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.secret(config.require("token")),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.key])),
        )
        self.register_outputs({})


store = Store("data")
loose = aws.s3.Bucket(
    "loose", opts=pulumi.ResourceOptions(provider=aws.Provider("plain", region="eu-west-1"))
)
pulumi.export("bucket", store.bucket.id)
pulumi.export("nested", {"id": store.bucket.id, "token": pulumi.Output.secret("s3cr3t")})
pulumi.export("size", config.require_int("size"))
