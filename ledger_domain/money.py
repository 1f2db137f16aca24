"""Exact Decimal arithmetic for money and quantities.

Fill values are products and sums of validated inputs (at most ``MAX_DIGITS`` significant
digits each), so a context this wide never rounds; ``Inexact`` is trapped to prove it.
Only the volume-weighted price is a division, rounded to ``PRICE_DIGITS`` significant digits.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow

MAX_DIGITS = 30
PRICE_DIGITS = 28

EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, Overflow])
_AVERAGE = Context(prec=PRICE_DIGITS, traps=[InvalidOperation, Overflow])

ZERO = Decimal(0)


def exact_value(quantity: Decimal, price: Decimal) -> Decimal:
    """quantity x price with no rounding."""
    return EXACT.multiply(quantity, price)


def exact_sum(left: Decimal, right: Decimal) -> Decimal:
    """left + right with no rounding."""
    return EXACT.add(left, right)


def average_price(value: Decimal, quantity: Decimal) -> Decimal:
    """Volume-weighted price: exact where it terminates, else PRICE_DIGITS digits."""
    return _AVERAGE.divide(value, quantity) if quantity else ZERO
