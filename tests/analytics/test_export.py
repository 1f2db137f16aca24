"""``trade-ledger export``: the Parquet files, their exact types, idempotence, runs left out."""

from __future__ import annotations

import json
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from adapters.analytics.export import Exporter
from adapters.analytics.schema import AMOUNT, VALUE, WEIGHT
from adapters.analytics.sink import LocalSink
from adapters.archive import LocalDirectoryArchive
from adapters.cli import app
from ledger_domain import Ledger
from tests.analytics.runs import archived
from tests.archive.runs import edit
from tests.archive.test_archive import overwrite
from tests.archive.test_tamper import change_fill_price
from tests.projections.streams import Execution

FIRST, LAST = "2024-03-01", "2024-03-31"
STREAM = [
    Execution(
        "o1",
        "o1-a",
        "AAPL",
        "BUY",
        Decimal("10"),
        Decimal("150.25"),
        Decimal("150.2"),
        Decimal("150.3"),
        {"momentum": 0.6, "mean_reversion": 0.4},
        0,
    ),
    Execution(
        "o2", "o2-a", "MSFT", "SELL", Decimal("0.125"), Decimal("400.1"), None, None, None, 1
    ),
    Execution(
        "o1",
        "o1-b",
        "AAPL",
        "BUY",
        Decimal("2.5"),
        Decimal("150.27"),
        None,
        Decimal("150.31"),
        {"momentum": 0.6, "mean_reversion": 0.4},
        2,
    ),
]
runner = CliRunner()


