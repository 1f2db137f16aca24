"""Turn whatever the executor hands over into validated fill facts, or say exactly why not.

Reads by attribute name (duck typing), so pydantic DTOs, the executor's own classes and
alpaca-py models all work. Every rejection is an ``InvalidFillError`` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from typing import Any, TypeGuard

from ledger_domain.errors import InvalidFillError
from ledger_domain.models import as_utc
from ledger_domain.money import MAX_DIGITS, MAX_MAGNITUDE, MIN_MAGNITUDE

DIRECTIONS = frozenset({"BUY", "SELL"})
DEFAULT_ORDER_TYPE = "MARKET"
WEIGHT_TOLERANCE = Decimal("0.000001")
"""Strategy weights must sum to 1 within this; 1/3 three times (as floats) passes."""


@dataclass(frozen=True, slots=True)
class Quote:
    """Validated bid/ask at a fill; a missing or non-positive side is ``None``."""

    bid: Decimal | None
    ask: Decimal | None
    quoted_at: datetime | None


@dataclass(frozen=True, slots=True)
class FillFacts:
    """One execution, validated and normalised, ready to become a ``FillRecorded`` event."""

    order_id: str
    execution_id: str
    symbol: str
    direction: str
    quantity: Decimal
    price: Decimal
    fill_time: datetime
    order_type: str
    quote: Quote
    strategy_weights: dict[str, Decimal]
    correlation_id: str


def exact_decimal(value: object, field: str) -> Decimal:
    """Finite, exact Decimal from str/int/float/Decimal; floats go through ``str`` (0.1 -> 0.1).

    The one conversion of numbers that arrive from outside (executor DTOs, alpaca-py models).
    """
    if type(value) is Decimal:
        result = value
    elif isinstance(value, Decimal):
        result = Decimal(value)
    elif isinstance(value, bool):
        raise InvalidFillError(field, f"expected a number, got {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidFillError(field, f"must be finite, got {value!r}")
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidFillError(field, f"not a number: {value!r}") from None
    else:
        raise InvalidFillError(field, f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidFillError(field, f"must be finite, got {value!r}")
    return result


def to_decimal(value: object, field: str) -> Decimal:
    """``exact_decimal`` within the digits and magnitudes the ledger can sum exactly."""
    result = exact_decimal(value, field)
    # str() first: as_tuple() builds a Python namedtuple, and short text has few digits.
    if len(str(result)) > MAX_DIGITS and len(result.as_tuple().digits) > MAX_DIGITS:
        raise InvalidFillError(field, f"more than {MAX_DIGITS} significant digits")
    if result and not MIN_MAGNITUDE <= result.adjusted() <= MAX_MAGNITUDE:
        raise InvalidFillError(
            field, f"magnitude out of range: {value!r} (allowed 1E{MIN_MAGNITUDE} to <1E+16)"
        )
    return result


def positive_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal > 0, or an error naming ``field``."""
    result = to_decimal(value, field)
    if result <= 0:
        raise InvalidFillError(field, f"must be > 0, got {result}")
    return result


def text(value: object) -> str:
    """Enum members by value, everything else by ``str``, stripped."""
    if type(value) is str:
        return value.strip()
    if isinstance(value, Enum):
        value = value.value
    return str(value).strip()


def required_text(value: object, field: str) -> str:
    """Non-empty text, or an error naming ``field``."""
    result = "" if value is None else text(value)
    if not result:
        raise InvalidFillError(field, "must not be empty")
    return result


def direction_of(value: object) -> str:
    """BUY or SELL (case-insensitive, enums accepted)."""
    result = "" if value is None else text(value).upper()
    if result not in DIRECTIONS:
        raise InvalidFillError("action", f"must be BUY or SELL, got {value!r}")
    return result


def order_type_of(value: object) -> str:
    """Upper-case order type; missing means MARKET (the guide's rule)."""
    result = "" if value is None else text(value).upper()
    return result or DEFAULT_ORDER_TYPE


def utc_time(value: object, field: str) -> datetime:
    """Timezone-aware UTC datetime; naive values are read as UTC."""
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    if not isinstance(value, datetime):
        raise InvalidFillError(field, f"expected a datetime, got {type(value).__name__}")
    return as_utc(value)


def quote_of(quote: object | None) -> Quote:
    """Bid/ask from any object with ``bid_price``/``ask_price``; sides <= 0 are missing."""
    if quote is None:
        return Quote(None, None, None)
    bid = _quote_side(getattr(quote, "bid_price", None), "bid_price")
    ask = _quote_side(getattr(quote, "ask_price", None), "ask_price")
    if bid is not None and ask is not None and bid > ask:
        raise InvalidFillError("quote_at_fill", f"bid {bid} is above ask {ask}")
    quoted_at = getattr(quote, "timestamp", None)
    return Quote(
        bid, ask, None if quoted_at is None else utc_time(quoted_at, "quote_at_fill.timestamp")
    )


