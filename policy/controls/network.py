"""Network controls: AWS VPC hygiene (NW-01), GCP VPC hygiene (NW-02), a default-deny NetworkPolicy with
DNS egress in every workload namespace (NW-03), and load balancers limited to listed sources (NW-04): the
Services the stack declares, and those Envoy Gateway creates at run time from an EnvoyProxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import gateway, k8s
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, get, is_false, is_true, number, present, unknown
from policy.model.stack import Resource, Stack, Violation

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GCP_NETWORK = "gcp:compute/network:Network"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
SERVICE = "kubernetes:core/v1:Service"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
ENVOY_CONTROLLERS = "gateway.envoyproxy.io/"
"""The prefix of Envoy Gateway's controller name (`gateway.envoyproxy.io/gatewayclass-controller` unless
its config says otherwise), which its GatewayClasses name."""
ADMIN_PORTS = (22, 3389)
OPEN = ("0.0.0.0/0", "::/0")
DNS_PORT = 53

NW01 = control(
    "NW-01",
    "AWS VPC hygiene",
    "Every VPC has flow logs and a managed default security group with no rules; no security group opens "
    "SSH or RDP to the internet.",
)
NW02 = control(
    "NW-02",
    "GCP VPC hygiene",
    "Custom-mode VPCs (no auto subnets); subnetworks with private Google access and flow logs.",
)
NW03 = control(
    "NW-03",
    "Default-deny NetworkPolicy with DNS egress",
    "Every workload namespace has a NetworkPolicy selecting all pods that denies ingress and egress, and, "
    "where pods may reach anything, a policy that allows DNS egress.",
)
NW04 = control(
    "NW-04",
    "Load balancer sources restricted",
    "Every Service of type LoadBalancer lists its clients in spec.loadBalancerSourceRanges, never 0.0.0.0/0 "
    "or ::/0: without the list the clouds' controllers open the load balancer (and on EKS the node ports) "
    "to the internet, internal load balancers included. So does every EnvoyProxy whose envoyService is a "
    "LoadBalancer (the default), for the Services Envoy Gateway creates from it, and every GatewayClass of "
    "Envoy Gateway names an EnvoyProxy of the stack.",
)


def _admin_port_open(protocol: Any, low: Any, high: Any, cidrs: list[Any]) -> list[int]:
    if not any(c in OPEN for c in cidrs):
        return []
    if str(protocol) in ("-1", "all"):
        return list(ADMIN_PORTS)
    lo, hi = number(low), number(high)
    return [p for p in ADMIN_PORTS if lo is not None and hi is not None and lo <= p <= hi]


def _ingress(type_: str, props: Props) -> Iterator[tuple[Any, Any, Any, list[Any]]]:
    token = type_.lower()
    if token == SG.lower():
        for rule in as_list(props.get("ingress")):
            cidrs = as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
            yield rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"), cidrs
    elif token == SG_RULE.lower():
        if props.get("type") == "ingress":
            cidrs = as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))
            yield props.get("protocol"), props.get("fromPort"), props.get("toPort"), cidrs
    else:
        cidrs = [props.get("cidrIpv4"), props.get("cidrIpv6")]
        yield props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"), cidrs


@resource_rule(NW01, SG, SG_RULE, SG_INGRESS, DEFAULT_SG)
def security_groups(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == DEFAULT_SG.lower():
        for key in ("ingress", "egress"):
            if as_list(props.get(key)):
                yield f"the default security group must have no {key} rules"
        return
    for protocol, low, high, cidrs in _ingress(type_, props):
        for port in _admin_port_open(protocol, low, high, cidrs):
            yield f"ingress opens port {port} to the internet"


@stack_rule(NW01)
def vpc_logged_and_locked(stack: Stack) -> list[Violation]:
    found = []
    for vpc in stack.of(VPC):
        if not stack.dependents(vpc, FLOW_LOG, via="vpcId"):
            found.append(vpc.violation(NW01, "needs an ec2 FlowLog"))
        if not stack.dependents(vpc, DEFAULT_SG, via="vpcId"):
            found.append(vpc.violation(NW01, "needs a DefaultSecurityGroup resource (with no rules)"))
    return found


@resource_rule(NW02, GCP_NETWORK, GCP_SUBNET)
def gcp_vpc(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == GCP_NETWORK.lower():
        # The provider default is true: auto-mode networks get a subnet in every region.
        if props.get("autoCreateSubnetworks") is None or not is_false(props.get("autoCreateSubnetworks")):
            yield "autoCreateSubnetworks must be false"
        return
    if not is_true(props.get("privateIpGoogleAccess")):
        yield "privateIpGoogleAccess must be true"
    if not present(props.get("logConfig")):
        yield "logConfig must be set (flow logs)"


def _selects_all(policy: Props) -> bool:
    selector = get(policy, "spec.podSelector")
    return (
        isinstance(selector, Mapping)
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    )


def _default_deny(policy: Props) -> bool:
    types = set(as_list(get(policy, "spec.policyTypes")))
    rules = as_list(get(policy, "spec.ingress")) + as_list(get(policy, "spec.egress"))
    return _selects_all(policy) and {"Ingress", "Egress"} <= types and not rules


def _allows_dns(policy: Props) -> bool:
    return any(
        number(port.get("port")) == DNS_PORT
        for rule in as_list(get(policy, "spec.egress"))
        for port in as_list(rule.get("ports"))
    )


def _namespaces(stack: Stack) -> dict[tuple[str | None, str], Resource]:
    """Workload namespaces per cloud: declared Namespace objects and namespaces workloads run in."""
    found: dict[tuple[str | None, str], Resource] = {}
    for ns in stack.of(k8s.NAMESPACE):
        found.setdefault((ns.cloud, k8s.object_name(ns.props, ns.name)), ns)
    for res, _ in k8s.workloads(stack):
        name = k8s.namespace(res.props)
        if name and name not in k8s.SYSTEM_NAMESPACES:
            found.setdefault((res.cloud, name), res)
    return {key: res for key, res in found.items() if key[1] not in k8s.SYSTEM_NAMESPACES}


@stack_rule(NW03)
def default_deny(stack: Stack) -> list[Violation]:
    policies = stack.of(k8s.NETWORK_POLICY)
    found = []
    for (cloud, name), res in _namespaces(stack).items():
        mine = [p.props for p in policies if p.cloud == cloud and k8s.namespace(p.props) == name]
        if not any(_default_deny(p) for p in mine):
            found.append(
                res.violation(
                    NW03,
                    f"namespace {name} needs a default-deny NetworkPolicy (podSelector {{}}, "
                    "policyTypes Ingress and Egress, no rules)",
                )
            )
        # Pods allowed to reach anything must resolve it; a namespace whose pods need no network needs no DNS.
        egress = any(as_list(get(p, "spec.egress")) for p in mine)
        if egress and not any(_allows_dns(p) for p in mine):
            found.append(
                res.violation(NW03, f"namespace {name} needs a NetworkPolicy allowing DNS egress (53)")
            )
    return found


def _whole_internet(cidr: object) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return cidr in OPEN


def _sources(ranges: Any, key: str) -> Iterator[str]:
    if unknown(ranges):
        return
    if not as_list(ranges):
        yield (
            f"{key} must list the clients' CIDRs: without it the load balancer "
            "(and on EKS the node ports) is open to 0.0.0.0/0, even an internal one"
        )
    elif bad := [str(r) for r in as_list(ranges) if not unknown(r) and _whole_internet(r)]:
        yield f"{key} opens the load balancer to {', '.join(bad)}"


@resource_rule(NW04, SERVICE)
def load_balancer_sources(_: str, props: Props) -> Iterator[str]:
    if get(props, "spec.type") != "LoadBalancer":
        return
    yield from _sources(get(props, "spec.loadBalancerSourceRanges"), "spec.loadBalancerSourceRanges")


@resource_rule(NW04, ENVOY_PROXY)
def envoy_proxy_sources(_: str, props: Props) -> Iterator[str]:
    """The Service Envoy Gateway makes for each Gateway's proxies: `envoyService` (type LoadBalancer unless
    it says otherwise, and so with no provider at all), after its own `patch` of the Service's spec."""
    if get(props, "spec.provider.type", "Kubernetes") != "Kubernetes":
        return
    key = "spec.provider.kubernetes.envoyService"
    service = get(props, key, {})
    patched = get(service, "patch.value.spec", {})
    if unknown(service) or unknown(patched):
        return
    patched = patched if isinstance(patched, Mapping) else {}
    if patched.get("type", service.get("type", "LoadBalancer")) != "LoadBalancer":
        return
    if "loadBalancerSourceRanges" in patched:
        key, ranges = f"{key}.patch.value.spec", patched["loadBalancerSourceRanges"]
    else:
        ranges = service.get("loadBalancerSourceRanges")
    yield from _sources(ranges, f"{key}.loadBalancerSourceRanges")


