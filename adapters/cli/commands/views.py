"""``trade-ledger views follow | show``: live views of every run on the PostgreSQL store.

The ledger store comes from eventsourcing's own settings, as for the processes that
record (``PERSISTENCE_MODULE=eventsourcing.postgres``, ``POSTGRES_DBNAME``,
``POSTGRES_HOST``, ``POSTGRES_PORT``, ``POSTGRES_USER``, ``POSTGRES_PASSWORD``,
``POSTGRES_SCHEMA``). Another store is a usage error (exit 2); a database that fails
is exit 1.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Annotated, Any

import typer

from adapters.cli.common import err, out, print_json
from adapters.cli.tables import Column, print_table

SETTINGS_HINT = "PERSISTENCE_MODULE / POSTGRES_*"


def follow_command(
    *,
    once: Annotated[
        bool,
        typer.Option("--once", help="Catch up with the runs recorded so far, then exit."),
    ] = False,
    until_idle: Annotated[
        bool,
        typer.Option(
            "--until-idle", help="Catch up, then exit once nothing new came for --idle seconds."
        ),
    ] = False,
    idle: Annotated[
        float, typer.Option("--idle", min=0.1, help="Seconds without new events (--until-idle).")
    ] = 2.0,
) -> None:
    """Keep the live views in PostgreSQL while other processes record (until Ctrl-C/SIGTERM)."""
    from adapters.views import ViewsConfigError, follow_views  # noqa: PLC0415 (loads psycopg)
    from adapters.views.follower import Until  # noqa: PLC0415

    if once and until_idle:
        raise typer.BadParameter("give --once or --until-idle, not both")
    until: Until = "caught_up" if once else "idle" if until_idle else "interrupted"
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, _setter(stop))
    last: list[int | None] = [None]

    def progress(position: int | None, target: int | None) -> None:
        if position != last[0]:
            last[0] = position
            err.print(f"views at notification {position or 0} of {target or 0}")

    try:
        position = follow_views(
            dict(os.environ), until=until, idle_seconds=idle, stop=stop, progress=progress
        )
    except ViewsConfigError as error:
        raise typer.BadParameter(str(error), param_hint=SETTINGS_HINT) from error
    except KeyboardInterrupt:
        err.print("stopped")
        return
    except Exception as error:  # the database refused or went away: reported, exit 1
        err.print(f"following failed: {error}", style="red")
        raise typer.Exit(1) from error
    finally:
        signal.signal(signal.SIGTERM, previous)
    out.print(f"views at notification {position or 0}")


def _setter(stop: threading.Event) -> Any:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    return handler


def show_command(
    *,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
    ] = False,
) -> None:
    """Print the live views: buy/sell totals, by symbol, by strategy."""
    from adapters.views import ViewsConfigError, read_views  # noqa: PLC0415

    try:
        views = read_views(dict(os.environ))
    except ViewsConfigError as error:
        raise typer.BadParameter(str(error), param_hint=SETTINGS_HINT) from error
    except Exception as error:
        err.print(f"cannot read the views: {error}", style="red")
        raise typer.Exit(1) from error
    if as_json:
        print_json(
            {
                "position": views.position,
                "totals": views.totals.model_dump(mode="json"),
                "by_symbol": views.by_symbol.model_dump(mode="json"),
                "by_strategy": views.by_strategy.model_dump(mode="json"),
            }
        )
        return
    totals = views.totals
    out.print(f"views at notification {views.position or 0}")
    out.print(
        f"buy {totals.buy_value} ({totals.buy_entries} entries, {totals.buy_executions} "
        f"executions)  sell {totals.sell_value} ({totals.sell_entries} entries, "
        f"{totals.sell_executions} executions)  net {totals.net_value}"
    )
    symbol_columns = [
        Column("symbol", "name"),
        Column("side", "name"),
        *(Column(h, "number") for h in ("entries", "executions", "quantity", "notional")),
        Column("avg price", "number"),
    ]
    symbol_rows = [
        [
            row.symbol,
            row.side.value,
            str(row.entries),
            str(row.executions),
            str(row.quantity),
            str(row.notional),
            str(row.average_price),
        ]
        for row in views.by_symbol.rows
    ]
    print_table(out, symbol_columns, symbol_rows, title="by symbol")
    report = views.by_strategy
    strategy_columns = [
        Column("strategy", "name"),
        *(Column(h, "number") for h in ("entries", "executions")),
        *(Column(h, "number") for h in ("buy notional", "sell notional")),
    ]
    strategy_rows = [
        [
            line.strategy or "(unattributed)",
            str(line.entries),
            str(line.executions),
            str(line.buy_notional),
            str(line.sell_notional),
        ]
        for line in (*report.strategies, report.unattributed)
    ]
    print_table(out, strategy_columns, strategy_rows, title="by strategy")


def register(app: typer.Typer) -> None:
    """Add the ``views`` group (``views follow``, ``views show``) to ``app``."""
    group = typer.Typer(
        name="views",
        help="Live views of every run on the PostgreSQL store (by symbol, strategy, totals).",
        no_args_is_help=True,
    )
    group.command("follow")(follow_command)
    group.command("show")(show_command)
    app.add_typer(group)
