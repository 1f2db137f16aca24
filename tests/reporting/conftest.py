"""The archive tests' fixtures (moto S3 server, archives of both kinds), reused here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.archive.conftest import (  # noqa: F401 (fixtures)
    archive,
    aws_env,
    bucket,
    local_archive,
    moto_server,
    s3_archive,
)
from tests.signing_keys import trust_test_key


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TRADE_LEDGER__ setting of the developer's shell reaches the CLI under test."""
    for name in list(os.environ):
        if name.startswith("TRADE_LEDGER__"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", str(tmp_path / "outbox"))
    trust_test_key(monkeypatch, tmp_path / "config")  # the archive fixtures sign with it
