"""The boundary: what an executor hands over, read into the ledger's fill vocabulary.

Order results, quotes and plans are read by name from any object (the guide's DTOs, an
executor's own classes, alpaca-py models) or mapping. The guide's names (``action``,
``shares``, ``price``, ``filled_at``/``timestamp``) are read here and nowhere else. Every
refusal is an ``InvalidFillError`` naming the field. What is remembered between calls
(accepted attributions, which types are mappings) is keyed so that the same input always
gets the same verdict, whatever came before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial, wraps
from typing import Any, ParamSpec, TypeVar, cast

from ledger_domain import values
from ledger_domain.errors import InvalidFillError
from ledger_domain.fill import (
    NO_QUOTE,
    NO_WEIGHTS,
    Fill,
    FillToRecord,
    Quote,
    StrategyWeights,
)
from ledger_domain.frozen import FrozenDict
from ledger_domain.money import exact_sum

WEIGHT_TOLERANCE = Decimal("0.000001")
"""Strategy weights must sum to 1 within this; 1/3 three times (as floats) passes."""
_MINUS_ONE = Decimal(-1)


Reader = Callable[[str, Any], Any]
"""``read(name, default)``: a field of an order result, quote or plan, or ``default``."""
ABSENT: Any = object()
P = ParamSpec("P")
R = TypeVar("R")

ORDER_RESULT_NAMES = ("symbol", "action", "shares", "price", "order_id", "success")
_NOT_SOURCES = (str, bytes, bytearray, int, float, Decimal)


def unreadable(field: str, error: Exception) -> InvalidFillError:
    """A foreign object raised while being read: refused, naming the input it came from."""
    return InvalidFillError(field, f"could not be read: {type(error).__name__}: {error}")


def foreign_errors_refused_as(field: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Any exception but ``InvalidFillError`` (a property, ``__getattr__`` or ``__eq__`` of
    the caller's object that raised) becomes ``InvalidFillError`` naming ``field``."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def refusing(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except InvalidFillError:
                raise
            except Exception as error:
                raise unreadable(field, error) from error

        return refusing

    return decorate


def reader(source: object, field: str, names: tuple[str, ...] = ()) -> Reader:
    """Read fields of ``source`` by name: keys of a mapping, attributes of anything else.

    With ``names``, an object that carries none of them is refused: it is not what
    ``field`` should be, and reading it as all-missing would drop it silently.
    """
    if type(source) is dict or _is_mapping(type(source)):
        mapping = cast(Mapping[str, Any], source)
        if names and not any(key in mapping for key in names):
            raise InvalidFillError(field, f"a mapping without any of {', '.join(names)}")
        get: Reader = mapping.get
        return get
    if source is None or isinstance(source, _NOT_SOURCES):
        raise InvalidFillError(field, f"expected an object or mapping, got {type(source).__name__}")
    if names and not hasattr(source, names[0]) and not any(hasattr(source, n) for n in names):
        raise InvalidFillError(field, f"{type(source).__name__} has none of {', '.join(names)}")
    attribute: Reader = partial(getattr, source)
    return attribute


_MAPPING_TYPES: dict[type, bool] = {}


def _is_mapping(kind: type) -> bool:
    """Whether instances of ``kind`` are mappings; remembered per type (the ABC check is
    slow and runs for every order result, quote and plan)."""
    known = _MAPPING_TYPES.get(kind)
    if known is None:
        known = issubclass(kind, Mapping)
        if len(_MAPPING_TYPES) < 1024:
            _MAPPING_TYPES[kind] = known
    return known


@foreign_errors_refused_as("order_result")
def order_fill(order_result: object, execution_id: object | None = ABSENT) -> Fill | str:
    """The fill an order result describes, or why it is the guide's "failed order" (not
    recorded): failed (``success`` False), no order id, no price, or nothing filled.

    ``execution_id`` ``None`` means the whole order is one execution; left out, it is the
    order result's own ``execution_id`` (if any).
    """
    order = reader(order_result, "order_result", ORDER_RESULT_NAMES)
    if execution_id is ABSENT:
        execution_id = order("execution_id", None)
    success = order("success", ABSENT)
    if success is not ABSENT and success is not True and success is not False:
        raise InvalidFillError("success", f"must be True or False, got {type(success).__name__}")
    if success is False:
        return "the order failed"
    raw_order_id = order("order_id", None)
    if raw_order_id is None or (isinstance(raw_order_id, str) and not str.__len__(raw_order_id)):
        return "the order has no order id"
    raw_price = order("price", None)
    if raw_price is None:
        return "the order has no fill price"
    raw_shares = order("shares", None)
    if raw_shares is None:
        return "nothing was filled"
    quantity = values.bounded_decimal(raw_shares, "shares")
    if not quantity:
        return "nothing was filled"
    if quantity < 0:
        raise InvalidFillError("shares", f"must be > 0, got {quantity}")
    order_id = values.identifier(raw_order_id, "order_id")
    filled_at = order("filled_at", None)
    if filled_at is None:
        filled_at = order("timestamp", None)
        if filled_at is None:
            raise InvalidFillError("timestamp", "a fill needs filled_at or timestamp")
    return Fill(
        order_id,
        order_id if execution_id is None else values.identifier(execution_id, "execution_id"),
        values.symbol(order("symbol", None)),
        values.side(order("action", None)),
        quantity,
        values.positive_decimal(raw_price, "price"),
        values.utc_time(filled_at, "filled_at"),
        values.order_type(order("order_type", None)),
    )


@foreign_errors_refused_as("fill")
def checked_fill(fill: Fill) -> Fill:
    """A ``Fill`` built elsewhere (a broker adapter), held to the same rules."""
    return Fill(
        order_id=values.identifier(fill.order_id, "order_id"),
        execution_id=values.identifier(fill.execution_id, "execution_id"),
        symbol=values.symbol(fill.symbol),
        side=values.side(fill.side, "side"),
        quantity=values.positive_decimal(fill.quantity, "quantity"),
        price=values.positive_decimal(fill.price, "price"),
        filled_at=values.utc_time(fill.filled_at, "filled_at"),
        order_type=values.order_type(fill.order_type),
    )


@foreign_errors_refused_as("quote_at_fill")
def quote_at(quote: object | None) -> Quote:
    """Bid/ask in either naming (``bid_price``/``ask_price`` as alpaca-py, or ``bid``/``ask``),
    time from ``timestamp`` or ``ts``. A side that is missing or <= 0 is ``None`` (the
    guide's rule); a quote in neither naming, or with a side only in the other naming, is
    refused, never dropped."""
    if quote is None:
        return NO_QUOTE
    read = reader(quote, "quote_at_fill")
    naming = _LONG_NAMING
    bid, ask = read("bid_price", ABSENT), read("ask_price", ABSENT)
    if bid is ABSENT and ask is ABSENT:
        naming = _SHORT_NAMING
        bid, ask = read("bid", ABSENT), read("ask", ABSENT)
        if bid is ABSENT and ask is ABSENT:
            raise InvalidFillError(
                "quote_at_fill",
                f"{type(quote).__name__} has neither bid_price/ask_price nor bid/ask",
            )
    elif bid is None or ask is None or bid is ABSENT or ask is ABSENT:
        # A side missing here must not be sitting in the short naming: that would drop it.
        other = read("bid", None), read("ask", None)
        if other != (None, None):
            raise InvalidFillError("quote_at_fill", "mixes bid_price/ask_price with bid/ask")
    bid = _quote_side(bid, naming[0])
    ask = _quote_side(ask, naming[1])
    if bid is not None and ask is not None and bid > ask:
        raise InvalidFillError("quote_at_fill", f"bid {bid} is above ask {ask}")
    # The time in the quote's own naming (alpaca-py: timestamp; the short one: ts), the
    # other name only when that one is absent.
    own_time, other_time = ("timestamp", "ts") if naming is _LONG_NAMING else ("ts", "timestamp")
    quoted_at = read(own_time, ABSENT)
    if quoted_at is ABSENT:
        quoted_at = read(other_time, None)
    return Quote(
        bid,
        ask,
        None if quoted_at is None else values.utc_time(quoted_at, "quote_at_fill.timestamp"),
    )


_LONG_NAMING = ("quote_at_fill.bid_price", "quote_at_fill.ask_price")
_SHORT_NAMING = ("quote_at_fill.bid", "quote_at_fill.ask")


def _quote_side(value: object, field: str) -> Decimal | None:
    if value is None or value is ABSENT:
        return None
    result = values.bounded_decimal(value, field)
    return result if result > 0 else None


@foreign_errors_refused_as("rebalance_plan")
def strategy_weights(plan: object | None, symbol: str) -> StrategyWeights:
    """Weights from ``plan.metadata["strategy_attribution"][symbol]``; none means empty."""
    if plan is None:
        return NO_WEIGHTS
    metadata = reader(plan, "rebalance_plan")("metadata", None)
    if metadata is None:
        return NO_WEIGHTS
    if type(metadata) is not dict and not isinstance(metadata, Mapping):
        raise InvalidFillError("rebalance_plan.metadata", "must be a mapping")
    attribution = metadata.get("strategy_attribution")
    if attribution is None:
        return NO_WEIGHTS
    if type(attribution) is not dict and not isinstance(attribution, Mapping):
        raise InvalidFillError("strategy_attribution", "must map symbols to strategy weights")
    raw = _weights_for(attribution, symbol)
    if raw is None:
        return NO_WEIGHTS
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise InvalidFillError(f"strategy_attribution.{symbol}", "must map strategies to weights")
    return validated_weights(raw, symbol)


def _weights_for(attribution: Mapping[Any, Any], symbol: str) -> object | None:
    """The symbol's entry: its exact key, else the one ASCII key equal to it ignoring case."""
    if symbol in attribution:
        found: object = attribution[symbol]
        return found
    matches = [
        k for k in attribution if isinstance(k, str) and str.isascii(k) and str.upper(k) == symbol
    ]
    if len(matches) > 1:
        raise InvalidFillError(
            f"strategy_attribution.{symbol}", f"several keys name this symbol: {matches}"
        )
    return attribution[matches[0]] if matches else None


def validated_weights(raw: Mapping[Any, Any], symbol: str) -> StrategyWeights:
    """Each weight finite and > 0, names valid, the sum 1 within ``WEIGHT_TOLERANCE``.

    A plan repeats one attribution for every fill of a symbol, so accepted attributions
    are remembered under a key that tells apart everything the verdict depends on (the
    type and exact text of every name and weight: ``True`` is not ``1``, ``"0.60"`` is
    not ``"0.6"``). Refusals are never remembered.
    """
    if not raw:
        return NO_WEIGHTS
    key = _weights_key(raw)
    known = _ACCEPTED.get(key) if key is not None else None
    if known is not None:
        return known
    weights = checked_weights(raw, symbol)
    if key is not None:
        if len(_ACCEPTED) >= _ACCEPTED_MAX:
            _ACCEPTED.clear()
        _ACCEPTED[key] = weights
    return weights


_ACCEPTED: dict[tuple[Any, ...], StrategyWeights] = {}
_ACCEPTED_MAX = 1024
_KEYED_AS_IS = frozenset({str, int, float})


def _weights_key(raw: Mapping[Any, Any]) -> tuple[Any, ...] | None:
    """Exact identity of an attribution's content, or ``None`` if it cannot be keyed."""
    key: list[Any] = []
    for strategy, weight in raw.items():
        kind = type(weight)
        if type(strategy) is not str:
            return None
        if kind in _KEYED_AS_IS:
            key.append((strategy, kind, weight))
        elif kind is Decimal:
            key.append((strategy, kind, str(weight)))
        else:
            return None
    return tuple(key)


def checked_weights(raw: Mapping[Any, Any], symbol: str) -> StrategyWeights:
    """``raw`` checked as the attribution of ``symbol``'s fills (never remembered)."""
    field = f"strategy_attribution.{symbol}"
    weights = FrozenDict(
        {
            values.name(strategy, field): values.positive_decimal(weight, f"{field}.{strategy}")
            for strategy, weight in raw.items()
        }
    )
    if len(weights) != len(raw):
        raise InvalidFillError(field, "two strategy names are the same text")
    total = Decimal(0)
    for weight in weights.values():
        total = exact_sum(total, weight)  # exact whatever the caller's decimal context
    if not -WEIGHT_TOLERANCE <= exact_sum(total, _MINUS_ONE) <= WEIGHT_TOLERANCE:
        raise InvalidFillError(
            field, f"weights sum to {total}, not 1 (tolerance {WEIGHT_TOLERANCE})"
        )
    return weights


def fill_to_record(
    fill: Fill,
    correlation_id: object,
    rebalance_plan: object | None,
    quote_at_fill: object | None,
) -> FillToRecord:
    """A fill with its quote, attribution and run, all validated."""
    return FillToRecord(
        fill=fill,
        quote=quote_at(quote_at_fill),
        strategy_weights=strategy_weights(rebalance_plan, fill.symbol),
        correlation_id=values.identifier(correlation_id, "correlation_id"),
    )
