"""The simulated broker's state file: its orders and fills as JSON, so they outlive a process.

Written whole or not at all (a temporary file, fsync'd, then renamed over the old one), so
a process killed mid-write leaves the previous state. Held by one process at a time: an
exclusive ``flock`` on ``<file>.lock`` for the broker's life (the system drops it when the
process dies, even by SIGKILL). Decimals are strings and times ISO-8601 UTC, so a state
reads back exactly; a file that is not such a state is refused with ``BrokerError``.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, NamedTuple

from adapters.brokers.port import BrokerError, OrderRequest, OrderTicket
from ledger_domain import Fill, Side
from ledger_domain.models import as_utc

FORMAT = "trade-ledger-simulated-broker/1"
MAX_STATE_BYTES = 64 * 1024 * 1024
"""A state file larger than this is refused (memory stays bounded)."""


class SavedOrder(NamedTuple):
    ticket: OrderTicket
    quantity: Decimal
    parts: int
    fraction: Decimal
    fills: tuple[Fill, ...]
    status: str

    @property
    def order_id(self) -> str:
        return self.ticket.order_id or ""


class SavedState(NamedTuple):
    sequence: int
    mid: dict[str, Decimal]
    orders: list[SavedOrder]


def _time(value: datetime) -> str:
    return as_utc(value).isoformat()


def _fill_json(fill: Fill) -> dict[str, Any]:
    return {
        "order_id": fill.order_id,
        "execution_id": fill.execution_id,
        "symbol": fill.symbol,
        "side": str(fill.side),
        "quantity": str(fill.quantity),
        "price": str(fill.price),
        "filled_at": _time(fill.filled_at),
        "order_type": fill.order_type,
    }


def _order_json(order: SavedOrder) -> dict[str, Any]:
    request, ticket = order.ticket.request, order.ticket
    return {
        "order_id": ticket.order_id,
        "client_order_id": request.client_order_id,
        "symbol": request.symbol,
        "side": str(request.side),
        "quantity": None if request.quantity is None else str(request.quantity),
        "notional": None if request.notional is None else str(request.notional),
        "order_type": request.order_type,
        "submitted_at": _time(ticket.submitted_at),
        "to_fill": str(order.quantity),
        "parts": order.parts,
        "fraction": str(order.fraction),
        "status": order.status,
        "fills": [_fill_json(f) for f in order.fills],
    }


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a decimal string")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{value!r} is not finite")
    return result


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else _decimal(value)


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time")
    return as_utc(datetime.fromisoformat(value))


def _fill(raw: Mapping[str, Any]) -> Fill:
    return Fill(
        order_id=str(raw["order_id"]),
        execution_id=str(raw["execution_id"]),
        symbol=str(raw["symbol"]),
        side=Side(raw["side"]),
        quantity=_decimal(raw["quantity"]),
        price=_decimal(raw["price"]),
        filled_at=_datetime(raw["filled_at"]),
        order_type=str(raw["order_type"]),
    )


def _order(raw: Mapping[str, Any]) -> SavedOrder:
    request = OrderRequest(
        symbol=str(raw["symbol"]),
        side=Side(raw["side"]),
        quantity=_optional_decimal(raw["quantity"]),
        notional=_optional_decimal(raw["notional"]),
        order_type=str(raw["order_type"]),
        client_order_id=raw["client_order_id"],
    )
    ticket = OrderTicket(request, str(raw["order_id"]), "accepted", _datetime(raw["submitted_at"]))
    parts = raw["parts"]
    if type(parts) is not int or parts < 1:
        raise ValueError(f"parts {parts!r} is not a whole number >= 1")
    return SavedOrder(
        ticket=ticket,
        quantity=_decimal(raw["to_fill"]),
        parts=parts,
        fraction=_decimal(raw["fraction"]),
        fills=tuple(_fill(f) for f in raw["fills"]),
        status=str(raw["status"]),
    )


def write_atomic(path: Path, body: bytes) -> None:
    """Replace ``path`` with ``body`` whole or not at all (temporary file, fsync, rename)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


class StateFile:
    """One broker's state file, locked for this process from construction on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: IO[bytes] | None = None
        self._acquire()

    def _acquire(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock_path, "ab")  # noqa: SIM115  (held for the broker's life)
        except OSError as error:
            raise BrokerError(f"broker state {self.path}: {error}") from error
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise BrokerError(f"broker state {self.path} is in use by another process") from None
        self._lock = handle

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def load(self) -> SavedState | None:
        """The saved state; ``None`` when there is no file yet."""
        try:
            with open(self.path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size > MAX_STATE_BYTES:
                    raise BrokerError(f"broker state {self.path} is over {MAX_STATE_BYTES} bytes")
                body = handle.read(MAX_STATE_BYTES + 1)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise BrokerError(f"broker state {self.path} is a directory") from None
        except OSError as error:
            raise BrokerError(f"broker state {self.path}: {error}") from error
        try:
            raw = json.loads(body)
            if raw.get("format") != FORMAT:
                raise ValueError(f"format is {raw.get('format')!r}, not {FORMAT!r}")
            sequence = raw["sequence"]
            if type(sequence) is not int or sequence < 0:
                raise ValueError(f"sequence {sequence!r} is not a whole number")
            mid = {str(s): _decimal(p) for s, p in raw["mid"].items()}
            orders = [_order(o) for o in raw["orders"]]
        except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as error:
            raise BrokerError(f"broker state {self.path} is not readable: {error}") from None
        return SavedState(sequence, mid, orders)

    def save(self, sequence: int, mid: Mapping[str, Decimal], orders: list[SavedOrder]) -> None:
        document = {
            "format": FORMAT,
            "sequence": sequence,
            "mid": {symbol: str(price) for symbol, price in mid.items()},
            "orders": [_order_json(o) for o in orders],
        }
        body = json.dumps(document, indent=1).encode()
        try:
            write_atomic(self.path, body)
        except OSError as error:
            raise BrokerError(f"broker state {self.path} not saved: {error}") from error
