"""What a first `pulumi up` on a fresh subscription needs beyond the controls: the deployer's Kubernetes
access before any Kubernetes object, Container insights that actually collects, admission policies that
Azure Policy enforces, public serving that the subnet NSGs let through, zones and maintenance windows."""

from __future__ import annotations

import base64
import itertools
import json
import re

import pytest

from infra.clouds.azure import admission
from infra.clouds.azure.context import ROLE_IDS, principal_type
from infra.clouds.base import GATEWAY_PORTS
from infra.gateway import serving as gateway_objects
from plan.runner import Plan
from tests.infra.clouds.azure.helpers import AGENT_POOL, CLUSTER, azure, cluster, gpu_pools, one, role_ids
from tests.plans import plan_with, stack_values, waits_for

AZ = "gpu-platform:azure"
NSG = "azure-native:network:NetworkSecurityGroup"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
ASSIGNMENT = "azure-native:authorization:PolicyAssignment"
MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"


def test_the_deployer_is_cluster_admin_before_any_kubernetes_object(stack_plan: Plan) -> None:
    """Local accounts are off: the deployer gets AKS RBAC Cluster Admin on this cluster alone, and the
    Kubernetes provider, through which every Kubernetes object is created, waits for it."""
    aks = one(stack_plan, CLUSTER)
    (grant,) = role_ids(stack_plan, ROLE_IDS["Azure Kubernetes Service RBAC Cluster Admin"])
    assert grant.inputs["scope"].endswith(f"/managedClusters/{aks.inputs['resourceName']}")
    assert aks.urn in grant.property_dependencies["scope"]
    (push,) = role_ids(stack_plan, ROLE_IDS["AcrPush"])  # the deployer's other grant
    assert grant.inputs["principalId"] == push.inputs["principalId"]
    # The offline plan signs in as a user (a delegated token); ARM refuses a type that does not match.
    assert grant.inputs["principalType"] == push.inputs["principalType"] == "User"
    (provider,) = [p for p in stack_plan.of_type("pulumi:providers:kubernetes") if p.cloud == "azure"]
    assert waits_for(stack_plan, provider, grant)
    # Through a pause: "New role assignments can take up to five minutes to propagate" to the cluster.
    (pause,) = [r for r in stack_plan.resources if r.name.endswith("-cluster-admin-settle")]
    assert pause.urn in provider.depends_on
    assert pause.inputs["createDuration"] == "5m"


def test_container_insights_has_a_rule_and_its_association(stack_plan: Plan) -> None:
    """The omsagent add-on with managed-identity auth sends nothing without a data collection rule bound
    to the cluster: the rule sends the ContainerInsights streams to the cluster's workspace."""
    rule = one(stack_plan, "azure-native:monitor:DataCollectionRule")
    workspace = one(stack_plan, "azure-native:operationalinsights:Workspace")
    (extension,) = rule.inputs["dataSources"]["extensions"]
    assert extension["extensionName"] == "ContainerInsights"
    assert extension["streams"] == ["Microsoft-ContainerInsights-Group-Default"]
    (destination,) = rule.inputs["destinations"]["logAnalytics"]
    assert workspace.urn in rule.property_dependencies["destinations"]
    assert rule.inputs["dataFlows"] == [
        {"streams": extension["streams"], "destinations": [destination["name"]]}
    ]
    assert rule.inputs["kind"] == "Linux"
    association = one(stack_plan, "azure-native:monitor:DataCollectionRuleAssociation")
    assert association.inputs["associationName"] == "ContainerInsightsExtension"
    assert one(stack_plan, CLUSTER).urn in association.property_dependencies["resourceUri"]
    assert rule.urn in association.property_dependencies["dataCollectionRuleId"]
    addon = cluster(stack_plan)["addonProfiles"]["omsagent"]
    assert addon["config"]["logAnalyticsWorkspaceResourceID"] == destination["workspaceResourceId"]


