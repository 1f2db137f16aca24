"""Matching: do the ledgers say what the broker says was filled? Pure rules, no I/O.

It compares ledger fills (``ledger_source`` gathers them from runs) with the broker's fills
(``broker_source`` fetches its history, e.g. Alpaca's ``/v2/account/activities/FILL``): the
broker fills inside the period, plus any fill, even just outside it, of an order a ledger
knows. Kept free of brokers, archive and network so the rules can be read and tested alone.

Matching, most precise first:

1. **By execution id**: a ledger execution id equal to the activity id, or to the uuid
   after its ``::`` (a trade update's ``execution_id``). Quantity, price, symbol and side
   must agree (``price_tolerance``, exact by default).
2. **Per order**, for what is left: identical fills (same qty and price) pair up; if both
   sides still have fills of the order (e.g. a whole-order ledger entry against the
   broker's partial fills), their totals are compared: quantity exactly, volume-weighted
   price within ``average_price_tolerance``.
3. What remains is a fill **missing from the ledger** (broker only) or a fill **unknown to
   the broker** (ledger only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from adapters.reconciliation.fills import BrokerFill, LedgerFill
from adapters.reconciliation.report import Discrepancy, ReconciliationReport
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


def _compare_execution(
    recorded: LedgerFill, broker: BrokerFill, price_tolerance: Decimal
) -> list[Discrepancy]:
    base = Discrepancy(
        "quantity_mismatch",
        order_id=recorded.fill.order_id,
        symbol=recorded.fill.symbol,
        execution_id=recorded.fill.execution_id,
        ledger_id=recorded.ledger_id,
        ledger_qty=recorded.fill.quantity,
        broker_qty=broker.qty,
        ledger_price=recorded.fill.price,
        broker_price=broker.price,
    )
    found: list[Discrepancy] = []
    if (recorded.fill.symbol, recorded.fill.side) != (
        broker.symbol,
        broker.side,
    ) or recorded.fill.order_id != broker.order_id:
        detail = (
            f"ledger {recorded.fill.side} {recorded.fill.symbol} "
            f"(order {recorded.fill.order_id}), "
            f"broker {broker.side} {broker.symbol} (order {broker.order_id})"
        )
        found.append(replace(base, kind="symbol_or_side_mismatch", detail=detail))
    if recorded.fill.quantity != broker.qty:
        found.append(replace(base, detail=f"ledger {recorded.fill.quantity}, broker {broker.qty}"))
    if _price_differs(recorded.fill.price, broker.price, price_tolerance):
        detail = f"ledger {recorded.fill.price}, broker {broker.price}"
        found.append(replace(base, kind="price_mismatch", detail=detail))
    return found


def _missing(broker: BrokerFill) -> Discrepancy:
    return Discrepancy(
        "missing_from_ledger",
        order_id=broker.order_id,
        symbol=broker.symbol,
        execution_id=broker.execution_id,
        broker_qty=broker.qty,
        broker_price=broker.price,
        detail=(
            f"broker filled {broker.side} {broker.qty} @ {broker.price} "
            f"at {broker.filled_at.isoformat()}; no ledger has it"
        ),
    )


def _unknown(recorded: LedgerFill) -> Discrepancy:
    return Discrepancy(
        "unknown_to_broker",
        order_id=recorded.fill.order_id,
        symbol=recorded.fill.symbol,
        execution_id=recorded.fill.execution_id,
        ledger_id=recorded.ledger_id,
        ledger_qty=recorded.fill.quantity,
        ledger_price=recorded.fill.price,
        detail=(
            f"ledger {recorded.ledger_id} recorded {recorded.fill.side} "
            f"{recorded.fill.quantity} @ {recorded.fill.price}; "
            "the broker has no such fill"
        ),
    )


def _pair_identical(
    fills: list[LedgerFill], brokers: list[BrokerFill]
) -> tuple[int, list[LedgerFill], list[BrokerFill]]:
    left = list(brokers)
    unpaired: list[LedgerFill] = []
    paired = 0
    for recorded in fills:
        wanted = (
            recorded.fill.quantity,
            recorded.fill.price,
            recorded.fill.side,
            recorded.fill.symbol,
        )
        match = next((b for b in left if (b.qty, b.price, b.side, b.symbol) == wanted), None)
        if match is None:
            unpaired.append(recorded)
        else:
            left.remove(match)
            paired += 1
    return paired, unpaired, left


def _compare_totals(
    order_id: str,
    fills: list[LedgerFill],
    brokers: list[BrokerFill],
    tolerance: Decimal,
) -> list[Discrepancy]:
    ledger_qty = sum((f.fill.quantity for f in fills), Decimal(0))
    broker_qty = sum((b.qty for b in brokers), Decimal(0))
    ledger_price = sum((f.fill.value for f in fills), Decimal(0)) / ledger_qty
    broker_price = sum((b.value for b in brokers), Decimal(0)) / broker_qty
    base = Discrepancy(
        "quantity_mismatch",
        order_id=order_id,
        symbol=fills[0].fill.symbol,
        ledger_id=fills[0].ledger_id,
        ledger_qty=ledger_qty,
        broker_qty=broker_qty,
        ledger_price=ledger_price,
        broker_price=broker_price,
    )
    found: list[Discrepancy] = []
    sides = {(f.fill.symbol, f.fill.side) for f in fills} | {(b.symbol, b.side) for b in brokers}
    if len(sides) > 1:
        detail = f"order {order_id} appears as {sorted(sides)}"
        found.append(replace(base, kind="symbol_or_side_mismatch", detail=detail))
    if ledger_qty != broker_qty:
        detail = (
            f"ledger {ledger_qty} in {len(fills)} fill(s), "
            f"broker {broker_qty} in {len(brokers)} fill(s)"
        )
        found.append(replace(base, detail=detail))
    if _price_differs(ledger_price, broker_price, tolerance):
        detail = f"average price ledger {ledger_price}, broker {broker_price}"
        found.append(replace(base, kind="price_mismatch", detail=detail))
    return found


def reconcile(
    fills: Iterable[LedgerFill],
    broker_fills: Iterable[BrokerFill],
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
    ledger_side = list(fills)
    known_orders = {f.fill.order_id for f in ledger_side}
    broker_side = [
        b for b in broker_fills if start <= b.filled_at < end or b.order_id in known_orders
    ]
    report = ReconciliationReport(
        period_start=start,
        period_end=end,
        ledger_ids=sorted({f.ledger_id for f in ledger_side}),
        ledger_fills=len(ledger_side),
        broker_fills=len(broker_side),
    )
    by_id: dict[str, BrokerFill] = {}
    for broker in broker_side:
        assert broker.execution_id is not None
        by_id.setdefault(broker.execution_id, broker)
        _, sep, tail = broker.execution_id.partition("::")
        if sep:
            by_id.setdefault(tail, broker)
    used: set[str] = set()
    rest: list[LedgerFill] = []
    for recorded in ledger_side:
        found = None if recorded.fill.whole_order else by_id.get(recorded.fill.execution_id)
        if found is None or found.execution_id is None or found.execution_id in used:
            rest.append(recorded)
            continue
        assert same_execution(recorded.fill.execution_id, found.execution_id)
        used.add(found.execution_id)
        report.matched += 1
        report.discrepancies.extend(_compare_execution(recorded, found, price_tolerance))
    ledger_orders: dict[str, list[LedgerFill]] = defaultdict(list)
    for recorded in rest:
        ledger_orders[recorded.fill.order_id].append(recorded)
    broker_orders: dict[str, list[BrokerFill]] = defaultdict(list)
    for broker in broker_side:
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
