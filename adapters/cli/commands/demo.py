"""``trade-ledger demo``: the main job, end to end, on a simulated broker.

A multi-strategy rebalance plan is executed by the real ``Executor`` against the
``SimulatedBroker`` (see ``adapters.cli.demo_scenario``). Every fill is recorded as it
happens, the ledger is closed and archived to the *local* archive (``./trade-ledger-archive``
or ``TRADE_LEDGER__LOCAL_DIRECTORY``; never S3, these are simulated trades), reconciled
against the simulated broker's fills, and summarised: as tables, or with ``--json`` as one
JSON document on stdout (messages go to stderr). Exit 1 when the run could not be archived
(0 when archiving is switched off with ``TRADE_LEDGER__ENABLED=false``); an archive path
that is not a directory is a usage error (exit 2) before anything is traded.
:func:`register` adds the command to the application.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from adapters.cli.common import archive_settings, err, print_json
from adapters.cli.tables import Column, print_table

if TYPE_CHECKING:
    from adapters.archive import ArchiveSettings
    from adapters.cli.demo_scenario import DemoRun
    from projections import StrategyRow

UNATTRIBUTED = "(unattributed)"
ORDER_COLUMNS = (
    Column("side", "name"),
    Column("symbol", "name"),
    Column("notional", "number"),
    Column("status", "name"),
    Column("filled quantity", "number"),
    Column("executions", "number"),
    Column("note", "name"),  # a short reason, kept whole
)
ENTRY_COLUMNS = (
    Column("symbol", "name"),
    Column("side", "name"),
    Column("qty", "number"),
    Column("avg price", "number"),
    Column("bid / ask at fill", "text"),
    Column("type", "name"),
    Column("strategies", "name"),
)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _local_directory(archive_location: str | None) -> str:
    """The demo's archive directory; a URL (``s3://...``) is a usage error, never a folder."""
    if archive_location is not None and "://" in archive_location:
        raise typer.BadParameter(
            f"{archive_location!r} is not a directory: the demo archives its simulated trades "
            "only to a local directory, never to S3 or another URL",
            param_hint="--archive",
        )
    if archive_location is not None and not archive_location.strip():
        raise typer.BadParameter(
            "an empty path is not an archive directory", param_hint="--archive"
        )
    directory = (
        Path(archive_location) if archive_location else archive_settings().local_directory
    ).resolve()
    if directory.exists() and not directory.is_dir():
        # Checked before trading: a run that cannot be archived must not be traded.
        raise typer.BadParameter(
            f"archive location {str(directory)!r} is not a directory", param_hint="--archive"
        )
    return str(directory)


