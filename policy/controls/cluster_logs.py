"""Control-plane and audit logging (CP-06) and the EKS log group (CP-07).

On AKS, Container insights is the `omsagent` add-on, and under managed-identity auth (`useAADAuth`) the
agent sends nothing until a data collection rule with the ContainerInsights extension says what to collect
and where, and an association binds that rule to the cluster. The audit log is a diagnostic setting.
"""

from __future__ import annotations

from collections.abc import Iterator

from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, first, get, is_true, present, unknown
from policy.model.stack import Resource, Stack, Violation

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"
AKS = "azure-native:containerservice:ManagedCluster"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DIAGNOSTIC_SETTINGS = ("azure-native:monitor:DiagnosticSetting", "azure-native:insights:DiagnosticSetting")
"""pulumi-azure-native 3 has the resource under `monitor`; version 2 under `insights`."""
COLLECTION_RULES = ("azure-native:monitor:DataCollectionRule", "azure-native:insights:DataCollectionRule")
COLLECTION_ASSOCIATIONS = (
    "azure-native:monitor:DataCollectionRuleAssociation",
    "azure-native:insights:DataCollectionRuleAssociation",
)
INSIGHTS_EXTENSION = "ContainerInsights"
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
GKE_LOG_COMPONENTS = ("SYSTEM_COMPONENTS", "APISERVER")
AUDIT_CATEGORIES = ("kube-audit", "kube-audit-admin")
AUDIT_GROUPS = ("audit", "allLogs")

CP06 = control(
    "CP-06",
    "Control-plane and audit logging",
    "EKS logs every control-plane log type; GKE logging and monitoring are on; AKS has Container insights "
    "(the omsagent add-on and a data collection rule with the ContainerInsights extension associated with "
    "the cluster, sending its streams to Log Analytics) and a diagnostic setting that exports kube-audit.",
)
CP07 = control(
    "CP-07",
    "EKS log group has retention and KMS",
    "The /aws/eks/<cluster>/cluster log group exists in the stack with a retention period and a KMS key.",
)


@resource_rule(CP06, EKS, GKE, AKS)
def control_plane_logs(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == EKS.lower():
        enabled = props.get("enabledClusterLogTypes")
        missing = [t for t in EKS_LOG_TYPES if t not in as_list(enabled)]
        if missing and not unknown(enabled):
            yield f"enabledClusterLogTypes is missing {', '.join(missing)}"
    elif type_.lower() == GKE.lower():
        for key in ("loggingService", "monitoringService"):
            if props.get(key) == "none":
                yield f'{key} must not be "none"'
        components = get(props, "loggingConfig.enableComponents")
        if components is not None and not unknown(components):
            missing = [c for c in GKE_LOG_COMPONENTS if c not in as_list(components)]
            if missing:
                yield f"loggingConfig.enableComponents is missing {', '.join(missing)}"
    else:
        oms = first(get(props, "addonProfiles", {}), "omsagent", "omsAgent")
        if not is_true(get(oms, "enabled")):
            yield "addonProfiles.omsagent.enabled (Container insights) must be true"


def _exports_audit(setting: Props) -> bool:
    for log in as_list(setting.get("logs")):
        if not is_true(log.get("enabled")):
            continue
        if log.get("category") in AUDIT_CATEGORIES or log.get("categoryGroup") in AUDIT_GROUPS:
            return True
    return False


@stack_rule(CP06)
def aks_audit_export(stack: Stack) -> list[Violation]:
    found = []
    for cluster in stack.of(AKS):
        settings = stack.dependents(cluster, *DIAGNOSTIC_SETTINGS, via="resourceUri")
        if not any(_exports_audit(s.props) for s in settings):
            found.append(cluster.violation(CP06, "needs a DiagnosticSetting on it that exports kube-audit"))
    return found


def insights_problem(rule: Props) -> str | None:
    """Why a data collection rule does not send Container insights to Log Analytics; None if it does (or
    cannot tell yet)."""
    extensions = get(rule, "dataSources.extensions")
    workspaces = get(rule, "destinations.logAnalytics")
    flows = rule.get("dataFlows")
    if any(unknown(v) for v in (extensions, workspaces, flows)):
        return None
    insights = [e for e in as_list(extensions) if get(e, "extensionName") == INSIGHTS_EXTENSION]
    if not insights:
        return f"needs a {INSIGHTS_EXTENSION} extension (dataSources.extensions[].extensionName)"
    names = {str(d.get("name")) for d in as_list(workspaces) if present(d.get("name"))}
    if not names:
        return "needs a destinations.logAnalytics entry (the workspace)"
    streams = {str(s) for e in insights for s in as_list(e.get("streams"))}
    if not streams:
        return f"its {INSIGHTS_EXTENSION} extension collects no streams"
    sent = {
        str(s)
        for f in as_list(flows)
        if names & {str(d) for d in as_list(f.get("destinations"))}
        for s in as_list(f.get("streams"))
    }
    if missing := sorted(streams - sent):
        return f"needs a dataFlows entry sending {', '.join(missing)} to its logAnalytics destination"
    return None


def _insights_rules(stack: Stack, cluster: Resource) -> list[Resource]:
    associations = stack.dependents(cluster, *COLLECTION_ASSOCIATIONS, via="resourceUri")
    return [r for a in associations for r in stack.deps(a, *COLLECTION_RULES, via="dataCollectionRuleId")]


@stack_rule(CP06)
def aks_container_insights(stack: Stack) -> list[Violation]:
    found = []
    for cluster in stack.of(AKS):
        rules = _insights_rules(stack, cluster)
        problems = [(r, insights_problem(r.props)) for r in rules]
        if not rules:
            found.append(
                cluster.violation(
                    CP06,
                    "the omsagent add-on sends nothing by itself: associate a DataCollectionRule with the "
                    f"{INSIGHTS_EXTENSION} extension (a DataCollectionRuleAssociation whose resourceUri is "
                    "the cluster)",
                )
            )
        elif all(problem for _, problem in problems):
            found += [r.violation(CP06, str(problem)) for r, problem in problems]
    return found


@resource_rule(CP07, LOG_GROUP)
def eks_log_group(_: str, props: Props) -> Iterator[str]:
    name = props.get("name")
    if not (isinstance(name, str) and name.startswith("/aws/eks/")):
        return
    if not present(props.get("retentionInDays")) or props.get("retentionInDays") == 0:
        yield "retentionInDays must be set (EKS logs are kept forever otherwise)"
    if not present(props.get("kmsKeyId")):
        yield "kmsKeyId must name a KMS key"


@stack_rule(CP07)
def eks_log_group_declared(stack: Stack) -> list[Violation]:
    names = {g.props.get("name") for g in stack.of(LOG_GROUP)}
    found = []
    for cluster in stack.of(EKS):
        name = cluster.props.get("name")
        if isinstance(name, str) and not unknown(name) and f"/aws/eks/{name}/cluster" not in names:
            found.append(
                cluster.violation(
                    CP07, f"declare the log group /aws/eks/{name}/cluster (EKS makes one without retention)"
                )
            )
    return found
