"""Exact Decimal arithmetic for money and quantities.

Fill values are products and sums of validated inputs (at most ``MAX_DIGITS`` significant
digits, magnitudes within ``MIN_MAGNITUDE``..``MAX_MAGNITUDE``), so a context this wide
never rounds; ``Inexact`` is trapped to prove it.
Only the volume-weighted price is a division, rounded to ``PRICE_DIGITS`` significant digits.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow

MAX_DIGITS = 30
"""Significant digits a quantity, price, bid, ask or weight may carry."""
MIN_MAGNITUDE, MAX_MAGNITUDE = -20, 15
"""Non-zero inputs lie in [1E-20, 1E+16): with MAX_DIGITS, every value and sum the ledger
forms fits the exact context below, so arithmetic can never round or overflow."""
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
    """Volume-weighted price to PRICE_DIGITS significant digits (exact when they hold it).

    Kept at 28 digits even where a longer expansion terminates: archived runs replay to
    the prices they were written with."""
    return _AVERAGE.divide(value, quantity) if quantity else ZERO
