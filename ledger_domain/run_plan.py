"""What a run remembers of its plan and its orders, so a crashed run can be recovered.

``PlanAttribution`` is the plan a run trades (its id, the run's correlation id and the
strategy attribution of each symbol, validated once); ``PlacedOrder`` is one order the run
placed, stored under its client order id *before* the broker was asked, so that recovery
can ask the broker for the executions of every order the run may have placed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from ledger_domain.fill import NO_WEIGHTS, SetAside, Side, StrategyWeights
from ledger_domain.frozen import FrozenDict

AttributionBySymbol = FrozenDict[str, StrategyWeights]
"""Symbol (upper case) -> its validated strategy weights."""


class PlanAttribution(NamedTuple):
    """The plan of a run, as recorded by ``TradeLedgerService.attach_plan``.

    ``set_aside`` names the parts of the plan's attribution that failed validation and
    why (a symbol whose weights do not sum to 1, say); fills of such a symbol are
    recorded without attribution rather than refused.
    """

    plan_id: str
    correlation_id: str
    strategy_attribution: AttributionBySymbol
    set_aside: SetAside

    def weights_for(self, symbol: str) -> StrategyWeights:
        """The validated weights of ``symbol`` (upper case); empty when it has none."""
        return self.strategy_attribution.get(symbol, NO_WEIGHTS)

    def set_aside_for(self, symbol: str) -> dict[str, str]:
        """What was set aside from the attribution of ``symbol``'s fills: its own weights,
        or the plan's whole attribution (a metadata that is not a mapping, say)."""
        return {
            field: reason
            for field, reason in self.set_aside.items()
            if field in _PLAN_WIDE or field == f"strategy_attribution.{symbol}"
        }


_PLAN_WIDE = frozenset({"rebalance_plan.metadata", "strategy_attribution"})


class PlacedOrder(NamedTuple):
    """One order a run placed (or was about to place): exactly one of quantity/notional."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal | None
    notional: Decimal | None
    order_type: str
    placed_at: datetime
