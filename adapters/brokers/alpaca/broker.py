"""The broker port on alpaca-py: ``TradingClient`` for orders and fills, the stock market
data client for quotes. alpaca-py is synchronous; every call runs in a worker thread so
the event loop keeps going.

Fills are observed in one of two ways:

* **Polling** (default): the order is polled every ``poll_interval`` seconds; whenever its
  ``filled_qty`` grows, the account's fill activities since the order's submission are
  read and each new one becomes a ``Fill`` (real execution id, quantity, price and
  ``transaction_time``). If the order is finished but its activities never account for
  the filled quantity, the rest is reported from the order itself (see ``_remainder``).
  A failed poll (rate limit, network blip) is retried with backoff, up to
  ``max_poll_errors`` failures in a row. Alpaca allows about 200 requests a minute: for
  many concurrent orders prefer trade updates.
* **Trade updates**: with ``trade_updates=True``, register :meth:`handle_trade_update` on
  alpaca-py's ``TradingStream`` (``stream.subscribe_trade_updates(broker.handle_trade_update)``);
  each ``fill``/``partial_fill`` event is a ``Fill`` as it happens.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.brokers.alpaca.activities import MAX_PAGE_SIZE, fetch_fill_activities
from adapters.brokers.alpaca.mapping import (
    AlpacaMappingError,
    enum_text,
    exact_decimal,
    order_fill,
    order_type_of,
    quote_model,
    trade_update_fill,
)
from adapters.brokers.alpaca.settings import AlpacaSettings
from adapters.brokers.port import (
    BrokerError,
    OrderExecutions,
    OrderRequest,
    OrderState,
    OrderTicket,
)
from ledger_domain import Fill, QuoteModel, Side
from ledger_domain.models import as_utc

logger = logging.getLogger(__name__)

TERMINAL_EVENTS = frozenset({"fill", "canceled", "expired", "rejected", "done_for_day", "replaced"})
_REJECTION_STATUSES = frozenset({403, 422})
_REMAINDER_PRICE = Decimal("0.000001")
MAX_BACKOFF = 30.0
MAX_BUFFERED_ORDERS = 1000
"""Trade updates of orders nobody watches (yet) are buffered for at most this many orders."""


def _api_error_message(error: Exception) -> str:
    text = str(error)
    try:
        payload = json.loads(text)
    except (TypeError, ValueError):
        return text
    if isinstance(payload, dict) and payload.get("message"):
        return str(payload["message"])
    return text


def _status_code(error: Exception) -> int | None:
    code = getattr(error, "status_code", None)
    return code if isinstance(code, int) else None


class AlpacaBroker:
    """Alpaca behind the broker port."""

    def __init__(
        self,
        trading_client: Any,
        data_client: Any | None = None,
        *,
        poll_interval: float = 1.0,
        time_in_force: str = "day",
        data_feed: str | None = None,
        trade_updates: bool = False,
        activity_attempts: int = 5,
        activity_page_size: int = MAX_PAGE_SIZE,
        max_poll_errors: int = 8,
    ) -> None:
        self.trading_client = trading_client
        self.data_client = data_client
        self._poll = poll_interval
        self._tif = time_in_force
        self._feed = data_feed
        self._trade_updates = trade_updates
        self._activity_attempts = max(1, activity_attempts)
        self._page_size = activity_page_size
        self._max_poll_errors = max_poll_errors
        self._queues: dict[str, asyncio.Queue[Fill | None]] = {}
        self._watching: set[str] = set()

    @classmethod
    def from_settings(cls, settings: AlpacaSettings | None = None, **options: Any) -> AlpacaBroker:
        """Clients from ``ALPACA_*`` settings (raises ``AlpacaConfigError`` without keys)."""
        settings = settings or AlpacaSettings()
        options.setdefault("poll_interval", settings.poll_interval)
        options.setdefault("data_feed", settings.data_feed)
        return cls(settings.trading_client(), settings.data_client(), **options)

    # -- submitting ----------------------------------------------------------------------

    def _alpaca_request(self, request: OrderRequest) -> Any:
        from alpaca.trading.enums import OrderSide, TimeInForce  # noqa: PLC0415
        from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest  # noqa: PLC0415

        fields: dict[str, Any] = {
            "symbol": request.symbol.upper(),
            "side": OrderSide.BUY if request.side is Side.BUY else OrderSide.SELL,
            "time_in_force": TimeInForce(self._tif),
            "client_order_id": request.client_order_id,
        }
        if request.quantity is not None:
            fields["qty"] = float(request.quantity)
        else:
            fields["notional"] = float(request.notional or 0)
        order_type = request.order_type.upper()
        if order_type == "MARKET":
            return MarketOrderRequest(**fields)
        if order_type == "LIMIT":
            return LimitOrderRequest(limit_price=float(request.limit_price or 0), **fields)
        raise ValueError(f"order type {request.order_type} is not supported by this adapter")

    async def submit_order(self, request: OrderRequest) -> OrderTicket:
        from alpaca.common.exceptions import APIError  # noqa: PLC0415

        alpaca_request = self._alpaca_request(request)
        try:
            order = await asyncio.to_thread(self.trading_client.submit_order, alpaca_request)
        except APIError as error:
            status, message = _status_code(error), _api_error_message(error)
            duplicate = status == 422 and "client_order_id" in message.lower()
            if duplicate and request.client_order_id:
                logger.warning(
                    "order %s already placed; watching it instead", request.client_order_id
                )
                order = await self._call(
                    self.trading_client.get_order_by_client_id, request.client_order_id
                )
            elif status in _REJECTION_STATUSES:
                return OrderTicket(request, None, "rejected", datetime.now(UTC), message)
            else:
                order = await self._placed_anyway(request, message, error)
        except OSError as error:
            order = await self._placed_anyway(request, str(error), error)
        order_status = enum_text(order.status).lower()
        submitted = order.submitted_at or order.created_at
        reason = "rejected by the broker" if order_status == "rejected" else None
        return OrderTicket(request, str(order.id), order_status, as_utc(submitted), reason)

    async def _placed_anyway(self, request: OrderRequest, message: str, error: Exception) -> Any:
        """The answer to a submission was lost or an error: did the order reach Alpaca?

        Looks the order up by its client order id; found, it is watched like any other.
        """
        if not request.client_order_id:
            raise BrokerError(f"order for {request.symbol} not placed: {message}") from error
        try:
            order = await self._call(
                self.trading_client.get_order_by_client_id, request.client_order_id
            )
        except BrokerError as lookup:
            raise BrokerError(
                f"order for {request.symbol}: {message}; not found by client order id "
                f"{request.client_order_id} ({lookup})"
            ) from error
        logger.warning(
            "order %s: submission answered %r but the order exists; watching it",
            request.client_order_id,
            message,
        )
        return order

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        from alpaca.common.exceptions import APIError  # noqa: PLC0415

        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except APIError as error:
            raise BrokerError(f"Alpaca answered: {_api_error_message(error)}") from error
        except OSError as error:
            raise BrokerError(f"Alpaca unreachable: {error}") from error
        except AlpacaMappingError as error:
            raise BrokerError(f"Alpaca sent an unusable payload: {error}") from error

    # -- orders --------------------------------------------------------------------------

    async def _order(self, order_id: str) -> Any:
        return await self._call(self.trading_client.get_order_by_id, order_id)

    async def get_order(self, order_id: str) -> OrderState:
        return self._state(await self._order(order_id))

    @staticmethod
    def _state(order: Any) -> OrderState:
        return OrderState(
            order_id=str(order.id),
            status=enum_text(order.status).lower(),
            filled_quantity=exact_decimal(order.filled_qty, "filled_qty") or Decimal(0),
            filled_avg_price=exact_decimal(order.filled_avg_price, "filled_avg_price"),
        )

    # -- executions ----------------------------------------------------------------------

    async def executions(self, ticket: OrderTicket) -> AsyncIterator[Fill]:
        if ticket.order_id is None or ticket.rejected:
            return
        if self._trade_updates:
            async for fill in self._streamed(ticket.order_id):
                yield fill
            return
        async for fill in self._polled(ticket):
            yield fill

    async def _polled(self, ticket: OrderTicket) -> AsyncIterator[Fill]:
        order_id = ticket.order_id or ""
        seen: dict[str, Fill] = {}
        seen_quantity = Decimal(0)
        short_reads = 0
        failures = 0
        while True:
            try:
                order = await self._order(order_id)
                state = self._state(order)
                fresh = (
                    await self._order_fills(order_id, ticket.submitted_at)
                    if state.filled_quantity > seen_quantity
                    else []
                )
            except BrokerError as error:  # a rate limit or a blip: the order still exists
                failures += 1
                if failures > self._max_poll_errors:
                    raise
                delay = min(self._poll * 2**failures, MAX_BACKOFF)
                logger.warning(
                    "order %s: %s; polling again in %.1fs (%d/%d)",
                    order_id,
                    error,
                    delay,
                    failures,
                    self._max_poll_errors,
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            for fill in fresh:
                if fill.execution_id in seen:
                    continue
                seen[fill.execution_id] = fill
                seen_quantity += fill.quantity
                yield fill._replace(order_type=order_type_of(order))  # activities lack it
            if state.terminal:
                if seen_quantity >= state.filled_quantity:
                    return
                short_reads += 1
                if short_reads >= self._activity_attempts:
                    remainder = self._remainder(order, list(seen.values()), seen_quantity)
                    if remainder is not None:
                        yield remainder
                    return
            await asyncio.sleep(self._poll)

    async def _order_fills(self, order_id: str, submitted_at: datetime) -> list[Fill]:
        fills = await self._call(
            fetch_fill_activities,
            self.trading_client,
            after=submitted_at - timedelta(seconds=1),
            page_size=self._page_size,
        )
        return [f for f in fills if f.order_id == order_id]

    @staticmethod
    def _remainder(order: Any, seen: list[Fill], seen_quantity: Decimal) -> Fill | None:
        """What the finished order filled beyond the activities seen (activities lagging).

        With no activity seen, the whole order is one fill (its execution id is the order
        id). Otherwise the rest is one fill priced so the order's total matches its average
        price.
        """
        whole = order_fill(order)
        if whole is None:
            return None
        if not seen:
            logger.warning(
                "order %s: no fill activity found; recording the whole order", whole.order_id
            )
            return whole
        rest = whole.quantity - seen_quantity
        if rest <= 0:
            return None
        value = whole.value - sum((f.value for f in seen), Decimal(0))
        price = (value / rest).quantize(_REMAINDER_PRICE)
        logger.warning(
            "order %s: activities cover %s of %s; recording the remaining %s at %s",
            whole.order_id,
            seen_quantity,
            whole.quantity,
            rest,
            price,
        )
        return whole._replace(
            execution_id=f"{whole.order_id}:remainder", quantity=rest, price=price
        )

    # -- trade updates (TradingStream) ---------------------------------------------------

    def _queue(self, order_id: str) -> asyncio.Queue[Fill | None]:
        queue = self._queues.get(order_id)
        if queue is None:
            queue = self._queues[order_id] = asyncio.Queue()
            if len(self._queues) > MAX_BUFFERED_ORDERS:  # other bots' orders: forget the oldest
                stale = next(k for k in self._queues if k not in self._watching)
                del self._queues[stale]
        return queue

    async def handle_trade_update(self, update: Any) -> None:
        """Handler for ``TradingStream.subscribe_trade_updates``: route one update."""
        order_id = str(update.order.id)
        queue = self._queue(order_id)
        try:
            fill = trade_update_fill(update)
        except AlpacaMappingError as error:
            logger.error("trade update for order %s not usable: %s", order_id, error)
            fill = None
        if fill is not None:
            queue.put_nowait(fill)
        if enum_text(update.event).lower() in TERMINAL_EVENTS:
            queue.put_nowait(None)

    async def _streamed(self, order_id: str) -> AsyncIterator[Fill]:
        self._watching.add(order_id)
        queue = self._queue(order_id)
        seen: set[str] = set()
        seen_quantity = Decimal(0)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=max(self._poll, 1.0) * 10)
                except TimeoutError:  # a missed terminal message: ask the order itself
                    state = await self.get_order(order_id)
                    if state.terminal and state.filled_quantity <= seen_quantity:
                        return
                    continue
                if item is None:
                    return
                if item.execution_id in seen:  # a replayed message
                    continue
                seen.add(item.execution_id)
                seen_quantity += item.quantity
                yield item
        finally:
            self._watching.discard(order_id)
            self._queues.pop(order_id, None)

    # -- recovery: an order by its client order id, cancelling --------------------------

    async def order_executions(self, client_order_id: str) -> OrderExecutions | None:
        """``get_order_by_client_id``, then the order's fill activities since it was
        submitted (completed from the order itself if the activities lag, as when
        watching); ``None`` when Alpaca has no such order (HTTP 404)."""
        from alpaca.common.exceptions import APIError  # noqa: PLC0415

        try:
            order = await asyncio.to_thread(
                self.trading_client.get_order_by_client_id, client_order_id
            )
        except APIError as error:
            if _status_code(error) == 404:
                return None
            raise BrokerError(f"Alpaca answered: {_api_error_message(error)}") from error
        except OSError as error:
            raise BrokerError(f"Alpaca unreachable: {error}") from error
        state = self._state(order)
        order_id = str(order.id)
        fills: list[Fill] = []
        if state.filled_quantity > 0:
            submitted = as_utc(order.submitted_at or order.created_at)
            found = await self._order_fills(order_id, submitted)
            order_type = order_type_of(order)
            fills = [f._replace(order_type=order_type) for f in found]
            seen = sum((f.quantity for f in fills), Decimal(0))
            if seen < state.filled_quantity:
                remainder = self._remainder(order, fills, seen)
                if remainder is not None:
                    fills.append(remainder)
        return OrderExecutions(client_order_id, order_id, state.status, tuple(fills))

    async def cancel_order(self, order_id: str) -> None:
        """``cancel_order_by_id``; an order already finished (HTTP 422) stays as it is."""
        from alpaca.common.exceptions import APIError  # noqa: PLC0415

        try:
            await asyncio.to_thread(self.trading_client.cancel_order_by_id, order_id)
        except APIError as error:
            if _status_code(error) not in (404, 422):
                raise BrokerError(f"Alpaca answered: {_api_error_message(error)}") from error
        except OSError as error:
            raise BrokerError(f"Alpaca unreachable: {error}") from error

    # -- quotes and fill history ---------------------------------------------------------

    async def get_quote(self, symbol: str) -> QuoteModel | None:
        if self.data_client is None:
            return None
        from alpaca.data.requests import StockLatestQuoteRequest  # noqa: PLC0415

        fields: dict[str, Any] = {"symbol_or_symbols": symbol.upper()}
        if self._feed:
            fields["feed"] = self._feed
        quotes = await self._call(
            self.data_client.get_stock_latest_quote, StockLatestQuoteRequest(**fields)
        )
        return quote_model(quotes.get(symbol.upper())) if quotes else None

    async def fill_activities(self, after: datetime, until: datetime) -> list[Fill]:
        fills: list[Fill] = await self._call(
            fetch_fill_activities,
            self.trading_client,
            after=after,
            until=until,
            page_size=self._page_size,
        )
        return fills
