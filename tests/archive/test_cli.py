"""``trade-ledger list | show | verify | push-outbox`` through typer's CliRunner."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.archive import LocalDirectoryArchive, Outbox, S3Archive, encode_run
from adapters.cli import app
from ledger_domain import OrderResult, TradeLedgerService
from tests.archive.conftest import MotoServer, signing
from tests.archive.runs import (
    CREATED,
    LEGACY,
    LEGACY_KEY,
    LEGACY_NUMBERS,
    closed_run,
    edit,
    numbers_json,
)
from tests.archive.test_tamper import change_fill_price
from tests.signing_keys import trust_test_key

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRADE_LEDGER__"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", str(tmp_path / "outbox"))
    trust_test_key(monkeypatch, tmp_path / "config")


@pytest.fixture
def filled(tmp_path: Path) -> tuple[LocalDirectoryArchive, list[str]]:
    archive = signing(LocalDirectoryArchive(tmp_path / "archive"))
    keys = [
        archive.write(
            closed_run(3, correlation_id=f"c{n}", created_at=CREATED + timedelta(days=n // 4))
        ).key
        for n in range(8)
    ]
    return archive, keys


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def flat(output: str) -> str:
    """CLI output as one line of words, without rich's panel borders (wrapping varies)."""
    return " ".join(output.replace("\u2502", " ").split())


def test_list_a_day_as_json(filled: tuple[LocalDirectoryArchive, list[str]]) -> None:
    archive, keys = filled
    result = run("list", "--archive", str(archive.directory), "--date", "2024-01-15", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [item["key"] for item in listed] == sorted(keys[:4])
    assert listed[0]["date"] == "2024-01-15"
    assert listed[0]["correlation_id"] in {"c0", "c1", "c2", "c3"}


def test_list_a_range_as_a_table(filled: tuple[LocalDirectoryArchive, list[str]]) -> None:
    archive, _ = filled
    result = run("list", "-a", str(archive.directory), "--from", "2024-01-15", "--to", "2024-01-16")
    assert result.exit_code == 0, result.output
    assert "8 run(s)" in result.stdout
    one_day = run(
        "list", "-a", str(archive.directory), "--from", "2024-01-16", "--to", "2024-01-16"
    )
    assert "4 run(s)" in one_day.stdout


def test_default_archive_comes_from_settings(
    filled: tuple[LocalDirectoryArchive, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive, _ = filled
    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(archive.directory))
    result = run("list", "--date", "2024-01-16", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("list",), "choose a day with --date, or a range with --from/--to"),
        (("list", "--date", "2024-01-15", "--from", "2024-01-14"), "either --date or --from/--to"),
        (("list", "--to", "2024-01-15"), "--to needs --from"),
        (("list", "--from", "2024-01-16", "--to", "2024-01-15"), "is before --from 2024-01-16"),
        (("list", "--date", "15/01/2024"), "'15/01/2024' does not match the formats '%Y-%m-%d'"),
        (("show",), "choose runs with --key, --date, or --from/--to"),
        (("verify", "--key", "k", "--date", "2024-01-15"), "either --key or a date selection"),
        (("list", "--archive", "ftp://x", "--date", "2024-01-15"), "unsupported archive location"),
    ],
)
def test_bad_selections_are_usage_errors(
    args: tuple[str, ...], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "archive").mkdir()
    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(tmp_path / "archive"))
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in flat(result.stderr)
    assert result.stdout == ""


def test_show_a_key(filled: tuple[LocalDirectoryArchive, list[str]]) -> None:
    archive, keys = filled
    result = run("show", "-a", str(archive.directory), "--key", keys[0], "--events")
    assert result.exit_code == 0, result.output
    ledger = archive.read(keys[0]).ledger
    assert ledger.ledger_id in result.stdout
    assert f"buy {ledger.total_buy_value}" in result.stdout
    assert '"type": "FillRecorded"' in result.stdout


