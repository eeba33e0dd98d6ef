"""Trusted-image admission: the project's Binary Authorization policy, which the cluster enforces
(`binaryAuthorization.evaluationMode: PROJECT_SINGLETON_POLICY_ENFORCE`).

Enforcement alone admits everything, because a project's default policy allows every image. This policy
denies by default and admits only the stack's own Artifact Registry repository, where every image the
workloads run is built or mirrored, plus the Google-maintained system images GKE runs itself (the
global policy, `globalPolicyEvaluationMode: ENABLE`, which Google updates with each GKE release).

The policy is a project singleton: a second stack in the same project would overwrite it, so each stack
needs a project of its own (docs/gcp.md).
See cloud.google.com/binary-authorization/docs/policy-yaml-reference
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

DENY = {"evaluation_mode": "ALWAYS_DENY", "enforcement_mode": "ENFORCED_BLOCK_AND_AUDIT_LOG"}


def repository_pattern(region: str, project: str, repository_id: str) -> str:
    """Every image under the repository, in nested paths too (`**`); nothing beside it."""
    return f"{region}-docker.pkg.dev/{project}/{repository_id}/**"


def by_digest(repository: str) -> str:
    """Every image of one repository by digest (a trailing `*` matches after the `@`, not across a `/`)."""
    return f"{repository}@*"


def binary_authorization_policy(
    name: str,
    *,
    project: str,
    region: str,
    repository_id: str,
    admit_image: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> gcp.binaryauthorization.Policy:
    """The stack's policy: deny by default, admit the stack's repository and GKE's system images, and on a
    MultiKueue worker the manager's trainer repository by digest."""
    patterns: list[pulumi.Input[dict[str, str]]] = [
        {"name_pattern": repository_pattern(region, project, repository_id)}
    ]
    if admit_image is not None:
        patterns.append(pulumi.Output.from_input(admit_image).apply(lambda r: {"name_pattern": by_digest(r)}))
    return gcp.binaryauthorization.Policy(
        name,
        project=project,
        description=f"gpu-platform: only {repository_id} and GKE's system images",
        default_admission_rule=DENY,
        admission_whitelist_patterns=patterns,
        global_policy_evaluation_mode="ENABLE",
        opts=opts,
    )
