"""Ledger events as plain JSON-ready records, and back: the exchange format for archives.

A record is an envelope (``type``, ``version``, ``ledger_id``, ``sequence``, ``timestamp``)
followed by the event's fields in the same JSON form the event store uses (``event_codec``):
Decimals as strings, datetimes ISO-8601 UTC, so a record round-trips exactly. Older
records are upcast with the event class's ``upcast_vN_vN+1`` functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger_domain import values
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
    "PlanAttached": Ledger.PlanAttached,
    "OrderPlaced": Ledger.OrderPlaced,
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
    """The ledger event a record describes; raises ``InvalidEventStreamError`` if malformed.

    Records come from outside (archives an auditor replays), so a fill's values are held
    to the same rules as when it was recorded: a record the ledger could never have
    written is refused, not replayed.
    """
    try:
        cls = EVENT_TYPES.get(record["type"])
        if cls is None:
            raise ValueError(f"unknown event type {record['type']!r}")
        names, converted = _payload_fields(cls)
        version = record.get("version", 1)
        class_version = getattr(cls, "class_version", 1)
        if type(version) is not int or not 1 <= version <= class_version:
            raise ValueError(f"version {version!r} of {record['type']} is not 1..{class_version}")
        if version != class_version:
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
        sequence = record["sequence"]
        if type(sequence) is not int or sequence < 1:
            raise ValueError(f"sequence {sequence!r} is not a whole number >= 1")
        kwargs["originator_id"] = _uuid(record["ledger_id"])
        kwargs["originator_version"] = sequence
        kwargs["timestamp"] = to_datetime(record["timestamp"])
        if cls is Ledger.FillRecorded:
            _check_fill(kwargs, written_now=version >= _CURRENT_FILL_RULES)
        elif cls is Ledger.Opened:
            kwargs["originator_topic"] = _LEDGER_TOPIC
            _check_opened(kwargs)
        elif cls is Ledger.Closed:
            if kwargs["closed_at"] is None:
                raise ValueError("closed_at is missing")
        elif cls is Ledger.PlanAttached:
            _check_plan(kwargs)
        else:
            _check_order_placed(kwargs)
        # Built as eventsourcing's mapper builds stored events: no dataclass __init__,
        # which costs more than the decoding when an auditor verifies archives in bulk.
        event: Ledger.Event = object.__new__(cls)
        object.__setattr__(event, "__dict__", kwargs)
        return event
    except Exception as error:  # whatever a foreign record makes fail, it is malformed
        raise InvalidEventStreamError(f"malformed event record: {error!r}") from error


def _check_fill(state: dict[str, Any], *, written_now: bool = True) -> None:
    """The fill a record states, as the ledger's recording rules would have taken it.

    The typed conversion already made the side a ``Side``, the times UTC datetimes, the
    decimals finite plain text and the weights a valid attribution (``event_codec``); the
    rest is checked here, inline (auditors verify archives in bulk), with the same limits
    as ``values``: the record must be what the ledger itself would have written.

    Version-1 records were written by the first release, whose text rules were looser
    (ids and symbols only stripped and non-empty): they are held to those, so a run that
    release archived correctly still verifies.
    """
    for name in _ID_FIELDS:
        text = state[name]
        if type(text) is not str or not text or (written_now and len(text) > values.MAX_ID_LENGTH):
            raise ValueError(f"{name} {text!r} is not an id the ledger records")
        if written_now and not values.is_plain_text(text):
            raise ValueError(f"{name} {text!r} is not an id the ledger records")
        if not written_now and text != text.strip():
            raise ValueError(f"{name} {text!r} has outer spaces no release recorded")
    symbol = state["symbol"]
    if symbol != symbol.upper() or (
        written_now and (not symbol.isascii() or len(symbol) > values.MAX_SYMBOL_LENGTH)
    ):
        raise ValueError(f"symbol {symbol!r} is not as the ledger records symbols")
    order_type = state["order_type"]
    if not written_now:
        if type(order_type) is not str or not order_type or order_type != order_type.upper():
            raise ValueError(f"order type {order_type!r} is not as the ledger records it")
    elif order_type not in _ORDER_TYPES_SEEN:
        if type(order_type) is not str or values.order_type(order_type) != order_type:
            raise ValueError(f"order type {order_type!r} is not as the ledger records it")
        if len(_ORDER_TYPES_SEEN) < 64:
            _ORDER_TYPES_SEEN.add(order_type)
    bid, ask = state["bid"], state["ask"]
    for name, amount in (
        ("quantity", state["quantity"]),
        ("price", state["price"]),
        ("bid", bid),
        ("ask", ask),
    ):
        if amount is None and name in ("bid", "ask"):
            continue
        if (
            type(amount) is not Decimal
            or amount <= 0
            or not values.has_allowed_magnitude(amount)
            or not values.has_allowed_digits(amount)
        ):
            raise ValueError(f"{name} {amount} is not an amount the ledger records")
    if bid is not None and ask is not None and bid > ask:
        raise ValueError(f"bid {bid} is above ask {ask}")
    for name in ("side", "filled_at", "strategy_weights", "set_aside"):
        if state[name] is None:
            raise ValueError(f"{name} is missing")


_CURRENT_FILL_RULES = 2
"""Fill records from this version on were written under today's text rules."""
_ID_FIELDS = ("order_id", "execution_id", "correlation_id", "symbol")
_ORDER_TYPES_SEEN: set[str] = set()


def _check_plan(state: dict[str, Any]) -> None:
    """A plan as ``attach_plan`` records it: ids, upper-case symbols, texts set aside."""
    for name in ("plan_id", "correlation_id"):
        values.identifier(state[name], name)
    attribution = state["strategy_attribution"]
    if attribution is None or state["set_aside"] is None:
        raise ValueError("strategy_attribution and set_aside are required")
    for symbol, weights in attribution.items():
        if values.symbol(symbol, "strategy_attribution") != symbol or not weights:
            raise ValueError(f"attribution of {symbol!r} is not as the ledger records it")


def _check_order_placed(state: dict[str, Any]) -> None:
    """An order as ``order_placed`` records it: exactly one positive size, valid names."""
    values.identifier(state["client_order_id"], "client_order_id")
    symbol = state["symbol"]
    if values.symbol(symbol) != symbol:
        raise ValueError(f"symbol {symbol!r} is not as the ledger records symbols")
    if values.order_type(state["order_type"]) != state["order_type"]:
        raise ValueError(f"order type {state['order_type']!r} is not as the ledger records it")
    sizes = [state[name] for name in ("quantity", "notional") if state[name] is not None]
    if len(sizes) != 1:
        raise ValueError("an order has exactly one of quantity or notional")
    if sizes[0] <= 0 or not values.has_allowed_magnitude(sizes[0]):
        raise ValueError(f"order size {sizes[0]} is not one the ledger records")
    for name in ("side", "placed_at"):
        if state[name] is None:
            raise ValueError(f"{name} is missing")


def _check_opened(state: dict[str, Any]) -> None:
    if state["opened_at"] is None:
        raise ValueError("opened_at is missing")
    # Any text: the first release took the run's correlation id as given, unchecked, and
    # its runs must still verify (fills' correlation ids are checked as recorded).
    if state["correlation_id"] is not None and type(state["correlation_id"]) is not str:
        raise ValueError("correlation_id is not text")
