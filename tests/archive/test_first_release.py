"""A run archived by the first release (commit 5fec14b) still verifies and reads exactly.

The document in `data/` was written by that release: version-1 fill events, a
correlation id with a space (that release took it as given), an order filled in two
executions with a quote and a float attribution. Auditors keep such runs for good.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from adapters.archive import verify_document
from adapters.archive.document import parse_document
from ledger_domain import Ledger, Side, from_record, replay_ledger

DOCUMENT = Path(__file__).parent / "data" / "first-release-run.json"
KEY = "trade-ledgers/2026/11/24/101740-7d8c0a64-1cf8-4333-9b4d-a58a58241499-corr%201.json"


def test_the_first_releases_run_passes_every_check_but_is_unsigned() -> None:
    """Written before documents were signed: nothing wrong with it, nothing proves it."""
    verdict = verify_document(KEY, DOCUMENT.read_bytes())
    assert verdict.status == "unsigned", verdict.failures
    assert verdict.failures == ()
    assert verdict.signed_by is None
    assert verdict.event_count == 5


def test_its_events_upcast_to_the_current_vocabulary() -> None:
    document = parse_document(KEY, DOCUMENT.read_bytes())
    records = [{k: v for k, v in r.items() if k != "hash"} for r in document["events"]]
    events = [from_record(record) for record in records]
    fills = [e for e in events if isinstance(e, Ledger.FillRecorded)]
    assert [f.side for f in fills] == [Side.BUY, Side.BUY, Side.SELL]
    assert [f.quantity for f in fills] == [Decimal(3), Decimal(7), Decimal(2)]
    assert fills[0].bid == Decimal(100)
    assert fills[0].strategy_weights == {"momentum": Decimal("0.6"), "carry": Decimal("0.4")}
    ledger = replay_ledger(events)
    assert ledger.correlation_id == "corr 1"
    assert ledger.total_buy_value == Decimal("1000.24")
    assert ledger.total_sell_value == Decimal("801.0")
