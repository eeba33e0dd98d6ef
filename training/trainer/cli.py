"""The command line: strict argparse, and an environment variable behind every option.

A Kubernetes Job can set any option as `TRAINER_<OPTION>` instead of an argument; an argument wins over
the environment. A repeatable option (`replicate --location`) takes a comma-separated list from its
variable, and its arguments, when given, replace that list. Abbreviations are refused (`--epoch` is not
`--epochs`), and every bad value, from the command line or the environment, gets one line naming the
option, the value and what is allowed, then exit status 2. Nothing here imports TensorFlow, so `--help`
and bad input answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from trainer import options as o


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single line (the usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


@dataclass(frozen=True)
class Opt:
    flag: str
    env: str
    help: str
    type: Callable[[str], Any] = str
    default: Any = None
    required: bool = False
    boolean: bool = False  # a --x/--no-x switch
    repeated: bool = False  # given once per value; comma-separated in the environment
    key: str = ""  # the config field, when not the flag's name (a repeated --location fills `locations`)
    metavar: str = ""  # shown in --help instead of the upper-cased key

    @property
    def dest(self) -> str:
        return self.key or self.flag.lstrip("-").replace("-", "_")


def _data(required: bool = True) -> Opt:
    return Opt("--data", "TRAINER_DATA", "prepared data set (local path or URI)", o.uri, required=required)


_MODEL_DIR = Opt(
    "--model-dir", "TRAINER_MODEL_DIR", "model directory (local path or URI)", o.uri, required=True
)
_SEED = Opt("--seed", "TRAINER_SEED", "random seed", o.non_negative_int, 42)

COMMANDS: dict[str, tuple[str, list[Opt]]] = {
    "prepare-data": (
        "Load, clean, normalise and split a data set; write TFRecord shards and manifest.json.",
        [
            Opt(
                "--source",
                "TRAINER_SOURCE",
                "'digits' (bundled) or a directory of .npz files or class folders",
                o.source,
                "digits",
            ),
            Opt(
                "--out",
                "TRAINER_DATA",
                "where to write the data set (local path or URI)",
                o.uri,
                required=True,
            ),
            _SEED,
            Opt("--val-fraction", "TRAINER_VAL_FRACTION", "share of rows for validation", o.fraction, 0.15),
            Opt(
                "--test-fraction", "TRAINER_TEST_FRACTION", "share of rows for the test set", o.fraction, 0.15
            ),
            Opt("--shards", "TRAINER_SHARDS", "TFRecord files per split", o.positive_int, 4),
        ],
    ),
    "train": (
        "Train the CNN with checkpoints every epoch; a restarted run resumes where it stopped.",
        [
            _data(),
            _MODEL_DIR,
            Opt(
                "--checkpoint-dir",
                "TRAINER_CHECKPOINT_DIR",
                "checkpoints (default <model-dir>/checkpoints)",
                o.uri,
            ),
            Opt("--epochs", "TRAINER_EPOCHS", "epochs to train", o.positive_int, 15),
            Opt("--batch-size", "TRAINER_BATCH_SIZE", "global batch size", o.positive_int, 32),
            Opt("--learning-rate", "TRAINER_LEARNING_RATE", "Adam learning rate", o.positive_float, 1e-3),
            Opt("--l1", "TRAINER_L1", "L1 weight regularisation", o.non_negative_float, 0.0),
            Opt("--l2", "TRAINER_L2", "L2 weight regularisation", o.non_negative_float, 0.0),
            Opt("--dropout", "TRAINER_DROPOUT", "dropout rate before each dense layer", o.dropout, 0.0),
            Opt("--filters", "TRAINER_FILTERS", "Conv2D filters", o.positive_int, 32),
            Opt("--dense-units", "TRAINER_DENSE_UNITS", "hidden Dense units", o.positive_int, 128),
            _SEED,
            Opt(
                "--steps-per-execution",
                "TRAINER_STEPS_PER_EXECUTION",
                "batches per compiled call",
                o.positive_int,
                16,
            ),
            Opt(
                "--mixed-precision",
                "TRAINER_MIXED_PRECISION",
                "float16 compute (default: on with a GPU)",
                o.boolean,
                boolean=True,
            ),
            Opt("--xla", "TRAINER_XLA", "XLA compilation (default: on with a GPU)", o.boolean, boolean=True),
            Opt(
                "--expect-gpus",
                "TRAINER_EXPECT_GPUS",
                "exit with status 3 before training if TensorFlow sees fewer GPUs (0: no check)",
                o.non_negative_int,
                0,
            ),
        ],
    ),
    "evaluate": (
        "Write metrics.json (accuracy, precision, recall, F1, confusion matrix) and PNG plots.",
        [
            _data(required=False),
            _MODEL_DIR,
            Opt("--batch-size", "TRAINER_BATCH_SIZE", "batch size", o.positive_int, 256),
        ],
    ),
    "export": (
        "Export a TF Serving SavedModel to <out>/<version>/, with TFLite float and int8 models beside it.",
        [
            _MODEL_DIR,
            Opt(
                "--out",
                "TRAINER_EXPORT_DIR",
                "model base path that TF Serving polls (local path or URI)",
                o.uri,
                required=True,
            ),
            Opt(
                "--version", "TRAINER_MODEL_VERSION", "version number (default: highest + 1)", o.positive_int
            ),
            _data(required=False),
        ],
    ),
    "replicate": (
        "Copy the newest committed model versions between clouds, verified against their SHA256SUMS.",
        [
            Opt(
                "--location",
                "TRAINER_REPLICATE_LOCATIONS",
                "a cloud's name and its model base path, to copy versions from and to; repeat per "
                "location, at least two (environment: comma-separated)",
                o.replica_location,
                required=True,
                repeated=True,
                key="locations",
                metavar="NAME=URI",
            ),
            Opt(
                "--newest",
                "TRAINER_REPLICATE_NEWEST",
                "how many of the newest committed versions, across the locations, to keep in all",
                o.positive_int,
                2,
            ),
        ],
    ),
    "refresh-workers": (
        "Mint short-lived API tokens for the MultiKueue workers and rewrite their kubeconfig Secrets.",
        [
            Opt(
                "--workers-file",
                "TRAINER_WORKERS_FILE",
                "JSON file describing the workers and the home registry (see trainer.workers_file)",
                required=True,
                metavar="FILE",
            ),
            Opt(
                "--interval-minutes",
                "TRAINER_INTERVAL_MINUTES",
                "minutes between runs; a token with less than twice this and a minute left is replaced",
                o.between(1, 29),
                5,
            ),
            Opt(
                "--kube-api",
                "TRAINER_KUBE_API",
                "the Kubernetes API server holding the Secrets",
                o.https_url,
                "https://kubernetes.default.svc",
            ),
            Opt(
                "--kube-token-file",
                "TRAINER_KUBE_TOKEN_FILE",
                "the service-account token to call it with",
                default="/var/run/secrets/kubernetes.io/serviceaccount/token",
                metavar="FILE",
            ),
            Opt(
                "--kube-ca-file",
                "TRAINER_KUBE_CA_FILE",
                "the CA bundle that signed its certificate",
                default="/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                metavar="FILE",
            ),
        ],
    ),
    "serve": (
        "A development server, not for production (the clusters run TF Serving): the newest exported "
        "version(s) on TF Serving's REST API, /v1/models/<name>[/versions/<v>][:predict].",
        [
            Opt(
                "--model-base",
                "TRAINER_EXPORT_DIR",
                "model base path that export wrote versions under (local path or URI)",
                o.uri,
                required=True,
            ),
            Opt("--name", "TRAINER_MODEL_NAME", "the model's name in the URLs", o.model_name, "digits"),
            Opt(
                "--newest",
                "TRAINER_SERVE_NEWEST",
                "how many of the newest committed versions to load, as TF Serving's latest policy",
                o.positive_int,
                1,
            ),
            Opt(
                "--host",
                "TRAINER_SERVE_HOST",
                "address to listen on (the default keeps it on this machine)",
                default="127.0.0.1",
            ),
            Opt(
                "--port",
                "TRAINER_SERVE_PORT",
                "TCP port (0: any free one, printed at start-up)",
                o.between(0, 65535),
                8501,
            ),
        ],
    ),
    "bench": (
        "Print training samples/s on this device, with and without mixed precision and XLA.",
        [
            Opt("--model", "TRAINER_BENCH_MODEL", "cnn or resnet50", o.choice("cnn", "resnet50"), "cnn"),
            Opt(
                "--synthetic",
                "TRAINER_BENCH_SYNTHETIC",
                "random data instead of the digits",
                o.boolean,
                False,
                boolean=True,
            ),
            Opt("--steps", "TRAINER_BENCH_STEPS", "timed training steps", o.positive_int, 50),
            Opt("--batch-size", "TRAINER_BATCH_SIZE", "batch size", o.positive_int, 32),
            Opt(
                "--image-size", "TRAINER_BENCH_IMAGE_SIZE", "resnet50 input side (>= 32)", o.at_least(32), 224
            ),
        ],
    ),
}


def build_parser() -> Parser:
    parser = Parser(prog="trainer", allow_abbrev=False, description="gpu-platform training image.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name, (summary, opts) in COMMANDS.items():
        command = sub.add_parser(name, help=summary, description=summary, allow_abbrev=False)
        command.set_defaults(_parser=command)  # so that environment errors name the subcommand
        for opt in opts:
            _add(command, opt)
    return parser


def _add(parser: Parser, opt: Opt) -> None:
    shown = "" if opt.default is None else f"; default {opt.default}"
    text = f"{opt.help} [env {opt.env}{shown}]"
    if opt.boolean:
        parser.add_argument(opt.flag, action=argparse.BooleanOptionalAction, default=None, help=text)
    else:
        action = "append" if opt.repeated else "store"
        metavar = opt.metavar or opt.dest.upper()
        parser.add_argument(
            opt.flag, type=opt.type, action=action, dest=opt.dest, default=None, metavar=metavar, help=text
        )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse arguments, fill the gaps from the environment, then from defaults; exit 2 on bad input."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    command: Parser = vars(args).pop("_parser")
    if unknown:  # reported by the subcommand, so that the message points at its --help
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    for opt in COMMANDS[args.command][1]:
        if getattr(args, opt.dest) is None:
            setattr(args, opt.dest, _from_env(command, opt))
    return args


def _from_env(parser: Parser, opt: Opt) -> Any:
    raw = os.environ.get(opt.env)
    if raw is None or raw == "":
        if opt.required:
            parser.error(f"the option {opt.flag} is required (or set {opt.env})")
        return opt.default
    try:
        return [opt.type(item.strip()) for item in raw.split(",")] if opt.repeated else opt.type(raw)
    except argparse.ArgumentTypeError as exc:
        parser.error(f"environment variable {opt.env} (for {opt.flag}): {exc}")
