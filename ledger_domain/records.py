"""Ledger events as plain JSON-ready records, and back: the exchange format for archives.

A record is an envelope (``type``, ``version``, ``ledger_id``, ``sequence``, ``timestamp``)
followed by the event's fields in the same JSON form the event store uses (``event_codec``):
Decimals as strings, datetimes ISO-8601 UTC, so a record round-trips exactly. Older
records are upcast with the event class's ``upcast_vN_vN+1`` functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import InvalidOperation
from functools import cache, lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger_domain.aggregate import Ledger
from ledger_domain.errors import InvalidEventStreamError
from ledger_domain.event_codec import (
    Converter,
    field_converters,
    plain_state,
    to_datetime,
    typed_state,
)

EVENT_TYPES: dict[str, type[Ledger.Event]] = {
    "Opened": Ledger.Opened,
    "FillRecorded": Ledger.FillRecorded,
    "Closed": Ledger.Closed,
}
_TYPE_NAMES: dict[type, str] = {cls: name for name, cls in EVENT_TYPES.items()}
_ENVELOPE = ("type", "version", "ledger_id", "sequence", "timestamp")
_ENVELOPE_SET = frozenset(_ENVELOPE)
_NOT_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")
_LEDGER_TOPIC = get_topic(Ledger)


def event_type(event: object) -> str:
    """The record type name of a ledger event."""
    try:
        return _TYPE_NAMES[type(event)]
    except KeyError:
        raise InvalidEventStreamError(f"not a ledger event: {type(event).__name__}") from None


def to_record(event: Any) -> dict[str, Any]:
    """A JSON-ready dict of one ledger event (envelope first, then its fields)."""
    state = vars(event)
    fields = plain_state({k: v for k, v in state.items() if k not in _NOT_FIELDS})
    return {
        "type": event_type(event),
        "version": getattr(type(event), "class_version", 1),
        "ledger_id": str(event.originator_id),
        "sequence": event.originator_version,
        "timestamp": plain_state({"t": event.timestamp})["t"],
        **fields,
    }


@lru_cache(maxsize=1024)
def _uuid(text: Any) -> UUID:
    """Every record of a run repeats its ledger id: parse it once."""
    return UUID(str(text))


@cache
def _payload_fields(cls: type) -> tuple[tuple[str, ...], tuple[tuple[str, Converter], ...]]:
    """The event's own fields in declared order, and those of them to convert."""
    converters = field_converters(cls)
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in _NOT_FIELDS)
    return names, tuple((name, converters[name]) for name in names if name in converters)


def from_record(record: Mapping[str, Any]) -> Ledger.Event:
    """The ledger event a record describes; raises ``InvalidEventStreamError`` if malformed."""
    try:
        cls = EVENT_TYPES[record["type"]]
        names, converted = _payload_fields(cls)
        version = int(record.get("version", 1))
        if version != getattr(cls, "class_version", 1):
            envelope = {k: v for k, v in record.items() if k in _ENVELOPE_SET}
            state = {k: v for k, v in record.items() if k not in _ENVELOPE_SET}
            record = {**envelope, **typed_state(cls, state, version)}
            converted = ()  # typed by the upcast path
        # Declared order (records and documents keep it); a missing field is a KeyError.
        kwargs: dict[str, Any] = {name: record[name] for name in names}
        for name, convert in converted:
            value = kwargs[name]
            if value is not None:
                kwargs[name] = convert(value)
        if len(record) != len(kwargs) + len(_ENVELOPE):  # cheap test first, details if off
            unexpected = record.keys() - kwargs.keys() - _ENVELOPE_SET
            if unexpected:
                raise ValueError(f"unexpected fields {sorted(unexpected)}")
        kwargs["originator_id"] = _uuid(record["ledger_id"])
        kwargs["originator_version"] = int(record["sequence"])
        kwargs["timestamp"] = to_datetime(record["timestamp"])
        if cls is Ledger.Opened:
            kwargs["originator_topic"] = _LEDGER_TOPIC
        # Built as eventsourcing's mapper builds stored events: no dataclass __init__,
        # which costs more than the decoding when an auditor verifies archives in bulk.
        event: Ledger.Event = object.__new__(cls)
        object.__setattr__(event, "__dict__", kwargs)
        return event
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as error:
        raise InvalidEventStreamError(f"malformed event record: {error!r}") from error
