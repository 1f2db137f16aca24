"""A deterministic in-process broker for the demo and tests (implements the broker port).

* **Quotes** are deterministic: a symbol's reference price comes from ``prices`` or, if
  absent, from a hash of its name; bid/ask sit half a ``spread`` either side. Each
  further fill of an order moves the price one ``tick`` along the trade (``Side.sign``), so
  it is at a different price and its quote is that moment's quote.
* **Fills**: a buy fills at the ask and a sell at the bid of that moment. ``partial_fills``
  splits an order into that many fills; ``fill_fraction`` fills only that part of an
  order and cancels the rest.
* **Rejections**: a symbol in ``reject`` is refused at submission with the given reason.
* **No quote**: a symbol in ``no_quote`` still fills, but ``get_quote`` returns ``None``.
* A repeated ``client_order_id`` returns the existing order (like Alpaca's duplicate check),
  so the same order is never placed twice.
* **State file** (``state_file``): orders and fills are kept in a JSON file, written
  atomically after every submission, fill and cancellation, so the broker outlives the
  process that trades through it, as a real broker does. An order still open in a state
  file loaded by a new process is finished first (the market went on filling it while
  nobody watched). One process at a time: a second one gets ``BrokerError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from hashlib import sha256
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from adapters.brokers.port import (
    BrokerError,
    OrderExecutions,
    OrderRequest,
    OrderState,
    OrderTicket,
)
from adapters.brokers.simulated_state import StateFile
from ledger_domain import Fill, QuoteModel, Side
from ledger_domain.models import as_utc

DEFAULT_SPREAD = Decimal("0.02")
DEFAULT_TICK = Decimal("0.01")
QUANTITY_INCREMENT = Decimal("0.000000001")
"""Alpaca's fractional precision: nine decimal places."""


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (25.000 -> 25)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def whole_increments(value: Decimal) -> Decimal:
    """``value`` rounded down to Alpaca's ``QUANTITY_INCREMENT``, tidied: never over-fill."""
    return tidy(value.quantize(QUANTITY_INCREMENT, rounding=ROUND_DOWN))


def reference_price(symbol: str) -> Decimal:
    """A stable price in [20.00, 499.99] derived from the symbol's name."""
    digest = int(sha256(symbol.encode()).hexdigest()[:12], 16)
    return Decimal(2000 + digest % 48000) / 100


@dataclass
class _SimOrder:
    ticket: OrderTicket
    quantity: Decimal
    parts: int
    fraction: Decimal
    fills: list[Fill] = field(default_factory=list)
    status: str = "accepted"
    done: asyncio.Event | None = None

    @property
    def filled_quantity(self) -> Decimal:
        return sum((f.quantity for f in self.fills), Decimal(0))

    @property
    def finished(self) -> bool:
        return self.status != "accepted"


