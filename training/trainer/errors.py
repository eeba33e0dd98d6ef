"""Errors the CLI turns into one line on stderr and an exit code, instead of a traceback.

Exit codes tell a Kubernetes Job's pod failure policy what to do: 2 (bad input) cannot succeed on a
retry, 3 (no GPU) is a node problem that a retry on another node may fix, 143 (SIGTERM) is a
preemption that the next pod resumes from its checkpoint.
"""


class TrainerError(Exception):
    """A failure the user can act on; `exit_code` is what the process returns."""

    exit_code = 1
    label = "error"  # the word after `trainer <command>:` on the stderr line


class UsageError(TrainerError):
    """Bad input: an option, environment variable or data layout that is not allowed."""

    exit_code = 2


class StorageError(TrainerError):
    """A bucket, object or path that is missing or denied, after retries for transient faults."""


class DataError(TrainerError):
    """Data that is unusable: a checksum mismatch, no valid rows, a missing manifest."""


class PartialFailure(TrainerError):  # noqa: N818 (the parts that failed were reported as errors)
    """Some of several independent parts failed, each reported on its own line; the others completed."""


class GpuMissingError(TrainerError):
    """Fewer GPUs visible to TensorFlow than the Job asked for: the node, not the input, is at fault."""

    exit_code = 3


class Preempted(TrainerError):  # noqa: N818 (not an error: the process was asked to stop)
    """SIGTERM (spot reclaim, node drain, Job deletion): training stopped, after a checkpoint if it could."""

    exit_code = 143  # 128 + SIGTERM, what a shell reports for a process the signal ended
    label = "stopped"


def one_line(text: str, limit: int = 400) -> str:
    """`text` (a library's message, perhaps several lines long) as one line of at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
