"""Decimal arithmetic of the projections: exact sums and products, rounded ratios.

Sums and products use a 400-digit context. Every fill the ledger accepted had its value
computed and summed exactly in the ledger's own 200-digit context (which traps any
rounding), so for those numbers this context is exact too; it is twice as wide so that
sums over many runs and weight x quantity x price products stay exact as well. Unlike
the ledger's context it does not trap ``Inexact``: a projection that follows a live run
must never raise into the executor, so a pathological stream (values more than 400
digits apart) would be rounded at the 400th digit instead of breaking the fold.

Ratios (basis points, averages) are the only divisions; they are rounded to
``RATIO_DIGITS`` significant digits, half-even, like the ledger's volume-weighted price.

The folds run inside ``wide()`` (``decimal.localcontext(WIDE)``) and use plain operators
there; code outside a fold uses the context's methods (``add``, ``multiply``, ...), which
never depend on the caller's context.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    localcontext,
)

from ledger_domain.money import PRICE_DIGITS

RATIO_DIGITS = PRICE_DIGITS
"""Significant digits of every ratio a projection reports (28, as the ledger's prices)."""

WIDE = Context(prec=400, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero])
RATIO = Context(prec=RATIO_DIGITS, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])

ZERO = Decimal(0)
ONE = Decimal(1)
TWO = Decimal(2)
BPS = Decimal(10_000)

add = WIDE.add
subtract = WIDE.subtract
multiply = WIDE.multiply
negate = WIDE.minus


def wide() -> AbstractContextManager[Context]:
    """The context every fold runs in: plain ``+ - *`` are exact inside it."""
    return localcontext(WIDE)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """numerator / denominator to ``RATIO_DIGITS`` digits; ``None`` when nothing to divide by."""
    if not denominator:
        return None
    return RATIO.divide(numerator, denominator)
