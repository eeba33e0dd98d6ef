"""The trainer's development server (`trainer.serve`) in a thread of the test process, answering with the
trained model: what the example app's healthy clouds and the server's own tests talk to."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from trainer import serve, storage

MODEL = "digits"


class DevServer:
    """`trainer.serve` on a free port of 127.0.0.1 for `model`; the calls it answered are recorded in
    `calls` (`"POST /v1/models/digits:predict"`) instead of logged. `model.versions` may change while it
    runs, as another version is loaded or unloaded."""

    def __init__(self, model: serve.Model) -> None:
        self.model = model
        self.calls: list[str] = []
        self.httpd = serve.server(model, "127.0.0.1", 0)
        calls = self.calls

        def log_request(handler: Any, code: int | str = "-", size: int | str = "-") -> None:
            calls.append(f"{handler.command} {handler.path}")

        self.httpd.RequestHandlerClass = type(
            "RecordedHandler", (serve.Handler,), {"model": model, "log_request": log_request}
        )
        # A short poll interval: shutdown() waits for one, and the tests start several servers.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @classmethod
    def exported(cls, base: Path) -> DevServer:
        """A server answering with the newest version under the model base path `base`, loaded as
        `python -m trainer serve --model-base BASE` loads it."""
        with tempfile.TemporaryDirectory() as scratch:
            return cls(serve.Model(MODEL, serve.load(storage.locate(str(base)), 1, Path(scratch))))

    @classmethod
    def serving(cls, saved_model: Any, versions: tuple[int, ...]) -> DevServer:
        """A server answering `versions`, each with one loaded SavedModel (loading takes a second)."""
        return cls(serve.Model(MODEL, dict.fromkeys(versions, saved_model)))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/models/{MODEL}"

    @property
    def url(self) -> str:
        return f"{self.base}:predict"

    def predicted(self) -> list[str]:
        """The paths of the predict calls it received."""
        return [c.removeprefix("POST ") for c in self.calls if c.startswith("POST ")]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
