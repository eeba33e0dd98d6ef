"""The NVIDIA device plugin, for clusters whose cloud does not install one (the contract's `missing`).

It registers the GPUs of each node with the kubelet through a socket under the host's
`/var/lib/kubelet/device-plugins`, so it needs a hostPath volume, which Pod Security `baseline` and
`restricted` forbid. It therefore runs in its own namespace at the `privileged` level, never in the workload
namespace, with everything else locked down: no privilege escalation, no capabilities, seccomp, no
network (default-deny), no service-account token, and only on GPU nodes. This follows NVIDIA's static
manifest (deployments/static/nvidia-device-plugin.yml) with our mirrored image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.clouds.base import DEVICE_PLUGIN_NAMESPACE, GPU_PRESENT_LABEL
from infra.pods import GPU_TOLERATION, Obj, resources

NAMESPACE = DEVICE_PLUGIN_NAMESPACE
SOCKET_DIR = "/var/lib/kubelet/device-plugins"
SELECTOR = {"app.kubernetes.io/name": "nvidia-device-plugin"}


@dataclass(frozen=True, kw_only=True)
class GpuDevicePluginArgs:
    image: pulumi.Input[str]
    labels: Mapping[str, str]
    spot_tolerations: Sequence[Mapping[str, str]]
    """The plugin must also run on spot GPU nodes, whatever taint the cloud puts on them."""


class GpuDevicePlugin(pulumi.ComponentResource):
    def __init__(self, name: str, args: GpuDevicePluginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:GpuDevicePlugin", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": NAMESPACE,
                "labels": {**labels, "pod-security.kubernetes.io/enforce": "privileged"},
            },
            opts=child,
        )
        ns = namespace.metadata.name
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata={"name": "default-deny", "namespace": ns, "labels": labels},
            spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
            opts=child,
        )
        self.daemon_set = k8s.apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata={"name": NAMESPACE, "namespace": ns, "labels": {**labels, **SELECTOR}},
            spec={
                "selector": {"match_labels": SELECTOR},
                "update_strategy": {"type": "RollingUpdate"},
                "template": {"metadata": {"labels": {**labels, **SELECTOR}}, "spec": pod_spec(args)},
            },
            opts=child,
        )
        self.register_outputs({"namespace": ns})


def pod_spec(args: GpuDevicePluginArgs) -> Obj:
    return {
        "priority_class_name": "system-node-critical",
        "node_selector": {GPU_PRESENT_LABEL: "true"},
        "tolerations": [GPU_TOLERATION, {"key": "CriticalAddonsOnly", "operator": "Exists"}]
        + [dict(t) for t in args.spot_tolerations],
        "automount_service_account_token": False,
        "security_context": {"seccomp_profile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "nvidia-device-plugin",
                "image": args.image,
                # An error on a node without a usable GPU should not crash-loop the plugin.
                "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
                "security_context": {
                    "allow_privilege_escalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "seccomp_profile": {"type": "RuntimeDefault"},
                },
                "resources": resources("100m", "128Mi"),
                "volume_mounts": [{"name": "device-plugin", "mount_path": SOCKET_DIR}],
            }
        ],
        "volumes": [{"name": "device-plugin", "host_path": {"path": SOCKET_DIR, "type": "Directory"}}],
    }
