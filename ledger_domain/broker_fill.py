"""A fact is never refused for want of an opinion: the executor's reading of a broker fill.

The fill itself (order, execution, symbol, side, quantity, price, time) is the fact: held
to the ledger's rules, as everywhere. The quote beside it and the plan's attribution are
auxiliary: when they fail validation (a crossed quote, a quote far from the fill's time,
weights that do not sum to 1) they are set aside, the fill is recorded without them, and
its event says what was set aside and why (``FillRecorded.set_aside``). The guide's
``record_filled_order`` keeps refusing such input, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, NamedTuple

from ledger_domain import values
from ledger_domain.aggregate import Ledger
from ledger_domain.errors import InvalidFillError
from ledger_domain.fill import (
    NO_QUOTE,
    NO_WEIGHTS,
    NOTHING_SET_ASIDE,
    Fill,
    FillToRecord,
    Quote,
    SetAside,
)
from ledger_domain.frozen import FrozenDict
from ledger_domain.models import TradeLedgerEntry
from ledger_domain.order_input import checked_fill, quote_at
from ledger_domain.run_plan import PlanAttribution

QUOTE_FIELD = "quote_at_fill"


class RecordedFill(NamedTuple):
    """What became of one broker fill handed to ``record_broker_fills``.

    ``error`` is ``None`` when the fill is durably recorded (or was already): then
    ``entry`` is its order's entry and ``set_aside`` what was left out of it, and why.
    """

    fill: Any
    entry: TradeLedgerEntry | None
    set_aside: SetAside
    error: Exception | None


class Anomaly(NamedTuple):
    """Auxiliary data set aside so a fill could be recorded: ``field`` (``quote_at_fill``,
    ``strategy_attribution.AAPL``, ...) and why; its ``FillRecorded.set_aside`` holds it."""

    execution_id: str
    order_id: str
    symbol: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.symbol} execution {self.execution_id}: {self.field} set aside: {self.reason}"


def anomalies_of(events: Iterable[Any]) -> list[Anomaly]:
    """Every part of a fill set aside in a run's events, in recording order."""
    return [
        Anomaly(event.execution_id, event.order_id, event.symbol, field, reason)
        for event in events
        if isinstance(event, Ledger.FillRecorded)
        for field, reason in event.set_aside.items()
    ]


def broker_fill_to_record(
    fill: Any,
    quote: object | None,
    correlation_id: object,
    plan: PlanAttribution | None,
    max_quote_age: timedelta | None = None,
    *,
    noted: Mapping[str, str] | None = None,
) -> FillToRecord:
    """The fill held to the ledger's rules; quote and attribution set aside when they fail.

    Raises ``InvalidFillError`` only for the fact itself (a fill that is not a ``Fill``,
    or whose own values break the rules) or an invalid correlation id.
    """
    if not isinstance(fill, Fill):
        raise InvalidFillError("fill", f"expected a Fill, got {type(fill).__name__}")
    checked = checked_fill(fill)
    set_aside: dict[str, str] = {}
    quoted = _quote(quote, checked, max_quote_age, set_aside)
    weights = NO_WEIGHTS
    if plan is not None:
        weights = plan.weights_for(checked.symbol)
        set_aside.update(plan.set_aside_for(checked.symbol))
    if noted:
        set_aside.update({str(field): str(why) for field, why in noted.items()})
    return FillToRecord(
        checked,
        quoted,
        weights,
        values.identifier(correlation_id, "correlation_id"),
        FrozenDict(set_aside) if set_aside else NOTHING_SET_ASIDE,
    )


def _quote(
    quote: object | None, fill: Fill, max_age: timedelta | None, set_aside: dict[str, str]
) -> Quote:
    try:
        quoted = quote_at(quote)
    except InvalidFillError as error:
        set_aside[error.field] = error.reason
        return NO_QUOTE
    if max_age is not None and quoted.quoted_at is not None:
        gap = abs(quoted.quoted_at - fill.filled_at)
        if gap > max_age:
            set_aside[QUOTE_FIELD] = (
                f"stale: quoted at {quoted.quoted_at.isoformat()}, {gap.total_seconds():g}s "
                f"from the fill at {fill.filled_at.isoformat()} "
                f"(limit {max_age.total_seconds():g}s)"
            )
            return NO_QUOTE
    return quoted