def _quote_side(value: object, field: str) -> Decimal | None:
    if value is None:
        return None
    result = to_decimal(value, field)
    return result if result > 0 else None


def strategy_weights_of(plan: object | None, symbol: str) -> dict[str, Decimal]:
    """Weights from ``plan.metadata["strategy_attribution"][symbol]``; none means ``{}``."""
    metadata = getattr(plan, "metadata", None) if plan is not None else None
    if not _is_mapping(metadata):
        return {}
    attribution = metadata.get("strategy_attribution")
    if attribution is None:
        return {}
    if not _is_mapping(attribution):
        raise InvalidFillError("strategy_attribution", "must map symbols to strategy weights")
    raw = _lookup_symbol(attribution, symbol)
    if raw is None:
        return {}
    if not _is_mapping(raw):
        raise InvalidFillError(f"strategy_attribution.{symbol}", "must map strategies to weights")
    try:
        return _cached_weights(tuple(raw.items()), symbol)
    except TypeError:  # unhashable weights: validate without the cache
        return validated_weights(raw, symbol)


@lru_cache(maxsize=4096)
def _cached_weights(items: tuple[tuple[Any, Any], ...], symbol: str) -> dict[str, Decimal]:
    """A plan repeats the same attribution for every fill of a symbol; validate it once.

    The returned dict is shared: events and entries treat weights as read-only.
    """
    return validated_weights(dict(items), symbol)


def _is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """``dict`` first: the ABC check is slow and this runs for every fill."""
    return type(value) is dict or isinstance(value, Mapping)


def _lookup_symbol(attribution: Mapping[Any, Any], symbol: str) -> object | None:
    if symbol in attribution:
        found: object = attribution[symbol]
        return found
    for key, value in attribution.items():
        if isinstance(key, str) and key.strip().upper() == symbol:
            match: object = value
            return match
    return None


def validated_weights(raw: Mapping[Any, Any], symbol: str) -> dict[str, Decimal]:
    """Each weight finite and > 0, names non-empty, the sum 1 within ``WEIGHT_TOLERANCE``."""
    weights: dict[str, Decimal] = {}
    for name, weight in raw.items():
        field = f"strategy_attribution.{symbol}.{name}"
        if not isinstance(name, str) or not name.strip():
            raise InvalidFillError(f"strategy_attribution.{symbol}", "strategy names must be text")
        weights[name.strip()] = positive_decimal(weight, field)
    if weights:
        total = sum(weights.values(), Decimal(0))
        if abs(total - 1) > WEIGHT_TOLERANCE:
            raise InvalidFillError(
                f"strategy_attribution.{symbol}",
                f"weights sum to {total}, not 1 (tolerance {WEIGHT_TOLERANCE})",
            )
    return weights


def is_unfilled(order_result: object) -> bool:
    """The guide's "failed order": not successful, no order id, no price, or nothing filled."""
    if not getattr(order_result, "success", True):
        return True
    if getattr(order_result, "order_id", None) in (None, ""):
        return True
    if getattr(order_result, "price", None) is None:
        return True
    shares = getattr(order_result, "shares", None)
    return shares is None or (not isinstance(shares, bool) and _is_zero(shares))


def _is_zero(value: object) -> bool:
    if type(value) is Decimal or type(value) is int:
        return value == 0
    try:
        return bool(Decimal(str(value)) == 0)
    except (InvalidOperation, ValueError):
        return False


def fill_facts(
    order_result: object,
    correlation_id: str,
    rebalance_plan: object | None,
    quote_at_fill: object | None,
    execution_id: str | None = None,
) -> FillFacts:
    """Validate one fill; ``execution_id`` defaults to the order id (the whole order at once)."""
    order_id = required_text(getattr(order_result, "order_id", None), "order_id")
    symbol = required_text(getattr(order_result, "symbol", None), "symbol").upper()
    fill_time = getattr(order_result, "filled_at", None) or getattr(order_result, "timestamp", None)
    if fill_time is None:
        raise InvalidFillError("timestamp", "a fill needs filled_at or timestamp")
    return FillFacts(
        order_id=order_id,
        execution_id=required_text(execution_id or order_id, "execution_id"),
        symbol=symbol,
        direction=direction_of(getattr(order_result, "action", None)),
        quantity=positive_decimal(getattr(order_result, "shares", None), "shares"),
        price=positive_decimal(getattr(order_result, "price", None), "price"),
        fill_time=utc_time(fill_time, "filled_at"),
        order_type=order_type_of(getattr(order_result, "order_type", None)),
        quote=quote_of(quote_at_fill),
        strategy_weights=strategy_weights_of(rebalance_plan, symbol),
        correlation_id=required_text(correlation_id, "correlation_id"),
    )
