"""The broker port: what the executor and reconciliation need from a broker, nothing more.

Two adapters implement it: ``adapters.brokers.alpaca.AlpacaBroker`` (alpaca-py's
``TradingClient`` and market data client) and ``adapters.brokers.simulated.SimulatedBroker``
(the demo and tests). Everything crossing the port is exact: quantities and prices are ``Decimal``,
times are timezone-aware UTC.

Brokers speak the ledger's vocabulary: an execution is reported as ``ledger_domain.Fill``
(a whole order reported as one fill has ``execution_id == order_id``), handed to
``TradeLedgerService.record_fill`` as is; a side is ``ledger_domain.Side``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from hashlib import sha256
from typing import Protocol, runtime_checkable

from ledger_domain import Fill, QuoteModel, Side

TERMINAL_STATUSES = frozenset(
    {"filled", "canceled", "expired", "rejected", "replaced", "done_for_day", "stopped"}
)
"""Order statuses after which no further execution arrives (Alpaca's names)."""

CLIENT_ORDER_ID_MAX = 128
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


class BrokerError(Exception):
    """The broker could not be reached or answered something unusable (not a rejection)."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order to place: exactly one of ``quantity`` (shares) or ``notional`` (dollars)."""

    symbol: str
    side: Side
    quantity: Decimal | None = None
    notional: Decimal | None = None
    order_type: str = "MARKET"
    limit_price: Decimal | None = None
    client_order_id: str | None = None

    def __post_init__(self) -> None:
        try:  # ``"BUY"`` from an untyped caller becomes ``Side.BUY``; anything else is refused
            object.__setattr__(self, "side", Side(self.side))
        except ValueError:
            raise ValueError(f"side must be BUY or SELL, got {self.side!r}") from None
        if (self.quantity is None) == (self.notional is None):
            raise ValueError("give exactly one of quantity or notional")
        amount = self.quantity if self.quantity is not None else self.notional
        if amount is None or not amount.is_finite() or amount <= 0:
            raise ValueError(f"order size must be a finite number > 0, got {amount}")
        if self.order_type.upper() in ("LIMIT", "STOP_LIMIT") and self.limit_price is None:
            raise ValueError(f"a {self.order_type} order needs a limit_price")


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """The broker's answer to a submission. A rejection is a ticket, not an exception."""

    request: OrderRequest
    order_id: str | None
    status: str
    submitted_at: datetime
    reason: str | None = None

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"

    @property
    def symbol(self) -> str:
        return self.request.symbol


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the broker sees it now (what was filled, not what was asked)."""

    order_id: str
    status: str
    filled_quantity: Decimal
    filled_avg_price: Decimal | None
    reason: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@runtime_checkable
class Broker(Protocol):
    """Place orders, observe their executions as they happen, quote a symbol now."""

    async def submit_order(self, request: OrderRequest) -> OrderTicket:
        """Place an order. Rejections come back as a ticket with ``status == "rejected"``;
        ``BrokerError`` (or any exception) means the outcome is unknown."""
        ...

    def executions(self, ticket: OrderTicket) -> AsyncIterator[Fill]:
        """The order's fills as they happen; ends when the order is terminal.

        Iterating again may repeat fills already seen (same ``execution_id``): recording
        them again is a no-op in the ledger.
        """
        ...

    async def get_order(self, order_id: str) -> OrderState:
        """The order's current state."""
        ...

    async def get_quote(self, symbol: str) -> QuoteModel | None:
        """The latest bid/ask, or ``None`` when the broker has no quote for the symbol."""
        ...


@dataclass(frozen=True, slots=True)
class OrderExecutions:
    """One order as the broker knows it now, found by its client order id: every execution
    so far (oldest first) and its status (``terminal`` once no further fill can come)."""

    client_order_id: str
    order_id: str
    status: str
    fills: tuple[Fill, ...]

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@runtime_checkable
class OrderHistory(Protocol):
    """What recovery and a stopping run need: an order's executions by client order id,
    and a way to cancel what is still open."""

    async def order_executions(self, client_order_id: str) -> OrderExecutions | None:
        """The order placed under ``client_order_id`` and its executions so far; ``None``
        when the broker has no such order (it was never placed)."""
        ...

    async def cancel_order(self, order_id: str) -> None:
        """Cancel what is left of an open order (a finished order stays as it is)."""
        ...


@runtime_checkable
class FillHistory(Protocol):
    """The broker's record of fills (Alpaca: account activities of type FILL)."""

    async def fill_activities(self, after: datetime, until: datetime) -> list[Fill]:
        """Every fill with ``after <= filled_at < until``, oldest first, each with the
        broker's own id of it as ``execution_id``."""
        ...


def client_order_id(*parts: str) -> str:
    """A deterministic client order id from its parts, safe for Alpaca (<= 128 chars).

    The same plan placing the same order twice gets the same id, so the broker refuses the
    duplicate (Alpaca answers 422) instead of trading twice.
    """
    text = "-".join(_UNSAFE_ID.sub("_", part.strip()) for part in parts if part)
    if len(text) <= CLIENT_ORDER_ID_MAX:
        return text
    digest = sha256(text.encode()).hexdigest()[:16]
    return f"{text[: CLIENT_ORDER_ID_MAX - 17]}-{digest}"
