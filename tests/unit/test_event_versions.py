"""Stored history outlives the code: version 1 fills read back in today's vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger_domain import (
    InvalidFillError,
    Ledger,
    Side,
    TradeLedgerService,
    from_record,
    replay_ledger,
    to_record,
)
from tests.builders import order, plan, quote

QUOTED = datetime(2024, 1, 15, 14, 30, 51, tzinfo=UTC)


def _as_version_1(record: dict[str, object]) -> dict[str, object]:
    """The record as the first release wrote it (``direction``/``quote_time``/``fill_time``)."""
    names = {"side": "direction", "quoted_at": "quote_time", "filled_at": "fill_time"}
    old = {names.get(key, key): value for key, value in _as_version_2(record).items()}
    old["version"] = 1
    return old


def _as_version_2(record: dict[str, object]) -> dict[str, object]:
    """The record as version 2 wrote it: nothing was ever set aside."""
    assert record["set_aside"] == {}
    old = {key: value for key, value in record.items() if key != "set_aside"}
    old["version"] = 2
    return old


def test_a_version_1_record_upcasts_to_the_current_event() -> None:
    service = TradeLedgerService("c")
    service.record_filled_order(
        order(), "c", plan({"AAPL": {"m": "0.6", "n": "0.4"}}), quote(timestamp=QUOTED)
    )
    service.close()
    events = service.events()
    records = [to_record(e) for e in events]
    assert records[1]["version"] == 3
    old = [records[0], _as_version_1(records[1]), records[2]]
    assert "direction" in old[1]
    assert "side" not in old[1]
    upcast = [from_record(r) for r in old]
    assert [vars(e) for e in upcast] == [vars(e) for e in events]
    fill = upcast[1]
    assert isinstance(fill, Ledger.FillRecorded)
    assert fill.side is Side.BUY
    assert fill.quoted_at == QUOTED
    assert replay_ledger(upcast) == service.get_ledger()


def test_a_version_1_record_with_a_bad_side_is_refused() -> None:
    service = TradeLedgerService("c")
    service.record_filled_order(order(), "c")
    old = _as_version_1(to_record(service.events()[1]))
    old["direction"] = "HOLD"
    with pytest.raises(ValueError, match="HOLD"):
        from_record(old)


def test_record_execution_refuses_what_is_not_a_fill() -> None:
    service = TradeLedgerService("c")
    for unfilled in (order(success=False), order(price=None), order(shares=Decimal(0))):
        with pytest.raises(InvalidFillError) as refused:
            service.record_execution(unfilled, "c", execution_id="e1")
        assert refused.value.field == "order_result"
    assert service.total_entries == 0
    assert len(service.events()) == 1


def test_a_version_1_record_keeps_the_first_releases_text_rules() -> None:
    """Ids with inner spaces were recorded by the first release: its runs still read back,
    while a version 2 record with such an id could not have been written and is refused."""
    service = TradeLedgerService("c")
    service.record_filled_order(order(), "c")
    current = to_record(service.events()[1])
    old = {**_as_version_1(current), "correlation_id": "corr 123", "order_id": "order 1"}
    fill = from_record(old)
    assert isinstance(fill, Ledger.FillRecorded)
    assert fill.correlation_id == "corr 123"
    with pytest.raises(ValueError, match="correlation_id"):
        from_record({**current, "correlation_id": "corr 123"})
    with pytest.raises(ValueError, match="outer spaces"):
        from_record({**old, "order_id": " order 1"})


def test_a_version_2_record_reads_as_a_fill_with_nothing_set_aside() -> None:
    service = TradeLedgerService("c")
    service.record_filled_order(order(), "c", plan({"AAPL": {"m": "1"}}), quote())
    event = service.events()[1]
    old = _as_version_2(to_record(event))
    upcast = from_record(old)
    assert isinstance(upcast, Ledger.FillRecorded)
    assert vars(upcast) == vars(event)
    assert upcast.set_aside == {}
    with pytest.raises(ValueError, match="cannot carry set_aside"):
        from_record({**old, "set_aside": {"quote_at_fill": "made up"}})
