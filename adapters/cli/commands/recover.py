"""``trade-ledger recover``: finish every run a process left unfinished in the durable store.

Open runs get the executions the broker has for their client orders and the ledger lacks
(an order still open at the broker is canceled first), are closed and archived; closed runs
missing from the archive are archived (``adapters.execution.recovery``). Running it again
reports nothing to do.

Exit status: 0 when every unfinished run was recovered (or there was none), 1 when some
could not be (each named), 2 for usage errors (bad settings, no broker history).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

import typer

from adapters.cli.broker_options import (
    BrokerOption,
    BrokerStateOption,
    FillDelayOption,
    PartialFillsOption,
    broker_choice,
)
from adapters.cli.common import chosen_archive, err, out, print_json, store_settings


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"recover: {message}", style="red", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def recover(
    *,
    broker: BrokerOption = None,
    broker_state: BrokerStateOption = None,
    fill_delay: FillDelayOption = 0.0,
    partial_fills: PartialFillsOption = 1,
    idle: Annotated[
        float,
        typer.Option(
            "--idle",
            help="Leave open runs alone whose last event is newer than this many seconds "
            "(they may still be running elsewhere). Default 0: recover every open run.",
            min=0.0,
        ),
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Close and archive the runs a killed process left behind, completed from the broker."""
    from adapters.brokers.port import BrokerError  # noqa: PLC0415

    choice = broker_choice(broker, broker_state, fill_delay, partial_fills)
    choice.check(needs_history=True)
    archive = chosen_archive(None, must_exist=False)
    settings = store_settings()
    try:
        the_broker = choice.open()
    except (BrokerError, ValueError) as error:
        raise _fail(f"broker: {error}", 2) from None
    try:
        report = asyncio.run(_recover(the_broker, archive, settings, timedelta(seconds=idle)))
    finally:
        close = getattr(the_broker, "close", None)
        if close is not None:
            close()
    if as_json:
        print_json(report.as_dict())
    else:
        style = "green" if report.ok else "red"
        out.print(report.summary(), style=style, soft_wrap=True)
        for run in report.runs:
            out.print(f"  {run.describe()}", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


async def _recover(broker: Any, archive: Any, settings: Any, idle: timedelta) -> Any:
    from adapters.execution.recovery import recover_runs  # noqa: PLC0415
    from adapters.store import EventStoreError, open_event_store  # noqa: PLC0415

    try:
        application = await asyncio.to_thread(open_event_store, settings)
    except EventStoreError as error:
        raise _fail(str(error), 2) from None
    return await recover_runs(application, broker, archive, idle=idle)


def register(app: typer.Typer) -> None:
    """Add ``recover`` to ``app``."""
    app.command("recover")(recover)