def demo(
    archive_location: Annotated[
        str | None,
        typer.Option(
            "--archive",
            help="Archive directory (default: TRADE_LEDGER__LOCAL_DIRECTORY or "
            "./trade-ledger-archive); a URL such as s3://... is refused.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="The run's result as one JSON document on stdout."),
    ] = False,
) -> None:
    """Run a multi-strategy plan on the simulated broker, archive it locally, summarise."""
    from adapters.archive import open_archive  # noqa: PLC0415
    from adapters.cli import demo_scenario  # noqa: PLC0415  (loads the executor: only here)

    location = _local_directory(archive_location)
    # The demo's own outbox, inside its archive directory: simulated trades must never
    # meet the configured outbox, whose waiting documents belong to another archive.
    settings = archive_settings().model_copy(
        update={"outbox_directory": Path(location) / ".outbox"}
    )
    _first_use_key(settings, Path(location))
    archive = open_archive(location, settings)
    run = demo_scenario.run_demo(archive)
    if as_json:
        print_json(demo_json(run))
    else:
        _print_summary(run)
    result = run.result
    outcome = result.archive
    if outcome is not None and outcome.status == "disabled":
        console = err if as_json else _console()
        console.print("archive disabled (TRADE_LEDGER__ENABLED=false): the run was not archived")
        return
    if outcome is None or not outcome.archived:
        status = outcome.status if outcome is not None else "not archived"
        console = err if as_json else _console()
        console.print(
            f"archive {status}: {result.archive_error or 'no details'}",
            style="red",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


def _first_use_key(settings: ArchiveSettings, archive_directory: Path) -> None:
    """On a fresh machine, create and trust the signing key, and say where (once)."""
    from adapters.signing import SigningError  # noqa: PLC0415
    from adapters.signing.configured import first_use_key  # noqa: PLC0415

    signing = settings.signing
    key_path = signing.key_path.resolve()
    if key_path == archive_directory or archive_directory in key_path.parents:
        raise typer.BadParameter(
            f"the signing key {str(signing.key_path)!r} is inside the archive directory: a "
            "private key must never be stored in the archive",
            param_hint="TRADE_LEDGER__SIGNING__KEY_FILE",
        )
    try:
        signer = first_use_key(signing)
    except SigningError as error:
        err.print(f"no signing key ({error}): the run is archived unsigned", style="yellow")
        return
    if signer is not None:
        err.print(
            f"created this machine's signing key {signer.key_id} at {signing.key_path} "
            f"(mode 0600); its public key is trusted in {signing.trusted_keys_path}, so "
            "`trade-ledger verify` trusts the runs signed here",
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)


# -- JSON ----------------------------------------------------------------------------------


def demo_json(run: DemoRun) -> dict[str, Any]:
    """The run as JSON: ids, orders, entries, totals, strategies, reconciliation, archive.

    Decimals are strings (exact, as in the archive's documents); ``entries`` are the
    ledger's entries exactly as the archived document holds them.
    """
    result, ledger = run.result, run.ledger
    return {
        "plan_id": run.plan.plan_id,
        "ledger_id": ledger.ledger_id,
        "correlation_id": ledger.correlation_id,
        "orders": [
            {
                "side": order.side,
                "symbol": order.symbol,
                "notional": str(order.notional),
                "order_id": order.order_id,
                "status": order.status,
                "filled_quantity": str(order.filled_quantity),
                "executions": order.executions,
                "reason": order.reason,
            }
            for order in result.orders
        ],
        "entries": ledger.model_dump(mode="json")["entries"],
        "totals": {
            "entries": ledger.total_entries,
            "executions": result.executions,
            "buy_value": str(ledger.total_buy_value),
            "sell_value": str(ledger.total_sell_value),
        },
        "strategies": [_strategy_json(row) for row in _strategy_rows(run)],
        "reconciliation": run.reconciliation.as_dict(),
        "ledger_errors": result.ledger_errors,
        "warnings": result.warnings,
        "archive": _archive_json(run),
    }


def _archive_json(run: DemoRun) -> dict[str, Any]:
    """Where the run's document went; ``error`` says why when it was not archived."""
    result = run.result
    outcome = result.archive
    return {
        "archived": result.archived,
        "status": outcome.status if outcome is not None else None,
        "key": outcome.key if outcome is not None else None,
        "location": outcome.location if outcome is not None else None,
        "signed_by": outcome.signed_by if outcome is not None else None,
        "error": result.archive_error,
    }


def _strategy_rows(run: DemoRun) -> list[StrategyRow]:
    """The strategies with entries, then the unattributed line if it has any."""
    rows = (*run.strategies.strategies, run.strategies.unattributed)
    return [row for row in rows if row.entries]


def _strategy_json(row: StrategyRow) -> dict[str, Any]:
    return {
        "strategy": row.strategy,
        "entries": row.entries,
        "buy_notional": str(row.buy_notional),
        "sell_notional": str(row.sell_notional),
    }


# -- tables --------------------------------------------------------------------------------


def _console() -> Console:
    """stdout (markup off: ids are data); tables fit its width (see ``adapters.cli.tables``)."""
    return Console(markup=False, highlight=False)


def _print_summary(run: DemoRun) -> None:
    console = _console()
    result, ledger = run.result, run.ledger
    print_table(
        console,
        ORDER_COLUMNS,
        [
            (
                order.side,
                order.symbol,
                _money(order.notional),
                order.status,
                str(order.filled_quantity),
                str(order.executions),
                order.reason or "",
            )
            for order in result.orders
        ],
        title=f"Plan {run.plan.plan_id}: orders (sells first)",
    )
    rows = []
    for entry in ledger.entries:
        quote = (
            f"{entry.bid_at_fill} / {entry.ask_at_fill}"
            if entry.bid_at_fill is not None or entry.ask_at_fill is not None
            else "- (no quote)"
        )
        weights = entry.strategy_weights or {}
        rows.append(
            (
                entry.symbol,
                entry.direction,
                str(entry.filled_qty),
                str(entry.fill_price.quantize(Decimal("0.0001"))),
                quote,
                entry.order_type,
                "\n".join(f"{name} {weight}" for name, weight in weights.items()) or "-",
            )
        )
    print_table(
        console,
        ENTRY_COLUMNS,
        rows,
        title=f"Ledger {ledger.ledger_id} ({ledger.correlation_id})",
    )

    console.print(
        f"entries: {ledger.total_entries}   executions: {result.executions}   "
        f"total buy: {_money(ledger.total_buy_value)}   "
        f"total sell: {_money(ledger.total_sell_value)}",
        highlight=False,
        soft_wrap=True,
    )
    console.print("per strategy (notional weighted by attribution):", highlight=False)
    for row in _strategy_rows(run):
        console.print(
            f"  {row.strategy or UNATTRIBUTED:<26} entries {row.entries}"
            f"   buy {_money(row.buy_notional):>10}   sell {_money(row.sell_notional):>10}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"reconciliation with the broker: {run.reconciliation.summary()}",
        highlight=False,
        soft_wrap=True,
    )
    for message in result.ledger_errors:
        console.print(f"ledger: {message}", style="red", highlight=False, soft_wrap=True)
    outcome = result.archive
    if outcome is not None and outcome.archived:
        console.print(
            f"archived ({outcome.status}) to {outcome.location}", highlight=False, soft_wrap=True
        )
        console.print(f"  key: {outcome.key}", highlight=False, soft_wrap=True)
        signed = f"signed by key {outcome.signed_by}" if outcome.signed_by else result.archive_error
        console.print(f"  {signed or 'not signed'}", highlight=False, soft_wrap=True)
