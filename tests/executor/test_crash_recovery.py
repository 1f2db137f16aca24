"""Nothing lost: ``trade-ledger run`` killed (SIGKILL) at every broker execution in turn and
once while archiving, on SQLite and on PostgreSQL, then ``trade-ledger recover``; and the
same plan stopped by SIGTERM and by SIGINT.

Each killed run trades its own plan (3 orders, 2 executions each) through one simulated
broker whose state file outlives the process, into one durable store. After one
``recover``, every run is archived, its executions are exactly the broker's executions of
its client orders (reconciled: none missing, none twice), each attributed as the plan says,
and its document verifies; a second ``recover`` has nothing to do.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters import SimulatedBroker, open_archive
from adapters.cli import app
from adapters.execution.orders import SIDES_IN_ORDER, order_requests, tradable_items
from adapters.reconciliation.ledger_source import ledger_fills
from adapters.reconciliation.matching import reconcile
from ledger_domain import Ledger, RebalancePlan
from tests.executor.conftest import item, make_plan
from tests.integration.test_persistence_modules import postgres_env

ROOT = Path(__file__).resolve().parents[2]
ATTRIBUTION = {
    "AAPL": {"momentum_strategy": 0.6, "mean_reversion_strategy": 0.4},
    "MSFT": {"mean_reversion_strategy": 1.0},
}
EXECUTIONS_PER_ORDER = 2
runner = CliRunner()


@pytest.fixture(autouse=True)
def signing_key(signing_config: Path) -> None:
    """This machine has a signing key, as after ``trade-ledger keys init``: runs are signed
    and verify ``valid``."""
    from adapters.archive import ArchiveSettings  # noqa: PLC0415
    from adapters.signing.configured import first_use_key  # noqa: PLC0415

    assert first_use_key(ArchiveSettings().signing) is not None


def crash_plan(plan_id: str) -> RebalancePlan:
    """Sell MSFT, then buy AAPL and NVDA (NVDA unattributed): 6 executions in all."""
    return make_plan(
        [
            item("AAPL", "BUY", "2500"),
            item("NVDA", "BUY", "1000", priority=2),
            item("MSFT", "SELL", "-2000"),
        ],
        plan_id=plan_id,
        attribution=ATTRIBUTION,
    )


FILLS_PER_PLAN = 3 * EXECUTIONS_PER_ORDER


class Setup:
    """One store, one broker state file, one local archive, shared by every run of a test."""

    def __init__(self, tmp_path: Path, store: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.state = tmp_path / "broker.json"
        self.archive_dir = tmp_path / "archive"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TRADE_LEDGER__")},
            "TRADE_LEDGER__LOCAL_DIRECTORY": str(self.archive_dir),
            "TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY": os.environ[
                "TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY"
            ],
            **store,
        }
        self.env.pop("CI_COVERAGE", None)
        self.plans: list[RebalancePlan] = []

    def run(self, trap: str, signal_name: str, plan_id: str) -> subprocess.CompletedProcess[str]:
        plan = crash_plan(plan_id)
        self.plans.append(plan)
        path = self.tmp_path / f"{plan_id}.json"
        path.write_text(plan.model_dump_json())
        command = [
            sys.executable,
            "-m",
            "tests.executor.crash_driver",
            trap,
            signal_name,
            "run",
            str(path),
            "--json",
            "--broker-state",
            str(self.state),
            "--partial-fills",
            str(EXECUTIONS_PER_ORDER),
        ]
        return subprocess.run(
            command,
            cwd=self.tmp_path,
            env={**self.env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def recover(self, monkeypatch: pytest.MonkeyPatch) -> Any:
        for name, value in self.env.items():
            if name.startswith("TRADE_LEDGER__"):
                monkeypatch.setenv(name, value)
        monkeypatch.chdir(self.tmp_path)
        return runner.invoke(app, ["recover", "--json", "--broker-state", str(self.state)])


def broker_fills(state: Path, plan: RebalancePlan) -> list[Any]:
    """The broker's executions of the plan's client orders (read from its state file)."""
    broker = SimulatedBroker(state_file=state)
    try:
        items = tradable_items(plan)
        ids = [
            r.client_order_id or "" for s in SIDES_IN_ORDER for r in order_requests(plan, items, s)
        ]

        async def ask() -> list[Any]:
            found = [await broker.order_executions(i) for i in ids]
            return [fill for order in found if order is not None for fill in order.fills]

        return asyncio.run(ask())
    finally:
        broker.close()


def archived_runs(directory: Path) -> dict[str, Any]:
    """Every archived run of today and yesterday, by its plan id."""
    archive = open_archive(str(directory))
    today = datetime.now(UTC).date()
    runs: dict[str, Any] = {}
    for read in archive.read_runs(today - timedelta(days=1), today):
        assert read.run is not None, read.error
        plans = [e for e in read.run.events if isinstance(e, Ledger.PlanAttached)]
        assert len(plans) == 1
        runs[plans[0].plan_id] = read.run
        assert archive.verify(read.key).status == "valid", archive.verify(read.key)
    return runs


def check_runs(setup: Setup) -> int:
    """Every run checked; how many fills recovery recorded (marked as such)."""
    recovered = 0
    runs = archived_runs(setup.archive_dir)
    assert sorted(runs) == sorted(p.plan_id for p in setup.plans)
    for plan in setup.plans:
        run = runs[plan.plan_id]
        fills = ledger_fills(run.events)
        recorded = [f.fill.execution_id for f in fills]
        assert len(recorded) == len(set(recorded)), f"{plan.plan_id}: an execution twice"
        at_broker = broker_fills(setup.state, plan)
        assert at_broker, plan.plan_id
        assert sorted(recorded) == sorted(f.execution_id for f in at_broker), plan.plan_id
        times = [f.filled_at for f in at_broker]
        report = reconcile(
            fills,
            at_broker,
            period_start=min(times) - timedelta(seconds=1),
            period_end=max(times) + timedelta(seconds=1),
        )
        assert report.ok, (plan.plan_id, report.summary())
        assert not report.missing_from_ledger
        assert not report.unknown_to_broker
        for event in run.events:
            if isinstance(event, Ledger.FillRecorded):
                wanted = ATTRIBUTION.get(event.symbol, {})
                weights = {name: Decimal(str(w)) for name, w in wanted.items()}
                assert dict(event.strategy_weights) == weights, (plan.plan_id, event.symbol)
                if event.set_aside.get("quote_at_fill", "").startswith("recovered from"):
                    assert event.bid is None
                    recovered += 1
        assert run.ledger.closed_at is not None
    return recovered


def check_recover_twice(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, unfinished: int
) -> dict[str, Any]:
    first = setup.recover(monkeypatch)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["ok"] is True
    assert len(report["runs"]) == unfinished, report
    assert all(run["recovered"] for run in report["runs"])
    marked = check_runs(setup)
    assert marked == sum(run["recorded_from_broker"] for run in report["runs"])
    second = setup.recover(monkeypatch)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert again["nothing_to_do"] is True
    assert again["runs"] == []
    return report


def crash_every_fill(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(1, FILLS_PER_PLAN + 1):
        done = setup.run(f"fill:{index}", "SIGKILL", f"crash-{index}")
        assert done.returncode == -9, (index, done.returncode, done.stderr[-2000:])
        assert done.stdout == ""
    done = setup.run("archive", "SIGKILL", "crash-archive")
    assert done.returncode == -9, done.stderr[-2000:]
    report = check_recover_twice(setup, monkeypatch, unfinished=FILLS_PER_PLAN + 1)
    # each kill left the broker ahead of the ledger: recovery had to complete every run
    killed = [run for run in report["runs"] if run["found"] == "open"]
    assert len(killed) == FILLS_PER_PLAN
    assert all(run["recorded_from_broker"] >= 1 for run in killed)
    (archiving,) = [run for run in report["runs"] if run["found"] == "closed"]
    assert archiving["recorded_from_broker"] == 0


@pytest.fixture
def sqlite_setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path, {"TRADE_LEDGER__STORE__SQLITE_PATH": str(tmp_path / "ledger.sqlite")})


@pytest.fixture
def postgres_setup(tmp_path: Path) -> Iterator[Setup]:
    with postgres_env() as env:
        store = {
            "TRADE_LEDGER__STORE__KIND": "postgres",
            "TRADE_LEDGER__STORE__POSTGRES__HOST": env["POSTGRES_HOST"],
            "TRADE_LEDGER__STORE__POSTGRES__PORT": env["POSTGRES_PORT"],
            "TRADE_LEDGER__STORE__POSTGRES__DBNAME": env["POSTGRES_DBNAME"],
            "TRADE_LEDGER__STORE__POSTGRES__USER": env["POSTGRES_USER"],
            "TRADE_LEDGER__STORE__POSTGRES__SCHEMA_NAME": env["POSTGRES_SCHEMA"],
        }
        yield Setup(tmp_path, store)


def test_sigkill_at_every_fill_and_while_archiving_sqlite(
    sqlite_setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_every_fill(sqlite_setup, monkeypatch)


@pytest.mark.postgres
def test_sigkill_at_every_fill_and_while_archiving_postgres(
    postgres_setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_every_fill(postgres_setup, monkeypatch)


@pytest.mark.parametrize(("signal_name", "at"), [("SIGTERM", 1), ("SIGINT", 2)])
def test_sigterm_and_sigint_close_and_archive_the_run(
    sqlite_setup: Setup, monkeypatch: pytest.MonkeyPatch, signal_name: str, at: int
) -> None:
    done = sqlite_setup.run(f"fill:{at}", signal_name, f"stopped-{signal_name}")
    assert done.returncode == 1, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["stopped"] == f"stopped by {signal_name}"
    assert result["archive"]["archived"] is True
    assert result["ledger_closed"] is True
    statuses = [o["status"] for o in result["orders"]]
    assert "not_placed" in statuses  # no new order after the signal
    assert result["executions"] >= at
    check_recover_twice(sqlite_setup, monkeypatch, unfinished=0)
