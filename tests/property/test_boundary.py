"""The boundary: every input is recorded exactly as given or refused with nothing changed.

Arbitrary values (text, bytes, numbers of every kind, booleans, datetimes near the limits,
containers, foreign objects) go into each field of an order result, a quote and a plan,
given as objects or as mappings. Every call either records exactly what was given, returns
``None`` for the guide's failed orders, or raises ``InvalidFillError``, leaving the ledger
as it was; and the verdict on an input never depends on what was recorded before it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_domain import InvalidFillError, Ledger, Side, TradeLedgerService

BASE: dict[str, Any] = {
    "symbol": "AAPL",
    "action": "BUY",
    "shares": Decimal("10"),
    "price": Decimal("150.25"),
    "order_id": "o-1",
    "success": True,
    "timestamp": datetime(2024, 1, 15, 14, 30, tzinfo=UTC),
}

offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=12),
    st.sampled_from(["o1", " o1", "o1 ", "o\n1", "aapl", "١٢", "1_000", "1e3", "sell", "BUY"]),
    st.binary(max_size=6),
    st.datetimes(timezones=st.none() | offsets),
    st.sampled_from([datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]),
    st.just(Decimal("sNaN")),
    st.just(object()),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
ids = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["o1", " o1", "o1 ", "o\n1", "o\t1", "o\u00a01", "o\u200b1", "\x00", ""]),
    anything,
)
numbers = st.one_of(
    st.decimals(),
    st.floats(),
    st.integers(),
    st.booleans(),
    st.text(alphabet="0123456789.eE+-_ \u0661\u0662", max_size=6),
    st.sampled_from(["10", "1_000", "\u0661\u0662", " 10", "10 ", "1e3", "+5", ".5", "5."]),
    anything,
)
texts = st.one_of(
    st.sampled_from(
        ["aapl", "AAPL", " AAPL", "AA PL", "A\x00", "buy", "Sell", "limit", "stop_limit"]
    ),
    st.text(max_size=6),
    anything,
)
FIELD_VALUES = {
    "symbol": texts,
    "action": texts,
    "order_type": texts,
    "shares": numbers,
    "price": numbers,
    "order_id": ids,
    "execution_id": ids,
    "success": anything,
    "timestamp": anything,
    "filled_at": anything,
}
fields = st.sampled_from(sorted(FIELD_VALUES))


@st.composite
def order_results(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    """An order result with arbitrary values in some fields, as an object or a mapping."""
    values = dict(BASE)
    for field in draw(st.lists(fields, min_size=1, max_size=3, unique=True)):
        values[field] = draw(FIELD_VALUES[field])
    as_mapping = draw(st.booleans())
    return (dict(values) if as_mapping else SimpleNamespace(**values)), values


quotes = st.one_of(
    st.none(),
    anything,
    st.builds(lambda b, a: {"bid_price": b, "ask_price": a}, numbers, numbers),
    st.builds(lambda b, a, t: SimpleNamespace(bid=b, ask=a, ts=t), numbers, numbers, anything),
)
weights = st.one_of(
    st.none(),
    anything,
    st.dictionaries(
        st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none()),
        numbers,
        max_size=3,
    ),
    st.sampled_from([{"m": True}, {"m": 1}, {"m": 1.0}, {"m": "1"}, {" m": 1}, {"m": "1.000"}]),
)


def verdict(service: TradeLedgerService, order: Any, plan: Any, quote: Any) -> Any:
    """What the ledger made of one call: the stored fill's fields, None, or the field refused."""
    try:
        entry = service.record_filled_order(order, "corr", plan, quote)
    except InvalidFillError as refused:
        return ("refused", refused.field)
    if entry is None:
        return None
    fill = next(
        e
        for e in reversed(service.events())
        if isinstance(e, Ledger.FillRecorded) and e.order_id == entry.order_id
    )
    return {
        k: (type(v).__name__, str(v))
        for k, v in vars(fill).items()
        if k != "timestamp" and k != "originator_id" and k != "originator_version"
    }


PLAIN_DECIMAL = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?")


def exact_text(value: Any) -> str:
    """How a number given as ``value`` must read back: its own exact decimal text.

    Only Decimals, ints, floats and plain ASCII decimal text are numbers at all.
    """
    assert type(value) in (Decimal, int, float, str), f"{value!r} was taken as a number"
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    if isinstance(value, str):
        assert PLAIN_DECIMAL.fullmatch(value), f"{value!r} was taken as a number"
    return str(Decimal(value))


VALID_QUOTE = {"bid_price": "150.2", "ask_price": "150.3"}
VALID_WEIGHTS = {"m": "0.6", "c": "0.4"}


@settings(max_examples=300, deadline=None)
@given(order_results())
def test_order_results_are_recorded_exactly_or_refused(
    order_and_values: tuple[Any, dict[str, Any]],
) -> None:
    check_one_call(order_and_values, VALID_QUOTE, VALID_WEIGHTS)


