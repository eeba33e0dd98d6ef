"""The worker token refresher: a CronJob in the manager cluster that keeps each worker's kubeconfig Secret
holding a valid short-lived token (`python -m trainer refresh-workers`, training/README.md).

Nothing it uses is a stored credential. For each worker the pod mounts a projected service-account token
of that worker cloud's audience; the trainer exchanges it with that cloud for an API token of at most an
hour (an EKS token signed by a role assumed with it, an Entra token for AKS, a Google service account's
access token for GKE) and writes a kubeconfig holding only that token and the cluster CA into the
worker's Secret, well before the previous token expires. Its own rights: get and patch those Secrets,
by name, in Kueue's namespace, and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import pods
from infra.catalog import Cloud
from infra.clouds.base import ApiAccess, EgressRule, RegistryPull, federated_dir
from infra.kueue.controller import NAMESPACE, api_egress
from infra.pods import Obj, identity_egress

APP = "worker-token-refresher"
"""The CronJob, its service account (whose tokens each worker cloud trusts) and its config."""
INTERVAL_MINUTES = 5
"""How often it runs; it rewrites a Secret only when its token has less than two runs and a minute left,
so EKS's 15-minute tokens are renewed every run and the clouds' hour-long ones about every 50 minutes."""
TOKEN_SECONDS = 3600
CONFIG_DIR = "/etc/worker-token-refresher"
CONFIG_FILE = "workers.json"


@dataclass(frozen=True, kw_only=True)
class RefresherArgs:
    image: pulumi.Input[str]
    """The trainer image, which carries `trainer refresh-workers`."""
    uid: int
    workers: Mapping[Cloud, ApiAccess]
    secrets: Mapping[Cloud, str]
    """Each worker's kubeconfig Secret (infra/kueue/multikueue.py)."""
    registry: RegistryPull
    """How it mints the read-only credential for the manager's registry it writes into each worker's
    pull Secret, as the manager cloud's identity its service account is bound to."""
    pull_secret: str
    pull_namespaces: Sequence[str]
    """The pull Secret's name, and the namespaces of every worker it is declared in."""
    home: Cloud
    identity_egress: Sequence[EgressRule]
    """The manager cloud's node-local identity endpoints, from which the pod gets its registry identity."""
    node_selector: Mapping[str, str]
    labels: Mapping[str, str]
    ready: Sequence[pulumi.Resource]
    """Every worker's trust and the Secrets: a run before them is refused or has nowhere to write."""


def workers_file(args: RefresherArgs) -> pulumi.Output[str]:
    """The refresher's config (training/trainer/workers_file.py documents the format)."""
    workers, secrets = args.workers, args.secrets
    entries = [
        {
            "name": cloud,
            "cloud": cloud,
            "server": access.server,
            "caData": access.ca_data,
            "secret": secrets[cloud],
            cloud: dict(access.token),
        }
        for cloud, access in workers.items()
    ]
    registry = {
        "cloud": args.home,
        "host": args.registry.host,
        "secret": args.pull_secret,
        "namespaces": list(args.pull_namespaces),
        args.home: dict(args.registry.token),
    }
    return pulumi.Output.json_dumps({"namespace": NAMESPACE, "workers": entries, "registry": registry})


