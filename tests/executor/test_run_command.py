"""``trade-ledger run PLAN_FILE`` end to end: the simulated broker into the local archive, and
alpaca-py's client against the loopback Alpaca server into S3 (moto); a plan that is not a
plan is refused (exit 2) before anything is traded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from adapters import open_archive
from adapters.cli import app
from adapters.reconciliation.ledger_source import ledger_fills
from ledger_domain import Ledger
from tests.archive.conftest import MotoServer, aws_env, bucket, moto_server  # noqa: F401
from tests.executor.alpaca_server import LoopbackAlpaca
from tests.executor.conftest import item, make_plan

runner = CliRunner()


@pytest.fixture(autouse=True)
def signing_key(signing_config: Path) -> None:
    """This machine has a signing key, as after ``trade-ledger keys init``: runs are signed
    and verify ``valid``."""
    from adapters.archive import ArchiveSettings  # noqa: PLC0415
    from adapters.signing.configured import first_use_key  # noqa: PLC0415

    assert first_use_key(ArchiveSettings().signing) is not None


ATTRIBUTION = {"AAPL": {"momentum_strategy": 0.6, "mean_reversion_strategy": 0.4}}


def plan_json(plan_id: str = "run-plan") -> str:
    plan = make_plan(
        [item("AAPL", "BUY", "2500"), item("MSFT", "SELL", "-1640.40")],
        plan_id=plan_id,
        attribution=ATTRIBUTION,
    )
    return plan.model_dump_json()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("TRADE_LEDGER__STORE__SQLITE_PATH", str(path))
    return path


def flat(text: str) -> str:
    """CLI output without rich's panel borders, on one line."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def events_of(run: Any) -> list[Any]:
    return list(run.events)


def test_run_on_the_simulated_broker_archives_locally(
    tmp_path: Path, store: Path, archive_directory: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan_json())
    state = tmp_path / "broker.json"
    argv = ["run", str(plan_file), "--json", "--broker-state", str(state), "--partial-fills", "2"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["success"] is True
    assert payload["stopped"] is None
    assert payload["executions"] == 4
    assert [(o["side"], o["symbol"], o["status"]) for o in payload["orders"]] == [
        ("SELL", "MSFT", "filled"),
        ("BUY", "AAPL", "filled"),
    ]
    assert payload["archive"]["status"] == "written"
    archive = open_archive(str(archive_directory))
    assert archive.verify(payload["archive"]["key"]).status == "valid"
    run = archive.read(payload["archive"]["key"])
    assert run.ledger.ledger_id == payload["ledger_id"]
    (plan,) = [e for e in events_of(run) if isinstance(e, Ledger.PlanAttached)]
    assert plan.plan_id == "run-plan"
    placed = [e.client_order_id for e in events_of(run) if isinstance(e, Ledger.OrderPlaced)]
    assert placed == ["run-plan-MSFT-SELL", "run-plan-AAPL-BUY"]
    assert len(ledger_fills(run.events)) == 4
    assert store.is_file()  # journaled durably
    assert json.loads(state.read_text())["orders"]  # the broker's state outlives the run
    # the same plan again: the broker has its orders, nothing is traded twice
    again = runner.invoke(app, argv)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["executions"] == 4
    assert len(json.loads(state.read_text())["orders"]) == 2
    recovered = runner.invoke(app, ["recover", "--broker-state", str(state)])
    assert recovered.exit_code == 0, recovered.output
    assert "nothing to do" in recovered.output


def test_run_reads_the_plan_from_standard_input(store: Path, archive_directory: Path) -> None:
    result = runner.invoke(app, ["run", "-", "--json"], input=plan_json("stdin-plan"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plan_id"] == "stdin-plan"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"plan_id": "x"}', "not a RebalancePlan"),
        (None, "fields a plan does not have: surprise"),
        (None, "is given twice"),
        (None, "timestamp: give a time zone"),
        (None, "NaN is not a number"),
    ],
)
def test_a_plan_that_is_not_a_plan_is_refused_before_trading(
    tmp_path: Path, store: Path, text: str | None, message: str
) -> None:
    good = json.loads(plan_json())
    if text is None and "surprise" in message:
        good["surprise"] = 1
        text = json.dumps(good)
    elif text is None and "twice" in message:
        text = plan_json()[:-1] + ', "plan_id": "again"}'
    elif text is None and "time zone" in message:
        good["timestamp"] = "2024-01-15T10:00:00"
        text = json.dumps(good)
    elif text is None:
        text = plan_json().replace('"total_portfolio_value":"10000"', '"total_portfolio_value":NaN')
        assert "NaN" in text
    path = tmp_path / "plan.json"
    path.write_text(text)
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert message in flat(result.output)
    assert "plan.json" in result.output.replace("\n", "").replace("│", "").replace(" ", "")
    assert not store.exists()  # nothing opened, nothing traded


def test_missing_plan_file_and_bad_broker_options_are_usage_errors(
    tmp_path: Path, store: Path
) -> None:
    missing = runner.invoke(app, ["run", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "no such file" in flat(missing.output)
    directory = runner.invoke(app, ["run", str(tmp_path)])
    assert directory.exit_code == 2
    assert "not a regular file" in flat(directory.output)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan_json())
    mixed = runner.invoke(app, ["run", str(plan_file), "--broker", "alpaca", "--fill-delay", "1"])
    assert mixed.exit_code == 2
    assert "simulated broker only" in flat(mixed.output)
    nothing = runner.invoke(app, ["recover"])
    assert nothing.exit_code == 2
    assert "--broker-state" in flat(nothing.output)
    assert not store.exists()


def test_run_on_alpaca_archives_to_s3(
    tmp_path: Path,
    store: Path,
    alpaca_env: dict[str, str],
    alpaca_server: LoopbackAlpaca,
    moto_server: MotoServer,  # noqa: F811
    bucket: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADE_LEDGER__BUCKET_NAME", bucket)
    monkeypatch.setenv("TRADE_LEDGER__ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", str(tmp_path / "outbox"))
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan_json("alpaca-plan"))
    result = runner.invoke(app, ["run", str(plan_file), "--broker", "alpaca", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["archive"]["status"] == "written"
    assert payload["archive"]["location"].startswith(f"s3://{bucket}/")
    body = (
        boto3.client("s3", endpoint_url=moto_server.endpoint)
        .get_object(Bucket=bucket, Key=payload["archive"]["key"])["Body"]
        .read()
    )
    document = json.loads(body)
    assert document["ledger_id"] == payload["ledger_id"]
    archive = open_archive(f"s3://{bucket}/trade-ledgers")
    run = archive.read(payload["archive"]["key"])
    recorded = sorted(f.fill.execution_id for f in ledger_fills(run.events))
    orders = {o["order_id"] for o in payload["orders"]}
    at_broker = sorted(a["id"] for a in alpaca_server.fake.activities if a["order_id"] in orders)
    assert recorded == at_broker
    assert len(recorded) == 3  # AAPL in two executions, MSFT in one
    reconciled = runner.invoke(
        app, ["reconcile", "--json", "--run", payload["archive"]["key"], "--broker", "alpaca"]
    )
    assert reconciled.exit_code == 0, reconciled.output
    assert json.loads(reconciled.stdout)["missing_from_ledger"] == 0
    again = runner.invoke(app, ["recover", "--broker", "alpaca", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["nothing_to_do"] is True
