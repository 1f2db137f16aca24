"""The Executor: sells before buys, fills recorded as they happen with that moment's quote,
one ledger per plan, idempotent per plan id, failures of ledger or archive contained."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from adapters import (
    Archive,
    Executor,
    OrderRequest,
    OrderTicket,
    S3ClientSettings,
    SimulatedBroker,
    WriteOutcome,
)
from adapters.archive import Outbox, S3Archive
from ledger_domain import (
    InvalidFillError,
    Ledger,
    LedgerApplication,
    RebalancePlan,
    Side,
    TradeLedgerService,
    to_record,
)
from tests.executor.conftest import ATTRIBUTION, archived, item, make_plan, run_documents
from tests.servers import free_port

FIXED = datetime(2024, 1, 15, 14, 30, 52, tzinfo=UTC)


def broker(**options: Any) -> SimulatedBroker:
    defaults: dict[str, Any] = {
        "prices": {"AAPL": "199.99", "MSFT": "400.01", "TEST": "9.99"},
        "partial_fills": {"MSFT": 2},
        "reject": {"GME": "insufficient buying power"},
        "no_quote": {"TEST"},
    }
    defaults.update(options)
    return SimulatedBroker(**defaults)


def fills_of(service: TradeLedgerService) -> list[Ledger.FillRecorded]:
    return [e for e in service.events() if isinstance(e, Ledger.FillRecorded)]


class Recording(SimulatedBroker):
    """Logs submissions and the moment each order's executions finished."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.log: list[str] = []

    async def submit_order(self, request: OrderRequest) -> OrderTicket:
        self.log.append(f"submit {request.side} {request.symbol}")
        return await super().submit_order(request)

    async def executions(self, ticket: OrderTicket):
        async for execution in super().executions(ticket):
            yield execution
        self.log.append(f"done {ticket.request.side} {ticket.request.symbol}")


def test_sells_before_buys(mixed_plan: RebalancePlan, run_archive: Archive) -> None:
    sim = Recording(
        prices={"MSFT": "400.01"}, partial_fills={"MSFT": 3}, fill_delay=0.01, no_quote={"TEST"}
    )
    result = asyncio.run(Executor(sim, archive=run_archive).execute_rebalance_plan(mixed_plan))
    first_buy = next(i for i, line in enumerate(sim.log) if line.startswith("submit BUY"))
    assert sim.log[:2] == ["submit SELL MSFT", "done SELL MSFT"]
    assert first_buy == 2
    assert [(o.side, o.symbol) for o in result.orders] == [
        ("SELL", "MSFT"),
        ("BUY", "AAPL"),
        ("BUY", "TEST"),
        ("BUY", "GME"),
    ]  # HOLD skipped; buys by priority
    assert {type(o.side) for o in result.orders} == {type(r.side) for r in sim.submitted} == {Side}


def test_a_duck_typed_plan_s_actions_in_any_case(run_archive: Archive) -> None:
    items = [
        SimpleNamespace(symbol=s, action=a, trade_amount=Decimal(t), priority=1)
        for s, a, t in [("AAPL", "buy", "100"), ("SPY", "hold", "50"), ("MSFT", "Sell", "-80")]
    ]
    plan = SimpleNamespace(plan_id="p-duck", correlation_id="c-duck", items=items, metadata=None)
    sim = broker()
    result = asyncio.run(Executor(sim, archive=run_archive).execute_rebalance_plan(plan))
    assert [(r.side, r.symbol) for r in sim.submitted] == [(Side.SELL, "MSFT"), (Side.BUY, "AAPL")]
    assert [r.client_order_id for r in sim.submitted] == ["p-duck-MSFT-SELL", "p-duck-AAPL-BUY"]
    assert result.success


