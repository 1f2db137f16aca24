"""alpaca-py's models -> the ledger's ``Fill``, ``Side`` and ``QuoteModel``, exactly.

This is the Alpaca boundary: alpaca-py's names (``qty``, ``filled_qty``, ``side``
``buy``/``sell``/``sell_short``) are read here and become the ledger's.

* ``Order``: a filled (or partially filled, then finished) order becomes one whole-order
  ``Fill`` (``execution_id`` = order id) of what was *filled* (``filled_qty`` at
  ``filled_avg_price``), never what was requested. Multi-leg orders map leg by leg.
* ``TradeUpdate``: ``fill`` and ``partial_fill`` events become one ``Fill`` each, keyed by
  the event's ``execution_id``; every other event (including ones alpaca-py does not know)
  maps to ``None``. Recording the same message twice is a no-op in the ledger.
* ``Quote``: bid/ask at the moment of a fill -> ``QuoteModel``.
* Fill activities (``TradeActivity``, or the raw JSON of ``/v2/account/activities/FILL``)
  -> ``Fill``s carrying the activity id.

Quantities and prices arrive as ``str`` or ``float``; both become exact ``Decimal``s
through their text (``"0.1"`` and ``0.1`` give ``Decimal("0.1")``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from ledger_domain import Fill, QuoteModel, Side, TradeLedgerEntry, TradeLedgerService
from ledger_domain.errors import InvalidFillError
from ledger_domain.fill import DEFAULT_ORDER_TYPE
from ledger_domain.models import as_utc
from ledger_domain.values import exact_decimal as to_exact_decimal

logger = logging.getLogger(__name__)

ORDER_TYPES: Mapping[str, str] = {
    "market": "MARKET",
    "limit": "LIMIT",
    "stop": "STOP",
    "stop_limit": "STOP_LIMIT",
    "trailing_stop": "TRAILING_STOP",
}
"""Alpaca order type -> the ledger's order type."""

SIDES: Mapping[str, Side] = {"buy": Side.BUY, "sell": Side.SELL, "sell_short": Side.SELL}
"""Alpaca's side (``OrderSide`` or the activities' text) -> the ledger's ``Side``."""

FILL_EVENTS = frozenset({"fill", "partial_fill"})
"""Trade update events that carry a fill."""


class AlpacaMappingError(ValueError):
    """An Alpaca payload lacks what a fill needs, or carries something unusable."""


def enum_text(value: object) -> str:
    """An enum member's value, or the text of anything else; ``None`` gives ``""``."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    return value.strip() if isinstance(value, str) else str(value).strip()


def exact_decimal(value: object, field: str = "value") -> Decimal | None:
    """``"0.1"``, ``0.1`` and ``Decimal("0.1")`` all give ``Decimal("0.1")``; blank gives None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return to_exact_decimal(value, field)
    except InvalidFillError as error:
        raise AlpacaMappingError(f"{field}: {error.reason}") from None


def ledger_order_type(value: object) -> str:
    """``market`` -> ``MARKET`` ... ``trailing_stop`` -> ``TRAILING_STOP``; none given is
    ``MARKET`` (the guide's rule)."""
    text = enum_text(value).lower()
    if not text:
        return DEFAULT_ORDER_TYPE
    return ORDER_TYPES.get(text, text.upper())


def order_type_of(order: Any) -> str:
    """An alpaca ``Order``'s type (``type``, or the older ``order_type``) as the ledger's."""
    return ledger_order_type(getattr(order, "type", None) or getattr(order, "order_type", None))


def ledger_side(value: object) -> Side:
    """Alpaca's ``buy`` -> ``BUY``; ``sell`` and ``sell_short`` -> ``SELL``."""
    side = SIDES.get(enum_text(value).lower())
    if side is not None:
        return side
    raise AlpacaMappingError(f"side: expected buy or sell, got {value!r}")


def _time(value: object, field: str) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str) and value.strip():
        try:
            return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            raise AlpacaMappingError(f"{field}: not an ISO-8601 time: {value!r}") from None
    raise AlpacaMappingError(f"{field}: missing")


# -- orders ------------------------------------------------------------------------------


def order_fill(order: Any) -> Fill | None:
    """A whole-order fill of what ``order`` filled, or ``None`` if nothing was filled.

    Multi-leg orders (no top-level symbol or side) give ``None``: see :func:`order_fills`.
    """
    filled = exact_decimal(getattr(order, "filled_qty", None), "filled_qty")
    price = exact_decimal(getattr(order, "filled_avg_price", None), "filled_avg_price")
    symbol = enum_text(getattr(order, "symbol", None))
    if not filled or filled <= 0 or not price or price <= 0 or not symbol:
        return None
    side_value = getattr(order, "side", None)
    if not enum_text(side_value):
        return None
    filled_at = getattr(order, "filled_at", None) or getattr(order, "updated_at", None)
    order_id = str(order.id)
    return Fill(
        order_id=order_id,
        execution_id=order_id,
        symbol=symbol.upper(),
        side=ledger_side(side_value),
        quantity=filled,
        price=price,
        filled_at=_time(filled_at, "filled_at"),
        order_type=order_type_of(order),
    )


def order_fills(order: Any) -> list[Fill]:
    """Whole-order fills of ``order``, or of each filled leg of a multi-leg order."""
    own = order_fill(order)
    if own is not None:
        return [own]
    return [f for leg in getattr(order, "legs", None) or [] for f in order_fills(leg)]


