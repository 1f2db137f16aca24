"""Fixtures of the executor and Alpaca tests: plans, an in-memory archive, loopback Alpaca."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # alpaca-py's data package imports websockets' legacy client (third-party, not ours).
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    import alpaca.data  # noqa: F401

from adapters import Archive, ArchivedRun, open_archive
from ledger_domain import RebalancePlan, RebalancePlanItem
from tests.executor.alpaca_server import API_KEY, SECRET_KEY, FakeAlpaca, LoopbackAlpaca, Script


@pytest.fixture(autouse=True)
def archive_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default archive (``archive_from_settings()``) writes under the test's tmp_path."""
    directory = tmp_path / "archive"
    monkeypatch.setenv("TRADE_LEDGER__LOCAL_DIRECTORY", str(directory))
    monkeypatch.delenv("TRADE_LEDGER__BUCKET_NAME", raising=False)
    monkeypatch.delenv("TRADE_LEDGER__ENABLED", raising=False)
    return directory


def item(symbol: str, action: str, amount: str, *, priority: int = 1) -> RebalancePlanItem:
    value = abs(Decimal(amount))
    return RebalancePlanItem(
        symbol=symbol,
        current_weight=Decimal("0.2") if action == "SELL" else Decimal("0"),
        target_weight=Decimal("0") if action == "SELL" else Decimal("0.1"),
        weight_diff=Decimal("-0.2") if action == "SELL" else Decimal("0.1"),
        target_value=Decimal(0) if action == "SELL" else value,
        current_value=value if action == "SELL" else Decimal(0),
        trade_amount=Decimal(amount),
        action=action,
        priority=priority,
    )


def make_plan(
    items: list[RebalancePlanItem],
    *,
    plan_id: str = "plan-123",
    attribution: dict[str, Any] | None = None,
) -> RebalancePlan:
    return RebalancePlan(
        correlation_id=f"corr-{plan_id}",
        causation_id="cause-123",
        timestamp=datetime.now(UTC),
        plan_id=plan_id,
        items=items,
        total_portfolio_value=Decimal("10000"),
        total_trade_value=sum((abs(i.trade_amount) for i in items), Decimal(0)),
        metadata={"strategy_attribution": attribution} if attribution else None,
    )


ATTRIBUTION = {
    "AAPL": {"momentum_strategy": 0.6, "mean_reversion_strategy": 0.4},
    "MSFT": {"mean_reversion_strategy": 1.0},
}


@pytest.fixture
def mixed_plan() -> RebalancePlan:
    """Buys listed before the sell, to show the executor sells first anyway."""
    return make_plan(
        [
            item("AAPL", "BUY", "5000"),
            item("TEST", "BUY", "250", priority=2),
            item("GME", "BUY", "500", priority=3),
            item("MSFT", "SELL", "-2000"),
            item("SPY", "HOLD", "0"),
        ],
        attribution=ATTRIBUTION,
    )


@pytest.fixture
def run_archive(tmp_path: Path) -> Archive:
    """A real local directory archive of its own (not the default one)."""
    return open_archive(str(tmp_path / "runs"))


def archived(archive: Archive) -> list[ArchivedRun]:
    """Every run the archive holds for today (UTC), read back."""
    reads = list(archive.read_runs(datetime.now(UTC).date()))
    assert all(read.run is not None for read in reads), reads
    return [read.run for read in reads if read.run is not None]


def loopback_fake() -> FakeAlpaca:
    """AAPL fills in two executions, MSFT in one, NVDA partly then canceled, GME is
    refused, TEST has no quote."""
    return FakeAlpaca(
        scripts={
            "AAPL": Script([("10", "150.25"), ("6.5", "150.30")]),
            "MSFT": Script([("4", "410.10")]),
            "NVDA": Script([("2", "900.00")], final_status="canceled"),
            "TEST": Script([("25", "9.99")]),
        },
        quotes={
            "AAPL": ("150.20", "150.30"),
            "MSFT": ("410.05", "410.15"),
            "NVDA": ("899.90", "900.10"),
        },
        reject={"GME": "insufficient buying power"},
    )


@pytest.fixture
def alpaca_server() -> Iterator[LoopbackAlpaca]:
    with LoopbackAlpaca(loopback_fake()) as server:
        yield server


@pytest.fixture
def alpaca_env(alpaca_server: LoopbackAlpaca, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "ALPACA_API_KEY": API_KEY,
        "ALPACA_SECRET_KEY": SECRET_KEY,
        "ALPACA_PAPER": "true",
        "ALPACA_BASE_URL": alpaca_server.url,
        "ALPACA_DATA_URL": alpaca_server.url,
        "ALPACA_POLL_INTERVAL": "0.01",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def run_documents(directory: Path) -> list[Path]:
    """The run documents under an archive directory (not its run log, not its outbox)."""
    return sorted(directory.glob("trade-ledgers/[0-9][0-9][0-9][0-9]/*/*/*.json"))
