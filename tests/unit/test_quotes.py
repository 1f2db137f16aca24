"""A quote from any executor is read, never silently dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from alpaca.data.models import Quote as AlpacaQuote

from ledger_domain import InvalidFillError, QuoteModel, TradeLedgerService
from tests.builders import order

AT = datetime(2024, 1, 15, 14, 30, 51, tzinfo=UTC)


@dataclass
class AlchemiserQuote:
    """The peer executor's own quote model: ``ts``, ``bid``, ``ask``."""

    ts: datetime
    bid: float
    ask: float


def _alpaca_quote() -> Any:
    raw = {"t": AT.isoformat(), "bp": 150.2, "ap": 150.3, "bs": 1, "as": 2, "ax": "V", "bx": "V"}
    return AlpacaQuote("AAPL", raw)


QUOTES = {
    "guide QuoteModel": QuoteModel(
        bid_price=Decimal("150.2"), ask_price=Decimal("150.3"), timestamp=AT
    ),
    "alpaca-py Quote": _alpaca_quote(),
    "Alchemiser QuoteModel": AlchemiserQuote(ts=AT, bid=150.2, ask=150.3),
    "mapping, alpaca naming": {"bid_price": "150.2", "ask_price": "150.3", "timestamp": AT},
    "mapping, short naming": {"bid": 150.2, "ask": 150.3, "ts": AT},
}


@pytest.mark.parametrize("name", sorted(QUOTES))
def test_every_naming_gives_the_bid_ask_and_time(name: str) -> None:
    service = TradeLedgerService("c")
    entry = service.record_filled_order(order(), "c", quote_at_fill=QUOTES[name])
    assert entry is not None
    assert (entry.bid_at_fill, entry.ask_at_fill) == (Decimal("150.2"), Decimal("150.3"))
    fill = service.events()[1]
    assert fill.quoted_at == AT


@pytest.mark.parametrize(
    "nameless",
    [SimpleNamespace(price=1), object(), {"b": 1, "a": 2}, "150.2/150.3", 150.2, ["1", "2"]],
    ids=["object-with-price", "object", "mapping", "text", "number", "list"],
)
def test_a_quote_in_neither_naming_is_refused_and_nothing_recorded(nameless: object) -> None:
    service = TradeLedgerService("c")
    before = service.events()
    with pytest.raises(InvalidFillError) as refused:
        service.record_filled_order(order(), "c", quote_at_fill=nameless)
    assert refused.value.field == "quote_at_fill"
    assert service.events() == before
    assert service.total_entries == 0


@pytest.mark.parametrize(
    ("bid", "ask", "expected"),
    [
        (None, "150.3", (None, Decimal("150.3"))),
        ("0", "150.3", (None, Decimal("150.3"))),
        ("-1", None, (None, None)),
        (None, None, (None, None)),
    ],
)
def test_only_a_real_missing_side_becomes_none(
    bid: str | None, ask: str | None, expected: tuple[Decimal | None, Decimal | None]
) -> None:
    service = TradeLedgerService("c")
    entry = service.record_filled_order(order(), "c", quote_at_fill=AlchemiserQuote(AT, bid, ask))  # type: ignore[arg-type]
    assert entry is not None
    assert (entry.bid_at_fill, entry.ask_at_fill) == expected


def test_a_crossed_quote_is_refused_in_either_naming() -> None:
    service = TradeLedgerService("c")
    for crossed in (AlchemiserQuote(AT, 151.0, 150.0), {"bid_price": "151", "ask_price": "150"}):
        with pytest.raises(InvalidFillError, match="above ask"):
            service.record_filled_order(order(), "c", quote_at_fill=crossed)
    assert service.total_entries == 0
