"""The ledger's one fill vocabulary: ``Side``, ``Fill``, ``Quote`` and ``FillToRecord``.

Every package speaks these names (``side``, ``quantity``, ``price``, ``filled_at``,
``quoted_at``). The guide's own names (``direction``, ``filled_qty``, ``fill_price`` on
entries; ``action``, ``shares``, ``price`` on order results) appear only at the boundary
(``order_input`` reads them, ``models`` shows them).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from ledger_domain.frozen import FrozenDict

DEFAULT_ORDER_TYPE = "MARKET"
"""The guide's rule: an order with no order type is a market order."""


class Side(StrEnum):
    """Buy or sell. A ``StrEnum``, so ``"BUY" == Side.BUY`` and it prints as ``BUY``."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the direction of the position change."""
        return 1 if self is Side.BUY else -1


StrategyWeights = FrozenDict[str, Decimal]
"""Strategy name -> share of a fill (> 0, summing to 1); read-only once validated."""

NO_WEIGHTS: StrategyWeights = FrozenDict()

SetAside = FrozenDict[str, str]
"""What was set aside (a field path such as ``quote_at_fill`` or
``strategy_attribution.AAPL``) -> why: auxiliary data that failed validation."""

NOTHING_SET_ASIDE: SetAside = FrozenDict()


class Fill(NamedTuple):
    """One execution of one order as the broker reports it.

    ``execution_id`` equals ``order_id`` when the whole order is reported as one fill.
    Immutable; ``fill._replace(price=...)`` gives a changed copy. (A ``NamedTuple``: it
    is built for every fill recorded, and a frozen dataclass costs twice as much.)
    """

    order_id: str
    execution_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    filled_at: datetime
    order_type: str = DEFAULT_ORDER_TYPE

    @property
    def value(self) -> Decimal:
        """quantity x price (exact for the ledger's validated inputs)."""
        return self.quantity * self.price

    @property
    def whole_order(self) -> bool:
        return self.execution_id == self.order_id


class Quote(NamedTuple):
    """Validated bid/ask at a fill; a missing or non-positive side is ``None``."""

    bid: Decimal | None
    ask: Decimal | None
    quoted_at: datetime | None


NO_QUOTE = Quote(None, None, None)


class FillToRecord(NamedTuple):
    """A validated fill with what the ledger keeps beside it: quote, attribution, run, and
    what was set aside from the auxiliary data (and why) so the fill could be recorded."""

    fill: Fill
    quote: Quote
    strategy_weights: StrategyWeights
    correlation_id: str
    set_aside: SetAside = NOTHING_SET_ASIDE
