"""Settings from TRADE_LEDGER__ variables, and the archive they choose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.archive import LocalDirectoryArchive, S3Archive, archive_from_settings, open_archive
from adapters.archive.settings import ArchiveSettings
from tests.archive.runs import closed_run


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRADE_LEDGER__"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = ArchiveSettings()
    assert settings.enabled is True
    assert settings.bucket_name is None
    assert settings.prefix == "trade-ledgers"
    assert settings.local_directory == Path("trade-ledger-archive")
    assert settings.outbox_path == Path("trade-ledger-archive/.outbox")
    assert settings.encryption.mode == "AES256"


def test_the_guide_variables_and_nested_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADE_LEDGER__BUCKET_NAME", "the-alchemiser-v2-trade-ledger-dev")
    monkeypatch.setenv("TRADE_LEDGER__ENABLED", "false")
    monkeypatch.setenv("TRADE_LEDGER__PREFIX", "/ledgers/")
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", "/var/outbox")
    monkeypatch.setenv("TRADE_LEDGER__ENCRYPTION__MODE", "aws:kms")
    monkeypatch.setenv("TRADE_LEDGER__ENCRYPTION__KMS_KEY_ID", "alias/ledger")
    monkeypatch.setenv("TRADE_LEDGER__S3__MAX_ATTEMPTS", "7")
    settings = ArchiveSettings()
    assert settings.bucket_name == "the-alchemiser-v2-trade-ledger-dev"
    assert settings.enabled is False
    assert settings.prefix == "ledgers"
    assert settings.outbox_path == Path("/var/outbox")
    assert settings.encryption.kms_key_id == "alias/ledger"
    assert settings.s3.max_attempts == 7


def test_kms_key_without_kms_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADE_LEDGER__ENCRYPTION__KMS_KEY_ID", "alias/ledger")
    with pytest.raises(ValidationError, match="kms_key_id"):
        ArchiveSettings()


def test_no_bucket_means_the_local_archive(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(tmp_path / "runs"))
    archive = archive_from_settings()
    assert isinstance(archive, LocalDirectoryArchive)
    outcome = archive.write(closed_run(2))
    assert outcome.status == "written"
    assert (tmp_path / "runs" / outcome.key).is_file()


def test_blank_bucket_means_the_local_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADE_LEDGER__BUCKET_NAME", "  ")
    assert ArchiveSettings().bucket_name is None
    archive = archive_from_settings()
    assert isinstance(archive, LocalDirectoryArchive)
    assert archive.directory == Path("trade-ledger-archive")


def test_the_other_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rest of docs/archive.md's table, read by ``ArchiveSettings`` under the same names."""
    variables = {
        "TRADE_LEDGER__LOCAL_DIRECTORY": "/srv/runs",
        "TRADE_LEDGER__ENDPOINT_URL": "http://127.0.0.1:9000",
        "TRADE_LEDGER__ENCRYPTION__MODE": "aws:kms",
        "TRADE_LEDGER__ENCRYPTION__BUCKET_KEY_ENABLED": "true",
        "TRADE_LEDGER__S3__CONNECT_TIMEOUT": "2.5",
        "TRADE_LEDGER__S3__READ_TIMEOUT": "30",
        "TRADE_LEDGER__S3__MAX_POOL_CONNECTIONS": "32",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings = ArchiveSettings()
    assert settings.local_directory == Path("/srv/runs")
    assert settings.outbox_path == Path("/srv/runs/.outbox")
    assert settings.endpoint_url == "http://127.0.0.1:9000"
    assert (settings.encryption.mode, settings.encryption.bucket_key_enabled) == ("aws:kms", True)
    assert (settings.s3.connect_timeout, settings.s3.read_timeout) == (2.5, 30.0)
    assert settings.s3.max_pool_connections == 32


def test_disabled_local_archive(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRADE_LEDGER__ENABLED", "false")
    outcome = archive_from_settings().write(closed_run(2))
    assert outcome.status == "disabled"
    assert not (tmp_path / "trade-ledger-archive").exists()


def test_bucket_means_s3_and_no_io_on_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADE_LEDGER__BUCKET_NAME", "bkt")
    archive = archive_from_settings()
    assert isinstance(archive, S3Archive)
    assert archive.location == "s3://bkt/trade-ledgers"


@pytest.mark.parametrize(
    ("location", "bucket", "prefix"),
    [
        ("s3://bkt", "bkt", "trade-ledgers"),
        ("s3://bkt/", "bkt", "trade-ledgers"),
        ("s3://bkt/custom/prefix/", "bkt", "custom/prefix"),
    ],
)
def test_open_archive_s3(location: str, bucket: str, prefix: str) -> None:
    archive = open_archive(location)
    assert isinstance(archive, S3Archive)
    assert (archive.bucket, archive.prefix) == (bucket, prefix)


def test_open_archive_path_and_bad_locations(tmp_path: Path) -> None:
    archive = open_archive(str(tmp_path))
    assert isinstance(archive, LocalDirectoryArchive)
    assert archive.directory == tmp_path
    for bad in ("s3://", "ftp://host/x"):
        with pytest.raises(ValueError, match=r"bucket|unsupported"):
            open_archive(bad)


BAD_PREFIXES = ["../escape", "a//b", "trade-ledgers/./x", "x/..", ".", "a\\b", "a/\tb"]


@pytest.mark.parametrize("prefix", BAD_PREFIXES)
def test_unsafe_prefix_is_a_validation_error(
    prefix: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match=r"archive prefix .* is not a plain folder path"):
        ArchiveSettings(prefix=prefix)
    monkeypatch.setenv("TRADE_LEDGER__PREFIX", prefix)
    with pytest.raises(ValidationError, match="prefix"):
        ArchiveSettings()
    with pytest.raises(ValueError, match="not a plain folder path"):
        LocalDirectoryArchive(tmp_path, prefix=prefix)


@pytest.mark.parametrize(
    ("prefix", "normalised"),
    [
        ("/ledgers/", "ledgers"),
        ("team/ledgers", "team/ledgers"),
        ("", ""),
        ("a.b/c-d_e", "a.b/c-d_e"),
    ],
)
def test_plain_prefixes_are_accepted(prefix: str, normalised: str) -> None:
    assert ArchiveSettings(prefix=prefix).prefix == normalised


@pytest.mark.parametrize("location", ["s3://bkt/../escape", "s3://bkt/a//b", "s3://bkt/x/./y"])
def test_open_archive_refuses_an_unsafe_s3_prefix(location: str) -> None:
    with pytest.raises(ValueError, match="not a plain folder path"):
        open_archive(location)