def test_show_json_is_typed_ledger_and_events(
    filled: tuple[LocalDirectoryArchive, list[str]],
) -> None:
    archive, keys = filled
    result = run("show", "-a", str(archive.directory), "--date", "2024-01-16", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert [item["key"] for item in shown] == sorted(keys[4:])
    first = shown[0]
    assert first["ledger"] == archive.read(first["key"]).ledger.model_dump(mode="json")
    assert first["format_version"] == 2
    assert len(first["events"]) == 5


def test_show_names_an_unreadable_run(filled: tuple[LocalDirectoryArchive, list[str]]) -> None:
    archive, keys = filled
    archive.path(keys[1]).write_bytes(b'{"ledger_id": "x", ')
    result = run("show", "-a", str(archive.directory), "--date", "2024-01-15", "--json")
    assert result.exit_code == 1
    shown = json.loads(result.stdout)
    bad = next(item for item in shown if item["key"] == keys[1])
    assert keys[1] in bad["error"]
    assert sum("ledger" in item for item in shown) == 3


def test_verify_all_valid(filled: tuple[LocalDirectoryArchive, list[str]]) -> None:
    archive, _ = filled
    result = run(
        "verify", "-a", str(archive.directory), "--from", "2024-01-15", "--to", "2024-01-16"
    )
    assert result.exit_code == 0, result.output
    assert "8 valid, 0 invalid, 0 unverifiable, 0 unreadable" in result.stdout


def test_verify_fails_and_names_the_check(filled: tuple[LocalDirectoryArchive, list[str]]) -> None:
    archive, keys = filled
    path = archive.path(keys[2])
    path.write_bytes(edit(path.read_bytes(), change_fill_price))
    result = run("verify", "-a", str(archive.directory), "--date", "2024-01-15", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["counts"] == {
        "valid": 3,
        "invalid": 1,
        "unverifiable": 0,
        "unreadable": 0,
        "unlogged": 0,
        "missing": 0,
        "unsigned": 0,
        "untrusted_key": 0,
    }
    bad = next(item for item in report["runs"] if item["key"] == keys[2])
    assert {"hash_chain", "snapshot", "signature"} <= set(bad["failed_checks"])
    table = run("verify", "-a", str(archive.directory), "--key", keys[2])
    assert table.exit_code == 1
    assert "hash_chain" in table.stdout


def test_unverifiable_fails_unless_allowed(tmp_path: Path) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive")
    archive.path(LEGACY_KEY).parent.mkdir(parents=True)
    archive.path(LEGACY_KEY).write_text(json.dumps(LEGACY))
    strict = run("verify", "-a", str(archive.directory), "--date", "2024-01-15")
    assert strict.exit_code == 1
    assert "unverifiable" in strict.stdout
    allowed = run(
        "verify", "-a", str(archive.directory), "--date", "2024-01-15", "--allow-unverifiable"
    )
    assert allowed.exit_code == 0, allowed.output


def legacy_numbers_archive(tmp_path: Path, **changes: Any) -> LocalDirectoryArchive:
    """A local archive holding one original-format document with JSON-number amounts."""
    archive = LocalDirectoryArchive(tmp_path / "archive")
    archive.path(LEGACY_KEY).parent.mkdir(parents=True)
    archive.path(LEGACY_KEY).write_bytes(numbers_json({**LEGACY_NUMBERS, **changes}))
    return archive


def test_verify_legacy_numbers_is_unverifiable_not_invalid(tmp_path: Path) -> None:
    archive = legacy_numbers_archive(tmp_path)
    strict = run("verify", "-a", str(archive.directory), "--key", LEGACY_KEY, "--json")
    assert strict.exit_code == 1
    report = json.loads(strict.stdout)
    assert report["counts"] == {
        "valid": 0,
        "invalid": 0,
        "unverifiable": 1,
        "unreadable": 0,
        "unlogged": 0,
        "missing": 0,
        "unsigned": 0,
        "untrusted_key": 0,
    }
    assert report["runs"][0]["failures"] == []
    allowed = run(
        "verify", "-a", str(archive.directory), "--key", LEGACY_KEY, "--allow-unverifiable"
    )
    assert allowed.exit_code == 0, allowed.output
    assert "0 valid, 0 invalid, 1 unverifiable, 0 unreadable" in allowed.stdout


def test_verify_legacy_numbers_with_a_wrong_total_is_invalid(tmp_path: Path) -> None:
    archive = legacy_numbers_archive(tmp_path, total_buy_value=Decimal("374371.36737037036704"))
    result = run(
        "verify", "-a", str(archive.directory), "--key", LEGACY_KEY, "--allow-unverifiable"
    )
    assert result.exit_code == 1
    assert "0 valid, 1 invalid, 0 unverifiable, 0 unreadable" in result.stdout
    assert "totals" in result.stdout


def test_show_legacy_numbers_exactly(tmp_path: Path) -> None:
    archive = legacy_numbers_archive(tmp_path)
    result = run("show", "-a", str(archive.directory), "--key", LEGACY_KEY, "--json")
    assert result.exit_code == 0, result.output
    ledger = json.loads(result.stdout)[0]["ledger"]
    first, second, _ = ledger["entries"]
    assert (first["fill_price"], first["bid_at_fill"]) == ("400.1", "400.05")
    assert first["strategy_weights"] == {
        "momentum_strategy": "0.3",
        "mean_reversion_strategy": "0.7",
    }
    assert second["fill_price"] == "1234567.8912345678901"
    assert second["trade_value"] == "370370.36737037036703"
    totals = (ledger["total_buy_value"], ledger["total_sell_value"])
    assert totals == ("374371.36737037036703", "0.3")
    table = run("show", "-a", str(archive.directory), "--date", "2024-01-15")
    assert table.exit_code == 0, table.output
    assert "buy 374371.36737037036703  sell 0.3" in table.stdout


def test_verify_missing_key_is_unreadable(tmp_path: Path) -> None:
    result = run("verify", "-a", str(tmp_path), "--key", "trade-ledgers/2024/01/15/x.json")
    assert result.exit_code == 1
    assert "unreadable" in result.stdout


def test_verify_an_empty_day(tmp_path: Path) -> None:
    result = run("verify", "-a", str(tmp_path), "--date", "2024-01-15")
    assert result.exit_code == 0
    assert "no runs" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--date", "2024-01-15"),
        ("show", "--date", "2024-01-15"),
        ("verify", "--date", "2024-01-15"),
        ("verify", "--key", "trade-ledgers/2024/01/15/x.json"),
    ],
)
@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_local_archive_that_is_not_a_directory_is_an_error(
    args: tuple[str, ...], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = tmp_path / "nonexistent"
    if kind == "file":
        location.write_text("not an archive")
    result = run(args[0], "--archive", str(location), *args[1:])
    assert result.exit_code == 2, result.output
    expected = "does not exist" if kind == "missing" else "is not a directory"
    assert expected in flat(result.output)
    assert "no runs" not in result.output
    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(location))
    from_settings = run(*args)
    assert from_settings.exit_code == 2, from_settings.output
    assert expected in flat(from_settings.output)


