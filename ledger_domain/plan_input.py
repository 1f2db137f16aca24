"""The boundary for a run's plan and orders: read from any object, validated, or refused.

A plan's id and correlation id are refused with ``InvalidFillError`` when they are not
ids; its strategy attribution is opinion, not fact: a symbol whose weights fail the
ledger's rules is set aside with the reason (``PlanAttribution.set_aside``), never a
reason to refuse the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger_domain import values
from ledger_domain.errors import InvalidFillError
from ledger_domain.fill import StrategyWeights
from ledger_domain.frozen import FrozenDict
from ledger_domain.order_input import foreign_errors_refused_as, reader, strategy_weights
from ledger_domain.run_plan import PlacedOrder, PlanAttribution

_ATTRIBUTION = "strategy_attribution"


@foreign_errors_refused_as("rebalance_plan")
def plan_attribution(plan: object) -> PlanAttribution:
    """The plan's id, correlation id and per-symbol attribution (bad parts set aside)."""
    read = reader(plan, "rebalance_plan", ("plan_id", "correlation_id"))
    plan_id = _plan_text(read("plan_id", None), "rebalance_plan.plan_id")
    correlation_id = _plan_text(read("correlation_id", None), "rebalance_plan.correlation_id")
    weights: dict[str, StrategyWeights] = {}
    set_aside: dict[str, str] = {}
    for symbol in _attributed_symbols(plan, set_aside):
        try:
            found = strategy_weights(plan, symbol)
        except InvalidFillError as error:
            # Keyed by the symbol's attribution, whichever part of it failed.
            field = f"{_ATTRIBUTION}.{symbol}"
            part = error.field.removeprefix(field).lstrip(".")
            set_aside[field] = f"{part}: {error.reason}" if part else error.reason
            continue
        if found:
            weights[symbol] = found
    return PlanAttribution(plan_id, correlation_id, FrozenDict(weights), FrozenDict(set_aside))


def _plan_text(value: object, field: str) -> str:
    """An id as text; a ``UUID`` (a common plan id type) by its canonical text."""
    return values.identifier(str(value) if isinstance(value, UUID) else value, field)


def _attributed_symbols(plan: object, set_aside: dict[str, str]) -> list[str]:
    """The symbols the attribution names, upper case, each once; unusable keys set aside."""
    try:
        metadata = reader(plan, "rebalance_plan")("metadata", None)
        if metadata is None or not isinstance(metadata, Mapping):
            if metadata is not None:
                set_aside["rebalance_plan.metadata"] = "must be a mapping"
            return []
        attribution = metadata.get(_ATTRIBUTION)
    except InvalidFillError as error:
        set_aside[error.field] = error.reason
        return []
    if attribution is None:
        return []
    if not isinstance(attribution, Mapping):
        set_aside[_ATTRIBUTION] = "must map symbols to strategy weights"
        return []
    symbols: dict[str, None] = {}
    for key in attribution:
        try:
            symbols[values.symbol(key, _ATTRIBUTION)] = None
        except InvalidFillError as error:
            set_aside[f"{_ATTRIBUTION}[{_shown_key(key)}]"] = error.reason
    return list(symbols)


def _shown_key(key: Any) -> str:
    text = repr(key) if not isinstance(key, str) else str.__str__(key)
    return text if len(text) <= 40 else f"{text[:37]}..."


@foreign_errors_refused_as("order")
def placed_order(
    client_order_id: object,
    symbol: object,
    side: object,
    *,
    quantity: object | None = None,
    notional: object | None = None,
    order_type: object | None = None,
    placed_at: object | None = None,
) -> PlacedOrder:
    """An order about to be placed, validated; exactly one of ``quantity``/``notional``."""
    if (quantity is None) == (notional is None):
        raise InvalidFillError("order", "give exactly one of quantity or notional")
    return PlacedOrder(
        client_order_id=values.identifier(client_order_id, "client_order_id"),
        symbol=values.symbol(symbol),
        side=values.side(side, "side"),
        quantity=_amount(quantity, "quantity"),
        notional=_amount(notional, "notional"),
        order_type=values.order_type(order_type),
        placed_at=datetime.now(UTC)
        if placed_at is None
        else values.utc_time(placed_at, "placed_at"),
    )


def _amount(value: object | None, field: str) -> Decimal | None:
    return None if value is None else values.positive_decimal(value, field)
