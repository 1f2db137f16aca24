"""``trade-ledger outbox list``: what waits in the local outbox, and what a person must decide.

Pending documents wait for ``push-outbox``; quarantined ones were refused for good by the
store (with the reason); conflicts are documents refused because a different document
holds their key, kept beside the archived one so a person can compare the two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.archive import Outbox, OutboxEntry
from adapters.cli.common import archive_settings, out, print_json
from adapters.cli.printable import printable
from adapters.cli.tables import Column, print_table

STATES = ("pending", "quarantined", "conflict")


def list_outbox(
    *,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--outbox",
            help="The outbox folder (default: TRADE_LEDGER__OUTBOX_DIRECTORY, or "
            "<local_directory>/.outbox).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
    ] = False,
) -> None:
    """List pending, quarantined and conflicting documents (exit 0; a listing is no check)."""
    outbox = Outbox(directory if directory is not None else archive_settings().outbox_path)
    entries = list(outbox.entries())
    if as_json:
        print_json(
            {
                "outbox": str(outbox.directory),
                "counts": {state: sum(e.state == state for e in entries) for state in STATES},
                "entries": [_entry_json(entry) for entry in entries],
            }
        )
        return
    columns = (
        Column("state", "name"),
        Column("key", "id", shorten=False),
        Column("file", "id", shorten=False),
        Column("details", "text"),
    )
    rows = [
        (entry.state, *(printable(cell) for cell in (entry.key, str(entry.path), _details(entry))))
        for entry in entries
    ]
    print_table(out, columns, rows, title=printable(f"outbox {outbox.directory}"))
    counts = ", ".join(f"{sum(e.state == s for e in entries)} {s}" for s in STATES)
    out.print(counts)


def _details(entry: OutboxEntry) -> str:
    if entry.state == "quarantined":
        return entry.reason or "-"
    if entry.state == "conflict":
        archived = entry.archived_path
        return f"archived copy: {archived}" if archived else "archived copy: not kept"
    return "-"


def _entry_json(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "state": entry.state,
        "key": entry.key,
        "path": str(entry.path),
        "reason": entry.reason,
        "archived_path": None if entry.archived_path is None else str(entry.archived_path),
    }


def register(app: typer.Typer) -> None:
    """Add the ``outbox`` group (``outbox list``) to ``app``."""
    group = typer.Typer(
        name="outbox",
        help="The local outbox: documents waiting, quarantined, or in conflict.",
        no_args_is_help=True,
    )
    group.command("list")(list_outbox)
    app.add_typer(group)