@stack_rule(NW04)
def envoy_classes_name_a_proxy(stack: Stack) -> list[Violation]:
    """An EnvoyProxy limits nothing unless the class names it: without `parametersRef` Envoy Gateway gives
    each Gateway of the class a LoadBalancer Service with no source ranges."""
    found = []
    for cls in gateway.of_kind(stack, gateway.GATEWAY_API, "GatewayClass"):
        controller, params = get(cls.props, "spec.controllerName"), get(cls.props, "spec.parametersRef")
        if not str(controller).startswith(ENVOY_CONTROLLERS) or unknown(params):
            continue
        params = params if isinstance(params, Mapping) else {}
        name, ns = params.get("name"), params.get("namespace")
        if params.get("kind") != "EnvoyProxy" or params.get("group") != gateway.ENVOY_GATEWAY:
            message = (
                "spec.parametersRef must name an EnvoyProxy: without one Envoy Gateway gives each Gateway's "
                "proxies a LoadBalancer Service open to 0.0.0.0/0"
            )
        elif unknown(name) or k8s.named(stack, ENVOY_PROXY, cls.cloud, str(name), ns) is not None:
            continue
        else:
            message = f"spec.parametersRef names EnvoyProxy {ns}/{name}, which the stack does not declare"
        found.append(cls.violation(NW04, message))
    return found
