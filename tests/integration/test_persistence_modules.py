"""One set of service tests against eventsourcing's POPO, SQLite-file and PostgreSQL stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import RecordConflictError

from ledger_domain import (
    ExecutionConflictError,
    LedgerClosedError,
    TradeLedgerService,
    replay_ledger,
)
from tests.builders import order, plan, quote
from tests.servers import port_open, server_missing

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
STORES = ["popo", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DURABLE_STORES = STORES[1:]


@contextmanager
def postgres_env() -> Iterator[dict[str, str]]:
    """Settings for a fresh schema in the local PostgreSQL, dropped afterwards."""
    if not port_open(POSTGRES_HOST, POSTGRES_PORT):
        server_missing(f"PostgreSQL is not listening on {POSTGRES_HOST}:{POSTGRES_PORT}")
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    dsn = f"host={POSTGRES_HOST} port={POSTGRES_PORT} dbname=test user=postgres"
    try:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as error:
        server_missing(f"PostgreSQL refused a connection: {error}")
    try:
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": "test",
            "POSTGRES_HOST": POSTGRES_HOST,
            "POSTGRES_PORT": str(POSTGRES_PORT),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
            "POSTGRES_SCHEMA": schema,
        }
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def store(kind: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    if kind == "popo":
        yield {}
    elif kind == "sqlite":
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "ledger.sqlite"),
        }
    else:
        with postgres_env() as env:
            yield env


@pytest.fixture(params=STORES)
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    with store(request.param, tmp_path) as env:
        yield env


def fill_a_run(service: TradeLedgerService) -> None:
    attribution = {"AAPL": {"momentum": 0.6, "carry": 0.4}}
    service.record_filled_order(order(order_id="a"), "corr", plan(attribution), quote())
    sell = {"action": "SELL", "order_id": "b"}
    service.record_execution(order(shares=2, **sell), "corr", execution_id="b1")
    service.record_execution(order(shares=3, **sell), "corr", execution_id="b2")


def test_records_and_queries_on_every_store(store_env: dict[str, str]) -> None:
    service = TradeLedgerService("corr", env=store_env)
    fill_a_run(service)
    ledger = service.get_ledger()
    assert ledger.total_entries == 2
    assert ledger.total_buy_value == Decimal("1502.50")
    assert ledger.total_sell_value == Decimal("751.25")
    assert [e.order_id for e in service.get_entries_for_strategy("carry")] == ["a"]
    assert service.get_entries_for_symbol("aapl")[0].strategy_weights == {
        "momentum": Decimal("0.6"),
        "carry": Decimal("0.4"),
    }


def test_stored_events_replay_to_the_live_ledger(store_env: dict[str, str]) -> None:
    service = TradeLedgerService("corr", env=store_env)
    fill_a_run(service)
    final = service.close()
    assert replay_ledger(service.events()) == final
    assert [type(e).__name__ for e in service.events()] == [
        "Opened",
        "FillRecorded",
        "FillRecorded",
        "FillRecorded",
        "Closed",
    ]


def test_duplicates_conflicts_and_close_hold_on_every_store(store_env: dict[str, str]) -> None:
    service = TradeLedgerService("corr", env=store_env)
    fill_a_run(service)
    count = len(service.events())
    service.record_filled_order(order(order_id="a"), "corr")
    assert len(service.events()) == count
    with pytest.raises(ExecutionConflictError):
        service.record_filled_order(order(order_id="a", shares=11), "corr")
    service.close()
    with pytest.raises(LedgerClosedError):
        service.record_filled_order(order(order_id="c"), "corr")
    assert len(service.events()) == count + 1


@pytest.mark.parametrize("kind", DURABLE_STORES)
def test_a_durable_run_resumes_after_a_restart(kind: str, tmp_path: Path) -> None:
    with store(kind, tmp_path) as env:
        first = TradeLedgerService("corr", env=env)
        fill_a_run(first)
        resumed = TradeLedgerService.resume(first.ledger_id, env=env)
        assert resumed.get_ledger() == first.get_ledger()
        resumed.record_filled_order(order(order_id="after-restart", symbol="SPY"), "corr")
        assert resumed.total_entries == 3
        again = TradeLedgerService.resume(first.ledger_id, env=env)
        assert again.get_ledger() == resumed.get_ledger()


@pytest.mark.parametrize("kind", DURABLE_STORES)
def test_a_stale_writer_is_refused_and_catches_up(kind: str, tmp_path: Path) -> None:
    with store(kind, tmp_path) as env:
        stale = TradeLedgerService("corr", env=env)
        fill_a_run(stale)
        current = TradeLedgerService.resume(stale.ledger_id, env=env)
        current.record_filled_order(order(order_id="newer", symbol="SPY"), "corr")
        with pytest.raises(RecordConflictError):
            stale.record_filled_order(order(order_id="older", symbol="QQQ"), "corr")
        assert stale.get_ledger() == current.get_ledger()
