"""Typed JSON for ledger events: one codec for the event store and for archive records.

Event state is written by orjson in C: Decimals through ``Decimal.__str__`` (exact text),
datetimes natively as ISO-8601 with offset. Reading converts each field by the event
class's annotations, after running the class's ``upcast_vN_vN+1`` functions on the
JSON-level state (so upcasters see the same plain values in stored events and in records).
The stock tagged JSON transcoder cost more than everything else about storing a fill.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache, lru_cache
from typing import Any, Union, get_args, get_origin, get_type_hints

import orjson

from ledger_domain.frozen import FrozenDict
from ledger_domain.order_input import checked_weights
from ledger_domain.values import plain_decimal, utc_time

Converter = Callable[[Any], Any]


def encode_state(state: Mapping[str, Any]) -> bytes:
    """Compact JSON bytes of an event's state; refuses types it cannot write exactly."""
    return orjson.dumps(state, default=Decimal.__str__)


def plain_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-level form of an event's state (Decimals as text, datetimes ISO-8601)."""
    result: dict[str, Any] = orjson.loads(encode_state(state))
    return result


def decode_state(data: bytes) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(data)
    return result


def typed_state(cls: type, state: dict[str, Any], from_version: int) -> dict[str, Any]:
    """Upcast JSON-level ``state`` to ``cls``'s version, then type its fields (in place)."""
    class_version = getattr(cls, "class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    for name, convert in field_converters(cls).items():
        value = state.get(name)
        if value is not None:
            state[name] = convert(value)
    return state


@cache
def field_converters(cls: type) -> dict[str, Converter]:
    """Per field of ``cls`` that JSON cannot carry natively: how to rebuild its value."""
    converters: dict[str, Converter] = {}
    for name, hint in get_type_hints(cls).items():
        converter = _converter_for(hint)
        if converter is not None:
            converters[name] = converter
    return converters


def _converter_for(hint: Any) -> Converter | None:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _converter_for(options[0]) if len(options) == 1 else None
    if hint is Decimal:
        return to_decimal
    if hint is datetime:
        return to_datetime
    if origin in (dict, FrozenDict):
        value_hint = get_args(hint)[1]
        if value_hint is Decimal:
            return to_decimal_map
        if value_hint is str:
            return to_text_map
        if get_origin(value_hint) in (dict, FrozenDict) and get_args(value_hint)[1:] == (Decimal,):
            return to_attribution
    if isinstance(hint, type) and issubclass(hint, Enum):
        # A table lookup (an unknown value is a KeyError): calling the enum class costs
        # more than the rest of typing a record.
        return {member.value: member for member in hint}.__getitem__
    return None


def to_decimal(value: Any) -> Decimal:
    """Only plain decimal text: a JSON number would already have lost exactness, and
    ``Decimal()`` alone would take " 5 ", "1_0", Unicode digits and NaN."""
    if type(value) is not str:
        raise TypeError(f"decimal values are strings, got {type(value).__name__}")
    return plain_decimal(value)


def to_datetime(value: Any) -> datetime:
    """ISO-8601 text with its offset, as UTC (a time that exists in UTC)."""
    if type(value) is not str:
        raise TypeError(f"datetimes are ISO-8601 strings, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no UTC offset")
    return parsed if parsed.tzinfo is UTC else utc_time(parsed, "datetime")


def to_decimal_map(value: Any) -> FrozenDict[str, Decimal]:
    """Strategy weights; a run repeats a few attributions, so each is converted once.

    The result is read-only, so sharing it between events cannot leak a change.
    """
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of decimals, got {type(value).__name__}")
    try:
        return _decimal_map(tuple(value.items()))
    except TypeError:  # an unhashable value: convert it uncached (and fail on it there)
        weights = FrozenDict({_key(key): to_decimal(item) for key, item in value.items()})
        return checked_weights(weights, "record") if weights else weights


@lru_cache(maxsize=4096)
def _decimal_map(items: tuple[tuple[Any, Any], ...]) -> FrozenDict[str, Decimal]:
    """Keyed on the JSON text itself (strings only), so equal keys mean identical input.

    Checked as an attribution once per distinct text: a stored weight the ledger would
    have refused when recording is refused when read.
    """
    weights = FrozenDict({_key(key): to_decimal(item) for key, item in items})
    return checked_weights(weights, "record") if weights else weights


def to_text_map(value: Any) -> FrozenDict[str, str]:
    """A read-only map of text to text (what a run set aside, and why)."""
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of strings, got {type(value).__name__}")
    for key, item in value.items():
        if type(item) is not str:
            raise TypeError(f"{key!r} maps to {type(item).__name__}, not a string")
    return FrozenDict({_key(key): item for key, item in value.items()})


def to_attribution(value: Any) -> FrozenDict[str, FrozenDict[str, Decimal]]:
    """A plan's attribution: symbol -> strategy weights, each checked as when recorded."""
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of attributions, got {type(value).__name__}")
    return FrozenDict({_key(key): to_decimal_map(item) for key, item in value.items()})


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"strategy names are strings, got {type(key).__name__}")
    return key
