"""``trade-ledger run PLAN_FILE``: the production main job.

Reads a ``RebalancePlan`` (JSON) from a file or ``-`` (standard input), recovers the runs a
previous process left unfinished (see ``recover``), trades the plan through the chosen
broker, journals every fill durably (the ``TRADE_LEDGER__STORE__*`` event store), and
archives the run per the ``TRADE_LEDGER__*`` settings (S3 when ``TRADE_LEDGER__BUCKET_NAME``
is set). SIGTERM or Ctrl-C stops it cleanly: no new orders, the rest canceled, what filled
recorded, the run closed with the reason and archived.

Exit status: 0 when the run was traded to its end and archived (or archiving is off);
1 when it was stopped, not archived, a fill could not be recorded or an unfinished run could
not be recovered; 2 for usage errors (a plan that is not a valid plan, bad settings).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
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

START_RECOVERY_IDLE = timedelta(minutes=10)
"""On start, open runs idle for longer than this are recovered (a shorter-lived one may
belong to another executor still running on the same store)."""


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"run: {message}", style="red", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def run(
    plan_file: Annotated[
        str, typer.Argument(help="The RebalancePlan as JSON: a file, or - for standard input.")
    ],
    *,
    broker: BrokerOption = None,
    broker_state: BrokerStateOption = None,
    fill_delay: FillDelayOption = 0.0,
    partial_fills: PartialFillsOption = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="The run's result as one JSON document on stdout.")
    ] = False,
) -> None:
    """Trade a rebalance plan: recover first, journal durably, archive per the settings."""
    from adapters.brokers.port import BrokerError  # noqa: PLC0415
    from adapters.execution.plan_file import PlanFileError, read_plan  # noqa: PLC0415
    from adapters.store import EventStoreError  # noqa: PLC0415

    choice = broker_choice(broker, broker_state, fill_delay, partial_fills)
    choice.check()
    try:
        plan = read_plan(plan_file)
    except PlanFileError as error:
        raise typer.BadParameter(str(error), param_hint="PLAN_FILE") from None
    archive = chosen_archive(None, must_exist=False)
    settings = store_settings()
    try:
        the_broker = choice.open()
    except (BrokerError, ValueError) as error:
        raise _fail(f"broker: {error}", 2) from None
    try:
        recovery, result = asyncio.run(
            _trade(plan, the_broker, archive, settings, recover=choice.has_history)
        )
    except EventStoreError as error:
        raise _fail(str(error), 2) from None
    finally:
        close = getattr(the_broker, "close", None)
        if close is not None:
            close()
    document = run_json(result, recovery)
    if as_json:
        print_json(document)
    else:
        _print(document)
    if not _succeeded(result, recovery):
        raise typer.Exit(1)


async def _trade(
    plan: Any, broker: Any, archive: Any, settings: Any, *, recover: bool
) -> tuple[Any, Any]:
    from adapters.brokers.port import OrderHistory  # noqa: PLC0415
    from adapters.execution.executor import Executor  # noqa: PLC0415
    from adapters.execution.recovery import recover_runs  # noqa: PLC0415

    executor = Executor(broker, archive=archive, store=settings)
    application = await asyncio.to_thread(executor.event_store)  # EventStoreError: exit 2
    recovery = None
    if recover and isinstance(broker, OrderHistory):
        recovery = await recover_runs(application, broker, archive, idle=START_RECOVERY_IDLE)
    result = await executor.execute_rebalance_plan(plan)
    return recovery, result


def _succeeded(result: Any, recovery: Any) -> bool:
    archived = result.archived or (
        result.archive is not None and result.archive.status == "disabled"
    )
    recovered = recovery is None or recovery.ok
    return archived and result.ledger_ok and result.stopped is None and recovered


def run_json(result: Any, recovery: Any) -> dict[str, Any]:
    """The run as JSON: ids, orders, totals, ledger and archive outcome, recovery first."""
    outcome = result.archive
    return {
        "plan_id": result.plan_id,
        "ledger_id": result.ledger_id,
        "correlation_id": result.correlation_id,
        "success": result.success,
        "stopped": result.stopped,
        "orders": [
            {
                "side": str(order.side),
                "symbol": order.symbol,
                "client_order_id": order.client_order_id,
                "notional": str(order.notional),
                "order_id": order.order_id,
                "status": order.status,
                "filled_quantity": str(order.filled_quantity),
                "filled_value": str(order.filled_value),
                "executions": order.executions,
                "reason": order.reason,
            }
            for order in result.orders
        ],
        "executions": result.executions,
        "ledger_closed": result.ledger_closed,
        "ledger_errors": result.ledger_errors,
        "warnings": result.warnings,
        "archive": {
            "archived": result.archived,
            "status": outcome.status if outcome is not None else None,
            "key": outcome.key if outcome is not None else None,
            "location": outcome.location if outcome is not None else None,
            "error": result.archive_error,
        },
        "recovery": None if recovery is None else recovery.as_dict(),
    }


def _money(value: str) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):,}"


def _print(document: dict[str, Any]) -> None:
    recovery = document["recovery"]
    if recovery is not None and not recovery["nothing_to_do"]:
        out.print(f"recovered first: {len(recovery['runs'])} unfinished run(s)")
    out.print(f"plan {document['plan_id']}: ledger {document['ledger_id']}")
    for order in document["orders"]:
        out.print(
            f"  {order['side']:<4} {order['symbol']:<8} {order['status']:<16} "
            f"qty {order['filled_quantity']:<14} value {_money(order['filled_value']):>12}  "
            f"{order['reason'] or ''}",
            soft_wrap=True,
        )
    out.print(f"executions: {document['executions']}")
    if document["stopped"]:
        out.print(f"STOPPED: {document['stopped']}", style="yellow")
    for message in document["ledger_errors"]:
        out.print(f"ledger: {message}", style="red", soft_wrap=True)
    archive = document["archive"]
    if archive["archived"]:
        out.print(f"archived ({archive['status']}) to {archive['location']}", soft_wrap=True)
    else:
        out.print(
            f"archive {archive['status'] or 'not written'}: {archive['error']}",
            style="red",
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    """Add ``run`` to ``app``."""
    app.command("run")(run)
