"""Fakes for gcp resources and invokes the program uses (see `plan.fakes`).

Names follow the real APIs' formats (resource names, self links, service-agent emails), so code that parses
or concatenates them behaves as it would against Google Cloud.
"""

from __future__ import annotations

from typing import Any

from plan.fakes.registry import FAKE_CA, Ctx, fake_invoke, fake_resource

FAKE_PROJECT = "fake-project"
FAKE_PROJECT_NUMBER = "123456789012"
COMPUTE = "https://www.googleapis.com/compute/v1"


def _project(inputs: dict[str, Any]) -> str:
    return str(inputs.get("project") or FAKE_PROJECT)


def _name(ctx: Ctx) -> str:
    """The explicit name, else what Pulumi's auto-naming would make of the logical name."""
    return str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")


def _agent(domain: str) -> str:
    return f"service-{FAKE_PROJECT_NUMBER}@{domain}.iam.gserviceaccount.com"


@fake_resource("gcp:compute/network:Network")
def _network(ctx: Ctx) -> dict[str, Any]:
    name, project = _name(ctx), _project(ctx.inputs)
    path = f"projects/{project}/global/networks/{name}"
    return {"__id": path, "name": name, "selfLink": f"{COMPUTE}/{path}"}


@fake_resource("gcp:compute/subnetwork:Subnetwork")
def _subnetwork(ctx: Ctx) -> dict[str, Any]:
    name, project = _name(ctx), _project(ctx.inputs)
    path = f"projects/{project}/regions/{ctx.inputs.get('region')}/subnetworks/{name}"
    return {"__id": path, "name": name, "selfLink": f"{COMPUTE}/{path}", "gatewayAddress": "10.0.0.1"}


@fake_resource("gcp:compute/address:Address")
def _address(ctx: Ctx) -> dict[str, Any]:
    """A reserved external address, in a range Google Cloud allocates from."""
    name, project = _name(ctx), _project(ctx.inputs)
    path = f"projects/{project}/regions/{ctx.inputs.get('region')}/addresses/{name}"
    octets = bytes.fromhex(ctx.hex(6))
    address = f"34.{octets[0]}.{octets[1]}.{octets[2] % 254 + 1}"
    return {"__id": path, "name": name, "address": address, "selfLink": f"{COMPUTE}/{path}"}


@fake_resource(
    "gcp:compute/router:Router", "gcp:compute/routerNat:RouterNat", "gcp:compute/firewall:Firewall"
)
def _named(ctx: Ctx) -> dict[str, Any]:
    return {"name": _name(ctx)}


@fake_resource("gcp:kms/keyRing:KeyRing")
def _key_ring(ctx: Ctx) -> dict[str, Any]:
    name = _name(ctx)
    path = f"projects/{_project(ctx.inputs)}/locations/{ctx.inputs.get('location')}/keyRings/{name}"
    return {"__id": path, "name": name}


@fake_resource("gcp:kms/cryptoKey:CryptoKey")
def _crypto_key(ctx: Ctx) -> dict[str, Any]:
    name = _name(ctx)
    return {"__id": f"{ctx.inputs.get('keyRing')}/cryptoKeys/{name}", "name": name}


@fake_resource("gcp:projects/serviceIdentity:ServiceIdentity")
def _service_identity(ctx: Ctx) -> dict[str, Any]:
    service = str(ctx.inputs.get("service", "")).split(".")[0]
    email = _agent(f"gcp-sa-{service}")
    return {"email": email, "member": f"serviceAccount:{email}"}


@fake_resource("gcp:serviceaccount/account:Account")
def _account(ctx: Ctx) -> dict[str, Any]:
    project = _project(ctx.inputs)
    email = f"{ctx.inputs.get('accountId')}@{project}.iam.gserviceaccount.com"
    return {
        "__id": f"projects/{project}/serviceAccounts/{email}",
        "email": email,
        "name": f"projects/{project}/serviceAccounts/{email}",
        "member": f"serviceAccount:{email}",
        "uniqueId": str(int(ctx.hex(12), 16))[:21],
    }


@fake_resource("gcp:container/cluster:Cluster")
def _cluster(ctx: Ctx) -> dict[str, Any]:
    name, project, location = _name(ctx), _project(ctx.inputs), ctx.inputs.get("location")
    master_auth = {**ctx.inputs.get("masterAuth", {}), "clusterCaCertificate": FAKE_CA}
    return {
        "__id": f"projects/{project}/locations/{location}/clusters/{name}",
        "name": name,
        "endpoint": "192.0.2.10",
        "masterAuth": master_auth,
        "masterVersion": f"{ctx.inputs.get('minMasterVersion', '1.33')}.5-gke.1000000",
        "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}",
    }


@fake_resource("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
def _pool(ctx: Ctx) -> dict[str, Any]:
    """The id names the project by id, `name` by number, as the IAM API answers."""
    pool = f"locations/global/workloadIdentityPools/{ctx.inputs['workloadIdentityPoolId']}"
    return {
        "__id": f"projects/{_project(ctx.inputs)}/{pool}",
        "name": f"projects/{FAKE_PROJECT_NUMBER}/{pool}",
        "state": "ACTIVE",
    }


@fake_resource("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
def _pool_provider(ctx: Ctx) -> dict[str, Any]:
    pool = f"locations/global/workloadIdentityPools/{ctx.inputs['workloadIdentityPoolId']}"
    provider = f"{pool}/providers/{ctx.inputs['workloadIdentityPoolProviderId']}"
    return {
        "__id": f"projects/{_project(ctx.inputs)}/{provider}",
        "name": f"projects/{FAKE_PROJECT_NUMBER}/{provider}",
        "state": "ACTIVE",
    }


@fake_resource("gcp:container/nodePool:NodePool")
def _node_pool(ctx: Ctx) -> dict[str, Any]:
    return {"name": _name(ctx)}


@fake_resource("gcp:storage/bucket:Bucket")
def _bucket(ctx: Ctx) -> dict[str, Any]:
    name = _name(ctx)
    return {
        "__id": name,
        "name": name,
        "url": f"gs://{name}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
    }


@fake_resource("gcp:artifactregistry/repository:Repository")
def _repository(ctx: Ctx) -> dict[str, Any]:
    project, location, repo = _project(ctx.inputs), ctx.inputs.get("location"), ctx.inputs.get("repositoryId")
    return {
        "__id": f"projects/{project}/locations/{location}/repositories/{repo}",
        "name": repo,
        "registryUri": f"{location}-docker.pkg.dev/{project}/{repo}",
    }


@fake_invoke("gcp:organizations/getProject:getProject")
def _get_project(args: dict[str, Any]) -> dict[str, Any]:
    project = args.get("projectId") or FAKE_PROJECT
    return {"id": f"projects/{project}", "projectId": project, "number": FAKE_PROJECT_NUMBER, "name": project}


@fake_invoke("gcp:organizations/getClientConfig:getClientConfig")
def _client_config(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "fake",
        "accessToken": "ya29.fake-offline-plan-token",
        "project": FAKE_PROJECT,
        "region": "",
    }


@fake_invoke("gcp:storage/getProjectServiceAccount:getProjectServiceAccount")
def _storage_agent(args: dict[str, Any]) -> dict[str, Any]:
    email = _agent("gs-project-accounts")
    project = args.get("project") or FAKE_PROJECT
    return {"id": project, "project": project, "emailAddress": email, "member": f"serviceAccount:{email}"}
