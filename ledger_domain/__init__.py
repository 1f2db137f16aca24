"""Write side of the trade ledger: models, events, the Ledger aggregate and its service.

Imports neither ``projections`` nor ``adapters``; does no I/O of its own (persistence is
eventsourcing's, chosen by configuration).
"""

from ledger_domain.aggregate import Ledger, replay
from ledger_domain.application import LedgerApplication
from ledger_domain.broker_fill import Anomaly, RecordedFill, anomalies_of
from ledger_domain.errors import (
    ExecutionConflictError,
    InvalidEventStreamError,
    InvalidFillError,
    LedgerClosedError,
    LedgerError,
    RunConflictError,
)
from ledger_domain.fill import Fill, FillToRecord, Quote, SetAside, Side, StrategyWeights
from ledger_domain.frozen import FrozenDict, FrozenList
from ledger_domain.inputs import OrderResult, QuoteModel, RebalancePlan, RebalancePlanItem
from ledger_domain.models import TradeLedger, TradeLedgerEntry
from ledger_domain.order_input import WEIGHT_TOLERANCE
from ledger_domain.records import from_record, to_record
from ledger_domain.run_plan import PlacedOrder, PlanAttribution
from ledger_domain.service import TradeLedgerService, replay_ledger

__all__ = [
    "WEIGHT_TOLERANCE",
    "Anomaly",
    "ExecutionConflictError",
    "Fill",
    "FillToRecord",
    "FrozenDict",
    "FrozenList",
    "InvalidEventStreamError",
    "InvalidFillError",
    "Ledger",
    "LedgerApplication",
    "LedgerClosedError",
    "LedgerError",
    "OrderResult",
    "PlacedOrder",
    "PlanAttribution",
    "Quote",
    "QuoteModel",
    "RebalancePlan",
    "RebalancePlanItem",
    "RecordedFill",
    "RunConflictError",
    "SetAside",
    "Side",
    "StrategyWeights",
    "TradeLedger",
    "TradeLedgerEntry",
    "TradeLedgerService",
    "anomalies_of",
    "from_record",
    "replay",
    "replay_ledger",
    "to_record",
]
