"""Fakes for aws resources and invokes the program uses (see `plan.fakes`).

Ids and ARNs follow AWS's formats, derived from the resource's name so plans are reproducible. The region
comes from the explicit provider the platform registers first (its inputs carry `region`).
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from plan.fakes.registry import FAKE_ACCOUNT, FAKE_CA, Ctx, fake_invoke, fake_resource

DEFAULT_REGION = "us-east-1"
_REGIONS: dict[str, str] = {}
"""Stack -> region of its aws provider; the provider registers before anything that needs the region."""


def _region(ctx: Ctx) -> str:
    return str(ctx.inputs.get("region") or _REGIONS.get(ctx.stack, DEFAULT_REGION))


def _arn(ctx: Ctx, service: str, resource: str, regional: bool = True) -> str:
    return f"arn:aws:{service}:{_region(ctx) if regional else ''}:{FAKE_ACCOUNT}:{resource}"


def _physical(ctx: Ctx, key: str = "name") -> str:
    """The input name if set, else an auto-name the way Pulumi makes one (logical name + suffix)."""
    return str(ctx.inputs.get(key) or f"{ctx.name}-{ctx.hex(7)}")


@fake_resource("pulumi:providers:aws")
def _provider(ctx: Ctx) -> dict[str, Any]:
    _REGIONS[ctx.stack] = str(ctx.inputs.get("region") or DEFAULT_REGION)
    return {}


@fake_resource(
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/launchTemplate:LaunchTemplate",
)
def _ec2(ctx: Ctx) -> dict[str, Any]:
    prefixes = {
        "vpc": "vpc",
        "subnet": "subnet",
        "internetGateway": "igw",
        "natGateway": "nat",
        "routeTable": "rtb",
        "defaultSecurityGroup": "sg",
        "vpcEndpoint": "vpce",
        "flowLog": "fl",
        "launchTemplate": "lt",
    }
    kind = ctx.type_.split("/")[1].split(":")[0]
    ident = f"{prefixes[kind]}-{ctx.hex()}"
    out: dict[str, Any] = {"__id": ident, "arn": _arn(ctx, "ec2", f"{kind.lower()}/{ident}")}
    if kind == "launchTemplate":
        out |= {"latestVersion": 1, "defaultVersion": 1, "name": _physical(ctx)}
    return out


@fake_resource("aws:ec2/eip:Eip")
def _eip(ctx: Ctx) -> dict[str, Any]:
    ident = f"eipalloc-{ctx.hex()}"
    octets = bytes.fromhex(ctx.hex(6))
    return {"__id": ident, "allocationId": ident, "publicIp": f"3.{octets[0]}.{octets[1]}.{octets[2]}"}


@fake_resource("aws:kms/key:Key")
def _key(ctx: Ctx) -> dict[str, Any]:
    key_id = str(uuid.UUID(ctx.hex(32)))
    return {"__id": key_id, "keyId": key_id, "arn": _arn(ctx, "kms", f"key/{key_id}")}


@fake_resource("aws:cloudwatch/logGroup:LogGroup")
def _log_group(ctx: Ctx) -> dict[str, Any]:
    name = _physical(ctx)
    return {"__id": name, "name": name, "arn": _arn(ctx, "logs", f"log-group:{name}")}


@fake_resource("aws:iam/role:Role")
def _role(ctx: Ctx) -> dict[str, Any]:
    name = _physical(ctx)
    return {
        "__id": name,
        "name": name,
        "arn": _arn(ctx, "iam", f"role/{name}", regional=False),
        "uniqueId": f"AROA{ctx.hex(17).upper()}",
    }


@fake_resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
def _oidc_provider(ctx: Ctx) -> dict[str, Any]:
    """IAM names the provider by its URL without the scheme, a trailing slash kept."""
    path = str(ctx.inputs["url"]).removeprefix("https://")
    arn = _arn(ctx, "iam", f"oidc-provider/{path}", regional=False)
    return {"__id": arn, "arn": arn}


@fake_resource("aws:eks/cluster:Cluster")
def _cluster(ctx: Ctx) -> dict[str, Any]:
    name = _physical(ctx)
    region, host = _region(ctx), ctx.hex(32).upper()
    return {
        "__id": name,
        "name": name,
        "arn": _arn(ctx, "eks", f"cluster/{name}"),
        "endpoint": f"https://{host}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": FAKE_CA},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{host}"}]}],
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "vpcConfig": {**ctx.inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{ctx.hex()}"},
    }


@fake_resource("aws:eks/nodeGroup:NodeGroup")
def _node_group(ctx: Ctx) -> dict[str, Any]:
    name = _physical(ctx, "nodeGroupName")
    cluster = ctx.inputs.get("clusterName", "cluster")
    group = f"eks-{name}-{uuid.UUID(ctx.hex(32))}"
    return {
        "__id": f"{cluster}:{name}",
        "nodeGroupName": name,
        "arn": _arn(ctx, "eks", f"nodegroup/{cluster}/{name}/{uuid.UUID(ctx.hex(32))}"),
        "resources": [{"autoscalingGroups": [{"name": group}], "remoteAccessSecurityGroupId": ""}],
        "status": "ACTIVE",
    }


@fake_resource("aws:eks/podIdentityAssociation:PodIdentityAssociation")
def _pod_identity(ctx: Ctx) -> dict[str, Any]:
    ident = f"a-{ctx.hex(17)}"
    cluster = ctx.inputs.get("clusterName", "cluster")
    return {
        "__id": ident,
        "associationId": ident,
        "associationArn": _arn(ctx, "eks", f"podidentityassociation/{cluster}/{ident}"),
    }


@fake_resource("aws:s3/bucket:Bucket")
def _bucket(ctx: Ctx) -> dict[str, Any]:
    name = _physical(ctx, "bucket")
    return {
        "__id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketRegionalDomainName": f"{name}.s3.{_region(ctx)}.amazonaws.com",
    }


@fake_resource("aws:ecr/repository:Repository")
def _repository(ctx: Ctx) -> dict[str, Any]:
    name = _physical(ctx)
    host = f"{FAKE_ACCOUNT}.dkr.ecr.{_region(ctx)}.amazonaws.com"
    return {
        "__id": name,
        "name": name,
        "arn": _arn(ctx, "ecr", f"repository/{name}"),
        "registryId": FAKE_ACCOUNT,
        "repositoryUrl": f"{host}/{name}",
    }


@fake_invoke("aws:iam/getRoles:getRoles")
def _roles(_: dict[str, Any]) -> dict[str, Any]:
    # A fresh account: no role matches, so the program creates what it needs (Auto Scaling's role).
    return {"arns": [], "names": [], "id": "roles"}


@fake_invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller(_: dict[str, Any]) -> dict[str, Any]:
    arn = f"arn:aws:sts::{FAKE_ACCOUNT}:assumed-role/gpu-platform-deployer/plan"
    return {"accountId": FAKE_ACCOUNT, "arn": arn, "userId": "AROAPLANPLANPLAN:plan", "id": FAKE_ACCOUNT}


@fake_invoke("aws:index/getPartition:getPartition")
def _partition(_: dict[str, Any]) -> dict[str, Any]:
    return {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
        "id": "aws",
    }


@fake_invoke("aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings")
def _offerings(args: dict[str, Any]) -> dict[str, Any]:
    """Every instance type of the plan in every zone of the region, but the first (`a`), which offers no
    GPU machine: the program must keep GPU node groups out of a zone without their type."""
    (wanted,) = next(f["values"] for f in args["filters"] if f["name"] == "instance-type")
    names = _zones(args)["names"]
    zones = names[1:] if wanted.startswith(("g", "p")) else names
    return {
        "instanceTypes": [wanted] * len(zones),
        "locations": zones,
        "locationTypes": ["availability-zone"] * len(zones),
        "id": str(args.get("region") or DEFAULT_REGION),
    }


@fake_invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _zones(args: dict[str, Any]) -> dict[str, Any]:
    region = str(args.get("region") or DEFAULT_REGION)
    letters = "abcdef"
    code = "".join(part[0] for part in region.split("-")[:-1]) + region.rsplit("-", 1)[1]
    return {
        "names": [f"{region}{x}" for x in letters],
        "zoneIds": [f"{code}-az{i + 1}" for i in range(len(letters))],
        "groupNames": [region] * len(letters),
        "id": region,
    }


@fake_invoke("aws:ecr/getAuthorizationToken:getAuthorizationToken")
def _ecr_token(args: dict[str, Any]) -> dict[str, Any]:
    region = str(args.get("region") or DEFAULT_REGION)
    registry = str(args.get("registryId") or FAKE_ACCOUNT)
    password = "plan-placeholder-ecr-token"
    return {
        "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
        "expiresAt": "2099-01-01T00:00:00Z",
        "id": region,
        "password": password,
        "proxyEndpoint": f"https://{registry}.dkr.ecr.{region}.amazonaws.com",
        "registryId": registry,
        "userName": "AWS",
    }