def test_every_fill_recorded_with_its_own_quote_and_the_broker_s_time(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    executor = Executor(broker(clock=lambda: FIXED), archive=run_archive)
    result = asyncio.run(executor.execute_rebalance_plan(mixed_plan))
    msft = [f for f in fills_of(executor.trade_ledger) if f.symbol == "MSFT"]
    assert len(msft) == 2
    assert [(f.price, f.bid, f.ask) for f in msft] == [
        (Decimal("400.00"), Decimal("400.00"), Decimal("400.02")),
        (Decimal("399.99"), Decimal("399.99"), Decimal("400.01")),
    ]
    assert all(f.filled_at == FIXED for f in fills_of(executor.trade_ledger))
    (entry,) = executor.trade_ledger.get_entries_for_symbol("MSFT")
    assert entry.filled_qty == Decimal(5)
    assert entry.strategy_names == ["mean_reversion_strategy"]
    assert entry.direction == "SELL"
    assert result.executions == 4
    assert result.ledger_ok
    assert result.archived


def test_result_reports_rejections_missing_quotes_and_partial_fills(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    sim = broker(fill_fraction={"AAPL": "0.5"})
    result = asyncio.run(Executor(sim, archive=run_archive).execute_rebalance_plan(mixed_plan))
    by_symbol = {o.symbol: o for o in result.orders}
    assert by_symbol["GME"].status == "rejected"
    assert by_symbol["GME"].reason == "insufficient buying power"
    assert by_symbol["AAPL"].status == "canceled"
    assert by_symbol["AAPL"].filled_quantity == Decimal("12.5")
    assert by_symbol["MSFT"].status == "filled"
    assert "no quote for TEST at fill" in result.warnings
    assert not result.success
    assert [o.symbol for o in result.orders_failed] == ["GME"]
    assert result.orders_placed == 3


def test_the_ledger_is_closed_and_archived_once(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    executor = Executor(broker(), archive=run_archive)
    result = asyncio.run(executor.execute_rebalance_plan(mixed_plan))
    assert executor.trade_ledger.is_closed
    (run,) = archived(run_archive)
    assert isinstance(run.events[-1], Ledger.Closed)
    assert [to_record(e) for e in run.events] == [
        to_record(e) for e in executor.trade_ledger.events()
    ]
    assert result.archive is not None
    assert result.archive.key == run.key


def test_same_plan_id_twice_neither_trades_nor_records_twice(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    sim = broker()
    executor = Executor(sim, archive=run_archive)

    async def run() -> tuple[Any, Any, Any]:
        first = await executor.execute_rebalance_plan(mixed_plan)
        second = await executor.execute_rebalance_plan(mixed_plan)
        third = await executor.execute_rebalance_plan(mixed_plan.model_copy())
        return first, second, third

    first, second, third = asyncio.run(run())
    assert not first.replayed
    assert second.replayed
    assert third.replayed
    assert second.orders == first.orders
    assert second.ledger_id == first.ledger_id
    assert len(sim.submitted) == 4
    assert executor.trade_ledger.total_entries == 3
    assert len(archived(run_archive)) == 1


def test_concurrent_calls_with_one_plan_id_trade_once(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    sim = broker(fill_delay=0.01)
    executor = Executor(sim, archive=run_archive)

    async def run() -> list[Any]:
        return await asyncio.gather(
            *(executor.execute_rebalance_plan(mixed_plan) for _ in range(3))
        )

    results = asyncio.run(run())
    assert sum(1 for r in results if not r.replayed) == 1
    assert len(sim.submitted) == 4
    assert len(archived(run_archive)) == 1


def test_each_plan_gets_its_own_ledger(run_archive: Archive) -> None:
    given = TradeLedgerService("corr-first")
    executor = Executor(broker(), trade_ledger=given, archive=run_archive)
    assert executor.trade_ledger is given
    first = make_plan([item("AAPL", "BUY", "1000")], plan_id="plan-1", attribution=ATTRIBUTION)
    second = make_plan([item("MSFT", "BUY", "800")], plan_id="plan-2")

    async def run() -> None:
        await executor.execute_rebalance_plan(first)
        await executor.execute_rebalance_plan(second)

    asyncio.run(run())
    assert executor.ledger_for("plan-1") is given
    assert executor.trade_ledger is executor.ledger_for("plan-2")
    assert executor.trade_ledger is not given
    assert [e.symbol for e in given.get_ledger().entries] == ["AAPL"]
    assert [e.symbol for e in executor.trade_ledger.get_ledger().entries] == ["MSFT"]
    assert executor.trade_ledger.correlation_id == "corr-plan-2"
    assert len(archived(run_archive)) == 2


def test_trade_ledger_exists_before_any_plan() -> None:
    executor = Executor(broker())
    assert executor.trade_ledger.get_ledger().total_entries == 0


class RefusingStore(LedgerApplication):
    """An event store that refuses every write holding a fill of AAPL."""

    def append(self, ledger: Ledger) -> None:
        pending = ledger.pending_events
        if any(isinstance(e, Ledger.FillRecorded) and e.symbol == "AAPL" for e in pending):
            raise OSError("event store unavailable")
        super().append(ledger)


def FailingLedger(correlation_id: str | None) -> TradeLedgerService:
    """A ledger whose store refuses fills of one symbol (alone or in a burst with others)."""
    return TradeLedgerService(correlation_id, application=RefusingStore())


def test_a_ledger_failure_never_fails_the_trades(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    sim = broker()
    executor = Executor(sim, archive=run_archive, ledger_factory=FailingLedger)
    result = asyncio.run(executor.execute_rebalance_plan(mixed_plan))
    aapl = next(o for o in result.orders if o.symbol == "AAPL")
    assert aapl.status == "filled"
    assert aapl.filled_quantity == Decimal(25)
    assert len(result.ledger_errors) == 1
    assert "event store unavailable" in result.ledger_errors[0]
    assert not result.ledger_ok
    assert [e.symbol for e in executor.trade_ledger.get_ledger().entries] == ["MSFT", "TEST"]
    assert result.archived  # what was recorded is still archived


def test_a_hanging_ledger_does_not_stall_the_trades(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    release = threading.Event()
    completed: list[str] = []

    class StuckLedger(TradeLedgerService):
        def record_broker_fills(self, fills: Any, *args: Any, **kwargs: Any) -> Any:
            release.wait(30)  # a store that hangs until the test lets it go
            outcomes = super().record_broker_fills(fills, *args, **kwargs)
            completed.extend(fill.symbol for fill, _ in fills)
            return outcomes

    executor = Executor(
        broker(), archive=run_archive, ledger_factory=StuckLedger, ledger_timeout=0.1
    )

    async def main() -> tuple[Any, list[str]]:
        result = await executor.execute_rebalance_plan(mixed_plan)
        recorded_meanwhile = list(completed)
        release.set()
        return result, recorded_meanwhile

    result, recorded_meanwhile = asyncio.run(main())
    # Every order traded to its end while not a single fill could be recorded.
    assert recorded_meanwhile == []
    assert [o.status for o in result.orders] == ["filled", "filled", "filled", "rejected"]
    assert any("still recording" in e for e in result.ledger_errors)
    assert result.archive_error == "ledger not closed; the run was not archived"
    assert archived(run_archive) == []


class ExplodingArchive:
    def write(self, events: Sequence[Any]) -> WriteOutcome:
        raise RuntimeError("disk full")


def test_an_archive_exception_is_reported_not_raised(mixed_plan: RebalancePlan) -> None:
    executor = Executor(broker(), archive=ExplodingArchive())
    result = asyncio.run(executor.execute_rebalance_plan(mixed_plan))
    assert result.archive_error == "archive write failed: RuntimeError('disk full')"
    assert not result.archived
    assert [o.status for o in result.orders][:3] == ["filled", "filled", "filled"]
    assert result.ledger_ok


def test_an_unreachable_s3_archive_outboxes_the_run(
    mixed_plan: RebalancePlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    archive = S3Archive(
        "trade-ledger-test",
        outbox=Outbox(tmp_path / "outbox"),
        endpoint_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        client_settings=S3ClientSettings(max_attempts=1, connect_timeout=1, read_timeout=1),
    )
    result = asyncio.run(Executor(broker(), archive=archive).execute_rebalance_plan(mixed_plan))
    assert result.archive is not None
    assert result.archive.status == "outboxed"
    assert result.archive_error is not None
    assert "store unavailable" in result.archive_error
    assert not result.archived
    assert result.ledger_ok
    assert [o.status for o in result.orders][:3] == ["filled", "filled", "filled"]
    assert len(list((tmp_path / "outbox").rglob("*.json"))) == 1  # kept, to push later


class FlakyBroker(SimulatedBroker):
    async def submit_order(self, request: OrderRequest) -> OrderTicket:
        if request.symbol == "AAPL":
            raise ConnectionError("broker unreachable")
        return await super().submit_order(request)

    async def get_quote(self, symbol: str) -> Any:
        if symbol == "MSFT":
            raise TimeoutError("quotes down")
        return await super().get_quote(symbol)


def test_a_broker_error_fails_only_its_order(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    executor = Executor(FlakyBroker(no_quote={"TEST"}), archive=run_archive)
    result = asyncio.run(executor.execute_rebalance_plan(mixed_plan))
    statuses = {o.symbol: o.status for o in result.orders}
    assert statuses == {"MSFT": "filled", "AAPL": "error", "TEST": "filled", "GME": "filled"}
    assert "broker unreachable" in (result.orders[1].reason or "")
    (msft,) = executor.trade_ledger.get_entries_for_symbol("MSFT")
    assert msft.bid_at_fill is None  # the quote failed: recorded without it
    assert any("quotes down" in w for w in result.warnings)


class NeverFills(SimulatedBroker):
    async def executions(self, ticket: OrderTicket):
        await asyncio.sleep(3600)
        yield  # pragma: no cover


def test_an_order_that_never_finishes_times_out(run_archive: Archive) -> None:
    executor = Executor(NeverFills(), archive=run_archive, order_timeout=0.05)
    plan = make_plan([item("AAPL", "BUY", "100")])
    result = asyncio.run(executor.execute_rebalance_plan(plan))
    assert result.orders[0].status == "timed_out"
    assert "still open after 0.05s" in (result.orders[0].reason or "")
    assert result.orders[0].order_id is not None  # placed, then given up on
    assert executor.trade_ledger.total_entries == 0
    assert result.archived  # the run still ends, closed and archived


def test_the_run_completes_even_if_the_caller_is_cancelled(
    mixed_plan: RebalancePlan, run_archive: Archive
) -> None:
    sim = broker(fill_delay=0.02)
    executor = Executor(sim, archive=run_archive)

    async def run() -> Any:
        caller = asyncio.create_task(executor.execute_rebalance_plan(mixed_plan))
        await asyncio.sleep(0.01)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        return await executor.execute_rebalance_plan(mixed_plan)

    result = asyncio.run(run())
    assert result.replayed
    assert executor.trade_ledger.is_closed
    assert len(archived(run_archive)) == 1
    assert len(sim.submitted) == 4


def test_whole_order_fills_are_recorded_as_one_execution_of_the_order(
    run_archive: Archive,
) -> None:
    class WholeOrders(SimulatedBroker):
        async def executions(self, ticket: OrderTicket):
            async for fill in super().executions(ticket):
                yield fill._replace(execution_id=fill.order_id)

    executor = Executor(WholeOrders(prices={"AAPL": "199.99"}), archive=run_archive)
    plan = make_plan([item("AAPL", "BUY", "1000")])
    asyncio.run(executor.execute_rebalance_plan(plan))
    (entry,) = executor.trade_ledger.get_ledger().entries
    assert entry.execution_ids == [entry.order_id]
    assert entry.filled_qty == Decimal(5)


class Refusals(TradeLedgerService):
    """Keeps the fills ``record_broker_fills`` refused, so a test can see them."""

    def __init__(self, correlation_id: str | None) -> None:
        super().__init__(correlation_id)
        self.refused: list[Exception] = []

    def record_broker_fills(self, fills: Any, *args: Any, **options: Any) -> Any:
        outcomes = super().record_broker_fills(fills, *args, **options)
        self.refused.extend(o.error for o in outcomes if o.error is not None)
        return outcomes


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"side": "HOLD"}, "side"),
        ({"side": None}, "side"),
        ({"quantity": "ten"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": None}, "quantity"),
    ],
)
def test_an_invalid_fill_from_the_broker_is_refused_and_nothing_recorded(
    change: dict[str, Any], field: str, run_archive: Archive
) -> None:
    class Garbled(SimulatedBroker):
        async def executions(self, ticket: OrderTicket):
            async for fill in super().executions(ticket):
                yield fill._replace(**change)

    ledgers: list[Refusals] = []
    executor = Executor(
        Garbled(prices={"AAPL": "199.99"}),
        archive=run_archive,
        ledger_factory=lambda cid: ledgers.append(Refusals(cid)) or ledgers[-1],
    )
    result = asyncio.run(executor.execute_rebalance_plan(make_plan([item("AAPL", "BUY", "1000")])))
    (ledger,) = ledgers
    (refusal,) = ledger.refused
    assert isinstance(refusal, InvalidFillError)
    assert refusal.field == field
    assert ledger.total_entries == 0
    assert fills_of(ledger) == []
    (message,) = result.ledger_errors
    assert message.startswith(f"fill {result.orders[0].order_id}-x1 (")
    assert f"invalid fill: {field}:" in message


def test_default_archive_is_archive_from_settings(
    mixed_plan: RebalancePlan, archive_directory: Any
) -> None:
    executor = Executor(broker())
    result = asyncio.run(executor.execute_rebalance_plan(mixed_plan))
    assert result.archive is not None
    assert result.archive.status == "written"
    assert result.archive.location.startswith(str(archive_directory))
    assert len(run_documents(archive_directory)) == 1
    # No signing key on this machine yet: archived unsigned, and the result says why.
    assert result.archive.signed_by is None
    assert result.archive_error is not None
    assert "written unsigned" in result.archive_error
    assert "keys init" in result.archive_error


def test_the_default_archive_signs_with_the_configured_key(
    mixed_plan: RebalancePlan, archive_directory: Any
) -> None:
    from adapters.archive import ArchiveSettings, archive_from_settings  # noqa: PLC0415
    from adapters.signing.configured import first_use_key  # noqa: PLC0415

    signer = first_use_key(ArchiveSettings().signing)  # as `trade-ledger keys init` does
    assert signer is not None
    result = asyncio.run(Executor(broker()).execute_rebalance_plan(mixed_plan))
    assert result.archive is not None
    assert result.archive.status == "written"
    assert result.archive.signed_by == signer.key_id
    assert result.archive_error is None
    (document,) = run_documents(archive_directory)
    assert json.loads(document.read_bytes())["signature"]["key_id"] == signer.key_id
    verdict = archive_from_settings().verify(result.archive.key)
    assert (verdict.status, verdict.signed_by) == ("valid", signer.key_id)
    assert result.archive.log_index == 0  # the same key signs the run log


def test_not_a_broker_is_refused() -> None:
    with pytest.raises(TypeError, match="broker port"):
        Executor(object())


def test_a_symbol_listed_twice_gets_two_orders(run_archive: Archive) -> None:
    sim = broker()
    plan = make_plan([item("AAPL", "BUY", "1000"), item("AAPL", "BUY", "600", priority=2)])
    result = asyncio.run(Executor(sim, archive=run_archive).execute_rebalance_plan(plan))
    assert [r.client_order_id for r in sim.submitted] == [
        "plan-123-AAPL-BUY",
        "plan-123-AAPL-BUY-2",
    ]
    assert len({o.order_id for o in result.orders}) == 2
    assert sum(o.filled_quantity for o in result.orders) == Decimal(8)


def test_invalid_archive_settings_are_reported_not_raised(
    mixed_plan: RebalancePlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADE_LEDGER__ENCRYPTION__KMS_KEY_ID", "alias/ledger")  # needs aws:kms
    result = asyncio.run(Executor(broker()).execute_rebalance_plan(mixed_plan))
    assert result.archive_error is not None
    assert "kms_key_id" in result.archive_error
    assert result.ledger_ok
    assert [o.status for o in result.orders][:3] == ["filled", "filled", "filled"]


def test_float_trade_amounts_become_exact_decimals(run_archive: Archive) -> None:
    """A duck-typed plan whose amounts are floats: 1000.1 is 1000.1, not 1000.1000000000000227."""
    items = [
        SimpleNamespace(symbol="AAPL", action="BUY", trade_amount=1000.1, priority=1),
        SimpleNamespace(symbol="MSFT", action="SELL", trade_amount=-800.3, priority=1),
        SimpleNamespace(symbol="TEST", action="BUY", trade_amount=0.0, priority=2),
    ]
    plan = SimpleNamespace(
        correlation_id="corr-float",
        causation_id="cause",
        plan_id="plan-float",
        timestamp=FIXED,
        items=items,
        metadata={},
    )
    sim = broker()
    result = asyncio.run(Executor(sim, archive=run_archive).execute_rebalance_plan(plan))
    assert [(r.symbol, r.notional) for r in sim.submitted] == [
        ("MSFT", Decimal("800.3")),
        ("AAPL", Decimal("1000.1")),
    ]
    assert [o.notional for o in result.orders] == [Decimal("800.3"), Decimal("1000.1")]
    assert all(str(o.notional) in ("800.3", "1000.1") for o in result.orders)
