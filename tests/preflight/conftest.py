"""Servers the preflight fetcher and CLI tests share: moto for the AWS APIs it implements, the deployer's
assumed-role session from moto's STS, and a certificate for the HTTPS stand-ins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.preflight.standins import self_signed
from tests.training import emulators

DEPLOYER_ROLE = "gpu-platform-deployer"
"""The role Pulumi.dev.yaml names as deployerPrincipalArn, in moto's default account 123456789012."""


@pytest.fixture(scope="session")
def moto() -> Iterator[str]:
    """moto_server (the suite's S3 emulator serves every API moto implements: STS, IAM, EC2, S3...)."""
    port = emulators.free_port()
    process = emulators.start("s3", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        emulators.stop(process)


def assume(moto: str, role: str, path: str = "/") -> dict[str, str]:
    """Create `role` in moto and return an assumed-role session of it as AWS_* variables."""
    # moto accepts any credentials: these set up what the deployer's session then reads.
    admin = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    iam, sts = admin.client("iam", endpoint_url=moto), admin.client("sts", endpoint_url=moto)
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    arn = iam.create_role(RoleName=role, Path=path, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="alice")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


@pytest.fixture(scope="session")
def deployer(moto: str) -> dict[str, str]:
    """AWS_* variables of an assumed-role session of the dev stack's deployer role."""
    return assume(moto, DEPLOYER_ROLE)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


def fake_tools(directory: Path, scripts: dict[str, str]) -> Path:
    """Stand-ins for the CLIs preflight runs: `name -> shell script body`, written as executables."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in scripts.items():
        path = directory / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return directory


WORKING_TOOLS = {
    "aws": "echo 'aws-cli/2.22.0 Python/3.12.6 Linux/6.8.0 exe/x86_64'",
    "gke-gcloud-auth-plugin": "echo 'Kubernetes v1.30.0+3c4e2f9b'",
    "kubelogin": "echo 'kubelogin version'; echo 'git hash: v0.1.4'",
    "docker": "echo 27.3.1",
}
"""What the real tools print when they work (`--version`, and `docker info --format {{.ServerVersion}}`)."""
