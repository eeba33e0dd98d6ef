"""cert-manager's Helm chart at tag v1.21.1 (deploy/charts/cert-manager/templates), quoted: what the tests
compare `infra/gateway/cert_manager.py` against, so that each comparison is with the chart's text rather
than with the module's own constants. Each role's `rules:` is copied as the template writes it, rendered
for the release `cert-manager` with the chart's default values (template lines whose condition is off by
default, such as the metrics TLS Secret's name, dropped; comments dropped). Left out, as the module leaves
them out: the aggregated `cert-manager-view`, `-edit` and `-cluster-view`, and the cainjector's metrics
`dynamic-serving` Role (off by default). The roles of the controllers the module turns off are quoted all
the same (`-ingress-shim`, `-certificatesigningrequests`): the tests say what of them the module drops
and what it keeps. Last, from the controller's own source, the controllers it knows and those it runs by
default."""

from __future__ import annotations

ROLES: dict[str, tuple[str, str, str]] = {
    # name: (template, kind, rules)
    "cert-manager:leaderelection": (
        "rbac.yaml",
        "Role",
        """\
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: ["cert-manager-controller"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
""",
    ),
    "cert-manager-controller-issuers": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["cert-manager.io"]
  resources: ["issuers", "issuers/status"]
  verbs: ["update", "patch"]
- apiGroups: ["cert-manager.io"]
  resources: ["issuers"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
""",
    ),
    "cert-manager-controller-clusterissuers": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["cert-manager.io"]
  resources: ["clusterissuers", "clusterissuers/status"]
  verbs: ["update", "patch"]
- apiGroups: ["cert-manager.io"]
  resources: ["clusterissuers"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
""",
    ),
    "cert-manager-controller-certificates": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["cert-manager.io"]
  resources: ["certificates", "certificates/status", "certificaterequests", "certificaterequests/status"]
  verbs: ["update", "patch"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates", "certificaterequests", "clusterissuers", "issuers"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates/finalizers", "certificaterequests/finalizers"]
  verbs: ["update"]
- apiGroups: ["acme.cert-manager.io"]
  resources: ["orders"]
  verbs: ["create", "delete", "get", "list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "delete", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
""",
    ),
    "cert-manager-controller-orders": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["acme.cert-manager.io"]
  resources: ["orders", "orders/status"]
  verbs: ["update", "patch"]
- apiGroups: ["acme.cert-manager.io"]
  resources: ["orders", "challenges"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["cert-manager.io"]
  resources: ["clusterissuers", "issuers"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["acme.cert-manager.io"]
  resources: ["challenges"]
  verbs: ["create", "delete"]
- apiGroups: ["acme.cert-manager.io"]
  resources: ["orders/finalizers"]
  verbs: ["update"]
- apiGroups: ["cert-manager.io"]
  resources: ["clusterissuers/finalizers", "issuers/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
""",
    ),
    "cert-manager-controller-challenges": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["acme.cert-manager.io"]
  resources: ["challenges", "challenges/status"]
  verbs: ["update", "patch"]
- apiGroups: ["acme.cert-manager.io"]
  resources: ["challenges"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["cert-manager.io"]
  resources: ["issuers", "clusterissuers"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["pods", "services"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list", "watch", "create", "delete", "update"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list", "watch", "create", "delete", "update"]
- apiGroups: ["route.openshift.io"]
  resources: ["routes/custom-host"]
  verbs: ["create"]
- apiGroups: ["acme.cert-manager.io"]
  resources: ["challenges/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
""",
    ),
    "cert-manager-controller-ingress-shim": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["cert-manager.io"]
  resources: ["certificates", "certificaterequests"]
  verbs: ["create", "update", "delete"]
- apiGroups: ["cert-manager.io"]
  resources: ["certificates", "certificaterequests", "issuers", "clusterissuers"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses/finalizers"]
  verbs: ["update"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["gateways", "httproutes", "listenersets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["gateways/finalizers", "httproutes/finalizers", "listenersets/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
""",
    ),
    "cert-manager-controller-approve:cert-manager-io": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["cert-manager.io"]
  resources: ["signers"]
  verbs: ["approve"]
  resourceNames:
  - "issuers.cert-manager.io/*"
  - "clusterissuers.cert-manager.io/*"
""",
    ),
    "cert-manager-controller-certificatesigningrequests": (
        "rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests"]
  verbs: ["get", "list", "watch", "update"]
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests/status"]
  verbs: ["update", "patch"]
- apiGroups: ["certificates.k8s.io"]
  resources: ["signers"]
  resourceNames: ["issuers.cert-manager.io/*", "clusterissuers.cert-manager.io/*"]
  verbs: ["sign"]
- apiGroups: ["authorization.k8s.io"]
  resources: ["subjectaccessreviews"]
  verbs: ["create"]
""",
    ),
    "cert-manager-webhook:dynamic-serving": (
        "webhook-rbac.yaml",
        "Role",
        """\
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames:
  - 'cert-manager-webhook-ca'
  verbs: ["get", "list", "watch", "update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create"]
""",
    ),
    "cert-manager-webhook:subjectaccessreviews": (
        "webhook-rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["authorization.k8s.io"]
  resources: ["subjectaccessreviews"]
  verbs: ["create"]
""",
    ),
    "cert-manager-cainjector": (
        "cainjector-rbac.yaml",
        "ClusterRole",
        """\
- apiGroups: ["cert-manager.io"]
  resources: ["certificates"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "create", "update", "patch"]
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["apiregistration.k8s.io"]
  resources: ["apiservices"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch", "update", "patch"]
""",
    ),
    "cert-manager-cainjector:leaderelection": (
        "cainjector-rbac.yaml",
        "Role",
        """\
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: ["cert-manager-cainjector-leader-election", "cert-manager-cainjector-leader-election-core"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
""",
    ),
}


EXTRA_ARGS = "{{- with .Values.extraArgs }}{{- toYaml . | nindent 10 }}{{- end }}"
"""Where templates/deployment.yaml writes `extraArgs` (values.yaml: `[]`, whose own example is
`--controllers=*,-certificaterequests-approver`), right after `--acme-http01-solver-image`."""
CONTROLLER_ARGS = """\
- --v={{ .Values.global.logLevel }}
- --cluster-resource-namespace=$(POD_NAMESPACE)
- --leader-election-namespace={{ .namespace }}
{{- with .Values.extraArgs }}{{- toYaml . | nindent 10 }}{{- end }}
- --max-concurrent-challenges={{ .Values.maxConcurrentChallenges }}
"""
"""templates/deployment.yaml: the args the chart's defaults write (`--config`, the optional leader-election
timings, issuer defaults, feature gates and DNS-01 nameserver flags are off by default), less
`--acme-http01-solver-image`, in the chart's order, `extraArgs` included."""
WEBHOOK_ARGS = """\
- --v={{ .Values.global.logLevel }}
- --secure-port={{ .Values.webhook.securePort }}
- --dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)
- --dynamic-serving-ca-secret-name={{ template "webhook.fullname" . }}-ca
- --dynamic-serving-dns-names={{ template "webhook.fullname" . }}
- --dynamic-serving-dns-names={{ template "webhook.fullname" . }}.$(POD_NAMESPACE)
- --dynamic-serving-dns-names={{ template "webhook.fullname" . }}.$(POD_NAMESPACE).svc
"""
"""templates/webhook-deployment.yaml with `prometheus.enabled` (the default): no metrics listen address."""
CAINJECTOR_ARGS = """\
- --v={{ .Values.global.logLevel }}
- --leader-election-namespace={{ .namespace }}
"""
"""templates/cainjector-deployment.yaml with `prometheus.enabled`."""
VALUES = {
    "{{ .Values.global.logLevel }}": "2",
    "{{ .namespace }}": "cert-manager",
    "{{ .Values.maxConcurrentChallenges }}": "60",
    "{{ .Values.webhook.securePort }}": "10250",
    '{{ template "webhook.fullname" . }}': "cert-manager-webhook",
    EXTRA_ARGS: "",
}
"""values.yaml@v1.21.1 (`global.leaderElection.namespace` set to cert-manager) and `_helpers.tpl`."""

VALIDATING_WEBHOOK = """\
- name: webhook.cert-manager.io
  namespaceSelector:
    matchExpressions:
    - key: "cert-manager.io/disable-validation"
      operator: "NotIn"
      values:
      - "true"
  rules:
    - apiGroups:
        - "cert-manager.io"
        - "acme.cert-manager.io"
      apiVersions:
        - "v1"
      operations:
        - CREATE
        - UPDATE
      resources:
        - "*/*"
  admissionReviewVersions: ["v1"]
  matchPolicy: Equivalent
  timeoutSeconds: 30
  failurePolicy: Fail
  sideEffects: None
  clientConfig:
    service:
      name: cert-manager-webhook
      namespace: cert-manager
      path: /validate
"""
"""templates/webhook-validating-webhook.yaml, `webhook.timeoutSeconds` and the namespaceSelector from
values.yaml."""
MUTATING_WEBHOOK = """\
- name: webhook.cert-manager.io
  rules:
    - apiGroups:
        - "cert-manager.io"
      apiVersions:
        - "v1"
      operations:
        - CREATE
      resources:
        - "certificaterequests"
  admissionReviewVersions: ["v1"]
  matchPolicy: Equivalent
  timeoutSeconds: 30
  failurePolicy: Fail
  sideEffects: None
  clientConfig:
    service:
      name: cert-manager-webhook
      namespace: cert-manager
      path: /mutate
"""
"""templates/webhook-mutating-webhook.yaml (its namespaceSelector is empty by default, so not written)."""
INJECT_CA = (
    "cert-manager.io/inject-ca-from-secret: "
    '{{ printf "%s/%s-ca" (include "cert-manager.namespace" .) (include "webhook.fullname" .) | quote }}'
)
"""Both webhook configurations' annotation: `<namespace>/<webhook.fullname>-ca`."""


# The controller's source at tag v1.21.1, not the chart's: which controllers `--controllers` may name and
# which `*` runs.
ALL_CONTROLLERS = (
    "issuers",
    "clusterissuers",
    "certificates-metrics",
    "ingress-shim",
    "gateway-shim",
    "orders",
    "challenges",
    "certificaterequests-issuer-acme",
    "certificaterequests-approver",
    "certificaterequests-issuer-ca",
    "certificaterequests-issuer-selfsigned",
    "certificaterequests-issuer-vault",
    "certificaterequests-issuer-venafi",
    "certificates-trigger",
    "certificates-issuing",
    "certificates-key-manager",
    "certificates-request-manager",
    "certificates-readiness",
    "certificates-revision-manager",
    "certificatesigningrequests-issuer-acme",
    "certificatesigningrequests-issuer-ca",
    "certificatesigningrequests-issuer-selfsigned",
    "certificatesigningrequests-issuer-venafi",
    "certificatesigningrequests-issuer-vault",
)
"""internal/apis/config/controller/v1alpha1/defaults.go `AllControllers`, each `ControllerName` resolved
(pkg/controller/*/): the names the controller accepts in `--controllers`, with or without `-`
(internal/apis/config/controller/validation/validation.go refuses any other and the controller exits)."""
DEFAULT_CONTROLLERS = (
    "issuers",
    "clusterissuers",
    "certificates-metrics",
    "ingress-shim",
    "orders",
    "challenges",
    "certificaterequests-issuer-acme",
    "certificaterequests-approver",
    "certificaterequests-issuer-ca",
    "certificaterequests-issuer-selfsigned",
    "certificaterequests-issuer-vault",
    "certificaterequests-issuer-venafi",
    "certificates-trigger",
    "certificates-issuing",
    "certificates-key-manager",
    "certificates-request-manager",
    "certificates-readiness",
    "certificates-revision-manager",
)
"""defaults.go `DefaultEnabledControllers`: what `*` runs. All of `AllControllers` but `gateway-shim` and the
experimental CertificateSigningRequest controllers, which cmd/controller/app/options/options.go
`EnabledControllers` adds after `*` with the Gateway API enabled (`gateway-shim`) or the
`ExperimentalCertificateSigningRequestControllers` feature gate set, before it removes each `-name`."""