def test_azure_policy_enforces_the_registry_and_restricted_pods(stack_plan: Plan) -> None:
    """The add-on enforces nothing by itself: two Deny assignments at the cluster's scope."""
    aks = one(stack_plan, CLUSTER)
    assignments = {a.inputs["policyDefinitionId"]: a for a in azure(stack_plan, ASSIGNMENT)}
    assert set(assignments) == {admission.ALLOWED_IMAGES, admission.RESTRICTED_PODS}
    for assignment in assignments.values():
        assert aks.urn in assignment.property_dependencies["scope"]
        assert assignment.inputs["enforcementMode"] == "Default"
        assert assignment.inputs["parameters"]["effect"] == {"value": "Deny"}
    login_server = stack_values(stack_plan.stack)[AZ]["registryName"].lower() + ".azurecr.io"
    images = assignments[admission.ALLOWED_IMAGES].inputs["parameters"]
    pattern = re.compile(images["allowedContainerImagesRegex"]["value"])
    assert pattern.match(f"{login_server}/trainer@sha256:{'a' * 64}")
    assert not pattern.match(f"docker.io/library/busybox@sha256:{'a' * 64}")
    assert not pattern.match(f"{login_server}.evil.example/trainer")
    # A MultiKueue worker also runs the manager's trainer image, by digest only, and nothing beside it.
    dispatch = stack_plan.outputs.get("dispatch") or {}
    if "azure" in dispatch.get("workers", []):
        manager = stack_plan.outputs["clouds"][dispatch["manager"]]["registry"]
        assert pattern.match(f"{manager}@sha256:{'b' * 64}")
        assert not pattern.match(f"{manager}:latest")
        assert not pattern.match(f"{manager.rsplit('/', 1)[0]}/kueue@sha256:{'b' * 64}")
    excluded = assignments[admission.RESTRICTED_PODS].inputs["parameters"]["excludedNamespaces"]["value"]
    assert "nvidia-device-plugin" in excluded
    assert stack_values(stack_plan.stack)["gpu-platform:namespace"] not in excluded


def test_the_subnet_nsgs_open_only_the_gateways_ports_and_only_with_a_domain(stack_plan: Plan) -> None:
    """Internal serving (dev) opens nothing; behind the gateway (prod) TF Serving's ports stay closed, and
    only the gateway's are open, to the configured sources, and only on the system subnet, where the
    general pool runs the gateway's proxies: the GPU subnet's NSG opens nothing."""
    serving = stack_values(stack_plan.stack)["gpu-platform:serving"]
    nsgs = {nsg.inputs["networkSecurityGroupName"].rsplit("-", 2)[-2]: nsg for nsg in azure(stack_plan, NSG)}
    assert set(nsgs) == {"system", "gpu"}
    assert not nsgs["gpu"].inputs.get("securityRules")
    rules = nsgs["system"].inputs.get("securityRules") or []
    if "domain" not in serving:
        assert not rules
        return
    (rule,) = rules
    assert rule["name"] == "allow-gateway-inbound"
    assert rule["destinationPortRanges"] == ["80", "443"]
    assert rule["sourceAddressPrefixes"] == serving["sourceCidrs"]


def test_the_gateways_proxies_run_only_in_the_system_subnet(stack_plan: Plan) -> None:
    """Why the gateway's rule is on the system subnet's NSG alone: the proxies select the general pool,
    which joins the system subnet; every GPU pool joins the GPU subnet, and is tainted besides."""
    general = [r for r in azure(stack_plan, AGENT_POOL) if r.inputs["agentPoolName"] == "general"]
    (pool,) = general
    assert pool.inputs["nodeLabels"] == {"gpu-platform/pool": "general"}
    assert pool.inputs["vnetSubnetID"].endswith("/subnets/system")
    for name, gpu in gpu_pools(stack_plan).items():
        assert gpu["vnetSubnetID"].endswith("/subnets/gpu"), name
        assert "nvidia.com/gpu=present:NoSchedule" in gpu["nodeTaints"], name
    for proxy in azure(stack_plan, ENVOY_PROXY):
        pod = proxy.inputs["spec"]["provider"]["kubernetes"]["envoyDeployment"]["pod"]
        assert pod["nodeSelector"] == {"gpu-platform/pool": "general"}
        assert "tolerations" not in pod


