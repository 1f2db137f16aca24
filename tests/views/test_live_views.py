"""Live views across processes on PostgreSQL: a writer process records runs while a follower
process keeps the views; the follower, killed with SIGKILL midway and started again,
converges to exactly the views the projections compute from the archived runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from adapters.archive import LocalDirectoryArchive
from adapters.cli import app
from adapters.views import VIEWS_NAME, follow_views, read_views
from ledger_domain import Ledger, TradeLedgerService
from ledger_domain.application import LedgerApplication
from projections import ByStrategy, BySymbol, Totals
from tests.builders import order, plan
from tests.integration.test_persistence_modules import postgres_env

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
TRADE_LEDGER = str(Path(sys.executable).with_name("trade-ledger"))


@pytest.fixture
def pg_env() -> Iterator[dict[str, str]]:
    with postgres_env() as env:
        yield env


def dsn(env: dict[str, str]) -> str:
    return (
        f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} "
        f"dbname={env['POSTGRES_DBNAME']} user={env['POSTGRES_USER']}"
    )


def position(env: dict[str, str]) -> int:
    """The follower's committed tracking position (0 before its first commit)."""
    query = (
        f"SELECT notification_id FROM {env['POSTGRES_SCHEMA']}.{VIEWS_NAME}_tracking "
        "WHERE application_name = 'TradeLedger'"
    )
    try:
        with psycopg.connect(dsn(env), autocommit=True) as connection:
            row = connection.execute(query).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def events_stored(env: dict[str, str]) -> int:
    query = f"SELECT count(*) FROM {env['POSTGRES_SCHEMA']}.tradeledger_events"
    try:
        with psycopg.connect(dsn(env), autocommit=True) as connection:
            row = connection.execute(query).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def last_notification(env: dict[str, str]) -> int:
    """The last notification id of the ledger's log (eventsourcing's own query)."""
    application = LedgerApplication(env)
    try:
        return application.recorder.max_notification_id() or 0
    finally:
        application.close()


def wait_for(
    condition: Any, what: str, alive: subprocess.Popen[bytes], log: Path, seconds: float = 120
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if alive.poll() is not None:
            raise AssertionError(
                f"exited ({alive.returncode}) waiting for {what}: {log.read_text()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {log.read_text()[-2000:]}")
        time.sleep(0.05)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as output:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def archived_streams(directory: Path) -> list[list[Any]]:
    archive = LocalDirectoryArchive(directory)
    today = datetime.now(UTC).date()
    runs = archive.read_runs(today - timedelta(days=1), today + timedelta(days=1))
    streams = []
    for read in runs:
        assert read.run is not None, read.error
        streams.append(list(read.run.events))
    return streams


def views_json(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["views", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def test_a_killed_follower_converges_to_the_projections_of_the_archived_runs(
    pg_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "archive"
    log = tmp_path / "processes.log"
    runs, fills = 8, 10
    gate = tmp_path / "go-on"
    writer = start(
        [
            sys.executable,
            "-m",
            "tests.views.writer",
            str(archive),
            str(runs),
            str(fills),
            "0.02",
            str(gate),
        ],
        pg_env,
        log,
    )
    follower = writer
    try:
        wait_for(lambda: events_stored(pg_env) > 0, "the writer's first event", writer, log)
        follower = start([TRADE_LEDGER, "views", "follow"], pg_env, log)
        wait_for(lambda: position(pg_env) >= 10, "10 events applied", follower, log)
        follower.send_signal(signal.SIGKILL)  # the writer waits at the gate: midway
        follower.wait(timeout=10)
        killed_at = position(pg_env)
        assert writer.poll() is None, "the writer finished before the kill: not midway"
        gate.touch()  # the writer records its second half with no follower running...
        wait_for(lambda: events_stored(pg_env) > killed_at + 20, "more events", writer, log)
        follower = start([TRADE_LEDGER, "views", "follow"], pg_env, log)  # ...then one again
        assert writer.wait(timeout=300) == 0, log.read_text()[-2000:]
        end = last_notification(pg_env)
        wait_for(lambda: position(pg_env) == end, f"position {end}", follower, log)
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(timeout=60) == 0, log.read_text()[-2000:]
    finally:
        for process in (writer, follower):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert 0 < killed_at < end

    streams = archived_streams(archive)
    assert len(streams) == runs
    fills_recorded = sum(isinstance(e, Ledger.FillRecorded) for s in streams for e in s)
    assert fills_recorded == runs * fills
    views = read_views(pg_env)
    assert views.position == end
    assert views.totals == Totals.build(*streams).result()
    assert views.by_symbol == BySymbol.build(*streams).result()
    assert views.by_strategy == ByStrategy.build(*streams).result()
    totals = views.totals
    assert totals.buy_executions + totals.sell_executions == fills_recorded  # none twice
    assert views.by_strategy.weight_adjustment != 0  # the 0.999999 weights were exercised
    assert views.by_strategy.unattributed.executions > 0

    shown = views_json(pg_env, monkeypatch)
    assert shown["position"] == end
    assert shown["totals"] == json.loads(Totals.build(*streams).result().model_dump_json())
    assert shown["by_symbol"] == json.loads(BySymbol.build(*streams).result().model_dump_json())

    # Following again changes nothing: every event is already applied.
    once = CliRunner().invoke(app, ["views", "follow", "--once"])
    assert once.exit_code == 0, once.output
    assert read_views(pg_env) == views


def test_a_follower_applies_each_event_once_across_restarts(pg_env: dict[str, str]) -> None:
    """In-process: follow, record more, follow again; two followers at once count once."""
    attribution = {"AAPL": {"momentum": 0.6, "carry": 0.4}}
    first = TradeLedgerService("a", env=pg_env)
    first.record_filled_order(order(order_id="a1"), "a", plan(attribution))
    assert follow_views(pg_env, until="caught_up") == last_notification(pg_env)
    second = TradeLedgerService("b", env=pg_env)
    second.record_execution(order(order_id="b1", shares=2), "b", execution_id="b1-1")
    second.record_execution(order(order_id="b1", shares=3), "b", execution_id="b1-2")
    first.close()
    second.close()
    streams = [first.events(), second.events()]
    with ThreadPoolExecutor(2) as pool:
        reached = list(pool.map(lambda _: follow_views(pg_env, until="caught_up"), range(2)))
    assert reached == [last_notification(pg_env)] * 2
    views = read_views(pg_env)
    assert views.totals == Totals.build(*streams).result()
    assert views.by_strategy == ByStrategy.build(*streams).result()
    assert views.by_symbol == BySymbol.build(*streams).result()
    assert views.totals.buy_entries == 2
    assert views.totals.buy_executions == 3


def test_views_show_keeps_every_name_whole_in_80_columns(
    pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables of ``views show`` in a pipe: no symbol or strategy split across lines."""
    strategy = "a_rather_long_mean_reversion_strategy_name"
    ledger = TradeLedgerService("w", env=pg_env)
    ledger.record_filled_order(order(order_id="w1"), "w", plan({"AAPL": {strategy: 1.0}}))
    follow_views(pg_env, until="caught_up")
    for name, value in pg_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, ["views", "show"])
    assert result.exit_code == 0, result.output
    words = result.stdout.split()
    assert strategy in words
    assert "AAPL" in words


def test_views_need_the_postgres_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.sqlite")
    for command in (["views", "show"], ["views", "follow", "--once"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "PostgreSQL" in result.output