class WorkerTokenRefresher(pulumi.ComponentResource):
    cron_job: pulumi.Output[str]

    def __init__(self, name: str, args: RefresherArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:kueue:WorkerTokenRefresher", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        selector = {"app.kubernetes.io/name": APP}
        labels = {**args.labels, **selector}
        identity = args.registry.binding
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={
                **pods.metadata(APP, NAMESPACE, labels),
                "annotations": dict(identity.annotations),
            },
            opts=child,
        )
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=pods.metadata(APP, NAMESPACE, labels),
            rules=[
                {
                    "api_groups": [""],
                    "resources": ["secrets"],
                    "resource_names": sorted(args.secrets.values()),
                    "verbs": ["get", "patch"],
                }
            ],
            opts=child,
        )
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=pods.metadata(APP, NAMESPACE, labels),
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata.name},
            subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": NAMESPACE}],
            opts=child,
        )
        policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-egress",
            metadata=pods.metadata(f"{APP}-egress", NAMESPACE, labels),
            # HTTPS to this cluster's API server and to each worker cloud's token service; DNS comes
            # from Kueue's namespace-wide allow.
            spec=api_egress(selector),
            opts=child,
        )
        # The manager cloud's metadata or identity agent, which gives it its registry identity.
        identity_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-identity-egress",
            metadata=pods.metadata(f"{APP}-identity-egress", NAMESPACE, labels),
            spec=identity_egress(args.identity_egress, {"match_labels": selector}),
            opts=child,
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=pods.metadata(APP, NAMESPACE, labels),
            data={CONFIG_FILE: workers_file(args)},
            opts=child,
        )
        job = k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=pods.metadata(APP, NAMESPACE, labels),
            spec={
                "schedule": f"*/{INTERVAL_MINUTES} * * * *",
                "concurrency_policy": "Forbid",
                # A run that cannot start within its slot is skipped: the next one is as good.
                "starting_deadline_seconds": INTERVAL_MINUTES * 60 // 2,
                "successful_jobs_history_limit": 1,
                "failed_jobs_history_limit": 3,
                "job_template": {
                    "spec": {
                        "backoff_limit": 1,
                        # Room for a first pull of the trainer image on a new node; meanwhile Forbid
                        # skips the next runs, and EKS tokens, written every run, have 14 minutes.
                        "active_deadline_seconds": 2 * INTERVAL_MINUTES * 60,
                        "ttl_seconds_after_finished": 24 * 3600,
                        "template": {
                            "metadata": {"labels": {**labels, **identity.pod_labels}},
                            "spec": self._pod(args, account, config),
                        },
                    }
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[binding, policy, identity_policy, config, *identity.ready, *args.ready],
            ),
        )
        self.cron_job = job.metadata.name
        self.register_outputs({"cronJob": self.cron_job})

    def _pod(
        self, args: RefresherArgs, account: k8s.core.v1.ServiceAccount, config: k8s.core.v1.ConfigMap
    ) -> Obj:
        scratch, scratch_mount = pods.scratch("tmp", pods.TMP, "64Mi")
        volumes: list[Obj] = [scratch, {"name": "config", "config_map": {"name": config.metadata.name}}]
        mounts: list[Obj] = [scratch_mount, {"name": "config", "mount_path": CONFIG_DIR, "read_only": True}]
        for cloud, access in args.workers.items():
            token = {"audience": access.audience, "expiration_seconds": TOKEN_SECONDS, "path": "token"}
            volumes.append(
                {"name": f"{cloud}-token", "projected": {"sources": [{"service_account_token": token}]}}
            )
            mounts.append({"name": f"{cloud}-token", "mount_path": federated_dir(cloud), "read_only": True})
        return {
            "restart_policy": "Never",
            "service_account_name": account.metadata.name,
            # It patches the Secrets through this cluster's API server, as its own service account.
            "automount_service_account_token": True,
            "security_context": pods.pod_security(args.uid),
            "node_selector": dict(args.node_selector),
            "containers": [
                {
                    "name": APP,
                    "image": args.image,
                    "command": ["python", "-m", "trainer", "refresh-workers"],
                    "env": pods.env(
                        {
                            "TRAINER_WORKERS_FILE": f"{CONFIG_DIR}/{CONFIG_FILE}",
                            "TRAINER_INTERVAL_MINUTES": str(INTERVAL_MINUTES),
                            "HOME": pods.TMP,
                        }
                    ),
                    "resources": pods.resources("100m", "256Mi"),
                    "security_context": pods.container_security(args.uid),
                    "volume_mounts": mounts,
                }
            ],
            "volumes": volumes,
        }
