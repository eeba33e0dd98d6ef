"""The model-sync sidecar: rclone copies the newest versions of `<bucket>/models/<name>/` into the pod, where
TF Serving polls them.

rclone reads every store through the pod's workload identity (`env_auth`: the AWS SDK chain with EKS Pod
Identity, Google default credentials from the GKE metadata server, the Azure credential chain with the
Workload Identity token), so one sidecar serves all clouds, chosen by the bucket URI's scheme (data, not
a cloud name).

Each round lists the bucket's complete versions (numeric directories holding `saved_model.pb`, which the
trainer writes last) and keeps the newest `KEEP_VERSIONS` of them on disk: a missing one is copied into a
hidden staging directory beside the model base path and published by a rename on the same volume, so TF
Serving never sees half a version and no version is ever on disk twice; a version that is no longer wanted
(older, or deleted from the bucket) is removed. The volume therefore holds at most `KEEP_VERSIONS + 1`
copies of the model. The sidecar is a native sidecar (an init container that keeps running); its startup
probe holds TF Serving back until a first version is in place, because TF Serving does not start its
servers before its models load.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from infra import pods
from infra.pods import Obj

MODELS = "/models"
READY = f"{MODELS}/.synced"
INTERVAL_SECONDS = 30
BACKENDS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "gs": ("gcs", {"RCLONE_GCS_ENV_AUTH": "true", "RCLONE_GCS_BUCKET_POLICY_ONLY": "true"}),
    # The region comes from the cloud contract's storage env, which Kubernetes expands here.
    "s3": (
        "s3",
        {"RCLONE_S3_PROVIDER": "AWS", "RCLONE_S3_ENV_AUTH": "true", "RCLONE_S3_REGION": "$(AWS_REGION)"},
    ),
    # The storage account comes from AZURE_STORAGE_ACCOUNT_NAME in the contract's storage env.
    "az": ("azureblob", {"RCLONE_AZUREBLOB_ENV_AUTH": "true"}),
}
"""Bucket URI scheme -> rclone backend and the environment that configures it."""
SCRIPT = r"""set -u
dest="$MODELS/$MODEL_NAME"
mkdir -p "$dest"
while :; do
  if found=$(rclone lsf -R --files-only --include '/*/saved_model.pb' "$MODEL_SOURCE"); then
    wanted=$(printf '%s\n' "$found" | sed -n 's#^\([0-9][0-9]*\)/saved_model\.pb$#\1#p' \
      | sort -n | tail -n "$KEEP_VERSIONS" | tr '\n' ' ')
    for v in $wanted; do
      [ -e "$dest/$v" ] && continue
      stage="$MODELS/.stage-$v"
      rm -rf "$stage"
      rclone copy "$MODEL_SOURCE/$v" "$stage" --exclude '.*' --exclude '.*/**' --stats 0 \
        && mv "$stage" "$dest/$v" && echo "published $v"
    done
    for dir in "$dest"/*/; do
      [ -d "$dir" ] || continue
      v=$(basename "$dir")
      case " $wanted " in *" $v "*) ;; *) rm -rf "$dir" && echo "removed $v" ;; esac
    done
    set -- "$dest"/[0-9]*; [ -e "$1" ] && touch "$READY"
  fi
  sleep "$INTERVAL"
done
"""


def source(bucket_uri: str, model: str) -> tuple[str, dict[str, str]]:
    """The rclone remote for `<bucket>/models/<model>` and its backend's environment."""
    scheme, sep, rest = bucket_uri.partition("://")
    if not sep or scheme not in BACKENDS:
        raise ValueError(
            f"bucket URI {bucket_uri!r}: expected one of {', '.join(f'{s}://' for s in BACKENDS)}"
        )
    backend, env = BACKENDS[scheme]
    return f":{backend}:{rest.strip('/')}/models/{model}", dict(env)


def sidecar(
    image: pulumi.Input[str],
    *,
    bucket_uri: pulumi.Input[str],
    model: str,
    keep_versions: int,
    storage_env: Mapping[str, pulumi.Input[str]],
    uid: int,
) -> Obj:
    static = {
        "MODELS": MODELS,
        "MODEL_NAME": model,
        "KEEP_VERSIONS": str(keep_versions),
        "READY": READY,
        "INTERVAL": str(INTERVAL_SECONDS),
        "HOME": pods.TMP,
        # In-memory config: every option comes from the environment (and no notice each round).
        "RCLONE_CONFIG": "/dev/null",
        "RCLONE_CACHE_DIR": f"{pods.TMP}/rclone",
    }

    def backend(uri: str) -> list[Obj]:
        remote, backend_env = source(uri, model)
        return pods.env({"MODEL_SOURCE": remote, **backend_env, **static})

    # The storage env first: the backend's variables may refer to it as $(NAME).
    env = pulumi.Output.all(
        pulumi.Output.from_input(pods.env(storage_env)), pulumi.Output.from_input(bucket_uri).apply(backend)
    ).apply(lambda parts: [*parts[0], *parts[1]])
    return {
        "name": "model-sync",
        "image": image,
        "restart_policy": "Always",
        "command": ["/bin/sh", "-c", SCRIPT],
        "env": env,
        "startup_probe": {
            "exec_": {"command": ["/bin/sh", "-c", f"test -e {READY}"]},
            "period_seconds": 5,
            # Up to an hour for the first model: the training Job exports it after `up` returns.
            "failure_threshold": 720,
        },
        "resources": pods.resources("100m", "256Mi"),
        "security_context": pods.container_security(uid),
        "volume_mounts": [{"name": "models", "mount_path": MODELS}, {"name": "tmp", "mount_path": pods.TMP}],
    }
