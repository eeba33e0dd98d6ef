"""What the manager may run on a MultiKueue worker: a ValidatingAdmissionPolicy that confines every Job the
manager's identity creates there to the training Job the stack's template describes.

MultiKueue creates a worker's copy of a Job with the manager's identity, and copies its spec as it is
(upstream `job_multikueue_adapter.go`). RBAC can let that identity create Jobs in the team namespaces, but
not say which: without more, whoever holds its hour-long token could run any image there as any of the
namespace's service accounts (the replicator's, which may write the served models; serving's), mount
its Secrets, or read them into the environment. The policy admits a Job from that identity only if it:

- runs as the `trainer` service account, without its Kubernetes API token;
- runs the manager's trainer image, by digest, in every container, with no init containers;
- pulls with the worker's pull Secret only;
- mounts emptyDir volumes only, and reads no Secret into its environment.

It matches requests by their user (an Entra object id on AKS) or group (an EKS access entry's group), as
the worker's RBAC binds them (`ApiAccess.subject`), and denies; anyone else's Jobs are not its business.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from infra.clouds.base import RbacSubject
from infra.pods import Obj

NAME = "multikueue-dispatched-jobs"
POD = "object.spec.template.spec"


def subject_condition(subject: RbacSubject) -> pulumi.Output[str]:
    """A CEL condition true for the requests of `subject`."""
    return pulumi.Output.from_input(subject.name).apply(
        lambda name: (
            f"{json.dumps(name)} in request.userInfo.groups"
            if subject.kind == "Group"
            else f"request.userInfo.username == {json.dumps(name)}"
        )
    )


def validations(image: str, service_account: str, pull_secret: str) -> list[Obj]:
    """Each rule with the message the API server returns when a Job breaks it."""
    no_secret_env = (
        "c, (!has(c.env) || c.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef))) && "
        "(!has(c.envFrom) || c.envFrom.all(f, !has(f.secretRef)))"
    )
    rules = [
        (
            f"has({POD}.serviceAccountName) && {POD}.serviceAccountName == {json.dumps(service_account)}",
            f"a dispatched Job runs as the {service_account} service account",
        ),
        (
            f"has({POD}.automountServiceAccountToken) && {POD}.automountServiceAccountToken == false",
            "a dispatched Job does not mount its Kubernetes API token",
        ),
        (
            f"{POD}.containers.all(c, c.image == {json.dumps(image)}) && !has({POD}.initContainers)",
            f"a dispatched Job runs {image} only",
        ),
        (
            f"!has({POD}.imagePullSecrets) || "
            f"{POD}.imagePullSecrets.all(s, s.name == {json.dumps(pull_secret)})",
            f"a dispatched Job pulls with the {pull_secret} Secret only",
        ),
        (
            f"!has({POD}.volumes) || {POD}.volumes.all(v, has(v.emptyDir))",
            "a dispatched Job mounts emptyDir volumes only",
        ),
        (f"{POD}.containers.all({no_secret_env})", "a dispatched Job reads no Secret into its environment"),
    ]
    return [{"expression": expression, "message": message} for expression, message in rules]


class DispatchedJobPolicy(pulumi.ComponentResource):
    """The policy and its binding on one worker."""

    def __init__(
        self,
        name: str,
        *,
        subject: RbacSubject,
        image: pulumi.Input[str],
        service_account: str,
        pull_secret: str,
        labels: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("gpu-platform:kueue:DispatchedJobPolicy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{name}-policy",
            metadata={"name": NAME, "labels": dict(labels)},
            spec={
                "failure_policy": "Fail",
                "match_constraints": {
                    "resource_rules": [
                        {
                            "api_groups": ["batch"],
                            "api_versions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["jobs"],
                        }
                    ]
                },
                "match_conditions": [{"name": "from-the-manager", "expression": subject_condition(subject)}],
                "validations": pulumi.Output.from_input(image).apply(
                    lambda ref: validations(ref, service_account, pull_secret)
                ),
            },
            opts=child,
        )
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{name}-binding",
            metadata={"name": NAME, "labels": dict(labels)},
            spec={"policy_name": policy.metadata.name, "validation_actions": ["Deny"]},
            opts=child,
        )
        self.register_outputs({})
