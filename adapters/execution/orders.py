"""A rebalance plan's orders: which items trade, in which order, under which client order id.

Plans are duck-typed (the ledger's ``RebalancePlan`` or any object with the same names):
an item is traded when its ``action`` is BUY or SELL and its ``trade_amount`` is not zero,
as a market order for ``abs(trade_amount)`` dollars.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.brokers.port import OrderRequest, client_order_id
from ledger_domain import Side

SIDES_IN_ORDER = (Side.SELL, Side.BUY)
"""Sells are placed (and finished) before buys, so the buys can spend what the sells freed."""


def trade_amount(item: Any) -> Decimal:
    """A plan item's ``trade_amount`` as an exact ``Decimal``.

    A float goes through its shortest ``repr`` (``1000.1`` gives ``Decimal("1000.1")``, not
    the binary value ``1000.1000000000000227...``), as fills and quotes do; ``Decimal``,
    ``int`` and ``str`` amounts convert as ``Decimal`` does.
    """
    value = item.trade_amount
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def item_side(item: Any) -> Side | None:
    """A plan item's ``action`` (the guide's name on its plan DTO) as a ``Side``; ``None``
    for HOLD or anything else that is not a trade."""
    try:
        return Side(str(item.action).upper())
    except ValueError:
        return None


def tradable_items(plan: Any) -> list[Any]:
    """The plan's BUY and SELL items with a non-zero amount (HOLD and zero are skipped)."""
    return [item for item in plan.items if item_side(item) is not None and trade_amount(item) != 0]


def order_requests(plan: Any, items: list[Any], side: Side) -> list[OrderRequest]:
    """The ``side`` items' orders by priority; a symbol listed twice gets its own order id."""
    same_side = [item for item in items if item_side(item) is side]
    seen: dict[str, int] = {}
    requests = []
    for item in sorted(same_side, key=lambda item: item.priority):
        symbol = str(item.symbol).strip().upper()
        seen[symbol] = count = seen.get(symbol, 0) + 1
        suffix = [str(count)] if count > 1 else []
        requests.append(
            OrderRequest(
                symbol=symbol,
                side=side,
                notional=abs(trade_amount(item)),
                client_order_id=client_order_id(str(plan.plan_id), symbol, side, *suffix),
            )
        )
    return requests
