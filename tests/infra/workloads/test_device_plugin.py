"""The NVIDIA device plugin: present exactly where the cloud's contract says the cloud lacks it, only on
GPU nodes (spot ones too), in its own privileged namespace with everything else locked down."""

from __future__ import annotations

import functools

from infra.clouds.base import Capability
from infra.workloads import device_plugin
from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import DAEMON_SET, IMAGE, NAMESPACE, POLICY, Cluster, containers


@functools.cache
def lacks_plugin(stack: str, cloud: str) -> bool:
    return Capability.GPU_DEVICE_PLUGIN in doubles.missing(stack, cloud)


def test_present_exactly_where_the_contract_lacks_it(cluster: Cluster) -> None:
    expected = lacks_plugin(cluster.stack, str(cluster.cloud))
    assert bool(cluster.of(DAEMON_SET)) == expected
    mirrored = [i for i in cluster.of(IMAGE) if "k8s-device-plugin" in i["dockerfile"].get("inline", "")]
    assert bool(mirrored) == expected


def test_doubles_lacking_it_get_one(double: doubles.Built) -> None:
    (daemon_set,) = double.cluster.of(DAEMON_SET)
    assert daemon_set["metadata"]["namespace"] == device_plugin.NAMESPACE


def test_runs_on_every_gpu_node_and_nowhere_else(double: doubles.Built) -> None:
    pod = double.cluster.one(DAEMON_SET)["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    tolerations = pod["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
    assert all(t in tolerations for t in double.double.spot_tolerations)
    assert pod["priorityClassName"] == "system-node-critical"


def test_privileged_only_as_far_as_its_host_socket_needs(double: doubles.Built) -> None:
    namespace = double.cluster.named(NAMESPACE, device_plugin.NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert double.cluster.cfg.namespace != device_plugin.NAMESPACE
    pod = double.cluster.one(DAEMON_SET)["spec"]["template"]["spec"]
    (volume,) = pod["volumes"]
    assert volume["hostPath"] == {"path": "/var/lib/kubelet/device-plugins", "type": "Directory"}
    assert pod["automountServiceAccountToken"] is False
    for container in containers(pod):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert not context.get("privileged")
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    deny = [p for p in double.cluster.of(POLICY) if p["metadata"]["namespace"] == device_plugin.NAMESPACE]
    assert [p["spec"] for p in deny] == [{"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}]
