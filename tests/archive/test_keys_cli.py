"""``trade-ledger keys init | show`` and ``verify --trusted-keys``."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.archive import LocalDirectoryArchive
from adapters.cli import app
from adapters.signing import LocalSigner, TrustedKeys, trusted_entry
from tests.archive.conftest import signing
from tests.archive.runs import closed_run
from tests.signing_keys import OUTSIDER, TRUSTED

runner = CliRunner()


@pytest.fixture(autouse=True)
def config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("TRADE_LEDGER__"):
            monkeypatch.delenv(name)
    folder = tmp_path / "config"
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY", str(folder))
    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(tmp_path / "archive"))
    return folder


def test_init_creates_a_private_key_trusts_it_and_refuses_to_overwrite(config: Path) -> None:
    created = runner.invoke(app, ["keys", "init", "--json"])
    assert created.exit_code == 0, created.output
    report = json.loads(created.stdout)
    key_file = config / "signing-key.pem"
    assert report["source"] == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "PRIVATE" not in created.stdout
    assert report["key_id"] in TrustedKeys.load(config / "trusted-keys.json")
    before = key_file.read_bytes()
    again = runner.invoke(app, ["keys", "init"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert key_file.read_bytes() == before


def test_show_prints_the_key_id_and_public_key_only(config: Path) -> None:
    runner.invoke(app, ["keys", "init"])
    signer = LocalSigner.load(config / "signing-key.pem")
    shown = runner.invoke(app, ["keys", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    entry = json.loads(shown.stdout)
    assert (entry["key_id"], entry["algorithm"]) == (signer.key_id, "ed25519")
    assert entry["public_key"] == signer.public_key_pem()
    text = runner.invoke(app, ["keys", "show"])
    assert signer.key_id in text.stdout
    assert "BEGIN PUBLIC KEY" in text.stdout
    assert "PRIVATE" not in text.stdout + shown.stdout


def test_show_without_a_key_says_how_to_make_one() -> None:
    result = runner.invoke(app, ["keys", "show"])
    assert result.exit_code == 1
    assert "keys init" in result.output


def test_a_key_inside_the_archive_is_refused(tmp_path: Path) -> None:
    inside = tmp_path / "archive" / "signing-key.pem"
    result = runner.invoke(app, ["keys", "init", "--key-file", str(inside)])
    assert result.exit_code == 2
    assert "inside the archive" in " ".join(result.output.split())
    assert not inside.exists()


def test_verify_trusts_the_settings_file_or_the_one_named(tmp_path: Path, config: Path) -> None:
    archive = signing(LocalDirectoryArchive(tmp_path / "archive"))
    key = archive.write(closed_run(2)).key
    archive.signer = OUTSIDER
    other = archive.write(closed_run(2, correlation_id="other")).key

    def statuses(*extra: str) -> tuple[int, dict[str, str]]:
        result = runner.invoke(
            app, ["verify", "-a", str(archive.directory), "--date", "2024-01-15", "--json", *extra]
        )
        runs = json.loads(result.stdout)["runs"] if result.stdout else []
        return result.exit_code, {item["key"]: item["status"] for item in runs}

    assert statuses() == (1, {key: "untrusted_key", other: "untrusted_key"})  # nothing trusted
    TRUSTED.save(config / "trusted-keys.json")
    assert statuses() == (1, {key: "valid", other: "untrusted_key"})
    named = tmp_path / "auditor-keys.json"
    TRUSTED.with_key(trusted_entry(OUTSIDER)).save(named)
    assert statuses("--trusted-keys", str(named)) == (0, {key: "valid", other: "valid"})
    missing = runner.invoke(
        app,
        [
            "verify",
            "-a",
            str(archive.directory),
            "--date",
            "2024-01-15",
            "--trusted-keys",
            str(tmp_path / "absent.json"),
        ],
    )
    assert missing.exit_code == 2
    (config / "trusted-keys.json").write_text("{not json")
    assert (
        runner.invoke(
            app, ["verify", "-a", str(archive.directory), "--date", "2024-01-15"]
        ).exit_code
        == 2
    )


def test_allow_unsigned_accepts_sound_unsigned_documents(tmp_path: Path) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive")
    archive.write(closed_run(2))
    args = ["verify", "-a", str(archive.directory), "--date", "2024-01-15"]
    strict = runner.invoke(app, args)
    assert strict.exit_code == 1
    assert "1 unsigned" in strict.stdout
    assert runner.invoke(app, [*args, "--allow-unsigned"]).exit_code == 0