def record_order(
    service: TradeLedgerService,
    order: Any,
    correlation_id: str,
    rebalance_plan: Any | None = None,
    quote_at_fill: Any | None = None,
) -> TradeLedgerEntry | None:
    """Record a filled alpaca ``Order`` as one whole-order fill; ``None`` if nothing filled."""
    fill = order_fill(order)
    if fill is None:
        return None
    return service.record_fill(
        fill, correlation_id, rebalance_plan=rebalance_plan, quote_at_fill=quote_at_fill
    )


# -- trade updates -----------------------------------------------------------------------


def trade_update_fill(update: Any) -> Fill | None:
    """One fill from a ``fill``/``partial_fill`` update; ``None`` for any other event.

    Raises ``AlpacaMappingError`` when a fill event lacks its execution id, price or qty.
    """
    event = enum_text(getattr(update, "event", None)).lower()
    if event not in FILL_EVENTS:
        return None
    order = update.order
    execution_id = enum_text(getattr(update, "execution_id", None))
    quantity = exact_decimal(getattr(update, "qty", None), "qty")
    price = exact_decimal(getattr(update, "price", None), "price")
    if not execution_id:
        raise AlpacaMappingError(f"{event} event of order {order.id} has no execution_id")
    if quantity is None or price is None:
        raise AlpacaMappingError(f"{event} event {execution_id} has no qty or price")
    return Fill(
        order_id=str(order.id),
        execution_id=execution_id,
        symbol=enum_text(order.symbol).upper(),
        side=ledger_side(order.side),
        quantity=quantity,
        price=price,
        filled_at=_time(getattr(update, "timestamp", None), "timestamp"),
        order_type=order_type_of(order),
    )


def record_trade_update(
    service: TradeLedgerService,
    update: Any,
    correlation_id: str,
    rebalance_plan: Any | None = None,
    quote_at_fill: Any | None = None,
) -> TradeLedgerEntry | None:
    """Record a fill/partial_fill update as one fill; other events record nothing.

    A replayed message (same execution id, same fill) is a no-op.
    """
    fill = trade_update_fill(update)
    if fill is None:
        return None
    return service.record_fill(
        fill, correlation_id, rebalance_plan=rebalance_plan, quote_at_fill=quote_at_fill
    )


# -- quotes ------------------------------------------------------------------------------


def quote_model(quote: Any) -> QuoteModel | None:
    """alpaca-py's ``Quote`` (floats) -> ``QuoteModel`` (exact); ``None`` stays ``None``.

    A side of 0 (Alpaca sends 0 when a side is empty) is kept: the ledger reads it as missing.
    """
    if quote is None:
        return None
    timestamp = getattr(quote, "timestamp", None)
    return QuoteModel(
        bid_price=exact_decimal(getattr(quote, "bid_price", None), "bid_price"),
        ask_price=exact_decimal(getattr(quote, "ask_price", None), "ask_price"),
        bid_size=exact_decimal(getattr(quote, "bid_size", None), "bid_size"),
        ask_size=exact_decimal(getattr(quote, "ask_size", None), "ask_size"),
        timestamp=as_utc(timestamp) if isinstance(timestamp, datetime) else None,
    )


# -- fill activities ---------------------------------------------------------------------


def _field(activity: Any, name: str) -> Any:
    if isinstance(activity, Mapping):
        return activity.get(name)
    return getattr(activity, name, None)


def activity_fill(activity: Any) -> Fill:
    """A fill activity (``TradeActivity`` or its raw JSON) -> a ``Fill`` with its id.

    From raw JSON the exact strings are used; from a ``TradeActivity`` (floats) each value
    goes through its text, which gives the same digits for any price Alpaca reports.
    """
    activity_id = enum_text(_field(activity, "id"))
    kind = enum_text(_field(activity, "activity_type")).upper()
    if kind and kind != "FILL":
        raise AlpacaMappingError(f"activity {activity_id} is {kind}, not FILL")
    if not activity_id:
        raise AlpacaMappingError("fill activity without an id")
    quantity = exact_decimal(_field(activity, "qty"), "qty")
    price = exact_decimal(_field(activity, "price"), "price")
    order_id = enum_text(_field(activity, "order_id"))
    symbol = enum_text(_field(activity, "symbol")).upper()
    if quantity is None or price is None or not order_id or not symbol:
        raise AlpacaMappingError(f"fill activity {activity_id} lacks qty, price, order or symbol")
    return Fill(  # an activity has no order type; AlpacaBroker takes it from the order
        order_id=order_id,
        execution_id=activity_id,
        symbol=symbol,
        side=ledger_side(_field(activity, "side")),
        quantity=quantity,
        price=price,
        filled_at=_time(_field(activity, "transaction_time"), "transaction_time"),
    )


def trade_activity(raw: Mapping[str, Any]) -> Any:
    """alpaca-py's ``TradeActivity`` from the raw JSON of one fill activity.

    The Trading API's payload may omit what alpaca-py requires of its broker-API twin
    (``account_id``, ``order_status``) and may say ``sell_short``; raises
    ``AlpacaMappingError`` when it cannot be represented. :func:`activity_fill` takes
    the raw JSON directly and needs neither.
    """
    from alpaca.trading.models import TradeActivity  # noqa: PLC0415  (heavy import)
    from pydantic import ValidationError  # noqa: PLC0415

    data = dict(raw)
    data["side"] = ledger_side(data.get("side")).lower()  # alpaca-py has no sell_short
    try:
        return TradeActivity(**data)
    except ValidationError as error:
        raise AlpacaMappingError(f"not a TradeActivity: {error}") from error
