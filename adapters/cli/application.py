"""The ``trade-ledger`` application: every command group registered here, explicitly.

Importing a command module registers nothing; :func:`build_app` adds each group's
commands, in the order ``--help`` lists them.
"""

from __future__ import annotations

import typer

from adapters.cli.commands import (
    analytics,
    archive,
    demo,
    keys,
    outbox,
    reconcile,
    recover,
    report,
    run,
    runlog,
    views,
)

COMMAND_GROUPS = (
    archive,
    runlog,
    analytics,
    report,
    reconcile,
    run,
    recover,
    demo,
    outbox,
    keys,
    views,
)
"""Each module's ``register(app)`` adds its commands: list/show/verify/push-outbox,
checkpoint/audit, export/sql, report, reconcile, run, recover, demo, outbox (list), keys
init/show, views (follow/show)."""


def root() -> None:
    """Event-sourced trade ledgers: record, archive, list, show, verify."""


def build_app() -> typer.Typer:
    """A new ``trade-ledger`` application with every command group registered."""
    app = typer.Typer(
        name="trade-ledger",
        help="Record, archive, list, show and verify event-sourced trade ledgers.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.callback()(root)
    for group in COMMAND_GROUPS:
        group.register(app)
    return app


app = build_app()
