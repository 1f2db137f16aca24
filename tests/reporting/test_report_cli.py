"""``trade-ledger report``: the projections over every valid run of a period, exactly.

The oracle is the projections themselves, built from the runs' own events in time order;
the report must give the same report, digit for digit, from the archive (local and S3),
leaving out and listing every run that does not verify.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.archive import Archive, LocalDirectoryArchive, S3Archive, encode_run
from adapters.cli import app
from adapters.reporting import View, grids
from projections import LedgerViews
from tests.archive.conftest import MotoServer
from tests.archive.runs import LEGACY, LEGACY_KEY, closed_run, edit
from tests.archive.test_archive import overwrite
from tests.archive.test_tamper import change_fill_price
from tests.reporting.runs import Trade, trading_run
from tests.signing_keys import OUTSIDER

runner = CliRunner()
DAY = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
SPLIT = {"momentum": "0.6", "mean_reversion": "0.4"}


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def period_runs() -> list[list[Any]]:
    """Three days of trading: buys, partial sells at a gain and a loss, several strategies."""
    return [
        trading_run(
            DAY,
            [
                Trade("AAPL", "BUY", "10", "100.25", SPLIT, ("100.20", "100.30")),
                Trade("MSFT", "BUY", "3", "400.10", {"momentum": "1"}, ("400.00", "400.10")),
                Trade("TSLA", "BUY", "2", "250", None, None),
            ],
            "day1",
        ),
        trading_run(
            DAY + timedelta(days=1),
            [
                Trade("AAPL", "SELL", "4", "101.5", {"momentum": "1"}, ("101.45", "101.55")),
                Trade("MSFT", "BUY", "1.5", "398.7", SPLIT, ("398.60", "398.80")),
            ],
            "day2",
        ),
        trading_run(
            DAY + timedelta(days=2),
            [
                Trade("MSFT", "SELL", "4.5", "395.05", {"momentum": "1"}, ("395.00", "395.20")),
                Trade("AAPL", "SELL", "6", "99.9", SPLIT, ("99.85", "100.00")),
            ],
            "day3",
        ),
    ]


def expected(runs: list[list[Any]], view: View) -> Any:
    """The view built by the projections from the runs' events, oldest first."""
    report = LedgerViews.build(*runs).result()
    part = {
        View.symbols: report.by_symbol,
        View.strategies: report.by_strategy,
        View.totals: report.totals,
        View.quality: report.execution_quality,
        View.pnl: report.strategy_pnl,
    }[view]
    return part.model_dump(mode="json")


@pytest.fixture
def filled(local_archive: LocalDirectoryArchive) -> tuple[LocalDirectoryArchive, list[list[Any]]]:
    runs = period_runs()
    for events in runs:
        assert local_archive.write(events).archived
    return local_archive, runs


def location(archive: Archive, moto: MotoServer | None, monkeypatch: pytest.MonkeyPatch) -> str:
    if isinstance(archive, S3Archive):
        assert moto is not None
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint)
        return f"s3://{archive.bucket}"
    assert isinstance(archive, LocalDirectoryArchive)
    return str(archive.directory)


