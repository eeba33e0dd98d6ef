"""Compliant MultiKueue objects for ID-10: a manager's worker cluster with its empty kubeconfig Secret and
the Role that lets the token refresher patch it, and the worker's ClusterRole for the refresher's group."""

from __future__ import annotations

from tests.policy.stacks import Fixture

NS = "kueue-system"
WORKER_RULES = [
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["kueue.x-k8s.io"], "resources": ["workloads"], "verbs": ["get", "list", "watch"]},
]
WRITE_RULES = [
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "delete"]},
    {"apiGroups": ["kueue.x-k8s.io"], "resources": ["workloads"], "verbs": ["create", "delete", "update"]},
]


def manager() -> list[Fixture]:
    """A MultiKueue manager on GKE: one worker's cluster, its empty kubeconfig Secret, the refresher's
    Role."""
    return [
        Fixture(
            "kubernetes:kueue.x-k8s.io/v1beta2:MultiKueueCluster",
            "cluster-aws",
            {
                "metadata": {"name": "aws"},
                "spec": {"clusterSource": {"kubeConfig": {"locationType": "Secret", "location": "mk-aws"}}},
            },
            cloud="gcp",
        ),
        Fixture(
            "kubernetes:core/v1:Secret",
            "secret-aws",
            {"metadata": {"name": "mk-aws", "namespace": NS}, "type": "Opaque"},
            cloud="gcp",
        ),
        Fixture(
            "kubernetes:rbac.authorization.k8s.io/v1:Role",
            "refresher-role",
            {
                "metadata": {"name": "refresher", "namespace": NS},
                "rules": [
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": ["mk-aws"],
                        "verbs": ["get", "patch"],
                    }
                ],
            },
            cloud="gcp",
        ),
    ]


def worker() -> list[Fixture]:
    """Its worker on EKS: reading cluster-wide, writing in namespace ml, for the refresher's group."""
    return [
        Fixture(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
            "worker-role",
            {"metadata": {"name": "multikueue-worker"}, "rules": WORKER_RULES},
            cloud="aws",
        ),
        Fixture(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            "worker-binding",
            {
                "metadata": {"name": "multikueue-worker"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "multikueue-worker",
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "gpu-platform:mk"}
                ],
            },
            cloud="aws",
        ),
        Fixture(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
            "worker-write-role",
            {"metadata": {"name": "multikueue-worker-write"}, "rules": WRITE_RULES},
            cloud="aws",
        ),
        Fixture(
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "worker-write-binding",
            {
                "metadata": {"name": "multikueue-worker-write", "namespace": "ml"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "multikueue-worker-write",
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "gpu-platform:mk"}
                ],
            },
            cloud="aws",
        ),
        *confinement(),
    ]


def confinement() -> list[Fixture]:
    """What the worker's admission admits of the refresher's group: trainer Jobs of one image."""
    checks = [
        'object.spec.template.spec.serviceAccountName == "trainer"',
        'object.spec.template.spec.containers.all(c, c.image == "r.example/trainer@sha256:0")',
    ]
    return [
        Fixture(
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
            "worker-confinement",
            {
                "metadata": {"name": "dispatched-jobs"},
                "spec": {
                    "matchConditions": [
                        {"name": "manager", "expression": '"gpu-platform:mk" in request.userInfo.groups'}
                    ],
                    "validations": [{"expression": e} for e in checks],
                },
            },
            cloud="aws",
        ),
        Fixture(
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
            "worker-confinement-binding",
            {
                "metadata": {"name": "dispatched-jobs"},
                "spec": {"policyName": "dispatched-jobs", "validationActions": ["Deny"]},
            },
            cloud="aws",
        ),
    ]
