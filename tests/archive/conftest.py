"""Fixtures for archive tests: a moto S3 server as a separate process on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import boto3
import pytest

from adapters.archive import Archive, LocalDirectoryArchive, Outbox, S3Archive
from adapters.archive.settings import S3ClientSettings
from tests.servers import free_port, port_open, server_missing
from tests.signing_keys import SIGNER, TRUSTED

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
A = TypeVar("A", bound=Archive)
FAST_CLIENT = S3ClientSettings(max_attempts=2, connect_timeout=2, read_timeout=10)


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    process: subprocess.Popen[bytes]


def start_moto(log: Path) -> tuple[subprocess.Popen[bytes], str] | str:
    """Start ``moto.server`` on a free loopback port: (process, endpoint) or why it failed."""
    port = free_port()
    env = {**os.environ, **AWS_ENV}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"moto server exited with {process.returncode}: {log.read_text()[-500:]}"
        if port_open("127.0.0.1", port, timeout=0.2):
            return process, f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    process.kill()
    return "moto server did not open its port within 30 s"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    try:
        started = start_moto(log)
    except OSError as error:
        started = f"cannot start moto server: {error}"
    if isinstance(started, str):
        server_missing(started)
        raise AssertionError("unreachable")
    process, endpoint = started
    try:
        yield MotoServer(endpoint, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and region for boto3 (nothing leaves the machine)."""
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bucket(moto_server: MotoServer, aws_env: None) -> str:
    """A fresh bucket on the moto server."""
    name = f"ledger-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_server.endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_client(moto_server: MotoServer, aws_env: None) -> object:
    return boto3.client("s3", endpoint_url=moto_server.endpoint)


@pytest.fixture
def s3_archive(moto_server: MotoServer, bucket: str, tmp_path: Path) -> S3Archive:
    return signing(
        S3Archive(
            bucket,
            endpoint_url=moto_server.endpoint,
            client_settings=FAST_CLIENT,
            outbox=Outbox(tmp_path / "outbox"),
        )
    )


@pytest.fixture
def local_archive(tmp_path: Path) -> LocalDirectoryArchive:
    return signing(LocalDirectoryArchive(tmp_path / "archive", outbox=Outbox(tmp_path / "outbox")))


def signing(archive: A) -> A:
    """``archive`` signing with the tests' key and trusting it (as a configured one does)."""
    archive.signer = SIGNER
    archive.trusted_keys = TRUSTED
    return archive


@pytest.fixture(params=["local", "s3"])
def archive(request: pytest.FixtureRequest) -> LocalDirectoryArchive | S3Archive:
    """Each adapter in turn: the same behaviour is asked of both."""
    name = "local_archive" if request.param == "local" else "s3_archive"
    result: LocalDirectoryArchive | S3Archive = request.getfixturevalue(name)
    return result
