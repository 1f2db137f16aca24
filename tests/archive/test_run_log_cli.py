"""``trade-ledger checkpoint | audit`` and ``verify``'s set check, through typer's CliRunner."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.archive import Archive, LocalDirectoryArchive, Outbox, S3Archive, encode_run
from adapters.archive.signature import sign_document
from adapters.cli import app
from adapters.signing import TrustedKeys, create_key, trusted_entry
from tests.archive.conftest import FAST_CLIENT, MotoServer
from tests.archive.runs import CREATED, closed_run
from tests.archive.signers import KeySigner
from tests.archive.test_archive import overwrite
from tests.archive.test_cli import flat

runner = CliRunner()
DAY = "2024-01-15"


@pytest.fixture
def signer() -> KeySigner:
    return KeySigner()


@pytest.fixture
def trusted(tmp_path: Path, signer: KeySigner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trusted-keys file with the signer's key, named in the settings."""
    path = tmp_path / "trusted-keys.json"
    TrustedKeys([trusted_entry(signer)]).save(path)
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__TRUSTED_KEYS", str(path))
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", str(tmp_path / "outbox"))
    return path


@pytest.fixture(params=["local", "s3"])
def logged(
    request: pytest.FixtureRequest, tmp_path: Path, signer: KeySigner, trusted: Path
) -> tuple[Archive, str]:
    """(an archive appending to its log, its --archive location) on each adapter."""
    archive: Archive
    if request.param == "local":
        archive = LocalDirectoryArchive(tmp_path / "archive", outbox=Outbox(tmp_path / "o"))
        location = str(tmp_path / "archive")
    else:
        server: MotoServer = request.getfixturevalue("moto_server")
        bucket: str = request.getfixturevalue("bucket")
        request.getfixturevalue("aws_env")
        archive = S3Archive(
            bucket,
            endpoint_url=server.endpoint,
            client_settings=FAST_CLIENT,
            outbox=Outbox(tmp_path / "o"),
        )
        request.getfixturevalue("monkeypatch").setenv("AWS_ENDPOINT_URL_S3", server.endpoint)
        location = f"s3://{bucket}/trade-ledgers"
    archive.signer = signer
    return archive, location


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def write(archive: Archive, numbers: range) -> list[str]:
    return [
        archive.write(
            closed_run(2, correlation_id=f"c{n}", created_at=CREATED + timedelta(seconds=n))
        ).key
        for n in numbers
    ]


