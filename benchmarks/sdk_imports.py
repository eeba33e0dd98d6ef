"""Import cost of each provider SDK, as the plan pays it in a fresh process:
`uv run python benchmarks/sdk_imports.py [--eager]`.

The offline plan's cold time is mostly these imports (each SDK subpackage imports every resource module it
holds, and each class evaluates its typed signatures); the program itself takes ~0.1 s. The classes below
are the ones each cloud's platform and the workloads use, so the total projects the plan time of a stack
that enables every cloud, before those clouds' code exists. By default the plan's per-class loading
(`plan.sdk_imports`) is on, as in the plan; `--eager` measures the SDKs' own imports.
"""

from __future__ import annotations

import argparse
import importlib
import time

from plan import sdk_imports

GROUPS = {
    "plan": ["pulumi:Output", "plan.__main__:main"],
    "gcp": [
        "pulumi_gcp.compute:Network",
        "pulumi_gcp.container:Cluster",
        "pulumi_gcp.kms:CryptoKey",
        "pulumi_gcp.storage:Bucket",
        "pulumi_gcp.artifactregistry:Repository",
        "pulumi_gcp.serviceaccount:Account",
        "pulumi_gcp.projects:Service",
        "pulumi_gcp.organizations:get_project",
    ],
    "kubernetes": [
        "pulumi_kubernetes:Provider",
        "pulumi_kubernetes.core.v1:Service",
        "pulumi_kubernetes.apps.v1:Deployment",
        "pulumi_kubernetes.batch.v1:Job",
        "pulumi_kubernetes.policy.v1:PodDisruptionBudget",
        "pulumi_kubernetes.autoscaling.v2:HorizontalPodAutoscaler",
        "pulumi_kubernetes.networking.v1:NetworkPolicy",
        "pulumi_docker_build:Image",
    ],
    "aws": [
        "pulumi_aws.ec2:Vpc",
        "pulumi_aws.eks:Cluster",
        "pulumi_aws.iam:Role",
        "pulumi_aws.kms:Key",
        "pulumi_aws.s3:Bucket",
        "pulumi_aws.ecr:Repository",
        "pulumi_aws.cloudwatch:LogGroup",
    ],
    "azure": [
        "pulumi_azure_native.resources:ResourceGroup",
        "pulumi_azure_native.network:VirtualNetwork",
        "pulumi_azure_native.containerservice:ManagedCluster",
        "pulumi_azure_native.keyvault:Vault",
        "pulumi_azure_native.storage:StorageAccount",
        "pulumi_azure_native.containerregistry:Registry",
        "pulumi_azure_native.operationalinsights:Workspace",
        "pulumi_azure_native.managedidentity:UserAssignedIdentity",
        "pulumi_azure_native.authorization:RoleAssignment",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--eager", action="store_true", help="the SDKs' own imports, without the plan's")
    if not parser.parse_args().eager:
        sdk_imports.install()
    start = time.perf_counter()
    for group, names in GROUPS.items():
        began = time.perf_counter()
        for name in names:
            module, attr = name.split(":")
            getattr(importlib.import_module(module), attr)
        print(f"{group:10s} {time.perf_counter() - began:5.2f} s")
    print(f"{'total':10s} {time.perf_counter() - start:5.2f} s")


if __name__ == "__main__":
    main()
