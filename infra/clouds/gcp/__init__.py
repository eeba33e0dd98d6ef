"""gpu-platform on Google Cloud: a private VPC-native GKE cluster with GPU node pools, a CMEK-encrypted GCS
bucket and Artifact Registry repository, and workload identity for the trainer and serving accounts.

The only package that imports `pulumi_gcp`; `platform.build(args)` returns the `base.CloudPlatform` contract.
"""