def test_checkpoint_then_audit_passes_and_prints_the_new_checkpoint(
    logged: tuple[Archive, str], tmp_path: Path
) -> None:
    archive, location = logged
    write(archive, range(2))
    saved = run("checkpoint", "-a", location, "--json")
    assert saved.exit_code == 0, saved.output
    checkpoint = json.loads(saved.stdout)
    assert checkpoint["size"] == 2
    assert checkpoint["signature"]
    path = tmp_path / "checkpoint.json"
    path.write_text(saved.stdout)
    human = run("checkpoint", "-a", location)
    assert human.exit_code == 0
    assert "size 2" in human.stdout
    assert "valid" in human.stdout

    write(archive, range(2, 5))
    result = run("audit", "-a", location, "--since", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["problems"] == []
    assert [item["index"] for item in report["runs"]] == [2, 3, 4]
    assert {item["status"] for item in report["runs"]} == {"valid"}
    assert report["checkpoint"]["size"] == 5
    table = run("audit", "-a", location, "--since", str(path))
    assert table.exit_code == 0
    assert "audit passed" in table.stdout

    verified = run("verify", "-a", location, "--date", DAY, "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["log"]["size"] == 5


def test_audit_fails_on_a_forged_run_and_verify_names_missing_and_unlogged(
    logged: tuple[Archive, str], tmp_path: Path, signer: KeySigner
) -> None:
    archive, location = logged
    keys = write(archive, range(3))
    path = tmp_path / "checkpoint.json"
    path.write_text(run("checkpoint", "-a", location, "--json").stdout)
    later = write(archive, range(3, 5))
    overwrite(archive, later[0], encode_run(closed_run(4, correlation_id="c3")).body)
    result = run("audit", "-a", location, "--since", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["runs"][0]["status"] == "invalid"

    if isinstance(archive, LocalDirectoryArchive):
        archive.path(keys[0]).unlink()
    else:
        assert isinstance(archive, S3Archive)
        archive.client.delete_object(Bucket=archive.bucket, Key=keys[0])
    stray_events = closed_run(2, correlation_id="stray")  # once: each call is a new ledger
    stray = archive.key_for(stray_events)
    archive.store(stray, sign_document(stray, encode_run(stray_events).body, signer))  # no leaf
    verified = run("verify", "-a", location, "--date", DAY, "--json")
    assert verified.exit_code == 1
    statuses = {item["key"]: item["status"] for item in json.loads(verified.stdout)["runs"]}
    assert statuses[keys[0]] == "missing"
    assert statuses[stray] == "unlogged"
    assert statuses[later[0]] == "invalid"
    table = run("verify", "-a", location, "--date", DAY)
    assert table.exit_code == 1
    assert "missing" in table.stdout
    assert "unlogged" in table.stdout


def test_usage_errors_exit_2(tmp_path: Path, trusted: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    absent = run("audit", "-a", str(archive), "--since", str(tmp_path / "nope.json"))
    assert absent.exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"size": 1}')
    malformed = run("audit", "-a", str(archive), "--since", str(bad))
    assert malformed.exit_code == 2
    assert "is not a saved" in flat(malformed.output)
    assert run("audit", "-a", str(archive)).exit_code == 2  # --since is required
    broken_keys = tmp_path / "keys.json"
    broken_keys.write_text("not json")
    assert run("checkpoint", "-a", str(archive), "--trusted-keys", str(broken_keys)).exit_code == 2


def test_checkpoint_of_an_archive_without_a_log_exits_1(tmp_path: Path, trusted: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    result = run("checkpoint", "-a", str(archive))
    assert result.exit_code == 1
    assert "no run log" in flat(result.output)


def test_audit_of_a_log_that_lost_its_newest_runs_fails(
    logged: tuple[Archive, str], tmp_path: Path
) -> None:
    """An insider deleting the newest runs and their log entries: the saved checkpoint says."""
    archive, location = logged
    write(archive, range(4))
    path = tmp_path / "checkpoint.json"
    path.write_text(run("checkpoint", "-a", location, "--json").stdout)
    log = archive.run_log
    for size in (3, 4):
        if isinstance(archive, LocalDirectoryArchive):
            archive.path(log.checkpoint_key(size)).unlink()
            archive.path(log.leaf_key(size - 1)).unlink()
        else:
            assert isinstance(archive, S3Archive)
            for key in (log.checkpoint_key(size), log.leaf_key(size - 1)):
                archive.client.delete_object(Bucket=archive.bucket, Key=key)
    result = run("audit", "-a", location, "--since", str(path), "--json")
    assert result.exit_code == 1
    assert any("leaves removed" in p for p in json.loads(result.stdout)["problems"])


def test_push_outbox_appends_pending_runs_and_says_when_some_wait(
    tmp_path: Path,
    trusted: Path,
    signer: KeySigner,
    monkeypatch: pytest.MonkeyPatch,
    signing_config: Path,
) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive", outbox=Outbox(tmp_path / "outbox"))
    archive.signer = signer
    signer.fail = True
    keys = write(archive, range(2))
    assert archive.pending_appends is not None
    assert archive.pending_appends.count() == 2
    location = str(tmp_path / "archive")
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__ENABLED", "false")  # nothing can sign
    waiting = run("push-outbox", "-a", location)
    assert waiting.exit_code == 0  # the documents are safe; verify reports them unlogged
    assert "2 archived run(s) not yet in the run log" in flat(waiting.output)
    monkeypatch.delenv("TRADE_LEDGER__SIGNING__ENABLED")
    create_key(signing_config / "signing-key.pem")  # the settings' key signs now
    done = run("push-outbox", "-a", location)
    assert done.exit_code == 0, done.output
    assert "not yet in the run log" not in flat(done.output)
    assert archive.pending_appends.count() == 0
    assert [archive.run_log.read_entry(i).key for i in range(2)] == keys
