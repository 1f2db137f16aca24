"""The two sides' fills as matching sees them: what a ledger recorded, what the broker reports.

A ledger's fill is the domain's ``Fill`` and the ledger that holds it. ``BrokerFill`` is
structural, so the broker port's ``Execution`` (or any fill with these attributes) is
compared without matching importing a broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from ledger_domain import Fill


@dataclass(frozen=True, slots=True)
class LedgerFill:
    """One recorded execution (or a whole order), and the ledger that recorded it."""

    ledger_id: str
    fill: Fill


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