@pytest.mark.parametrize("view", list(View))
def test_each_view_as_json_equals_the_projections(
    filled: tuple[LocalDirectoryArchive, list[list[Any]]], view: View
) -> None:
    archive, runs = filled
    result = invoke(
        "report", view.value, "-a", str(archive.directory), "--from", "2024-03-04",
        "--to", "2024-03-06", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["report"] == expected(runs, view)
    assert [run["ledger_id"] for run in document["runs"]] == [
        encode_run(events).ledger_id for events in runs
    ]
    assert document["skipped"] == []


def test_realised_pnl_is_exact_and_fifo_across_runs(
    filled: tuple[LocalDirectoryArchive, list[list[Any]]],
) -> None:
    archive, _ = filled
    result = invoke(
        "report", "pnl", "-a", str(archive.directory), "--from", "2024-03-04", "--to",
        "2024-03-06", "--json",
    )  # fmt: skip
    pnl = json.loads(result.stdout)["report"]
    by_strategy = {row["strategy"]: row["realised_pnl"] for row in pnl["by_strategy"]}
    # momentum, AAPL: 6 bought @ 100.25; 4 sold @ 101.5 (+5.00); 3.6 sold @ 99.9: 2 close
    # the lot (-0.70), 1.6 open a short. MSFT: 3 bought @ 400.10 and 0.9 @ 398.7; 4.5 sold
    # @ 395.05: -15.15 - 3.285, 0.6 short. mean_reversion, AAPL: 4 @ 100.25, 2.4 sold @ 99.9.
    assert Decimal(by_strategy["momentum"]) == Decimal("5.00") - Decimal("0.70") - Decimal(
        "15.15"
    ) - Decimal("3.285")
    assert by_strategy["mean_reversion"] == "-0.840"
    assert Decimal(pnl["total_realised_pnl"]) == Decimal("-14.975")


@pytest.mark.parametrize("view", list(View))
def test_csv_holds_the_exact_digits(
    filled: tuple[LocalDirectoryArchive, list[list[Any]]], view: View
) -> None:
    archive, runs = filled
    result = invoke(
        "report", view.value, "-a", str(archive.directory), "--from", "2024-03-04",
        "--to", "2024-03-06", "--csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    grid = grids(LedgerViews.build(*runs).result(), view, exact=True)[0]
    assert rows[0] == list(grid.names)
    assert [tuple(row) for row in rows[1:]] == list(grid.rows)
    assert "E+" not in result.stdout
    assert "E-" not in result.stdout


def test_tables_in_a_pipe(filled: tuple[LocalDirectoryArchive, list[list[Any]]]) -> None:
    archive, _ = filled
    for view in View:
        result = invoke(
            "report", view.value, "-a", str(archive.directory), "--from", "2024-03-04",
            "--to", "2024-03-06",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "3 run(s) reported, 0 left out" in result.stdout
        lines = result.stdout.splitlines()
        for name in ("momentum", "mean_reversion", "(unattributed)"):
            if view in (View.strategies, View.pnl, View.quality):
                assert any(name in line for line in lines), (view, name)
        table_lines = [line for line in lines if line[:1] in "┏┃┡│└"]
        assert all(len(line) <= 80 for line in table_lines), view


def test_forged_and_unreadable_runs_are_left_out_listed_and_exit_1(
    filled: tuple[LocalDirectoryArchive, list[list[Any]]],
) -> None:
    archive, runs = filled
    keys = [ref.key for ref in archive.list_runs(DAY.date(), DAY.date() + timedelta(days=2))]
    forged, unreadable = keys[0], keys[2]
    overwrite(archive, forged, edit(archive.read_bytes(forged), change_fill_price))
    overwrite(archive, unreadable, b'{"ledger_id": "x", "entries": [')
    args = ["report", "totals", "-a", str(archive.directory), "--from", "2024-03-04", "--to",
            "2024-03-06"]  # fmt: skip
    result = invoke(*args, "--json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["report"] == expected([runs[1]], View.totals)
    skipped = {run["key"]: run for run in document["skipped"]}
    assert skipped[forged]["status"] == "invalid"
    assert "hash_chain" in skipped[forged]["reason"]
    assert skipped[unreadable]["status"] == "unreadable"
    table = invoke(*args)
    assert table.exit_code == 1
    words = " ".join(table.stdout.split())
    assert "2 run(s) left out of the report" in words
    assert forged in table.stdout
    assert unreadable in table.stdout
    as_csv = invoke(*args, "--csv")
    assert as_csv.exit_code == 1
    assert forged in as_csv.stderr
    assert forged not in as_csv.stdout


def test_an_original_format_run_needs_allow_unverifiable(
    filled: tuple[LocalDirectoryArchive, list[list[Any]]],
) -> None:
    archive, runs = filled
    overwrite(archive, LEGACY_KEY, json.dumps(LEGACY).encode())
    args = ["report", "symbols", "-a", str(archive.directory), "--from", "2024-01-15",
            "--to", "2024-03-06", "--json"]  # fmt: skip
    strict = invoke(*args)
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["skipped"][0]["status"] == "unverifiable"
    allowed = invoke(*args, "--allow-unverifiable")
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["report"] == expected(runs, View.symbols)


def test_runs_of_one_second_are_folded_in_time_order(local_archive: LocalDirectoryArchive) -> None:
    """Keys order runs of one second by ledger id; FIFO needs them by time."""
    second = DAY.replace(microsecond=0)
    early = late = None
    while True:  # ledger ids are random: find a pair whose key order is not time order
        early = trading_run(second.replace(microsecond=100), [Trade("AAPL", "BUY", "1", "100")])
        late = trading_run(second.replace(microsecond=900), [Trade("AAPL", "BUY", "1", "200")])
        if encode_run(early).ledger_id > encode_run(late).ledger_id:
            break
    sell = trading_run(second + timedelta(hours=1), [Trade("AAPL", "SELL", "1", "150")])
    for events in (late, early, sell):
        assert local_archive.write(events).archived
    result = invoke(
        "report", "pnl", "-a", str(local_archive.directory), "--from", "2024-03-04", "--json",
        "--to", "2024-03-04", "--workers", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["report"]["total_realised_pnl"] == "50"


def test_the_same_report_from_s3_with_concurrent_reads(
    s3_archive: S3Archive, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = period_runs() + [closed_run(5, correlation_id=f"x{n}") for n in range(3)]
    for events in runs:
        assert s3_archive.write(events).archived
    forged = s3_archive.write(
        trading_run(DAY + timedelta(hours=2), [Trade("AAPL", "BUY", "1", "1")] * 2, "forged")
    ).key
    overwrite(s3_archive, forged, edit(s3_archive.read_bytes(forged), change_fill_price))
    where = location(s3_archive, moto_server, monkeypatch)
    result = invoke(
        "report", "strategies", "-a", where, "--from", "2024-01-15", "--to", "2024-03-06",
        "--json", "--workers", "8",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    ordered = sorted(runs, key=lambda events: (events[0].timestamp, encode_run(events).ledger_id))
    assert document["report"] == expected(ordered, View.strategies)
    assert [run["key"] for run in document["skipped"]] == [forged]


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--from", "2024-03-04"],
        ["report", "totals"],
        ["report", "totals", "--from", "2024-03-05", "--to", "2024-03-04"],
        ["report", "totals", "--from", "2024-03-04", "--json", "--csv"],
        ["report", "--from", "2024-03-04", "--html", "x.html", "--json"],
        ["report", "nonsense", "--from", "2024-03-04"],
        ["report", "totals", "--from", "2024-02-30"],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    result = invoke(*args, "-a", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_a_missing_archive_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("report", "totals", "-a", str(tmp_path / "nope"), "--from", "2024-03-04")
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.output.replace("│", " ").split())


def test_an_empty_period_reports_nothing_and_exits_0(tmp_path: Path) -> None:
    result = invoke("report", "totals", "-a", str(tmp_path), "--from", "2024-03-04", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["report"]["buy_value"] == "0"


def test_untrusted_and_unsigned_runs(filled: tuple[LocalDirectoryArchive, list[list[Any]]]) -> None:
    """A run signed by a key nobody trusts is left out (exit 1); an unsigned one is left out
    unless ``--allow-unsigned``, which folds it."""
    archive, runs = filled
    unsigned_run = trading_run(DAY + timedelta(hours=1), [Trade("NVDA", "BUY", "2", "120")], "u")
    forged_run = trading_run(DAY + timedelta(hours=2), [Trade("NVDA", "BUY", "9", "1")], "f")
    plain = LocalDirectoryArchive(archive.directory)
    assert plain.write(unsigned_run).archived
    outsider = LocalDirectoryArchive(archive.directory)
    outsider.signer = OUTSIDER
    forged = outsider.write(forged_run).key
    args = ["report", "totals", "-a", str(archive.directory), "--from", "2024-03-04",
            "--to", "2024-03-06", "--json"]  # fmt: skip
    strict = invoke(*args)
    assert strict.exit_code == 1, strict.output
    statuses = {run["key"]: run["status"] for run in json.loads(strict.stdout)["skipped"]}
    assert statuses[forged] == "untrusted_key"
    assert sorted(statuses.values()) == ["unsigned", "untrusted_key"]
    assert json.loads(strict.stdout)["report"] == expected(runs, View.totals)
    allowed = invoke(*args, "--allow-unsigned")
    assert allowed.exit_code == 1  # the untrusted run still fails the report
    ordered = [runs[0], unsigned_run, runs[1], runs[2]]
    assert json.loads(allowed.stdout)["report"] == expected(ordered, View.totals)
