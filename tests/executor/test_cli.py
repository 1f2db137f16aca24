"""``trade-ledger demo`` (the main job) and ``trade-ledger reconcile`` (against loopback Alpaca)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters import (
    ArchiveSettings,
    Executor,
    SimulatedBroker,
    archive_from_settings,
)
from adapters.cli import app, demo_scenario, main
from adapters.signing.configured import first_use_key
from tests.executor.alpaca_server import SECRET_KEY, LoopbackAlpaca
from tests.executor.conftest import run_documents
from tests.executor.test_alpaca_loopback import alpaca_broker, plan
from tests.servers import free_port

runner = CliRunner()


def test_demo_archives_locally_and_summarises(archive_directory: Path) -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    documents = run_documents(archive_directory)
    assert len(documents) == 1
    out = result.output
    assert f"archived (written) to {documents[0]}" in " ".join(out.split())
    assert "entries: 4   executions: 5   total buy: 6,330.00   total sell: 1,999.98" in out
    for line in (
        "momentum_strategy          entries 2   buy   3,756.00   sell       0.00",
        "mean_reversion_strategy    entries 2   buy   2,000.00   sell   1,999.98",
        "breakout_strategy          entries 1   buy     324.00   sell       0.00",
        "(unattributed)             entries 1   buy     250.00   sell       0.00",
    ):
        assert line in out
    assert "filled quantity" in out  # the orders table's column
    assert "rejected" in out
    assert "insufficient buying power" in out
    assert "- (no quote)" in out
    assert "OK (0 missing from ledger" in out
    document = json.loads(documents[0].read_text())
    assert document["total_entries"] == 4
    assert document["total_buy_value"] == "6330.00"


def test_demo_json_is_one_document_that_matches_the_ledger(archive_directory: Path) -> None:
    result = runner.invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    # A fresh configuration folder: the one message says where the new key is (stderr).
    assert result.stderr.startswith("created this machine's signing key"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    payload = json.loads(result.stdout)  # stdout is exactly one JSON document
    (path,) = run_documents(archive_directory)
    document = json.loads(path.read_text())
    assert payload["ledger_id"] == document["ledger_id"]
    assert payload["correlation_id"] == document["correlation_id"]
    assert payload["plan_id"].startswith("demo-plan-")
    assert len(payload["entries"]) == 4
    assert payload["entries"] == document["entries"]
    assert payload["totals"] == {
        "entries": document["total_entries"],
        "executions": 5,
        "buy_value": document["total_buy_value"],
        "sell_value": document["total_sell_value"],
    }
    assert [(o["side"], o["symbol"], o["status"]) for o in payload["orders"]] == [
        ("SELL", "MSFT", "filled"),
        ("BUY", "AAPL", "filled"),
        ("BUY", "NVDA", "canceled"),
        ("BUY", "GME", "rejected"),
        ("BUY", "TEST", "filled"),
    ]
    assert payload["orders"][3]["reason"] == "insufficient buying power"
    # an order report speaks the ledger's names; an entry keeps the guide's (filled_qty)
    quantities = {o["symbol"]: o["filled_quantity"] for o in payload["orders"]}
    assert quantities == {"MSFT": "5.0", "AAPL": "25", "NVDA": "9", "GME": "0", "TEST": "25"}
    assert {e["symbol"]: e["filled_qty"] for e in payload["entries"]} == {
        s: q for s, q in quantities.items() if s != "GME"
    }
    strategies = {
        row["strategy"]: (
            row["entries"],
            Decimal(row["buy_notional"]),
            Decimal(row["sell_notional"]),
        )
        for row in payload["strategies"]
    }
    assert strategies == {
        "momentum_strategy": (2, Decimal("3756"), Decimal(0)),
        "mean_reversion_strategy": (2, Decimal("2000"), Decimal("1999.975")),
        "breakout_strategy": (1, Decimal("324"), Decimal(0)),
        None: (1, Decimal("250"), Decimal(0)),
    }
    reconciliation = payload["reconciliation"]
    assert reconciliation["ok"] is True
    assert reconciliation["ledger_ids"] == [document["ledger_id"]]
    assert (reconciliation["ledger_fills"], reconciliation["matched"]) == (5, 5)
    assert payload["warnings"] == ["no quote for TEST at fill"]
    assert payload["ledger_errors"] == []
    assert payload["archive"] == {
        "archived": True,
        "status": "written",
        "key": path.relative_to(archive_directory).as_posix(),
        "location": str(path),
        "signed_by": document["signature"]["key_id"],
        "error": None,
    }


def test_demo_json_when_the_run_is_not_archived(
    archive_directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADE_LEDGER__ENABLED", "false")
    result = runner.invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output  # archiving was switched off on purpose
    payload = json.loads(result.stdout)
    assert payload["archive"]["archived"] is False
    assert payload["archive"]["status"] == "disabled"
    assert payload["totals"]["entries"] == 4
    assert "archive disabled (TRADE_LEDGER__ENABLED=false)" in result.stderr
    assert not archive_directory.exists()


def test_demo_refuses_an_archive_path_that_is_a_file_before_trading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not an archive")
    for location, reason in (("afile", "is not a directory"), ("", "empty path")):
        result = runner.invoke(app, ["demo", "--archive", location])
        assert result.exit_code == 2, result.output
        assert reason in " ".join(result.output.replace("\u2502", " ").split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # no outbox, no run


@pytest.mark.parametrize("as_json", [[], ["--json"]])
def test_demo_with_invalid_settings_is_a_usage_error(
    as_json: list[str], archive_directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADE_LEDGER__PREFIX", "..")
    result = runner.invoke(app, ["demo", *as_json])
    assert result.exit_code == 2, result.output
    assert "not a plain folder path" in " ".join(result.output.split())
    assert result.stdout == ""
    assert not archive_directory.exists()


def test_an_unexpected_error_is_one_line_not_a_traceback(
    archive_directory: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken_broker() -> Any:
        raise RuntimeError("simulated market closed")

    monkeypatch.setattr(demo_scenario, "demo_broker", broken_broker)
    monkeypatch.setattr(sys, "argv", ["trade-ledger", "demo"])
    first_use_key(ArchiveSettings().signing)  # not a fresh machine: no key message
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert captured.err == "trade-ledger: unexpected error: RuntimeError: simulated market closed\n"
    assert "Traceback" not in captured.out


def test_demo_output_verifies(archive_directory: Path) -> None:
    assert runner.invoke(app, ["demo"]).exit_code == 0
    today = datetime.now(UTC).date()
    verdicts = list(archive_from_settings().verify_runs(today))
    assert len(verdicts) == 1
    assert verdicts[0].ok, verdicts[0]
    verified = runner.invoke(app, ["verify", "--date", today.isoformat()])
    assert verified.exit_code == 0, verified.output
    assert "1 valid, 0 invalid, 0 unverifiable, 0 unreadable" in verified.stdout


def test_demo_on_a_fresh_machine(tmp_path: Path) -> None:
    """The README's main job: nothing configured, run from an empty directory.

    The first run creates the machine's signing key in the user's config folder (here a
    temporary ``XDG_CONFIG_HOME``) and says where, once; ``verify`` with no flags then
    trusts the run.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADE_LEDGER__")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config-home")
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from adapters.cli import main; main()", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    completed = cli("demo")
    assert completed.returncode == 0, completed.stderr
    documents = run_documents(tmp_path / "trade-ledger-archive")
    assert len(documents) == 1
    assert "archived (written)" in completed.stdout
    key_file = tmp_path / "config-home" / "trade-ledger" / "signing-key.pem"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert str(key_file) in " ".join(completed.stderr.split())
    assert "created this machine's signing key" in completed.stderr
    again = cli("demo")
    assert again.returncode == 0, again.stderr
    assert "signing key" not in again.stderr  # said once
    verified = cli("verify", "--date", datetime.now(UTC).date().isoformat(), "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["counts"]["valid"] == 2
    assert not any(p.name.endswith(".pem") for p in (tmp_path / "trade-ledger-archive").rglob("*"))


def archive_a_loopback_run(server: LoopbackAlpaca) -> None:
    result = asyncio.run(Executor(alpaca_broker(server)).execute_rebalance_plan(plan()))
    assert result.archived, result.archive_error


def test_reconcile_agrees_then_differs(
    alpaca_server: LoopbackAlpaca, alpaca_env: dict[str, str]
) -> None:
    archive_a_loopback_run(alpaca_server)
    today = datetime.now(UTC).date().isoformat()

    agreed = runner.invoke(app, ["reconcile", "--date", today])
    assert agreed.exit_code == 0, agreed.output
    assert "5 ledger fill(s), 5 broker fill(s), 5 matched: OK" in " ".join(agreed.output.split())

    aapl = next(a for a in alpaca_server.fake.activities if a["symbol"] == "AAPL")
    aapl["price"] = "150.26"
    alpaca_server.fake.activities.remove(
        next(a for a in alpaca_server.fake.activities if a["symbol"] == "TEST")
    )
    differed = runner.invoke(app, ["reconcile", "--date", today])
    assert differed.exit_code == 1, differed.output
    text = " ".join(differed.output.split())
    assert "price_mismatch: AAPL" in text
    assert "unknown_to_broker: TEST" in text
    assert SECRET_KEY not in differed.output

    as_json = runner.invoke(app, ["reconcile", "--date", today, "--json"])
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["ok"] is False
    assert sorted(d["kind"] for d in report["discrepancies"]) == [
        "price_mismatch",
        "unknown_to_broker",
    ]
    unknown = next(d for d in report["discrepancies"] if d["kind"] == "unknown_to_broker")
    assert (unknown["ledger_quantity"], unknown["broker_quantity"]) == ("25", None)
    assert unknown["ledger_price"] == "9.99"


def test_reconcile_one_run(alpaca_server: LoopbackAlpaca, alpaca_env: dict[str, str]) -> None:
    archive_a_loopback_run(alpaca_server)
    (ref,) = archive_from_settings().list_runs(datetime.now(UTC).date())
    result = runner.invoke(app, ["reconcile", "--run", ref.key])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "1 run(s), 5 ledger fill(s), 5 broker fill(s), 5 matched: OK" in text
    as_json = runner.invoke(app, ["reconcile", "--run", ref.key, "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["ok"] is True
    assert report["ledger_ids"] == [ref.ledger_id]
    assert (report["ledger_fills"], report["broker_fills"], report["matched"]) == (5, 5, 5)
    assert report["discrepancies"] == []


def test_reconcile_without_credentials_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALPACA_API_KEY", "ALPACA_SECRET_KEY", "APCA_API_KEY_ID", "APCA_API_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(app, ["reconcile"])
    assert result.exit_code == 2
    assert "ALPACA_API_KEY" in result.output


def test_reconcile_with_an_unreachable_broker(
    alpaca_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, archive_directory: Path
) -> None:
    archive_directory.mkdir()  # an existing, empty archive: the broker is what fails
    monkeypatch.setenv("ALPACA_BASE_URL", f"http://127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["reconcile", "--date", "2024-01-15"])
    assert result.exit_code == 2
    assert "broker" in result.output
    assert SECRET_KEY not in result.output


def test_reconcile_rejects_a_bad_date(alpaca_env: dict[str, str]) -> None:
    for as_json in ([], ["--json"]):
        result = runner.invoke(app, ["reconcile", "--date", "15/01/2024", *as_json])
        assert result.exit_code == 2
        assert "YYYY-MM-DD" in result.stderr
        assert result.stdout == ""  # stdout is only ever the report


def test_demo_prints_markup_like_data_verbatim(
    archive_directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids, strategy names and broker reasons are data: never parsed as rich markup."""
    original_plan = demo_scenario.demo_plan

    def markup_plan(now: datetime) -> Any:
        plan = original_plan(now)
        attribution = plan.metadata["strategy_attribution"]
        attribution["AAPL"] = {"mom[/bold]": 0.6, "[/]": 0.4}
        return plan.model_copy(update={"correlation_id": "demo[/]", "plan_id": "plan[/i]"})

    def markup_broker() -> Any:
        return SimulatedBroker(
            prices={"AAPL": "199.99", "MSFT": "400.01", "NVDA": "119.99"},
            reject={"GME": "no [/] buying power[red]"},
        )

    monkeypatch.setattr(demo_scenario, "demo_plan", markup_plan)
    monkeypatch.setattr(demo_scenario, "demo_broker", markup_broker)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    for text in ("demo[/]", "plan[/i]", "mom[/bold]", "no [/] buying power[red]"):
        assert text in out


@pytest.mark.parametrize("location", ["s3://bucket", "s3://bucket/prefix", "file:///tmp/x"])
def test_demo_refuses_a_url_archive(
    location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--archive", location])
    assert result.exit_code == 2, result.output
    assert "only to a local directory" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []  # no folder named "s3:" (or anything else)


def test_reconcile_prints_markup_like_arguments_verbatim() -> None:
    result = runner.invoke(app, ["reconcile", "--price-tolerance", "[/]x"])
    assert result.exit_code == 2, result.output
    assert "--price-tolerance is not a number: '[/]x'" in result.output


def test_reconcile_refuses_a_missing_archive_directory(
    alpaca_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-archive"
    result = runner.invoke(app, ["reconcile", "--date", "2024-01-15", "--archive", str(missing)])
    assert result.exit_code == 2
    assert "does not exist" in " ".join(result.output.split())
    assert not missing.exists()


def test_demo_never_pushes_the_configured_outbox(
    archive_directory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A production run waiting for S3 stays in its outbox when the demo archives."""
    from adapters.archive import LocalDirectoryArchive, Outbox  # noqa: PLC0415
    from adapters.archive.document import encode_run  # noqa: PLC0415
    from tests.archive.runs import closed_run  # noqa: PLC0415

    outbox_directory = tmp_path / "production-outbox"
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", str(outbox_directory))
    waiting = closed_run(2)
    key = LocalDirectoryArchive(archive_directory).key_for(waiting)
    Outbox(outbox_directory).put(key, encode_run(waiting).body)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert Outbox(outbox_directory).count() == 1
    assert [p.name for p in run_documents(archive_directory)] != [Path(key).name]
    assert len(run_documents(archive_directory)) == 1  # the demo's own
