"""A container's environment as the kubelet builds it, for rules that read paths from it: the variables of
every `envFrom` ConfigMap the stack declares in the pod's cluster and namespace first, then `env` in order,
each `$(VAR)` in a value expanded to a variable defined before it, and left as written otherwise, as
Kubernetes leaves it (`$$` is a literal `$`). A value from the downward API is known for one field only:
the Job's name, from the label the Job controller puts on its pods."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policy.model import k8s
from policy.model.props import as_list, get, unknown
from policy.model.stack import Stack

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
JOB_NAME_FIELD = "metadata.labels['batch.kubernetes.io/job-name']"
REFERENCE = re.compile(r"\$\$|\$\(([^)]*)\)")


def expand(value: str, defined: Mapping[str, Any]) -> str:
    """`value` with each reference to a defined variable replaced, as the kubelet expands it."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name = match[1]
        return str(defined[name]) if name in defined and not unknown(defined[name]) else match[0]

    return REFERENCE.sub(replace, value)


def container_env(
    stack: Stack, where: tuple[str | None, str | None], container: Mapping[str, Any], job_name: str | None
) -> dict[str, Any]:
    """The variables a container of a pod in namespace `where[1]` of cloud `where[0]`'s cluster gets."""
    cloud, namespace = where
    defined: dict[str, Any] = {}
    for source in as_list(container.get("envFrom")):
        name = get(source, "configMapRef.name")
        config = name and k8s.named(stack, CONFIG_MAP, cloud, str(name), namespace)
        if config:
            prefix = str(source.get("prefix") or "")
            defined |= {prefix + k: v for k, v in (get(config.props, "data") or {}).items()}
    for entry in as_list(container.get("env")):
        name = str(entry.get("name"))
        if "value" in entry:
            value = entry["value"]
            defined[name] = value if unknown(value) else expand(str(value), defined)
        elif get(entry, "valueFrom.fieldRef.fieldPath") == JOB_NAME_FIELD and job_name:
            defined[name] = job_name
        else:
            defined.pop(name, None)
    return defined
