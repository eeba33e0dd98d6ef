"""Keyless sign-in to the GKE API server for a workload of another cloud's cluster (MultiKueue's token
refresher in the manager cluster).

GKE authenticates Google identities with an email, whose access tokens carry the `userinfo.email` scope
(cloud.google.com/kubernetes-engine/docs/how-to/api-server-authentication); a federated principal has no
email, so the refresher acts as a Google service account made for it:

1. it exchanges its projected token (audience: the issuer's provider, shared with `federate`) at STS for a
   federated token of its principal, which the provider's condition admits;
2. with that, it asks the IAM Credentials API (`generateAccessToken`) for an access token of the service
   account, with the `cloud-platform` and `userinfo.email` scopes, at most an hour long; the principal's
   Workload Identity User role on that one account allows it (`iam.serviceAccounts.getAccessToken`, what
   Google's federation guide grants for impersonation; Token Creator would add signing blobs and JWTs);
3. GKE signs the token in as the account's email once the account may `container.clusters.get` in the
   project (Kubernetes Engine Cluster Viewer, the least role that holds it); what it may do in the cluster
   then comes from Kubernetes RBAC alone, bound to that email
   (cloud.google.com/kubernetes-engine/docs/how-to/role-based-access-control).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from infra.clouds.base import ApiAccess, ForeignWorkload, RbacSubject, token_path
from infra.clouds.gcp.context import CLOUD, account_id
from infra.clouds.gcp.federation import FederatedTrust

IMPERSONATE = "roles/iam.workloadIdentityUser"
"""Granted on the refresher's service account only: it may mint that account's tokens, no other's."""
CLUSTER_VIEWER = "roles/container.clusterViewer"
"""`container.clusters.get` and `list`, which GKE requires to sign an account in; no Kubernetes object
access (that is RBAC's)."""


def admit_api(
    trust: FederatedTrust,
    workload: ForeignWorkload,
    *,
    cluster: gcp.container.Cluster,
    after: Sequence[pulumi.Resource] = (),
) -> ApiAccess:
    """Trust `workload` through its cluster's provider to act as a service account made for it, which may
    sign in to `cluster`; `after` are what the grants wait for beyond the trust's own (the APIs)."""
    project, stack = trust.args.project, trust.args.stack
    opts = pulumi.ResourceOptions.merge(trust.child, pulumi.ResourceOptions(depends_on=list(after)))
    name = f"{trust.name}-{workload.service_account}"
    account = gcp.serviceaccount.Account(
        name,
        project=project,
        # 6-30 characters; the namespace too, since the subject is unique only with it.
        account_id=account_id(stack, f"{workload.cloud}-{workload.namespace}-{workload.service_account}"),
        display_name=f"{workload.cloud} {workload.namespace}/{workload.service_account} (GKE sign-in)",
        description=(
            f"{workload.subject} of the {workload.cloud} cluster of stack {stack}, signing in to the "
            f"{stack} GKE cluster; Kubernetes RBAC grants what it may do there"
        ),
        opts=opts,
    )
    impersonate = gcp.serviceaccount.IAMMember(
        f"{name}-impersonate",
        service_account_id=account.name,
        role=IMPERSONATE,
        member=trust.principal(workload),
        opts=opts,
    )
    cluster_viewer = gcp.projects.IAMMember(
        f"{name}-cluster-viewer",
        project=project,
        role=CLUSTER_VIEWER,
        member=account.member,
        opts=opts,
    )
    return ApiAccess(
        server=pulumi.Output.concat("https://", cluster.endpoint),
        ca_data=cluster.master_auth.cluster_ca_certificate,
        audience=trust.audience,
        token={"audience": trust.audience, "serviceAccount": account.email, "tokenPath": token_path(CLOUD)},
        subject=RbacSubject(kind="User", name=account.email),
        # STS refuses the token until the provider exists, the IAM Credentials API the account's token
        # until the grant does, and GKE the account until it may get the cluster.
        ready=(trust.provider, impersonate, cluster_viewer),
    )