def files(root: Path) -> dict[str, float]:
    """Every file under ``root`` with its modification time."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def export(archive: LocalDirectoryArchive, dest: Path, *extra: str) -> Any:
    return runner.invoke(
        app,
        [
            "export",
            "--archive",
            str(archive.directory),
            "--from",
            FIRST,
            "--to",
            LAST,
            "--dest",
            str(dest),
            "--json",
            *extra,
        ],
    )


@pytest.fixture
def archive(tmp_path: Path) -> LocalDirectoryArchive:
    return LocalDirectoryArchive(tmp_path / "archive")


def test_fills_are_written_exactly_with_decimal_and_utc_types(
    archive: LocalDirectoryArchive, tmp_path: Path
) -> None:
    key, events = archived(archive, STREAM, day=4)
    result = export(archive, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fills"] == 3
    ledger_id = str(events[0].originator_id)
    folder = "year=2024/month=03/day=05"
    for table in ("fills", "attribution", "runs"):
        assert (tmp_path / "out" / table / folder / f"{ledger_id}.parquet").is_file()
    fills = pq.read_table(tmp_path / "out" / "fills" / folder / f"{ledger_id}.parquet")
    assert fills.schema.field("quantity").type == AMOUNT
    assert fills.schema.field("value").type == VALUE
    assert fills.schema.field("filled_at").type == pa.timestamp("us", tz="UTC")
    recorded = [e for e in events if isinstance(e, Ledger.FillRecorded)]
    rows = fills.to_pylist()
    assert [(r["execution_id"], r["quantity"], r["price"], r["bid"], r["ask"]) for r in rows] == [
        (e.execution_id, e.quantity, e.price, e.bid, e.ask) for e in recorded
    ]
    assert [r["value"] for r in rows] == [Decimal("1502.5"), Decimal("50.0125"), Decimal("375.675")]
    assert [r["filled_at"].astimezone(UTC) for r in rows] == [e.filled_at for e in recorded]
    assert [r["opens_order"] for r in rows] == [True, True, False]
    assert {r["ledger_id"] for r in rows} == {ledger_id}
    attribution = pq.read_table(tmp_path / "out" / "attribution" / folder / f"{ledger_id}.parquet")
    assert attribution.schema.field("weight").type == WEIGHT
    shares = [
        (r["execution_id"], r["strategy"], r["weight"], r["quantity"], r["notional"])
        for r in attribution.to_pylist()
    ]
    assert shares == [
        ("o1-a", "momentum", Decimal("0.6"), Decimal("6"), Decimal("901.5")),
        ("o1-a", "mean_reversion", Decimal("0.4"), Decimal("4"), Decimal("601")),
        ("o2-a", None, None, Decimal("0.125"), Decimal("50.0125")),
        ("o1-b", "momentum", Decimal("0.6"), Decimal("1.5"), Decimal("225.405")),
        ("o1-b", "mean_reversion", Decimal("0.4"), Decimal("1"), Decimal("150.27")),
    ]
    (run,) = pq.read_table(tmp_path / "out" / "runs" / folder / f"{ledger_id}.parquet").to_pylist()
    assert (run["run_key"], run["fill_count"]) == (key, 3)
    # The test archive has no signing key: a sound unsigned run is exported and says so.
    assert (run["verify_status"], run["signature_status"]) == ("unsigned", "unsigned")
    assert (run["total_buy_value"], run["total_sell_value"]) == (
        Decimal("1878.175"),
        Decimal("50.0125"),
    )


def test_exporting_again_writes_nothing_and_a_new_day_is_incremental(
    archive: LocalDirectoryArchive, tmp_path: Path
) -> None:
    archived(archive, STREAM, day=0, number=1)
    archived(archive, STREAM[:1], day=1, number=2)
    dest = tmp_path / "out"
    assert json.loads(export(archive, dest).stdout)["written"] == 2
    before = files(dest)
    assert len(before) == 6
    again = json.loads(export(archive, dest).stdout)
    assert (again["written"], again["already_exported"]) == (0, 2)
    assert files(dest) == before
    archived(archive, STREAM[1:], day=2, number=3)
    third = json.loads(export(archive, dest).stdout)
    assert (third["written"], third["already_exported"], third["fills"]) == (1, 2, 2)
    after = files(dest)
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(set(after) - set(before)) == [
        f"{table}/year=2024/month=03/day=03/{name}"
        for table in ("attribution", "fills", "runs")
        for name in [Path(next(iter(set(after) - set(before)))).name]
    ]


def test_forged_unreadable_and_too_wide_runs_are_left_out_and_listed(
    archive: LocalDirectoryArchive, tmp_path: Path
) -> None:
    good, _ = archived(archive, STREAM, number=1)
    forged, _ = archived(archive, STREAM, number=2)
    overwrite(archive, forged, edit(archive.read_bytes(forged), change_fill_price))
    broken, _ = archived(archive, STREAM, number=3)
    overwrite(archive, broken, archive.read_bytes(broken)[:-10])
    fine_price = [
        Execution("o9", "o9", "SPY", "BUY", Decimal("1"), Decimal("1.0000000000000000000000001"))
    ]
    wide, _ = archived(archive, fine_price, number=4)
    result = export(archive, tmp_path / "out")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["written"] == 1
    left = {item["key"]: item for item in summary["left_out"]}
    assert set(left) == {forged, broken, wide}
    assert left[forged]["status"] == "invalid"
    assert "hash_chain" in left[forged]["reason"]
    assert left[broken]["status"] == "unreadable"
    assert left[wide]["status"] == "too_wide"
    assert "fills.price" in left[wide]["reason"]
    assert "1.0000000000000000000000001" in left[wide]["reason"]
    assert "not exported rather than rounded" in left[wide]["reason"]
    names = {p.name for p in (tmp_path / "out").rglob("*.parquet")}
    assert len(names) == 1  # only the good run's (one name in three tables)
    assert f"-{next(iter(names)).removesuffix('.parquet')}-" in good


def test_the_table_output_lists_runs_left_out(
    archive: LocalDirectoryArchive, tmp_path: Path
) -> None:
    broken, _ = archived(archive, STREAM, number=3)
    overwrite(archive, broken, b"{not json")
    result = runner.invoke(
        app,
        [
            "export",
            "--archive",
            str(archive.directory),
            "--from",
            FIRST,
            "--to",
            LAST,
            "--dest",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1
    assert f"left out  {broken}  unreadable" in result.stdout


def test_usage_errors_exit_2(archive: LocalDirectoryArchive, tmp_path: Path) -> None:
    archive.directory.mkdir(parents=True)
    base = ["export", "--archive", str(archive.directory), "--dest", str(tmp_path / "o")]
    assert runner.invoke(app, [*base, "--from", "2024-03-02", "--to", "2024-03-01"]).exit_code == 2
    assert runner.invoke(app, [*base, "--from", "2024-13-01"]).exit_code == 2
    bad_dest = ["export", "--archive", str(archive.directory), "--from", FIRST, "--dest", "ftp://x"]
    assert runner.invoke(app, bad_dest).exit_code == 2


def test_threaded_reads_give_the_same_files(archive: LocalDirectoryArchive, tmp_path: Path) -> None:
    for number in range(7):
        archived(archive, STREAM, day=number % 3, number=number)
    one = Exporter(archive, LocalSink(tmp_path / "one")).export(date(2024, 3, 1), date(2024, 3, 31))
    many = Exporter(archive, LocalSink(tmp_path / "many")).export(
        date(2024, 3, 1), date(2024, 3, 31), workers=3
    )
    assert (one.written, many.written, one.fills, many.fills) == (7, 7, 21, 21)
    for path in (tmp_path / "one").rglob("*.parquet"):
        twin = tmp_path / "many" / path.relative_to(tmp_path / "one")
        assert pq.read_table(twin).equals(pq.read_table(path))