@pytest.mark.parametrize(
    ("command", "says"), [("list", "0 run(s)"), ("show", "no runs"), ("verify", "no runs")]
)
def test_an_existing_empty_archive_has_no_runs(command: str, says: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run(command, "--archive", str(tmp_path / "empty"), "--date", "2024-01-15")
    assert result.exit_code == 0, result.output
    assert says in result.stdout


def test_push_outbox(tmp_path: Path) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive", outbox=Outbox(tmp_path / "outbox"))
    archive.directory.mkdir()
    events = closed_run(2)
    assert archive.outbox is not None
    archive.outbox.put(archive.key_for(events), encode_run(events).body)
    result = run("push-outbox", "-a", str(archive.directory), "--json")
    assert result.exit_code == 0, result.output
    assert [o["status"] for o in json.loads(result.stdout)] == ["written"]
    pushed = archive.verify(archive.key_for(events))  # outboxed unsigned: sound, unsigned
    assert (pushed.status, pushed.failures) == ("unsigned", ())


def test_push_outbox_never_creates_a_missing_archive_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped --archive is a usage error; a missing default directory keeps the
    documents in the outbox and the push fails (exit 1) naming the directory."""
    missing = tmp_path / "mistyped"
    outbox = Outbox(tmp_path / "outbox")  # the clean_env fixture's TRADE_LEDGER__OUTBOX_DIRECTORY
    events = closed_run(2)
    key = LocalDirectoryArchive(missing).key_for(events)
    outbox.put(key, encode_run(events).body)
    named = run("push-outbox", "-a", str(missing))
    assert named.exit_code == 2, named.output
    assert "does not exist" in flat(named.output)
    assert outbox.count() == 1

    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(missing))
    result = run("push-outbox")
    assert result.exit_code == 1, result.output
    assert "outboxed" in result.stdout
    assert "does not exist" in flat(result.stdout)
    assert not missing.exists()
    assert outbox.count() == 1
    as_json = run("push-outbox", "--json")
    assert as_json.exit_code == 1
    (outcome,) = json.loads(as_json.stdout)
    assert (outcome["status"], outcome["key"]) == ("outboxed", key)
    assert str(missing) in outcome["error"]


@pytest.mark.moto
def test_cli_against_s3(
    s3_archive: S3Archive, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [
        s3_archive.write(
            closed_run(2, correlation_id=f"c{n}", created_at=CREATED + timedelta(hours=n))
        ).key
        for n in range(7)
    ]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint)
    location = f"s3://{s3_archive.bucket}"
    listed = run("list", "--archive", location, "--date", "2024-01-15", "--json")
    assert [item["key"] for item in json.loads(listed.stdout)] == keys
    verified = run("verify", "--archive", location, "--date", "2024-01-15", "--workers", "4")
    assert verified.exit_code == 0, verified.output
    assert "7 valid" in verified.stdout
    shown = run("show", "--archive", f"{location}/trade-ledgers", "--key", keys[3], "--json")
    assert json.loads(shown.stdout)[0]["ledger"]["correlation_id"] == "c3"


MARKUP_CORRELATION = "corr[/]"
MARKUP_ORDER = "ord[/bold]"


@pytest.fixture
def markup_run(tmp_path: Path) -> tuple[LocalDirectoryArchive, str]:
    """A run whose ids are rich markup (closing tags with nothing to close)."""
    archive = signing(LocalDirectoryArchive(tmp_path / "archive"))
    service = TradeLedgerService(MARKUP_CORRELATION, created_at=CREATED)
    order = OrderResult(
        symbol="AAPL",
        action="BUY",
        shares=Decimal(1),
        price=Decimal(10),
        order_id=MARKUP_ORDER,
        timestamp=CREATED + timedelta(seconds=1),
    )
    service.record_filled_order(order, MARKUP_CORRELATION)
    service.close(CREATED + timedelta(minutes=1))
    outcome = archive.write(service.events())
    assert outcome.status == "written"
    return archive, outcome.key


def test_ids_that_look_like_markup_are_printed_verbatim(
    markup_run: tuple[LocalDirectoryArchive, str],
) -> None:
    archive, key = markup_run
    directory = str(archive.directory)
    listed = run("list", "-a", directory, "--date", "2024-01-15")
    assert listed.exit_code == 0, listed.output
    assert "1 run(s)" in listed.stdout
    shown = run("show", "-a", directory, "--key", key, "--events")
    assert shown.exit_code == 0, shown.output
    assert f"correlation {MARKUP_CORRELATION}" in shown.stdout
    assert MARKUP_ORDER in shown.stdout
    verified = run("verify", "-a", directory, "--date", "2024-01-15")
    assert verified.exit_code == 0, verified.output
    assert "1 valid" in verified.stdout


def test_failure_messages_with_markup_are_printed_verbatim(
    markup_run: tuple[LocalDirectoryArchive, str],
) -> None:
    archive, key = markup_run
    path = archive.path(key)

    def change_order_id(document: dict[str, Any]) -> None:
        document["entries"][0]["order_id"] = "[/]forged[bold]"

    path.write_bytes(edit(path.read_bytes(), change_order_id))
    result = run("verify", "-a", str(archive.directory), "--key", key)
    assert result.exit_code == 1
    assert "[/]forged[bold]" in "".join(result.stdout.split())


@pytest.mark.parametrize("command", ["show", "verify"])
def test_a_key_that_looks_like_markup_is_unreadable_not_a_crash(
    command: str, markup_run: tuple[LocalDirectoryArchive, str]
) -> None:
    archive, _ = markup_run
    result = run(command, "-a", str(archive.directory), "--key", "[/]x", "--key", "[/bold]y")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "[/]x" in result.stdout
    assert "unreadable" in result.stdout


def test_push_outbox_with_nothing_waiting_and_no_default_directory_is_a_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "not-yet"
    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(missing))
    result = run("push-outbox")
    assert result.exit_code == 0, result.output
    assert "0 document(s) handled" in result.stdout
    assert not missing.exists()


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"TRADE_LEDGER__BUCKET_NAME": "bad bucket"}, ["list"]),
        ({"TRADE_LEDGER__BUCKET_NAME": "Bad_Bucket"}, ["list"]),
        ({"TRADE_LEDGER__ENDPOINT_URL": "notaurl", "TRADE_LEDGER__BUCKET_NAME": "b-1"}, ["list"]),
        ({}, ["list", "--archive", "s3://Bad_Bucket!"]),
        ({}, ["push-outbox", "--archive", "s3://Bad!"]),
    ],
    ids=["space", "upper-underscore", "endpoint", "url-bucket", "push-url-bucket"],
)
def test_bad_s3_settings_are_usage_errors(
    env: dict[str, str], args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run(*args)
    assert result.exit_code == 2, result.output
    words = flat(result.output)
    assert "not valid" in words or "is not an http" in words
    assert "Traceback" not in result.output
