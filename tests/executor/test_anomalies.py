"""A fact is never refused for want of an opinion: odd quotes and weights never cost a fill."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters import Archive, Executor, SimulatedBroker
from adapters.cli import app
from ledger_domain import InvalidFillError, Ledger, QuoteModel, TradeLedgerService
from tests.builders import order, plan, quote
from tests.executor.conftest import archived, item, make_plan

ALL_TIME = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


class OddQuotes(SimulatedBroker):
    """Every quote of ``symbol`` is crossed (bid above ask) or ``age`` old."""

    def __init__(self, symbol: str, *, crossed: bool = False, age: timedelta | None = None):
        super().__init__(partial_fills={"AAPL": 3, "MSFT": 2})
        self.symbol, self.crossed, self.age = symbol, crossed, age

    async def get_quote(self, symbol: str) -> QuoteModel | None:
        real = await super().get_quote(symbol)
        if real is None or symbol != self.symbol:
            return real
        if self.crossed:
            return real.model_copy(update={"bid_price": real.ask_price + 1})
        assert self.age is not None
        return real.model_copy(update={"timestamp": datetime.now(UTC) - self.age})


def run(broker: SimulatedBroker, archive: Archive, attribution: dict[str, Any]) -> Any:
    plan_ = make_plan(
        [item("AAPL", "BUY", "5000"), item("MSFT", "SELL", "-2000")], attribution=attribution
    )
    executor = Executor(broker, archive=archive)
    return executor, asyncio.run(executor.execute_rebalance_plan(plan_))


def every_execution_archived(
    broker: SimulatedBroker, archive: Archive
) -> list[Ledger.FillRecorded]:
    """The archived run holds exactly the broker's executions; its fill events returned."""
    (stored,) = archived(archive)
    fills = [e for e in stored.events if isinstance(e, Ledger.FillRecorded)]
    executed = asyncio.run(broker.fill_activities(*ALL_TIME))
    assert sorted(f.execution_id for f in fills) == sorted(f.execution_id for f in executed)
    assert len(executed) == 5
    return fills


GOOD = {"AAPL": {"m": "0.6", "n": "0.4"}, "MSFT": {"n": "1"}}


def test_crossed_quotes_are_set_aside_and_every_fill_is_recorded(run_archive: Archive) -> None:
    broker = OddQuotes("AAPL", crossed=True)
    executor, result = run(broker, run_archive, GOOD)
    assert result.ledger_ok
    assert result.archived
    assert result.executions_recorded == result.executions == 5
    fills = every_execution_archived(broker, run_archive)
    aapl = [f for f in fills if f.symbol == "AAPL"]
    assert all(f.bid is None and f.ask is None for f in aapl)
    assert all("above ask" in f.set_aside["quote_at_fill"] for f in aapl)
    assert all(f.strategy_weights == {"m": Decimal("0.6"), "n": Decimal("0.4")} for f in aapl)
    msft = [f for f in fills if f.symbol == "MSFT"]
    assert all(f.set_aside == {} and f.bid is not None for f in msft)
    assert [(a.symbol, a.field) for a in result.anomalies] == [("AAPL", "quote_at_fill")] * 3
    assert {a.execution_id for a in result.anomalies} == {f.execution_id for f in aapl}
    assert executor.trade_ledger.get_ledger().total_entries == 2


def test_a_stale_quote_is_set_aside(run_archive: Archive) -> None:
    broker = OddQuotes("MSFT", age=timedelta(minutes=10))
    _, result = run(broker, run_archive, GOOD)
    fills = every_execution_archived(broker, run_archive)
    msft = [f for f in fills if f.symbol == "MSFT"]
    assert all("stale" in f.set_aside["quote_at_fill"] and f.bid is None for f in msft)
    assert [a.field for a in result.anomalies] == ["quote_at_fill"] * 2


def test_weights_not_summing_to_1_are_set_aside_and_every_fill_is_recorded(
    run_archive: Archive,
) -> None:
    broker = SimulatedBroker(partial_fills={"AAPL": 3, "MSFT": 2})
    bad = {"AAPL": {"m": 0.5, "n": 0.4}, "MSFT": {"n": 1.0}}
    executor, result = run(broker, run_archive, bad)
    assert result.ledger_ok
    assert result.archived
    fills = every_execution_archived(broker, run_archive)
    aapl = [f for f in fills if f.symbol == "AAPL"]
    assert all(f.strategy_weights == {} for f in aapl)
    assert all("sum to 0.9" in f.set_aside["strategy_attribution.AAPL"] for f in aapl)
    assert all(f.strategy_weights == {"n": Decimal(1)} for f in fills if f.symbol == "MSFT")
    anomalies = {(a.symbol, a.field) for a in result.anomalies}
    assert anomalies == {("AAPL", "strategy_attribution.AAPL")}
    assert len(result.anomalies) == 3
    attached = executor.trade_ledger.plan_attribution()
    assert attached is not None
    assert list(attached.set_aside) == ["strategy_attribution.AAPL"]


def test_the_guide_s_direct_recording_still_refuses_them() -> None:
    service = TradeLedgerService("c")
    with pytest.raises(InvalidFillError, match="above ask"):
        service.record_filled_order(order(), "c", None, quote(bid="151", ask="150"))
    with pytest.raises(InvalidFillError, match=r"sum to 0\.9"):
        service.record_filled_order(order(), "c", plan({"AAPL": {"m": 0.5, "n": 0.4}}))
    assert service.total_entries == 0


def test_show_lists_the_anomalies_of_an_archived_run(run_archive: Archive) -> None:
    _, result = run(OddQuotes("AAPL", crossed=True), run_archive, GOOD)
    assert result.archive is not None
    where = str(run_archive.directory)  # type: ignore[attr-defined]
    today = datetime.now(UTC).date().isoformat()
    shown = CliRunner().invoke(app, ["show", "-a", where, "--date", today, "--json"])
    assert shown.exit_code == 0, shown.output
    (document,) = json.loads(shown.stdout)
    assert [(a["symbol"], a["field"]) for a in document["anomalies"]] == [
        ("AAPL", "quote_at_fill")
    ] * 3
    assert {a["execution_id"] for a in document["anomalies"]} == {
        a.execution_id for a in result.anomalies
    }
    text = CliRunner().invoke(app, ["show", "-a", where, "--date", today])
    assert text.exit_code == 0, text.output
    assert "anomalies 3" in text.stdout
    assert "above ask" in " ".join(text.stdout.split())
