"""``trade-ledger reconcile``: archived runs against the broker's fill activities.

Exit status: 0 when ledgers and broker agree, 1 when they differ, 2 when the comparison
could not be made (no credentials, broker or archive unreachable, bad arguments).
The broker is Alpaca unless ``--broker simulated --broker-state FILE`` names the simulated
broker's state (the options ``run`` and ``recover`` take). Credentials come from
``ALPACA_API_KEY`` / ``ALPACA_SECRET_KEY`` (see
``adapters.brokers.alpaca.settings``); they are never printed or logged. :func:`register`
adds the command to the application.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.console import Console

from adapters.cli.broker_options import (
    BrokerKind,
    BrokerOption,
    BrokerStateOption,
    FillDelayOption,
    PartialFillsOption,
    broker_choice,
)
from adapters.cli.common import chosen_archive, err

EXIT_DIFFERENT = 1
EXIT_UNABLE = 2


def _fail(message: str) -> typer.Exit:
    """A run that could not be made: the reason on stderr (stdout stays the report's)."""
    err.print(f"reconcile: {message}", style="red", highlight=False, soft_wrap=True, markup=False)
    return typer.Exit(EXIT_UNABLE)


def _decimal(value: str, name: str) -> Decimal:
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise _fail(f"{name} is not a number: {value!r}") from None
    if not result.is_finite() or result < 0:
        raise _fail(f"{name} must be a number >= 0")
    return result


def reconcile(
    *,
    day: Annotated[
        str | None,
        typer.Option("--date", help="UTC day of the archived runs, YYYY-MM-DD (default: today)."),
    ] = None,
    archive_location: Annotated[
        str | None,
        typer.Option(
            "--archive",
            help="Archive PATH or s3://bucket/prefix (default: from TRADE_LEDGER__ settings).",
        ),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Reconcile only this archived run (its key)."),
    ] = None,
    price_tolerance: Annotated[
        str, typer.Option(help="Allowed price difference per execution.")
    ] = "0",
    average_price_tolerance: Annotated[
        str,
        typer.Option(help="Allowed difference of an order's average price (whole-order fills)."),
    ] = "0.0001",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    broker: BrokerOption = None,
    broker_state: BrokerStateOption = None,
    fill_delay: FillDelayOption = 0.0,
    partial_fills: PartialFillsOption = 1,
) -> None:
    """Compare archived runs with the broker's fills: missing, unknown, mismatched."""
    from adapters.brokers.alpaca import AlpacaConfigError  # noqa: PLC0415
    from adapters.brokers.port import BrokerError  # noqa: PLC0415
    from adapters.reconciliation.runs import reconcile_date, reconcile_run  # noqa: PLC0415

    console = Console(markup=False)  # broker data and arguments are never rich markup
    options = {
        "price_tolerance": _decimal(price_tolerance, "--price-tolerance"),
        "average_price_tolerance": _decimal(average_price_tolerance, "--average-price-tolerance"),
    }
    try:
        when = date.fromisoformat(day) if day else datetime.now(UTC).date()
    except ValueError:
        raise _fail(f"--date must be YYYY-MM-DD, got {day!r}") from None
    choice = broker_choice(
        broker, broker_state, fill_delay, partial_fills, default=BrokerKind.alpaca
    )
    choice.check(needs_history=True)
    try:
        the_broker = choice.open()
    except (AlpacaConfigError, BrokerError, ValueError) as error:
        raise _fail(str(error)) from None
    # The archive opener of list/show/verify: bad settings or a missing directory exit 2.
    archive = chosen_archive(archive_location)
    try:
        if run:
            report = asyncio.run(reconcile_run(archive.read(run), the_broker, **options))
        else:
            report = asyncio.run(reconcile_date(archive, when, the_broker, **options))
    except BrokerError as error:
        raise _fail(f"broker: {error}") from None
    except Exception as error:
        raise _fail(f"{type(error).__name__}: {error}") from None
    finally:
        close = getattr(the_broker, "close", None)
        if close is not None:
            close()
    if as_json:
        typer.echo(report.to_json())
    else:
        style = "green" if report.ok else "red"
        console.print(report.summary(), style=style, highlight=False, soft_wrap=True)
        for discrepancy in report.discrepancies:
            console.print(f"  {discrepancy.describe()}", highlight=False, soft_wrap=True)
        for note in report.notes:
            console.print(f"  note: {note}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(EXIT_DIFFERENT)


def register(app: typer.Typer) -> None:
    """Add ``reconcile`` to ``app``."""
    app.command("reconcile")(reconcile)