@settings(max_examples=200, deadline=None)
@given(quotes)
def test_quotes_are_recorded_exactly_or_refused(quote: Any) -> None:
    check_one_call((dict(BASE), dict(BASE)), quote, VALID_WEIGHTS)


@settings(max_examples=200, deadline=None)
@given(weights)
def test_attributions_are_recorded_exactly_or_refused(attribution: Any) -> None:
    check_one_call((SimpleNamespace(**BASE), dict(BASE)), VALID_QUOTE, attribution)


@settings(max_examples=100, deadline=None)
@given(order_results(), quotes, weights)
def test_any_mix_is_recorded_exactly_or_refused(
    order_and_values: tuple[Any, dict[str, Any]], quote: Any, attribution: Any
) -> None:
    check_one_call(order_and_values, quote, attribution)


def check_one_call(
    order_and_values: tuple[Any, dict[str, Any]], quote: Any, attribution: Any
) -> None:
    """One call records exactly what was given, returns None, or refuses with no change."""
    order, given_values = order_and_values
    plan = SimpleNamespace(metadata={"strategy_attribution": {"AAPL": attribution}})
    service = TradeLedgerService("corr")
    before = service.events()
    try:
        entry = service.record_filled_order(order, "corr", plan, quote)
    except InvalidFillError as refused:
        field = refused.field
        entry = None
    else:
        field = ""
    if field:
        assert service.events() == before
        assert service.total_entries == 0
        return
    if entry is None:
        assert service.events() == before
        return
    fill = service.events()[-1]
    assert isinstance(fill, Ledger.FillRecorded)
    assert fill.order_id == given_values["order_id"]
    assert type(fill.order_id) is str
    assert type(given_values["symbol"]) is str
    assert fill.symbol == given_values["symbol"].upper()
    assert given_values["symbol"].isascii()
    assert given_values["symbol"].isprintable()
    assert " " not in given_values["symbol"]
    assert fill.side is Side(
        str(getattr(given_values["action"], "value", given_values["action"])).upper()
    )
    assert str(fill.quantity) == exact_text(given_values["shares"])
    assert str(fill.price) == exact_text(given_values["price"])
    assert given_values.get("success", True) is True
    execution_id = given_values.get("execution_id")
    assert fill.execution_id == (given_values["order_id"] if execution_id is None else execution_id)
    for name, weight in fill.strategy_weights.items():
        assert str(weight) == exact_text(attribution[name])
    given_quote = quote if isinstance(quote, dict) else vars(quote) if quote is not None else {}
    for side, names in (("bid", ("bid_price", "bid")), ("ask", ("ask_price", "ask"))):
        given = next((given_quote[n] for n in names if n in given_quote), None)
        stored = getattr(fill, side)
        if stored is not None:
            assert str(stored) == exact_text(given)
        elif given is not None:
            assert Decimal(exact_text(given)) <= 0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(order_results(), quotes, weights), max_size=6),
    order_results(),
    quotes,
    weights,
)
def test_the_verdict_does_not_depend_on_what_came_before(
    earlier: list[tuple[tuple[Any, dict[str, Any]], Any, Any]],
    order_and_values: tuple[Any, dict[str, Any]],
    quote: Any,
    attribution: Any,
) -> None:
    order = order_and_values[0]
    plan = SimpleNamespace(metadata={"strategy_attribution": {"AAPL": attribution}})
    alone = verdict(TradeLedgerService("corr"), order, plan, quote)
    after_others = TradeLedgerService("corr")
    for index, ((prior, values), prior_quote, prior_weights) in enumerate(earlier):
        renamed = {**values, "order_id": f"prior-{index}", "execution_id": None}
        prior_plan = SimpleNamespace(metadata={"strategy_attribution": {"AAPL": prior_weights}})
        shaped = renamed if isinstance(prior, dict) else SimpleNamespace(**renamed)
        verdict(after_others, shaped, prior_plan, prior_quote)
    assert verdict(after_others, order, plan, quote) == alone


def test_weights_true_are_refused_even_after_weights_one_were_accepted() -> None:
    """The reported defect: a cache keyed on equal values let ``True`` pass as ``1``."""
    service = TradeLedgerService("corr")
    accepted = SimpleNamespace(metadata={"strategy_attribution": {"AAPL": {"m": 1}}})
    assert service.record_filled_order(dict(BASE), "corr", accepted) is not None
    refused = SimpleNamespace(metadata={"strategy_attribution": {"AAPL": {"m": True}}})
    for _ in range(2):
        with pytest.raises(InvalidFillError) as error:
            service.record_filled_order({**BASE, "order_id": "o-2"}, "corr", refused)
        assert error.value.field == "strategy_attribution.AAPL.m"
    assert service.total_entries == 1
