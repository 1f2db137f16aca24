"""Single values from outside, taken exactly as given or refused with ``InvalidFillError``.

Each function checks one kind of value (a number, an id, a symbol, a side, a time) and
never coerces one kind into another: no ``str()`` of arbitrary objects, no stripping, no
Unicode digits, no booleans as numbers. The verdict depends only on the value itself.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum

from ledger_domain.errors import InvalidFillError
from ledger_domain.fill import DEFAULT_ORDER_TYPE, Side
from ledger_domain.money import MAX_DIGITS, MAX_MAGNITUDE, MIN_MAGNITUDE

MAX_ID_LENGTH = 256
"""Longest order, execution, correlation id or strategy name the ledger keeps."""
MAX_SYMBOL_LENGTH = 64
_MAX_NUMBER_TEXT = 100
_SIDES = {text: side for side in Side for text in (side.value, side.value.lower())}
"""BUY/SELL by their exact text; any other ASCII case is looked up upper-cased."""
_ORDER_TYPE = re.compile(r"[A-Za-z][A-Za-z_]{0,31}")


def exact_decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from Decimal, int, float (through ``str``: 0.1 -> 0.1) or ASCII text.

    Text is plain decimal notation only (``"12.5"``, ``"-3"``, ``"1E+3"``): no spaces,
    underscores, Unicode digits, ``NaN`` or ``Infinity``.
    """
    if type(value) is Decimal:
        result = value
    elif isinstance(value, Decimal):
        result = Decimal(value)
    elif isinstance(value, bool):
        raise InvalidFillError(field, f"expected a number, got {value!r}")
    elif isinstance(value, int):
        result = Decimal(int(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidFillError(field, f"must be finite, got {float.__repr__(value)}")
        result = Decimal(float.__repr__(value))  # the float's own digits, not a subclass's
    elif isinstance(value, str):
        text = str.__str__(value)
        if len(text) > _MAX_NUMBER_TEXT:
            raise InvalidFillError(field, f"not a plain decimal number: {_shown(text)}")
        try:
            result = plain_decimal(text)
        except ValueError as error:
            raise InvalidFillError(field, str(error)) from None
    else:
        raise InvalidFillError(field, f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidFillError(field, f"must be finite, got {result}")
    return result


def plain_decimal(text: str) -> Decimal:
    """The finite Decimal that plain decimal text (``"12.5"``, ``"-3"``, ``"1E+3"``) writes;
    ``ValueError`` for anything else: spaces, underscores, Unicode digits, NaN, infinities.

    Decimal's own parser on printable ASCII without spaces or underscores takes exactly
    that notation, more cheaply than a pattern; the record decoder reads with it too.
    """
    if not (text.isascii() and text.isprintable()) or " " in text or "_" in text:
        raise ValueError(f"not a plain decimal number: {text[:40]!r}")
    try:
        result = Decimal(text)
    except ArithmeticError:  # not the notation, or an exponent Decimal cannot hold
        raise ValueError(f"not a plain decimal number: {text[:40]!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {text[:40]!r}")
    return result


def has_allowed_digits(amount: Decimal) -> bool:
    """At most ``MAX_DIGITS`` significant digits."""
    # str() first: as_tuple() builds a Python namedtuple, and short text has few digits.
    return len(str(amount)) <= MAX_DIGITS or len(amount.as_tuple().digits) <= MAX_DIGITS


def has_allowed_magnitude(amount: Decimal) -> bool:
    """Zero, or a magnitude within 1E``MIN_MAGNITUDE`` to <1E+16."""
    return not amount or MIN_MAGNITUDE <= amount.adjusted() <= MAX_MAGNITUDE


def bounded_decimal(value: object, field: str) -> Decimal:
    """``exact_decimal`` within the digits and magnitudes the ledger can sum exactly."""
    result = exact_decimal(value, field)
    if not has_allowed_digits(result):
        raise InvalidFillError(field, f"more than {MAX_DIGITS} significant digits")
    if not has_allowed_magnitude(result):
        raise InvalidFillError(
            field, f"magnitude out of range: {result} (allowed 1E{MIN_MAGNITUDE} to <1E+16)"
        )
    return result


def positive_decimal(value: object, field: str) -> Decimal:
    """A bounded Decimal > 0, or an error naming ``field``."""
    result = bounded_decimal(value, field)
    if result <= 0:
        raise InvalidFillError(field, f"must be > 0, got {result}")
    return result


def identifier(value: object, field: str) -> str:
    """An id kept exactly as given: text, 1..256 characters, no whitespace or control
    characters (``"o1"`` and ``" o1"`` must never become one id)."""
    result = _text(value, field)
    if not result:
        raise InvalidFillError(field, "must not be empty")
    if len(result) > MAX_ID_LENGTH:
        raise InvalidFillError(field, f"longer than {MAX_ID_LENGTH} characters")
    if not is_plain_text(result):
        raise InvalidFillError(field, f"contains whitespace or control characters: {result!r}")
    return result


def is_plain_text(text: str) -> bool:
    """No whitespace, control, format, separator or unassigned code point: isprintable()
    refuses all of them but the ASCII space, which is refused on its own."""
    return text.isprintable() and " " not in text


def name(value: object, field: str) -> str:
    """A display name (a strategy): like an id, but inner spaces are allowed."""
    result = _text(value, field)
    if not result or len(result) > MAX_ID_LENGTH:
        raise InvalidFillError(field, f"must be 1 to {MAX_ID_LENGTH} characters")
    if not result.isprintable() or result != result.strip():
        raise InvalidFillError(field, f"has control characters or outer spaces: {result!r}")
    return result


def symbol(value: object, field: str = "symbol") -> str:
    """An upper-case ASCII ticker (``AAPL``, ``BRK.B``, ``BTC/USD``); any case accepted."""
    result = identifier(value, field)
    if not result.isascii() or len(result) > MAX_SYMBOL_LENGTH:
        raise InvalidFillError(field, f"must be up to {MAX_SYMBOL_LENGTH} ASCII characters")
    return result.upper()


def side(value: object, field: str = "action") -> Side:
    """BUY or SELL, in any case; ``Side`` and enums whose value is such text accepted."""
    if type(value) is str:
        known = _SIDES.get(value)
        if known is not None:
            return known
    if isinstance(value, Side):
        return value
    raw = value.value if isinstance(value, Enum) else value
    if isinstance(raw, str):
        text = str.__str__(raw)
        if text.isascii():  # "\u017fell".upper() is "SELL": only ASCII may name a side
            known = _SIDES.get(text.upper())
            if known is not None:
                return known
    raise InvalidFillError(field, f"must be BUY or SELL, got {_shown(value)}")


def order_type(value: object, field: str = "order_type") -> str:
    """Upper-case order type (``MARKET``, ``STOP_LIMIT``); missing or empty means MARKET."""
    if value is None:
        return DEFAULT_ORDER_TYPE
    raw = value.value if isinstance(value, Enum) else value
    if not isinstance(raw, str):
        raise InvalidFillError(field, f"expected text, got {type(value).__name__}")
    text = str.__str__(raw)
    if not text:
        return DEFAULT_ORDER_TYPE
    if not _ORDER_TYPE.fullmatch(text):
        raise InvalidFillError(field, f"not an order type: {_shown(text)}")
    return text.upper()


def utc_time(value: object, field: str) -> datetime:
    """A timezone-aware UTC datetime; naive values are read as UTC."""
    if type(value) is datetime and value.tzinfo is UTC and not value.fold:
        return value
    if not isinstance(value, datetime):
        raise InvalidFillError(field, f"expected a datetime, got {type(value).__name__}")
    try:
        # A plain datetime built from the fields: a subclass's own methods are not trusted.
        plain = datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
            fold=value.fold,
        )
        if plain.tzinfo is None:
            result = plain.replace(tzinfo=UTC, fold=0)  # fold means nothing in UTC
        else:
            result = plain.astimezone(UTC).replace(fold=0)
    except Exception as error:  # overflow near the limits, a tzinfo that fails
        raise InvalidFillError(field, f"not expressible in UTC: {_shown(error)}") from None
    if type(result) is not datetime or result.tzinfo is not UTC:
        raise InvalidFillError(field, "its time zone did not give a UTC datetime")
    return result


def _text(value: object, field: str) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):  # a str subclass: its text, not its __str__
        return str.__str__(value)
    raise InvalidFillError(field, f"expected text, got {type(value).__name__}")


def _shown(value: object) -> str:
    """A short, safe rendering of a refused value for an error message."""
    try:
        shown = repr(value)
    except Exception:  # a foreign object's repr is not ours to trust
        return type(value).__name__
    return shown if len(shown) <= 60 else f"{shown[:57]}..."
