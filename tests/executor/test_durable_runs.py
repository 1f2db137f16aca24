"""Durable by default: the executor journals every run in the configured event store,
a burst of fills in one transaction, and a fill reported recorded survives a kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from adapters import Archive, Executor, SimulatedBroker
from adapters.store import EventStoreError, EventStoreSettings, PostgresStoreSettings
from ledger_domain import Fill, Ledger, LedgerApplication, Side, TradeLedgerService
from tests.builders import FILL_TIME
from tests.executor.conftest import ATTRIBUTION, item, make_plan
from tests.integration.test_persistence_modules import postgres_env

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def store_settings(kind: str, tmp_path: Path) -> Iterator[EventStoreSettings]:
    if kind == "sqlite":
        yield EventStoreSettings(kind="sqlite", sqlite_path=tmp_path / "store" / "events.db")
        return
    with postgres_env() as env:
        yield EventStoreSettings(
            kind="postgres",
            postgres=PostgresStoreSettings(
                host=env["POSTGRES_HOST"],
                port=int(env["POSTGRES_PORT"]),
                dbname=env["POSTGRES_DBNAME"],
                user=env["POSTGRES_USER"],
                schema_name=env["POSTGRES_SCHEMA"],
            ),
        )


KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def plan_of_two(plan_id: str = "plan-123") -> Any:
    return make_plan(
        [item("AAPL", "BUY", "5000"), item("MSFT", "SELL", "-2000")],
        plan_id=plan_id,
        attribution=ATTRIBUTION,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_is_journalled_in_the_durable_store(
    kind: str, tmp_path: Path, run_archive: Archive
) -> None:
    with store_settings(kind, tmp_path) as settings:
        broker = SimulatedBroker(partial_fills={"AAPL": 3})
        executor = Executor(broker, archive=run_archive, store=settings)
        result = asyncio.run(executor.execute_rebalance_plan(plan_of_two()))
        assert result.ledger_ok
        assert result.executions_recorded == 4
        # A new process would see exactly this run in the store.
        resumed = TradeLedgerService.resume(result.ledger_id, env=settings.eventsourcing_env())
        assert resumed.is_closed
        assert resumed.get_ledger() == executor.trade_ledger.get_ledger()
        assert resumed.plan_id == "plan-123"
        assert {o.client_order_id for o in resumed.placed_orders()} == {
            "plan-123-AAPL-BUY",
            "plan-123-MSFT-SELL",
        }
        second = asyncio.run(executor.execute_rebalance_plan(plan_of_two("plan-456")))
        assert second.ledger_id != result.ledger_id
        again = TradeLedgerService.resume(second.ledger_id, env=settings.eventsourcing_env())
        assert again.get_ledger().total_entries == 2


def test_the_default_store_is_the_sqlite_file_the_settings_name(
    event_store_file: Path, run_archive: Archive
) -> None:
    executor = Executor(SimulatedBroker(), archive=run_archive)
    assert executor.trade_ledger.total_entries == 0
    assert not event_store_file.exists()  # the empty ledger before a plan stays in memory
    result = asyncio.run(executor.execute_rebalance_plan(plan_of_two()))
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(event_store_file)}
    stored = list(LedgerApplication(env).stored_events(UUID(result.ledger_id)))
    assert [type(e).__name__ for e in stored][:2] == ["Opened", "PlanAttached"]
    assert isinstance(stored[-1], Ledger.Closed)


def test_memory_is_for_those_who_choose_it(event_store_file: Path, run_archive: Archive) -> None:
    memory = EventStoreSettings(kind="memory")
    executor = Executor(SimulatedBroker(), archive=run_archive, store=memory)
    result = asyncio.run(executor.execute_rebalance_plan(plan_of_two()))
    assert result.ledger_ok
    assert result.archived
    assert not event_store_file.exists()
    assert not memory.durable


def test_a_store_that_cannot_be_opened_trades_nothing(tmp_path: Path, run_archive: Archive) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    broker = SimulatedBroker()
    settings = EventStoreSettings(sqlite_path=blocker / "events.db")
    executor = Executor(broker, archive=run_archive, store=settings)
    with pytest.raises(EventStoreError, match="could not be opened"):
        asyncio.run(executor.execute_rebalance_plan(plan_of_two()))
    assert broker.submitted == []
    # Nothing was traded, so the same plan may be tried again once the store is there.
    with pytest.raises(EventStoreError):
        asyncio.run(executor.execute_rebalance_plan(plan_of_two()))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADE_LEDGER__STORE__KIND", "postgres")
    monkeypatch.setenv("TRADE_LEDGER__STORE__POSTGRES__HOST", "db.internal")
    monkeypatch.setenv("TRADE_LEDGER__STORE__POSTGRES__PASSWORD", "s3cret")
    monkeypatch.setenv("TRADE_LEDGER__STORE__POSTGRES__SCHEMA_NAME", "ledger")
    settings = EventStoreSettings()
    env = settings.eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PASSWORD"], env["POSTGRES_SCHEMA"]) == (
        "db.internal",
        "s3cret",
        "ledger",
    )
    assert "s3cret" not in settings.describe()
    assert "s3cret" not in repr(settings)
    monkeypatch.setenv("TRADE_LEDGER__STORE__POSTGRES__SCHEMA_NAME", "x; drop table")
    with pytest.raises(ValidationError, match="plain SQL name"):
        EventStoreSettings()
    monkeypatch.setenv("TRADE_LEDGER__STORE__KIND", "dynamo")
    with pytest.raises(ValidationError, match="kind"):
        EventStoreSettings()


class CountingStore(LedgerApplication):
    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.writes = 0

    def append(self, ledger: Ledger) -> None:
        self.writes += 1
        super().append(ledger)


def broker_fills(count: int) -> list[tuple[Fill, Any]]:
    return [
        (
            Fill(f"o{i % 7}", f"x{i}", "AAPL", Side.BUY, 1 + i % 5, 100 + i % 3, FILL_TIME),
            None,
        )
        for i in range(count)
    ]


def test_a_burst_is_one_write_and_all_of_it_is_stored(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "b.db")}
    store = CountingStore(env)
    service = TradeLedgerService("c", application=store)
    before = store.writes
    outcomes = service.record_broker_fills(broker_fills(100), "c")
    assert store.writes == before + 1
    assert all(o.error is None for o in outcomes)
    stored = TradeLedgerService.resume(service.ledger_id, env=env)
    assert stored.get_ledger() == service.get_ledger()
    assert sum(len(e.execution_ids) for e in stored.get_ledger().entries) == 100
    again = service.record_broker_fills(broker_fills(100), "c")  # redelivered: no-ops
    assert all(o.error is None for o in again)
    assert len(service.events()) == 101


@pytest.mark.parametrize("kind", KINDS)
def test_a_fill_reported_durable_survives_a_kill(kind: str, tmp_path: Path) -> None:
    with store_settings(kind, tmp_path) as settings:
        env = {**os.environ, "TRADE_LEDGER__LOCAL_DIRECTORY": str(tmp_path / "archive")}
        env["TRADE_LEDGER__STORE__KIND"] = settings.kind
        env["TRADE_LEDGER__STORE__SQLITE_PATH"] = str(settings.sqlite_path)
        postgres = settings.postgres
        env["TRADE_LEDGER__STORE__POSTGRES__PASSWORD"] = postgres.password.get_secret_value()
        for name in ("host", "port", "dbname", "user", "schema_name"):
            env[f"TRADE_LEDGER__STORE__POSTGRES__{name.upper()}"] = str(getattr(postgres, name))
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.executor.durable_writer"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        reported: list[str] = []
        ledger_id = None
        try:
            assert writer.stdout is not None
            for line in writer.stdout:
                word, *rest = line.split()
                assert word == "durable", line
                ledger_id = rest[0]
                reported.extend(rest[1:])
                if len(reported) >= 40:
                    writer.send_signal(signal.SIGKILL)
                    break
        finally:
            writer.kill()
            _, errors = writer.communicate(timeout=30)
        assert len(reported) >= 40, errors
        assert writer.returncode == -signal.SIGKILL
        assert ledger_id is not None
        survivor = TradeLedgerService.resume(ledger_id, env=settings.eventsourcing_env())
        stored = {e.execution_id for e in survivor.events() if isinstance(e, Ledger.FillRecorded)}
        assert set(reported) <= stored
        assert len(stored) < 180  # killed midway: the run was not finished
        assert not survivor.is_closed