class SimulatedBroker:
    """Deterministic broker: quotes, partial fills, rejections, a symbol with no quote."""

    def __init__(
        self,
        *,
        prices: Mapping[str, Decimal | str | int] | None = None,
        spread: Decimal = DEFAULT_SPREAD,
        tick: Decimal = DEFAULT_TICK,
        partial_fills: Mapping[str, int] | None = None,
        fill_fraction: Mapping[str, Decimal | str] | None = None,
        reject: Mapping[str, str] | Iterable[str] = (),
        no_quote: Iterable[str] = (),
        fill_delay: float = 0.0,
        clock: Callable[[], datetime] | None = None,
        state_file: Path | str | None = None,
        executions_per_order: int = 1,
    ) -> None:
        self._mid = {s.upper(): Decimal(str(p)) for s, p in (prices or {}).items()}
        self._spread = spread
        self._tick = tick
        self._parts = {s.upper(): max(1, int(n)) for s, n in (partial_fills or {}).items()}
        self._default_parts = max(1, int(executions_per_order))
        self._fraction = {s.upper(): Decimal(str(f)) for s, f in (fill_fraction or {}).items()}
        if isinstance(reject, Mapping):
            self._reject = {s.upper(): str(r) for s, r in reject.items()}
        else:
            self._reject = {s.upper(): "asset is not tradable" for s in reject}
        self._no_quote = {s.upper() for s in no_quote}
        self._fill_delay = fill_delay
        self._clock = clock or (lambda: datetime.now(UTC))
        self._orders: dict[str, _SimOrder] = {}
        self._by_client_id: dict[str, str] = {}
        self._sequence = 0
        self.submitted: list[OrderRequest] = []
        """Every request that reached the broker (duplicates included), for tests."""
        self._state = StateFile(Path(state_file)) if state_file is not None else None
        if self._state is not None:
            self._load()

    # -- the state file ------------------------------------------------------------------

    def _load(self) -> None:
        assert self._state is not None
        saved = self._state.load()
        if saved is None:
            return
        self._sequence = saved.sequence
        self._mid.update(saved.mid)
        for order in saved.orders:
            self._orders[order.order_id] = _SimOrder(
                ticket=order.ticket,
                quantity=order.quantity,
                parts=order.parts,
                fraction=order.fraction,
                fills=list(order.fills),
                status=order.status,
            )
            if order.ticket.request.client_order_id:
                self._by_client_id[order.ticket.request.client_order_id] = order.order_id
        unfinished = [o for o in self._orders.values() if not o.finished]
        for sim in unfinished:  # the market kept filling while nobody watched
            sim.fills.extend(self._fill(sim))
            sim.status = self._final_status(sim)
        if unfinished:
            self._save()

    def _save(self) -> None:
        if self._state is not None:
            self._state.save(self._sequence, self._mid, self._saved_orders())

    def _saved_orders(self) -> list[Any]:
        from adapters.brokers.simulated_state import SavedOrder  # noqa: PLC0415

        return [
            SavedOrder(o.ticket, o.quantity, o.parts, o.fraction, tuple(o.fills), o.status)
            for o in self._orders.values()
        ]

    def close(self) -> None:
        """Let another process use the state file (the lock also goes with the process)."""
        if self._state is not None:
            self._state.release()

    # -- the broker port -----------------------------------------------------------------

    async def submit_order(self, request: OrderRequest) -> OrderTicket:
        self.submitted.append(request)
        symbol = request.symbol.upper()
        known = self._by_client_id.get(request.client_order_id or "")
        if known is not None:
            return self._orders[known].ticket
        now = as_utc(self._clock())
        reason = self._reject.get(symbol)
        if reason is not None:
            return OrderTicket(request, None, "rejected", now, reason)
        self._sequence += 1
        order_id = str(
            uuid5(NAMESPACE_URL, f"sim:{request.client_order_id or ''}:{self._sequence}")
        )
        ticket = OrderTicket(request, order_id, "accepted", now)
        quantity = request.quantity
        if quantity is None:
            assert request.notional is not None
            quantity = whole_increments(
                request.notional / self._fill_price(symbol, request.side, 0)
            )
        if quantity <= 0:
            return OrderTicket(request, None, "rejected", now, "order size rounds to zero")
        self._orders[order_id] = _SimOrder(
            ticket=ticket,
            quantity=quantity,
            parts=self._parts.get(symbol, self._default_parts),
            fraction=self._fraction.get(symbol, Decimal(1)),
        )
        if request.client_order_id:
            self._by_client_id[request.client_order_id] = order_id
        self._save()
        return ticket

    async def executions(self, ticket: OrderTicket) -> AsyncIterator[Fill]:
        if ticket.order_id is None:
            return
        order = self._order(ticket.order_id)
        if order.finished and order.done is None:  # finished before this process watched
            for fill in list(order.fills):
                yield fill
            return
        if order.done is not None:  # a second watcher sees the same fills again
            seen = list(order.fills)
            for fill in seen:
                yield fill
            await order.done.wait()
            for fill in order.fills[len(seen) :]:
                yield fill
            return
        order.done = asyncio.Event()
        try:
            for fill in self._fill(order):
                if self._fill_delay:
                    await asyncio.sleep(self._fill_delay)
                else:
                    await asyncio.sleep(0)
                if order.finished:  # canceled meanwhile
                    break
                order.fills.append(fill)
                self._save()
                yield fill
        finally:
            if not order.finished:
                order.status = self._final_status(order)
                self._save()
            order.done.set()

    async def get_order(self, order_id: str) -> OrderState:
        order = self._order(order_id)
        filled = order.filled_quantity
        value = sum((f.value for f in order.fills), Decimal(0))
        status = order.status
        if order.fills and status == "accepted":
            status = "partially_filled"
        return OrderState(
            order_id=order_id,
            status=status,
            filled_quantity=filled,
            filled_avg_price=(value / filled) if filled else None,
            reason="remainder canceled" if status == "canceled" else None,
        )

    async def get_quote(self, symbol: str) -> QuoteModel | None:
        symbol = symbol.upper()
        if symbol in self._no_quote:
            return None
        mid = self._price(symbol)
        half = self._spread / 2
        return QuoteModel(
            bid_price=mid - half,
            ask_price=mid + half,
            bid_size=Decimal(100),
            ask_size=Decimal(100),
            timestamp=as_utc(self._clock()),
        )

    async def order_executions(self, client_order_id: str) -> OrderExecutions | None:
        """The order placed under ``client_order_id`` and its fills so far, or ``None``."""
        order_id = self._by_client_id.get(client_order_id)
        if order_id is None:
            return None
        state = await self.get_order(order_id)
        fills = tuple(self._orders[order_id].fills)
        return OrderExecutions(client_order_id, order_id, state.status, fills)

    async def cancel_order(self, order_id: str) -> None:
        """Cancel the rest of an open order; a finished order stays as it is."""
        order = self._order(order_id)
        if not order.finished:
            order.status = "filled" if order.filled_quantity >= order.quantity else "canceled"
            self._save()

    async def fill_activities(self, after: datetime, until: datetime) -> list[Fill]:
        """Every fill so far with ``after <= filled_at < until``, oldest first."""
        start, end = as_utc(after), as_utc(until)
        fills = [f for o in self._orders.values() for f in o.fills if start <= f.filled_at < end]
        return sorted(fills, key=lambda f: f.filled_at)

    # -- simulation ----------------------------------------------------------------------

    def _order(self, order_id: str) -> _SimOrder:
        try:
            return self._orders[order_id]
        except KeyError:
            raise BrokerError(f"unknown order {order_id}") from None

    def _price(self, symbol: str) -> Decimal:
        if symbol not in self._mid:
            self._mid[symbol] = reference_price(symbol)
        return self._mid[symbol]

    def _fill_price(self, symbol: str, side: Side, step: int) -> Decimal:
        """A buy pays the ask, a sell gets the bid, ``step`` ticks along the trade."""
        mid = self._price(symbol) + self._tick * step * side.sign
        return mid + self._spread / 2 * side.sign

    def _fill(self, order: _SimOrder) -> Iterable[Fill]:
        """Yield fills one by one, moving the market as each happens."""
        request = order.ticket.request
        symbol = request.symbol.upper()
        to_fill = whole_increments(order.quantity * order.fraction)
        parts = order.parts
        base = whole_increments(to_fill / parts)
        remaining = to_fill - order.filled_quantity
        done = {f.execution_id for f in order.fills}
        for index in range(parts):
            quantity = tidy(remaining) if index == parts - 1 else base
            order_id = order.ticket.order_id or ""
            if quantity <= 0 or f"{order_id}-x{index + 1}" in done:
                continue
            if index:
                self._mid[symbol] = self._price(symbol) + self._tick * request.side.sign
            price = self._fill_price(symbol, request.side, 0)
            remaining -= quantity
            yield Fill(
                order_id=order_id,
                execution_id=f"{order_id}-x{index + 1}",
                symbol=symbol,
                side=request.side,
                quantity=quantity,
                price=price,
                filled_at=as_utc(self._clock()),
                order_type=request.order_type.upper(),
            )

    @staticmethod
    def _final_status(order: _SimOrder) -> str:
        return "filled" if order.filled_quantity >= order.quantity else "canceled"
