"""The offline plan: run `infra/` on the Pulumi SDK's mock engine and report what `pulumi up` would do."""
