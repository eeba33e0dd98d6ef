"""AWS: VPC, KMS keys, EKS with GPU managed node groups and Cluster Autoscaler, S3, ECR, Pod Identity.

The only package that imports `pulumi_aws`; `platform.build(args)` returns the `CloudPlatform` contract.
"""
