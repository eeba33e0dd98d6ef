"""`python -m trainer <command>`: parse the command line, run one command, map errors to exit codes.

Commands are imported only when chosen: TensorFlow takes seconds to import, and `--help` or a
misspelled flag should answer at once.
"""

from __future__ import annotations

import os
import sys

from trainer import cli, config, tf_logs
from trainer.errors import TrainerError

# command → (module with run(cfg), its config class)
_COMMANDS: dict[str, tuple[str, type]] = {
    "prepare-data": ("trainer.prepare", config.PrepareConfig),
    "train": ("trainer.train", config.TrainConfig),
    "evaluate": ("trainer.evaluate", config.EvaluateConfig),
    "export": ("trainer.export", config.ExportConfig),
    "replicate": ("trainer.replicate", config.ReplicateConfig),
    "refresh-workers": ("trainer.worker_tokens", config.RefreshWorkersConfig),
    "serve": ("trainer.serve", config.ServeConfig),
    "bench": ("trainer.bench", config.BenchConfig),
}


def main(argv: list[str] | None = None) -> int:
    # TensorFlow's C++ INFO and WARNING lines drown the Keras progress in Job logs; errors still show.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = cli.parse(argv)
    module_name, config_class = _COMMANDS[args.command]
    try:
        settings: object = config.from_namespace(config_class, args)
        tf_logs.import_quietly(module_name).run(settings)
    except TrainerError as exc:
        print(f"trainer {args.command}: {exc.label}: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
