"""``trade-ledger report [VIEW] --from D --to D``: the projections over a period of runs.

VIEW is ``symbols``, ``strategies``, ``totals``, ``quality`` or ``pnl``: printed as tables
that fit the terminal (or a pipe), as JSON (``--json``) or CSV (``--csv``, the view's main
table). ``--html FILE`` writes the self-contained HTML report (plots and every view's
tables), with or without a VIEW. Every run of the period is verified as it is read
(content, and signature against the trusted keys); runs that are invalid, unreadable or
signed by an untrusted key are left out, listed, and make the exit status 1; so are
unsigned ones unless ``--allow-unsigned`` folds them, and unverifiable ones (the original
format, without events) unless ``--allow-unverifiable``. Usage errors exit 2. Progress
goes to stderr.
:func:`register` adds the command to the application.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from adapters.archive import Archive, ArchiveError, RunRef
from adapters.cli.common import (
    chosen_archive,
    err,
    out,
    print_json,
    progress_steps,
    trusted_keys_or_exit,
)
from adapters.cli.tables import Column, print_table
from adapters.reporting import Grid, PeriodReport, SkippedRun, View, gather, grids, view_json

_STYLE = {"unverifiable": "yellow", "unsigned": "yellow"}
PROGRESS_THRESHOLD = 5
"""A progress bar (stderr, terminals only) when more runs than this are read."""


def _period(first: datetime | None, last: datetime | None) -> tuple[date, date]:
    if first is None:
        raise typer.BadParameter("give the period with --from (and --to, default today)")
    end = last.date() if last is not None else datetime.now(UTC).date()
    if end < first.date():
        raise typer.BadParameter(f"--to {end} is before --from {first.date()}")
    return first.date(), end


def report(
    view: Annotated[
        View | None,
        typer.Argument(help="The view to print: symbols, strategies, totals, quality or pnl."),
    ] = None,
    *,
    archive_location: Annotated[
        str | None,
        typer.Option(
            "--archive",
            "-a",
            help="Archive directory or s3://bucket\\[/prefix] (default: TRADE_LEDGER__ settings).",
        ),
    ] = None,
    first: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day (inclusive)."),
    ] = None,
    last: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last UTC day (inclusive; default today)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The view as JSON on stdout.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="The view's main table as CSV on stdout.")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write the HTML report (plots and tables) to this file."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=64, help="Runs read in parallel.")
    ] = 4,
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Fold sound runs written before signing (status unsigned) and exit 0 for them.",
        ),
    ] = False,
    trusted_keys_file: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
            help="Trusted signing keys (default: the settings', trusted-keys.json in the "
            "user's config folder).",
        ),
    ] = None,
    allow_unverifiable: Annotated[
        bool,
        typer.Option(
            "--allow-unverifiable",
            help="Exit 0 when the only runs left out are original-format documents.",
        ),
    ] = False,
) -> None:
    """Report over every run of a period: by symbol, by strategy, totals, quality, P&L."""
    if view is None and html is None:
        raise typer.BadParameter(
            "choose a VIEW (symbols, strategies, totals, quality, pnl) or --html"
        )
    if as_json and as_csv:
        raise typer.BadParameter("give either --json or --csv, not both")
    if (as_json or as_csv) and view is None:
        raise typer.BadParameter("--json and --csv print a VIEW: name one")
    days = _period(first, last)
    archive = chosen_archive(archive_location)
    archive.trusted_keys = trusted_keys_or_exit(trusted_keys_file)
    refs = _listed(archive, *days)
    with _progress(len(refs)) as advance:
        period = gather(
            archive,
            refs,
            *days,
            workers=workers,
            timeline=html is not None,
            allow_unsigned=allow_unsigned,
            on_run=advance,
        )
    machine = as_json or as_csv
    if view is not None:
        if as_json:
            print_json(_json(period, view))
        elif as_csv:
            out.out(_csv(grids(period.report, view, exact=True)[0]), end="")
        else:
            _print_view(period, view)
    if html is not None:
        _write_html(period, html, quiet=machine)
    if period.skipped and not as_json:
        _print_skipped(period.skipped, to_stderr=as_csv)
    unverifiable = any(run.status == "unverifiable" for run in period.skipped)
    unsigned = any(run.status == "unsigned" for run in period.skipped)
    if period.failed or (unverifiable and not allow_unverifiable) or unsigned:
        raise typer.Exit(1)


def _listed(archive: Archive, first: date, last: date) -> list[RunRef]:
    try:
        return list(archive.list_runs(first, last))
    except ArchiveError as error:
        err.print(f"cannot list {archive.location}: {error}", style="red")
        raise typer.Exit(1) from error


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A callable to advance a progress bar on stderr (a no-op off terminals, or when short)."""
    with progress_steps(quiet=total <= PROGRESS_THRESHOLD or not err.is_terminal) as steps:
        if steps is None:
            yield None
            return
        advance = steps("verifying and folding runs", total)
        yield lambda: advance(1)


def _span(period: PeriodReport) -> str:
    first, last = period.first, period.last
    return str(first) if first == last else f"{first} .. {last}"


def _json(period: PeriodReport, view: View) -> dict[str, Any]:
    return {
        "archive": period.location,
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "view": view.value,
        "runs": [
            {
                "key": run.key,
                "ledger_id": run.ledger_id,
                "correlation_id": run.correlation_id,
                "created_at": run.created_at.isoformat(),
                "fills": run.fills,
            }
            for run in period.runs
        ],
        "skipped": [_skipped_json(run) for run in period.skipped],
        "report": view_json(period.report, view),
    }


def _skipped_json(run: SkippedRun) -> dict[str, str]:
    return {"key": run.key, "status": run.status, "reason": run.reason}


def _csv(grid: Grid) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(grid.names)
    writer.writerows(grid.rows)
    return buffer.getvalue()


def _columns(grid: Grid) -> list[Column]:
    return [Column(header, kind) for header, kind in zip(grid.headers, grid.kinds, strict=True)]


def _print_view(period: PeriodReport, view: View) -> None:
    out.print(
        f"{period.location}: {_span(period)}: {len(period.runs)} run(s) reported, "
        f"{len(period.skipped)} left out"
    )
    for grid in grids(period.report, view, exact=False):
        if grid.rows:
            print_table(out, _columns(grid), grid.rows, title=grid.title)
        else:
            out.print(f"{grid.title}: no fills")


def _print_skipped(skipped: tuple[SkippedRun, ...], *, to_stderr: bool) -> None:
    console = err if to_stderr else out
    columns = (
        Column("key", "id", shorten=False),
        Column("status", "name"),
        Column("reason", "text"),
    )
    rows = [
        (
            run.key,
            Text(run.status, style="yellow" if run.status == "unverifiable" else "red"),
            run.reason,
        )
        for run in skipped
    ]
    print_table(console, columns, rows, title=f"{len(skipped)} run(s) left out of the report")


def _write_html(period: PeriodReport, path: Path, *, quiet: bool) -> None:
    from adapters.reporting.html import render_html  # noqa: PLC0415 (loads matplotlib)

    try:
        path.write_text(render_html(period), encoding="utf-8")
    except OSError as error:
        err.print(f"cannot write {path}: {error}", style="red")
        raise typer.Exit(1) from error
    console = err if quiet else out
    console.print(
        f"wrote {path} ({len(period.runs)} run(s), {len(period.skipped)} left out)",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report)
