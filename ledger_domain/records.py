"""Ledger events as plain JSON-ready records, and back: the exchange format for archives.

Decimals become strings and datetimes ISO-8601 UTC strings, so a record round-trips
exactly. A record carries its event's ``class_version``; older records are upcast with
the event class's ``upcast_vN_vN+1`` static methods (eventsourcing's convention).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger_domain.aggregate import Ledger
from ledger_domain.errors import InvalidEventStreamError
from ledger_domain.models import as_utc

EVENT_TYPES: dict[str, type[Ledger.Event]] = {
    "Opened": Ledger.Opened,
    "FillRecorded": Ledger.FillRecorded,
    "Closed": Ledger.Closed,
}
_DECIMALS = frozenset({"quantity", "price", "bid", "ask"})
_DATETIMES = frozenset({"opened_at", "quote_time", "fill_time", "closed_at"})
_ENVELOPE = ("type", "version", "ledger_id", "sequence", "timestamp")
_LEDGER_TOPIC = get_topic(Ledger)


def event_type(event: object) -> str:
    """The record type name of a ledger event."""
    for name, cls in EVENT_TYPES.items():
        if type(event) is cls:
            return name
    raise InvalidEventStreamError(f"not a ledger event: {type(event).__name__}")


def to_record(event: Any) -> dict[str, Any]:
    """A JSON-ready dict of one ledger event (envelope first, then its fields)."""
    name = event_type(event)
    record: dict[str, Any] = {
        "type": name,
        "version": getattr(type(event), "class_version", 1),
        "ledger_id": str(event.originator_id),
        "sequence": event.originator_version,
        "timestamp": _encode(event.timestamp),
    }
    for field, value in vars(event).items():
        if field in ("originator_id", "originator_version", "timestamp", "originator_topic"):
            continue
        record[field] = _encode(value)
    return record


def from_record(record: Mapping[str, Any]) -> Ledger.Event:
    """The ledger event a record describes; raises ``InvalidEventStreamError`` if malformed."""
    try:
        cls = EVENT_TYPES[record["type"]]
        state = {k: v for k, v in record.items() if k not in _ENVELOPE}
        from_version = int(record.get("version", 1))
        class_version = getattr(cls, "class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        kwargs = {field: _decode(field, value) for field, value in state.items()}
        kwargs["originator_id"] = UUID(str(record["ledger_id"]))
        kwargs["originator_version"] = int(record["sequence"])
        kwargs["timestamp"] = _decode("timestamp", record["timestamp"])
        if cls is Ledger.Opened:
            kwargs["originator_topic"] = _LEDGER_TOPIC
        return cls(**kwargs)
    except InvalidEventStreamError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as error:
        raise InvalidEventStreamError(f"malformed event record: {error!r}") from error


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in _DECIMALS:
        return _decimal(value)
    if field in _DATETIMES or field == "timestamp":
        return as_utc(datetime.fromisoformat(value))
    if field == "strategy_weights":
        return {name: _decimal(weight) for name, weight in value.items()}
    return value


def _decimal(value: Any) -> Decimal:
    """Only strings: a JSON float would already have lost exactness."""
    if not isinstance(value, str):
        raise TypeError(f"decimal values are strings, got {type(value).__name__}")
    return Decimal(value)
