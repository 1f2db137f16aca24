"""Matching: do the ledgers say what the broker says was filled? Pure rules, no I/O.

It compares ledger fills (``ledger_source`` gathers them from runs) with the broker's fills
(``broker_source`` fetches its history, e.g. Alpaca's ``/v2/account/activities/FILL``): the
broker fills inside the period, plus any fill, even just outside it, of an order a ledger
knows. Kept free of brokers, archive and network so the rules can be read and tested alone.

Matching, most precise first:

1. **By execution id**: a ledger execution id equal to the activity id, or to the uuid
   after its ``::`` (a trade update's ``execution_id``). Quantity, price, symbol and side
   must agree (``price_tolerance``, exact by default).
2. **Per order**, for what is left: identical fills (same quantity, price, side and
   symbol) pair up; if both sides still have fills of the order (e.g. a whole-order ledger
   entry against the broker's partial fills), their totals are compared: quantity
   exactly, volume-weighted price within ``average_price_tolerance``.
3. What remains is a fill **missing from the ledger** (broker only) or a fill **unknown to
   the broker** (ledger only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from adapters.reconciliation.fills import LedgerFill
from adapters.reconciliation.report import Discrepancy, Kind, ReconciliationReport
from ledger_domain import Fill, Side
from ledger_domain.models import as_utc

DEFAULT_AVERAGE_PRICE_TOLERANCE = Decimal("0.0001")


def same_execution(ledger_execution_id: str, activity_id: str) -> bool:
    """Does a ledger execution id name this broker fill (an Alpaca fill activity)?

    Activity ids read ``<timestamp>::<uuid>``; a trade update's ``execution_id`` is the uuid.
    """
    if ledger_execution_id == activity_id:
        return True
    _, sep, tail = activity_id.partition("::")
    return bool(sep) and tail == ledger_execution_id


def _price_differs(left: Decimal, right: Decimal, tolerance: Decimal) -> bool:
    return abs(left - right) > tolerance


def _traded(fill: Fill) -> str:
    """``BUY AAPL (order o-1)``: what a fill traded, for a message."""
    return f"{fill.side} {fill.symbol} (order {fill.order_id})"


def _dealt(fill: Fill) -> str:
    """``BUY 10 @ 150.25``: how much at what price, for a message."""
    return f"{fill.side} {fill.quantity} @ {fill.price}"


def _terms(fill: Fill) -> tuple[Decimal, Decimal, Side, str]:
    """What two fills without a common id must share to be the same fill."""
    return fill.quantity, fill.price, fill.side, fill.symbol


def _totals(fills: list[Fill]) -> tuple[Decimal, Decimal]:
    """Total quantity and volume-weighted average price (``fills`` is never empty)."""
    quantity = sum((f.quantity for f in fills), Decimal(0))
    return quantity, sum((f.value for f in fills), Decimal(0)) / quantity


def _compare_execution(
    recorded: LedgerFill, broker: Fill, price_tolerance: Decimal
) -> list[Discrepancy]:
    ours = recorded.fill
    base = Discrepancy(
        "quantity_mismatch",
        order_id=ours.order_id,
        symbol=ours.symbol,
        execution_id=ours.execution_id,
        ledger_id=recorded.ledger_id,
        ledger_quantity=ours.quantity,
        broker_quantity=broker.quantity,
        ledger_price=ours.price,
        broker_price=broker.price,
    )
    found: list[Discrepancy] = []
    if (ours.side, ours.symbol, ours.order_id) != (broker.side, broker.symbol, broker.order_id):
        detail = f"ledger {_traded(ours)}, broker {_traded(broker)}"
        found.append(replace(base, kind="symbol_or_side_mismatch", detail=detail))
    if ours.quantity != broker.quantity:
        found.append(replace(base, detail=f"ledger {ours.quantity}, broker {broker.quantity}"))
    if _price_differs(ours.price, broker.price, price_tolerance):
        detail = f"ledger {ours.price}, broker {broker.price}"
        found.append(replace(base, kind="price_mismatch", detail=detail))
    return found


def _missing(broker: Fill) -> Discrepancy:
    detail = f"broker filled {_dealt(broker)} at {broker.filled_at.isoformat()}; no ledger has it"
    return _one_sided("missing_from_ledger", broker, detail)


def _unknown(recorded: LedgerFill) -> Discrepancy:
    ledger_id, ours = recorded.ledger_id, recorded.fill
    detail = f"ledger {ledger_id} recorded {_dealt(ours)}; the broker has no such fill"
    return _one_sided("unknown_to_broker", ours, detail, ledger_id=ledger_id)


def _one_sided(kind: Kind, fill: Fill, detail: str, *, ledger_id: str | None = None) -> Discrepancy:
    """A fill only one side has: the ledger's (``ledger_id`` given) or the broker's."""
    ours = ledger_id is not None
    return Discrepancy(
        kind,
        order_id=fill.order_id,
        symbol=fill.symbol,
        execution_id=fill.execution_id,
        ledger_id=ledger_id,
        ledger_quantity=fill.quantity if ours else None,
        broker_quantity=None if ours else fill.quantity,
        ledger_price=fill.price if ours else None,
        broker_price=None if ours else fill.price,
        detail=detail,
    )


def _pair_identical(
    recorded_fills: list[LedgerFill], brokers: list[Fill]
) -> tuple[int, list[LedgerFill], list[Fill]]:
    left = list(brokers)
    unpaired: list[LedgerFill] = []
    paired = 0
    for recorded in recorded_fills:
        wanted = _terms(recorded.fill)
        match = next((b for b in left if _terms(b) == wanted), None)
        if match is None:
            unpaired.append(recorded)
        else:
            left.remove(match)
            paired += 1
    return paired, unpaired, left


def _compare_totals(
    order_id: str,
    recorded_fills: list[LedgerFill],
    brokers: list[Fill],
    tolerance: Decimal,
) -> list[Discrepancy]:
    ours = [recorded.fill for recorded in recorded_fills]
    ledger_quantity, ledger_price = _totals(ours)
    broker_quantity, broker_price = _totals(brokers)
    base = Discrepancy(
        "quantity_mismatch",
        order_id=order_id,
        symbol=ours[0].symbol,
        ledger_id=recorded_fills[0].ledger_id,
        ledger_quantity=ledger_quantity,
        broker_quantity=broker_quantity,
        ledger_price=ledger_price,
        broker_price=broker_price,
    )
    found: list[Discrepancy] = []
    traded = sorted({f"{f.side} {f.symbol}" for f in (*ours, *brokers)})
    if len(traded) > 1:
        detail = f"order {order_id} appears as {', '.join(traded)}"
        found.append(replace(base, kind="symbol_or_side_mismatch", detail=detail))
    if ledger_quantity != broker_quantity:
        detail = (
            f"ledger {ledger_quantity} in {len(ours)} fill(s), "
            f"broker {broker_quantity} in {len(brokers)} fill(s)"
        )
        found.append(replace(base, detail=detail))
    if _price_differs(ledger_price, broker_price, tolerance):
        detail = f"average price ledger {ledger_price}, broker {broker_price}"
        found.append(replace(base, kind="price_mismatch", detail=detail))
    return found


def reconcile(
    fills: Iterable[LedgerFill],
    broker_fills: Iterable[Fill],
    *,
    period_start: datetime,
    period_end: datetime,
    price_tolerance: Decimal = Decimal(0),
    average_price_tolerance: Decimal = DEFAULT_AVERAGE_PRICE_TOLERANCE,
) -> ReconciliationReport:
    """Compare ledger fills with the broker's fills of ``[period_start, period_end)``.

    Broker fills outside the period count only if their order is in a ledger.
    """
    start, end = as_utc(period_start), as_utc(period_end)
    recorded_fills = list(fills)
    known_orders = {recorded.fill.order_id for recorded in recorded_fills}
    reported = [b for b in broker_fills if start <= b.filled_at < end or b.order_id in known_orders]
    report = ReconciliationReport(
        period_start=start,
        period_end=end,
        ledger_ids=sorted({recorded.ledger_id for recorded in recorded_fills}),
        ledger_fills=len(recorded_fills),
        broker_fills=len(reported),
    )
    by_id: dict[str, Fill] = {}
    for broker in reported:
        by_id.setdefault(broker.execution_id, broker)
        _, sep, tail = broker.execution_id.partition("::")
        if sep:
            by_id.setdefault(tail, broker)
    used: set[str] = set()
    rest: list[LedgerFill] = []
    for recorded in recorded_fills:
        ours = recorded.fill
        found = None if ours.whole_order else by_id.get(ours.execution_id)
        if found is None or found.execution_id in used:
            rest.append(recorded)
            continue
        assert same_execution(ours.execution_id, found.execution_id)
        used.add(found.execution_id)
        report.matched += 1
        report.discrepancies.extend(_compare_execution(recorded, found, price_tolerance))
    ledger_orders: dict[str, list[LedgerFill]] = defaultdict(list)
    for recorded in rest:
        ledger_orders[recorded.fill.order_id].append(recorded)
    broker_orders: dict[str, list[Fill]] = defaultdict(list)
    for broker in reported:
        if broker.execution_id not in used:
            broker_orders[broker.order_id].append(broker)
    for order_id in sorted(set(ledger_orders) | set(broker_orders)):
        paired, left_fills, left_brokers = _pair_identical(
            ledger_orders.get(order_id, []), broker_orders.get(order_id, [])
        )
        report.matched += paired
        if left_fills and left_brokers:
            report.matched += len(left_fills)
            report.discrepancies.extend(
                _compare_totals(order_id, left_fills, left_brokers, average_price_tolerance)
            )
            continue
        report.discrepancies.extend(_missing(b) for b in left_brokers)
        report.discrepancies.extend(_unknown(f) for f in left_fills)
    return report
