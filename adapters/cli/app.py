"""The ``trade-ledger`` Typer application that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="trade-ledger",
    help="Record, archive, list, show and verify event-sourced trade ledgers.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def root() -> None:
    """Event-sourced trade ledgers: record, archive, list, show, verify."""
