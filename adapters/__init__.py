"""I/O and wiring around the ledger: brokers, execution, reconciliation, archive, CLI.

What users need is importable from here::

    from adapters import Executor, SimulatedBroker, AlpacaBroker, archive_from_settings

Each name is imported on first use (``__getattr__``), so ``import adapters`` stays cheap
and alpaca-py or boto3 load only when a name that needs them is used. The subpackages:

- ``adapters.brokers``: the broker port (``port``), ``simulated`` and ``alpaca``;
- ``adapters.execution``: the ``Executor``, a plan's orders, the fill recorder, results;
- ``adapters.reconciliation``: pure ``matching`` and the sources that feed it;
- ``adapters.archive``: the run archive (S3, local directory) and ``ArchiveSettings``;
- ``adapters.store``: the durable event store runs are journalled in (``EventStoreSettings``);
- ``adapters.views``: live views of every run on PostgreSQL (``follow_views``, ``read_views``);
- ``adapters.cli``: the ``trade-ledger`` command line.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.archive import (
        Archive,
        ArchivedRun,
        ArchiveSettings,
        EncryptionSettings,
        RunArchive,
        S3ClientSettings,
        WriteOutcome,
        archive_from_settings,
        open_archive,
    )
    from adapters.brokers.alpaca import AlpacaBroker, AlpacaConfigError, AlpacaSettings
    from adapters.brokers.port import (
        Broker,
        BrokerError,
        FillHistory,
        OrderRequest,
        OrderState,
        OrderTicket,
        client_order_id,
    )
    from adapters.brokers.simulated import SimulatedBroker
    from adapters.execution.executor import Executor
    from adapters.execution.result import ExecutionResult, OrderReport
    from adapters.reconciliation.report import Discrepancy, ReconciliationReport
    from adapters.reconciliation.runs import reconcile_date, reconcile_ledger, reconcile_run
    from adapters.store import EventStoreError, EventStoreSettings, open_event_store
    from adapters.views import follow_views, read_views
    from ledger_domain import Anomaly, Fill, Side

_HOMES: dict[str, str] = {
    # execution
    "Executor": "adapters.execution.executor",
    "ExecutionResult": "adapters.execution.result",
    "OrderReport": "adapters.execution.result",
    "Anomaly": "ledger_domain",
    # the event store runs are journalled in
    "EventStoreError": "adapters.store",
    "EventStoreSettings": "adapters.store",
    "open_event_store": "adapters.store",
    # brokers
    "Broker": "adapters.brokers.port",
    "BrokerError": "adapters.brokers.port",
    "FillHistory": "adapters.brokers.port",
    "OrderRequest": "adapters.brokers.port",
    "OrderState": "adapters.brokers.port",
    "OrderTicket": "adapters.brokers.port",
    "client_order_id": "adapters.brokers.port",
    "SimulatedBroker": "adapters.brokers.simulated",
    # the fill vocabulary brokers report in (the domain's)
    "Fill": "ledger_domain",
    "Side": "ledger_domain",
    "AlpacaBroker": "adapters.brokers.alpaca",
    "AlpacaConfigError": "adapters.brokers.alpaca",
    "AlpacaSettings": "adapters.brokers.alpaca",
    # archive
    "Archive": "adapters.archive",
    "ArchivedRun": "adapters.archive",
    "ArchiveSettings": "adapters.archive",
    "EncryptionSettings": "adapters.archive",
    "RunArchive": "adapters.archive",
    "S3ClientSettings": "adapters.archive",
    "WriteOutcome": "adapters.archive",
    "archive_from_settings": "adapters.archive",
    "open_archive": "adapters.archive",
    # reconciliation
    "Discrepancy": "adapters.reconciliation.report",
    "ReconciliationReport": "adapters.reconciliation.report",
    "reconcile_date": "adapters.reconciliation.runs",
    "reconcile_ledger": "adapters.reconciliation.runs",
    "reconcile_run": "adapters.reconciliation.runs",
    # live views on PostgreSQL
    "follow_views": "adapters.views",
    "read_views": "adapters.views",
}
"""Each public name and the module that defines (or exports) it."""


def __getattr__(name: str) -> Any:
    """Import a public name from its home module on first use, then keep it here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'adapters' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "AlpacaBroker",
    "AlpacaConfigError",
    "AlpacaSettings",
    "Anomaly",
    "Archive",
    "ArchiveSettings",
    "ArchivedRun",
    "Broker",
    "BrokerError",
    "Discrepancy",
    "EncryptionSettings",
    "EventStoreError",
    "EventStoreSettings",
    "ExecutionResult",
    "Executor",
    "Fill",
    "FillHistory",
    "OrderReport",
    "OrderRequest",
    "OrderState",
    "OrderTicket",
    "ReconciliationReport",
    "RunArchive",
    "S3ClientSettings",
    "Side",
    "SimulatedBroker",
    "WriteOutcome",
    "archive_from_settings",
    "client_order_id",
    "follow_views",
    "open_archive",
    "open_event_store",
    "read_views",
    "reconcile_date",
    "reconcile_ledger",
    "reconcile_run",
]
