"""Errors the CLI turns into one line on stderr and an exit code, instead of a traceback."""


class TrainerError(Exception):
    """A failure the user can act on; `exit_code` is what the process returns."""

    exit_code = 1


class UsageError(TrainerError):
    """Bad input: an option, environment variable or data layout that is not allowed."""

    exit_code = 2


class StorageError(TrainerError):
    """A bucket, object or path that is missing or denied, after retries for transient faults."""


class DataError(TrainerError):
    """Data that is unusable: a checksum mismatch, no valid rows, a missing manifest."""
