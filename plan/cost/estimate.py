"""`estimate(plan)`: price every resource the plan captured, from its inputs, per cloud and component.

Each cloud's module holds a rule per priced type token; a type no rule prices must match `FREE` (it costs
nothing by itself: IAM, routes, Kubernetes objects that run on priced nodes). Anything else is listed in
`Estimate.unpriced`, so a new resource type is priced or declared free, never silently $0.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict

from infra.catalog import CLOUDS
from plan.components import label, top_component
from plan.cost import aws, azure, gcp, kubernetes, replication
from plan.cost.context import Context, Rule
from plan.cost.model import CloudCost, CostLine, Estimate, PriceError
from plan.runner import Plan

CROSS_CLOUD = "cross-cloud"


FREE = (
    "pulumi:providers:*",
    "*iammember:*",
    "*iambinding:*",
    "*iampolicy:*",
    "aws:iam/*",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:*",
    "aws:ec2/route*",
    "aws:ec2/mainRouteTableAssociation:*",
    "aws:ec2/internetGateway:*",
    "aws:ec2/securityGroup*",
    "aws:ec2/defaultSecurityGroup:*",
    "aws:ec2/defaultNetworkAcl:*",
    "aws:vpc/securityGroup*",
    "aws:ec2/launchTemplate:*",
    "aws:autoscaling/tag:*",
    "aws:ec2/flowLog:*",
    "aws:eks/addon:*",
    "aws:eks/access*",
    "aws:eks/podIdentityAssociation:*",
    "aws:s3/bucket?*:*",
    "aws:kms/alias:*",
    "aws:ecr/lifecyclePolicy:*",
    "aws:ecr/repositoryPolicy:*",
    "gcp:projects/service:*",
    "gcp:projects/serviceIdentity:*",
    "gcp:serviceaccount/*",
    "gcp:compute/network:*",
    "gcp:compute/subnetwork:*",
    "gcp:compute/router:*",
    "gcp:compute/firewall:*",
    "gcp:compute/address:*",
    "gcp:iam/workloadIdentityPool*",
    "gcp:kms/keyRing:*",
    "gcp:binaryauthorization/policy:*",
    "time:index/*",
    "random:index/*",
    # Records are free; the zone is the user's (docs/serving.md), and queries are priced per use.
    "aws:route53/record:*",
    "pulumi-python:dynamic/acr:*",
    "azure-native:resources:ResourceGroup",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:Subnet",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:SecurityRule",
    "azure-native:keyvault:Vault",
    "azure-native:storage:Blob*",
    "azure-native:storage:ManagementPolicy",
    "azure-native:containerservice:MaintenanceConfiguration",
    "azure-native:monitor:DiagnosticSetting",
    "azure-native:monitor:DataCollectionRule*",
    "azure-native:insights:DiagnosticSetting",
    "azure-native:managedidentity:*",
    "azure-native:authorization:*",
    "kubernetes:*",
    "docker-build:index:Image",
)
"""Types that cost nothing by themselves. Kubernetes objects run on nodes priced with their pools; the
exceptions (a LoadBalancer Service) have rules, which win over these patterns. Flow logs, diagnostic
settings and data collection rules cost what their log destination ingests, priced there. A GCP address
is billed while in use, by the Cloud NAT that uses it (its rule counts `natIps`). An Auto Scaling
group tag and a storage lifecycle policy are metadata: the actions a lifecycle rule takes bill as
operations, which the estimate leaves out everywhere."""


RULES: dict[str, Rule] = {**aws.RULES, **gcp.RULES, **azure.RULES, **kubernetes.RULES, **replication.RULES}


def is_free(type_: str) -> bool:
    # Case-insensitive: the SDKs spell IAM types IAMMember, iAMMember and IamMember.
    return any(fnmatch.fnmatchcase(type_.lower(), pattern.lower()) for pattern in FREE)


def estimate(plan: Plan) -> Estimate:
    """Price the plan; raise `PriceError` naming the resource when one cannot be priced."""
    rules, by_urn = RULES, plan.by_urn()
    ctx = Context(plan, by_urn)
    lines: dict[str, list[CostLine]] = defaultdict(list)
    unpriced: set[str] = set()
    for res in plan.resources:
        if not res.custom:
            continue
        rule = rules.get(res.type)
        if rule is None:
            if not is_free(res.type):
                unpriced.add(res.type)
            continue
        try:
            charges = rule(res, ctx)
        except PriceError as exc:
            raise PriceError(f"{res.name} ({res.type}): {exc}") from exc
        component = label(top_component(res, by_urn))
        cloud = res.cloud or CROSS_CLOUD
        lines[cloud] += [CostLine(cloud, component, res.name, res.type, c) for c in charges]
    order = [c for c in (*CLOUDS, CROSS_CLOUD) if c in lines]
    clouds = {cloud: CloudCost(_grouped(lines[cloud])) for cloud in order}
    return Estimate(plan.stack, clouds, tuple(sorted(unpriced)))


def _grouped(lines: list[CostLine]) -> tuple[CostLine, ...]:
    """Lines by component, then resource name (registration order varies from run to run); a resource's
    own lines keep their order."""
    return tuple(sorted(lines, key=lambda line: (line.component, line.resource)))
