"""Object-store emulators on loopback for the trainer's tests: moto (S3), gcp-storage-emulator, Azurite.

Each runs as a real server on a free port, is polled until it answers, and is stopped by its own pid.
`env` is what a pod would set to point the trainer's fsspec backends at it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The well-known development account every Azurite instance accepts (public, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class Emulator:
    scheme: str  # the URI scheme the trainer uses for it
    port: int
    env: dict[str, str] = field(default_factory=dict)


def azurite_binary() -> Path:
    """`make setup` installs Azurite under .tools; AZURITE_BLOB overrides the location."""
    override = os.environ.get("AZURITE_BLOB")
    path = Path(override) if override else ROOT / ".tools/node/node_modules/.bin/azurite-blob"
    if not path.exists():
        raise RuntimeError(f"Azurite not found at {path}: run `make setup` (or set AZURITE_BLOB)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def azure_connection_string(port: int, key: str = AZURITE_KEY) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )


def _command(scheme: str, port: int, on_disk: bool) -> list[str]:
    if scheme == "s3":
        return [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    if scheme == "gs":
        storage = [] if on_disk else ["--in-memory"]
        return [
            str(VENV_BIN / "gcp-storage-emulator"),
            "start",
            "-H",
            "127.0.0.1",
            "--port",
            str(port),
            *storage,
        ]
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Azurite needs Node.js on PATH")
    return [
        str(azurite_binary()),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--loose",
    ]


def env(scheme: str, port: int) -> dict[str, str]:
    if scheme == "s3":
        # moto accepts any credentials; the region must be us-east-1 for plain bucket creation.
        return {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    if scheme == "gs":
        return {
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}",
            "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
        }
    return {"AZURE_STORAGE_CONNECTION_STRING": azure_connection_string(port)}


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with {process.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"emulator did not listen on port {port} within {timeout} s")


def start(scheme: str, port: int, data_dir: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the emulator for `scheme` (s3, gs or az) on `port` and wait until it answers.

    With `data_dir` (gs only) the GCS emulator keeps its objects in files there instead of in memory, so
    a restart on the same port serves what the stopped one held: a storage outage, then recovery.
    """
    if data_dir is not None and scheme != "gs":
        raise ValueError("only the GCS emulator is started with a data directory")
    extra = {} if data_dir is None else {"STORAGE_BASE": str(data_dir)}  # it keeps <base>/.cloudstorage
    process = subprocess.Popen(
        _command(scheme, port, on_disk=data_dir is not None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **extra},
    )
    try:
        _wait_until_listening(port, process)
    except RuntimeError:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop an emulator by its pid and wait for it to exit (it no longer listens afterwards)."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(scheme: str) -> Iterator[Emulator]:
    """Start the emulator for `scheme` (s3, gs or az) on a free port, yield it, and stop it."""
    port = free_port()
    process = start(scheme, port)
    try:
        yield Emulator(scheme, port, env(scheme, port))
    finally:
        stop(process)


class Pool:
    """Emulators started on first use and kept until `close`, so that several can run side by side.

    One per scheme, for the whole session: s3fs keeps the endpoint it first connected to for as long as
    its cached filesystem lives, so a second S3 emulator on another port would never be reached.
    """

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._running: dict[str, Emulator] = {}

    def get(self, scheme: str) -> Emulator:
        if scheme not in self._running:
            self._running[scheme] = self._stack.enter_context(running(scheme))
        return self._running[scheme]

    def close(self) -> None:
        self._stack.close()
