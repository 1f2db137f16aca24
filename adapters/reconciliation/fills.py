"""What a ledger recorded, as matching compares it: the domain's ``Fill`` and its ledger.

The broker's side needs no type of its own: brokers report ``ledger_domain.Fill``s too,
so both sides are compared in one vocabulary without matching importing a broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger_domain import Fill


@dataclass(frozen=True, slots=True)
class LedgerFill:
    """One recorded execution (or a whole order), and the ledger that recorded it."""

    ledger_id: str
    fill: Fill
