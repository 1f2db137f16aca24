"""The two sides' fills as matching sees them: what a ledger recorded, what the broker reports.

``BrokerFill`` is structural, so the broker port's ``Execution`` (or any fill with these
attributes) is compared without matching importing a broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LedgerFill:
    """One recorded execution (or a whole order) as the ledger holds it."""

    ledger_id: str
    order_id: str
    execution_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    filled_at: datetime

    @property
    def whole_order(self) -> bool:
        return self.execution_id == self.order_id

    @property
    def value(self) -> Decimal:
        return self.qty * self.price


class BrokerFill(Protocol):
    """One fill from the broker's history; ``execution_id`` is the broker's id of it."""

    @property
    def order_id(self) -> str: ...

    @property
    def execution_id(self) -> str | None: ...

    @property
    def symbol(self) -> str: ...

    @property
    def side(self) -> str: ...

    @property
    def qty(self) -> Decimal: ...

    @property
    def price(self) -> Decimal: ...

    @property
    def filled_at(self) -> datetime: ...

    @property
    def value(self) -> Decimal: ...
