"""Kueue's CustomResourceDefinitions, as its release manifest installs them.

`crds/` holds the 11 generated files of `config/components/crd/bases` at `KUEUE_VERSION`, unchanged
(`crds/SOURCE.md` gives the commit and each file's sha256). The release manifest, `kustomize build
config/default`, adds two things, which `manifests()` adds the same way: the labels of
`config/default`, and on the five kinds Kueue converts between v1beta1 and v1beta2 a conversion webhook
served by `kueue-webhook-service` in `kueue-system` (`config/components/crd/patches/webhook_in_*.yaml`).
Rendering `config/default` at the tag with `kubectl kustomize` gives exactly these objects.

Size: the Workload CRD is 1.4 MB of YAML, 0.67 MB as JSON. Client-side apply would copy all of it into
the `kubectl.kubernetes.io/last-applied-configuration` annotation, over the 256 KiB that an object's
annotations may hold: Kueue's own install therefore says `kubectl apply --server-side`
(kubernetes-sigs/kueue#1273). pulumi-kubernetes v4 applies server-side by default (our providers keep
the default) and writes no such annotation. The object itself, with the managedFields server-side apply
adds (about 0.17 MB), stays under the API server's 3 MiB request limit and etcd's 1.5 MiB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

KUEUE_VERSION = "v0.19.2"
DIRECTORY = Path(__file__).parent / "crds"
NAMESPACE = "kueue-system"
WEBHOOK_SERVICE = "kueue-webhook-service"
LABELS = {"app.kubernetes.io/name": "kueue", "control-plane": "controller-manager"}
CONVERTED = ("localqueues", "clusterqueues", "cohorts", "workloads", "multikueueclusters")
"""The plurals whose CRDs convert through Kueue's webhook (config/components/crd/kustomization.yaml)."""
CONVERSION = {
    "strategy": "Webhook",
    "webhook": {
        "clientConfig": {"service": {"name": WEBHOOK_SERVICE, "namespace": NAMESPACE, "path": "/convert"}},
        "conversionReviewVersions": ["v1"],
    },
}
CA_BUNDLE = "spec.conversion.webhook.clientConfig.caBundle"


def files() -> list[Path]:
    return sorted(DIRECTORY.glob("kueue.x-k8s.io_*.yaml"))


def vendored() -> list[dict[str, Any]]:
    """The vendored CRDs as parsed, in file order. LibYAML's loader reads the 1.4 MB Workload CRD in a
    tenth of the time the pure-Python one takes."""
    return [yaml.load(path.read_text(), Loader=yaml.CSafeLoader) for path in files()]


def manifests() -> list[dict[str, Any]]:
    """The CRDs as Kueue's release manifest holds them, in file order."""
    found = []
    for crd in vendored():
        spec = crd["spec"]
        if spec["names"]["plural"] in CONVERTED:
            spec = {"conversion": CONVERSION, **spec}
        found.append({**crd, "metadata": {**crd["metadata"], "labels": dict(LABELS)}, "spec": spec})
    return found


def definitions(
    name: str, opts: pulumi.ResourceOptions
) -> list[k8s.apiextensions.v1.CustomResourceDefinition]:
    """Every Kueue CRD as a resource named `{name}-{plural}`, with `opts` (the cluster's provider, a parent).

    Kueue's own certificate manager (`internalCertManagement`, on by default) writes the CA of its
    self-signed webhook certificate into the `caBundle` of each conversion webhook at run time, and again
    whenever it rotates the certificate. We never set it, so under server-side apply the field is Kueue's;
    ignoring it makes the provider leave it out of our apply (pulumi/pulumi-kubernetes#2566) rather than
    write back a stale value from the stack's state after a refresh, or show the rotation as a diff."""
    converted = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=[CA_BUNDLE]))
    return [
        k8s.apiextensions.v1.CustomResourceDefinition(
            f"{name}-{crd['spec']['names']['plural']}",
            metadata=crd["metadata"],
            spec=crd["spec"],
            opts=converted if "conversion" in crd["spec"] else opts,
        )
        for crd in manifests()
    ]
