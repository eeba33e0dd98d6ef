"""The command line: help everywhere, strict flags, one-line errors, environment variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.trained import run_cli
from trainer import cli
from trainer.config import ReplicaLocation

COMMANDS = list(cli.COMMANDS)
TRAIN = ["train", "--data", "d", "--model-dir", "m"]
REPLICATE = ["replicate", "--location", "aws=s3://bucket/models/digits"]


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.parse(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, f"expected one line, got: {err!r}"
    return err.strip()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_naming_its_environment_variables(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.parse([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for opt in cli.COMMANDS[command][1]:
        assert opt.flag in text
        assert opt.env in text


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.parse(["--help"])
    text = capsys.readouterr().out
    assert all(command in text for command in COMMANDS)


def test_misspelled_and_abbreviated_flags_are_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unrecognized arguments: --epoch 3" in _error([*TRAIN, "--epoch", "3"], capsys)
    assert "unrecognized arguments: --batch 8" in _error([*TRAIN, "--batch", "8"], capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*TRAIN, "--epochs", "0"], "argument --epochs: expected an integer >= 1, got '0'"),
        ([*TRAIN, "--dropout", "1"], "argument --dropout: expected a rate in [0, 1), got '1'"),
        ([*TRAIN, "--learning-rate", "fast"], "argument --learning-rate: expected a number > 0, got 'fast'"),
        (
            ["train", "--data", "ftp://x", "--model-dir", "m"],
            "argument --data: expected a local path or a s3://",
        ),
        (["bench", "--model", "vgg"], "argument --model: expected one of cnn, resnet50, got 'vgg'"),
        (
            ["prepare-data", "--out", "d", "--val-fraction", "1.5"],
            "argument --val-fraction: expected a number",
        ),
        (["bench", "--image-size", "16"], "argument --image-size: expected an integer >= 32, got '16'"),
        (["deploy"], "argument COMMAND: invalid choice: 'deploy'"),
        (
            [*REPLICATE, "--location", "gcp"],
            "argument --location: expected NAME=URI with NAME in lower-case letters, digits and '-' "
            "(e.g. gcp=gs://bucket/models/digits), got 'gcp'",
        ),
        ([*REPLICATE, "--location", "GCP=gs://b/m"], "argument --location: expected NAME=URI with NAME in"),
        ([*REPLICATE, "--location", "=gs://b/m"], "argument --location: expected NAME=URI with NAME in"),
        (
            [*REPLICATE, "--location", "gcp=ftp://host/m"],
            "argument --location: in 'gcp=ftp://host/m': expected a local path or a s3://, gs://, gcs://, "
            "az://, abfs:// URI, got 'ftp://host/m'",
        ),
        ([*REPLICATE, "--location", "gcp=gs://"], "argument --location: in 'gcp=gs://': expected a bucket"),
        (
            [*REPLICATE, "--location", "a=b", "--newest", "0"],
            "argument --newest: expected an integer >= 1, got '0'",
        ),
        (["replicate"], "the option --location is required (or set TRAINER_REPLICATE_LOCATIONS)"),
    ],
)
def test_bad_values_name_the_option_the_value_and_what_is_allowed(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert message in _error(argv, capsys)


def test_options_come_from_the_environment_and_arguments_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_DATA", "s3://bucket/data")
    monkeypatch.setenv("TRAINER_MODEL_DIR", "gs://bucket/model")
    monkeypatch.setenv("TRAINER_EPOCHS", "7")
    monkeypatch.setenv("TRAINER_XLA", "false")
    args = cli.parse(["train", "--epochs", "3"])
    assert (args.data, args.model_dir, args.epochs, args.xla) == (
        "s3://bucket/data",
        "gs://bucket/model",
        3,
        False,
    )
    assert args.mixed_precision is None  # unset: decided from the hardware
    assert args.batch_size == 32


def test_bad_environment_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRAINER_EPOCHS", "many")
    message = _error(["train", "--data", "d", "--model-dir", "m"], capsys)
    assert (
        "environment variable TRAINER_EPOCHS (for --epochs): expected an integer >= 1, got 'many'" in message
    )


def test_replication_locations_come_from_the_environment_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAINER_REPLICATE_LOCATIONS", "gcp=gs://b/models/digits, azure=az://c/models/digits")
    args = cli.parse(["replicate"])
    assert args.newest == 2
    assert args.locations == [
        ReplicaLocation("gcp", "gs://b/models/digits"),
        ReplicaLocation("azure", "az://c/models/digits"),
    ]
    monkeypatch.setenv("TRAINER_REPLICATE_NEWEST", "5")
    args = cli.parse(["replicate", "--location", "local=/srv/models/digits"])  # arguments replace the list
    assert (args.locations, args.newest) == ([ReplicaLocation("local", "/srv/models/digits")], 5)


def test_a_bad_replication_location_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRAINER_REPLICATE_LOCATIONS", "gcp=gs://b/models/digits,azure")
    assert _error(["replicate"], capsys) == (
        "trainer replicate: error: environment variable TRAINER_REPLICATE_LOCATIONS (for --location): "
        "expected NAME=URI with NAME in lower-case letters, digits and '-' (e.g. gcp=gs://bucket/models/"
        "digits), got 'azure' (see trainer replicate --help)"
    )


def test_conflicting_or_unusable_locations_exit_2_before_anything_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    first, second = tmp_path / "first", tmp_path / "second"
    cases = [
        ([f"aws={first}"], "give at least two --location NAME=URI: one to copy from, one to copy to"),
        ([f"gcp={first}", f"gcp={second}"], f"--location gcp={second}: the name 'gcp' is given twice"),
        (
            [f"aws={first}", f"gcp={first}"],
            f"--location gcp={first}: the same location as --location aws={first}",
        ),
        (
            [f"aws={first}", "azure=az://c/models/digits"],
            "--location azure=az://c/models/digits: az:// needs AZURE_STORAGE_ACCOUNT_NAME (workload "
            "identity) or AZURE_STORAGE_CONNECTION_STRING",
        ),
    ]
    for locations, message in cases:
        assert run_cli("replicate", *(a for loc in locations for a in ("--location", loc))) == 2
        assert capsys.readouterr().err == f"trainer replicate: error: {message}\n"
    assert not first.exists()


def test_required_options_say_which_variable_also_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert "the option --model-dir is required (or set TRAINER_MODEL_DIR)" in _error(
        ["train", "--data", "d"], capsys
    )


def test_help_and_bad_flags_answer_without_importing_tensorflow() -> None:
    code = "import sys; from trainer import __main__, cli, replicate; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    bad = subprocess.run(
        [sys.executable, "-m", "trainer", "train", "--epoch", "3"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("trainer train: error: ")