def test_public_serving_is_let_through_the_node_subnets() -> None:
    """Azure's default deny-inbound drops a public load balancer's traffic at the subnet NSG, which AKS
    never edits: each node subnet's NSG admits the serving ports from serving.sourceCidrs only."""
    serving = {"exposure": "public", "sourceCidrs": ["192.0.2.0/24"]}
    plan = plan_with({"gpu-platform:serving": serving})
    nsgs = azure(plan, NSG)
    assert len(nsgs) == 2
    for nsg in nsgs:
        (rule,) = nsg.inputs["securityRules"]
        assert rule["direction"] == "Inbound"
        assert rule["access"] == "Allow"
        assert rule["protocol"] == "Tcp"
        assert rule["sourceAddressPrefixes"] == ["192.0.2.0/24"]
        assert rule["destinationPortRanges"] == ["8500", "8501"]


def test_the_gateway_ports_are_its_listeners() -> None:
    """The ports the subnet NSGs open for the gateway are the Gateway's listeners."""
    spec = gateway_objects.GatewaySpec(
        cloud="azure",
        domain="ml.example.com",
        namespace="ml",
        model="digits",
        service="digits-serving",
        rest_port=8501,
        grpc_port=8500,
    )
    listeners = gateway_objects.gateway(spec)["spec"]["listeners"]
    assert sorted(listener["port"] for listener in listeners) == list(GATEWAY_PORTS)


def test_prod_spreads_across_zones_where_configured(prod_plan: Plan) -> None:
    """System and general pools over three zones; the serving GPU pool too; training stays regional."""
    (system,) = cluster(prod_plan)["agentPoolProfiles"]
    assert system["availabilityZones"] == ["1", "2", "3"]
    general = next(p for p in azure(prod_plan, AGENT_POOL) if p.inputs["agentPoolName"] == "general")
    assert general.inputs["availabilityZones"] == ["1", "2", "3"]
    pools = gpu_pools(prod_plan)
    assert pools["serve"]["availabilityZones"] == ["1", "2", "3"]
    assert "availabilityZones" not in pools["train"]


def test_maintenance_schedules_for_both_upgrade_channels(stack_plan: Plan) -> None:
    schedules = {m.inputs["configName"]: m.inputs for m in azure(stack_plan, MAINTENANCE)}
    assert set(schedules) == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}
    for schedule in schedules.values():
        window = schedule["maintenanceWindow"]
        assert window["schedule"] == {"weekly": {"dayOfWeek": "Sunday", "intervalWeeks": 1}}
        assert (window["startTime"], window["utcOffset"], window["durationHours"]) == ("02:00", "+00:00", 8)
        assert schedule["resourceName"] == cluster(stack_plan)["resourceName"]


def _token(claims: dict[str, object]) -> str:
    parts = [{"alg": "RS256", "typ": "JWT"}, claims]
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts]
    return ".".join([*encoded, "signature"])


def test_the_deployer_principal_type_comes_from_its_token() -> None:
    """A person's token is delegated (`scp`); a service principal's, a managed identity's or a CI's
    federated one is app-only. The grants carry the type, or ARM would look it up or refuse it."""
    assert principal_type(_token({"oid": "a", "scp": "user_impersonation"})) == "User"
    assert principal_type(_token({"oid": "b", "roles": [], "idtyp": "app"})) == "ServicePrincipal"
    with pytest.raises(ValueError, match="not a JWT"):
        principal_type("offline")


def test_pools_are_written_one_after_another(stack_plan: Plan) -> None:
    """AKS refuses a write to a cluster's pools while another is in progress (409): the user pools are
    created in a line, and the maintenance schedules after the last."""
    pools = azure(stack_plan, AGENT_POOL)
    for a, b in itertools.combinations(pools, 2):
        assert waits_for(stack_plan, a, b) or waits_for(stack_plan, b, a), (a.name, b.name)
    (last,) = [p for p in pools if not any(waits_for(stack_plan, q, p) for q in pools)]
    for schedule in azure(stack_plan, MAINTENANCE):
        assert last.urn in schedule.depends_on


def test_run_command_is_not_blocked_by_the_image_policy(stack_plan: Plan) -> None:
    """`az aks command invoke` runs Microsoft's images in `aks-command`: the way in to a private cluster."""
    images = next(
        a for a in azure(stack_plan, ASSIGNMENT) if a.inputs["policyDefinitionId"] == admission.ALLOWED_IMAGES
    )
    assert "aks-command" in images.inputs["parameters"]["excludedNamespaces"]["value"]
