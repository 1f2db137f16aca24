"""Export to S3 (moto over HTTP) and ``trade-ledger sql`` over local and S3 exports."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.analytics.sql import QUERIES
from adapters.archive import LocalDirectoryArchive
from adapters.cli import app
from tests.analytics.compare import exactly, projected
from tests.analytics.runs import archived
from tests.analytics.test_export import STREAM
from tests.archive.conftest import MotoServer

runner = CliRunner()
PERIOD = ["--from", "2024-03-01", "--to", "2024-03-31"]


def two_runs(tmp_path: Path) -> tuple[LocalDirectoryArchive, list[list[Any]]]:
    archive = LocalDirectoryArchive(tmp_path / "archive")
    events = [
        archived(archive, STREAM, day=0, number=1)[1],
        archived(archive, STREAM[1:], day=1, number=2)[1],
    ]
    return archive, events


def sql_json(export: str, query: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["sql", query, "--export", export, "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.mark.moto
def test_export_to_s3_twice_then_sql_through_pyarrow_s3(
    tmp_path: Path,
    moto_server: MotoServer,
    bucket: str,
    s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADE_LEDGER__ENDPOINT_URL", moto_server.endpoint)
    archive, events = two_runs(tmp_path)
    dest = f"s3://{bucket}/exports/ledger"
    command = ["export", "--archive", str(archive.directory), *PERIOD, "--dest", dest, "--json"]
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["written"] == 2
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="exports/ledger/")["Contents"]
    objects = {item["Key"]: item["ETag"] for item in listed}
    assert len(objects) == 6
    assert all(
        k.startswith("exports/ledger/fills/year=2024/month=03/day=0")
        or "/attribution/" in k
        or "/runs/" in k
        for k in objects
    )
    head = s3_client.head_object(Bucket=bucket, Key=next(iter(objects)))
    assert head["ServerSideEncryption"] == "AES256"
    second = runner.invoke(app, command)
    assert json.loads(second.stdout)["already_exported"] == 2
    again = s3_client.list_objects_v2(Bucket=bucket, Prefix="exports/ledger/")["Contents"]
    assert {item["Key"]: item["ETag"] for item in again} == objects
    expected = projected(events)["by_strategy"]
    rows = sql_json(dest, QUERIES["by_strategy"])
    got = [
        tuple(Decimal(v) if isinstance(v, str) and k != "strategy" else v for k, v in row.items())
        for row in rows
    ]
    assert exactly(got) == exactly(expected)


def test_sql_json_csv_and_table_output(tmp_path: Path) -> None:
    archive, _ = two_runs(tmp_path)
    dest = str(tmp_path / "out")
    result = runner.invoke(
        app, ["export", "--archive", str(archive.directory), *PERIOD, "--dest", dest]
    )
    assert result.exit_code == 0, result.output
    query = "SELECT day, symbol, sum(value) AS notional FROM fills GROUP BY ALL ORDER BY ALL"
    assert sql_json(dest, query) == [
        {"day": 1, "symbol": "AAPL", "notional": "1878.175000000000000000000000"},
        {"day": 1, "symbol": "MSFT", "notional": "50.012500000000000000000000"},
        {"day": 2, "symbol": "AAPL", "notional": "375.675000000000000000000000"},
        {"day": 2, "symbol": "MSFT", "notional": "50.012500000000000000000000"},
    ]
    as_csv = runner.invoke(app, ["sql", query, "--export", dest, "--csv"])
    assert list(csv.reader(io.StringIO(as_csv.stdout)))[:2] == [
        ["day", "symbol", "notional"],
        ["1", "AAPL", "1878.175000000000000000000000"],
    ]
    table = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM runs", "--export", dest])
    assert table.exit_code == 0
    assert "1 row(s)" in table.stdout
    assert " 2 " in table.stdout


def test_sql_errors_and_an_empty_export(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sql_json(str(empty), "SELECT count(*) AS n FROM fills") == [{"n": 0}]
    bad = runner.invoke(app, ["sql", "SELEC 1", "--export", str(empty)])
    assert bad.exit_code == 2
    missing = runner.invoke(app, ["sql", "SELECT 1", "--export", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    # The connection reads the export only: no other file, no extension download.
    escape = runner.invoke(
        app, ["sql", f"SELECT * FROM read_csv('{tmp_path}/x.csv')", "--export", str(empty)]
    )
    assert escape.exit_code != 0
    assert "Traceback" not in escape.output
