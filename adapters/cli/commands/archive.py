"""``trade-ledger list | show | verify | push-outbox``: the archive from the command line.

:func:`register` adds the four commands to the application.

``--archive`` takes a directory or ``s3://bucket[/prefix]`` (default: the settings, i.e.
``TRADE_LEDGER__BUCKET_NAME`` or the local directory). Runs are chosen by ``--key`` (one
or more), ``--date YYYY-MM-DD``, or ``--from``/``--to`` (inclusive). ``--json`` prints
machine-readable output on stdout; progress goes to stderr. ``verify`` exits 1 when any
run is invalid or unreadable, and when any is unverifiable unless ``--allow-unverifiable``.
Usage and configuration errors exit 2, among them a local archive directory that does not
exist (``list``/``show``/``verify`` never report a mistyped path as "no runs").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.text import Text

from adapters.archive import Archive, ArchivedRun, ArchiveError, RunRead, RunRef, RunVerification
from adapters.archive.runlog.audit import LogState, verify_period
from adapters.cli.common import (
    chosen_archive,
    err,
    out,
    outcome_json,
    print_json,
    progress_steps,
    trusted_keys_or_exit,
)
from adapters.cli.printable import printable
from adapters.cli.tables import Column, print_table
from adapters.signing import TrustedKeys
from ledger_domain import anomalies_of

PROGRESS_THRESHOLD = 5
"""Show a progress bar when more runs than this are read."""

T = TypeVar("T")

ArchiveOption = Annotated[
    str | None,
    typer.Option(
        "--archive",
        "-a",
        help="Archive directory or s3://bucket\\[/prefix] (default: from TRADE_LEDGER__ settings).",
    ),
]
KeyOption = Annotated[
    list[str] | None, typer.Option("--key", "-k", help="A run's key (repeatable).")
]
DateOption = Annotated[
    datetime | None, typer.Option("--date", "-d", formats=["%Y-%m-%d"], help="A UTC day.")
]
FromOption = Annotated[
    datetime | None,
    typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day of a range (inclusive)."),
]
ToOption = Annotated[
    datetime | None,
    typer.Option(
        "--to", formats=["%Y-%m-%d"], help="Last UTC day of a range (inclusive; default today)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
WorkersOption = Annotated[
    int, typer.Option("--workers", "-w", min=1, max=64, help="Runs read in parallel.")
]


def _day_range(
    day: datetime | None, first: datetime | None, last: datetime | None
) -> tuple[date, date] | None:
    if day is not None and (first is not None or last is not None):
        raise typer.BadParameter("give either --date or --from/--to, not both")
    if day is not None:
        return day.date(), day.date()
    if first is None and last is not None:
        raise typer.BadParameter("--to needs --from")
    if first is None:
        return None
    end = last.date() if last is not None else datetime.now(UTC).date()
    if end < first.date():
        raise typer.BadParameter(f"--to {end} is before --from {first.date()}")
    return first.date(), end


def _selected_keys(
    archive: Archive,
    keys: list[str] | None,
    day: datetime | None,
    first: datetime | None,
    last: datetime | None,
) -> list[str]:
    days = _day_range(day, first, last)
    if keys and days is not None:
        raise typer.BadParameter("give either --key or a date selection, not both")
    if keys:
        return list(keys)
    if days is None:
        raise typer.BadParameter("choose runs with --key, --date, or --from/--to")
    return [ref.key for ref in _listed(archive, *days)]


def _listed(archive: Archive, first: date, last: date) -> list[RunRef]:
    try:
        return list(archive.list_runs(first, last))
    except ArchiveError as error:
        err.print(printable(f"cannot list {archive.location}: {error}"), style="red")
        raise typer.Exit(1) from error


def _with_progress(items: Iterable[T], total: int, label: str, quiet: bool) -> Iterator[T]:
    """Yield ``items``, with a progress bar on stderr when more than a few are read."""
    with progress_steps(quiet=quiet or total <= PROGRESS_THRESHOLD) as steps:
        if steps is None:
            yield from items
            return
        advance = steps(label, total)
        for item in items:
            yield item
            advance(1)


# -- list ------------------------------------------------------------------------------


def list_runs(
    *,
    archive_location: ArchiveOption = None,
    day: DateOption = None,
    first: FromOption = None,
    last: ToOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the runs of a day or a date range (key order: by day, then time)."""
    archive = chosen_archive(archive_location)
    days = _day_range(day, first, last)
    if days is None:
        raise typer.BadParameter("choose a day with --date, or a range with --from/--to")
    refs = _listed(archive, *days)
    if as_json:
        print_json([_ref_json(ref) for ref in refs])
        return
    columns = (Column("time (UTC)", "name"), Column("key", "id", shorten=False))
    print_table(
        out,
        (*columns, Column("bytes", "number")),
        [
            (
                f"{ref.day} {ref.time[:2]}:{ref.time[2:4]}:{ref.time[4:]}",
                printable(ref.key),
                "" if ref.size is None else str(ref.size),
            )
            for ref in refs
        ],
        title=printable(f"{archive.location}: {_span(*days)}"),
    )
    out.print(f"{len(refs)} run(s)")


def _ref_json(ref: RunRef) -> dict[str, Any]:
    return {
        "key": ref.key,
        "date": ref.day.isoformat(),
        "time": ref.time,
        "ledger_id": ref.ledger_id,
        "correlation_id": ref.correlation_id,
        "size": ref.size,
    }


def _span(first: date, last: date) -> str:
    return str(first) if first == last else f"{first} .. {last}"


# -- show ------------------------------------------------------------------------------


def show_runs(
    *,
    archive_location: ArchiveOption = None,
    keys: KeyOption = None,
    day: DateOption = None,
    first: FromOption = None,
    last: ToOption = None,
    as_json: JsonOption = False,
    events: Annotated[bool, typer.Option("--events", help="Also print the event stream.")] = False,
    workers: WorkersOption = 4,
) -> None:
    """Show runs as typed ledgers: summary, totals, entries and retention (WORM lock)
    (exit 1 if one is unreadable)."""
    archive = chosen_archive(archive_location)
    selected = _selected_keys(archive, keys, day, first, last)
    reads = _with_progress(
        archive.read_keys(selected, workers=workers), len(selected), "reading", as_json
    )
    results = list(reads)
    locks = {r.key: _retention(archive, r.key) for r in results if r.run is not None}
    if as_json:
        print_json(
            [
                {**_read_json(result), "retention": locks[result.key]["retention"]}
                if result.key in locks
                else _read_json(result)
                for result in results
            ]
        )
    else:
        for result in results:
            if result.run is None:
                out.print(Text.assemble(("unreadable", "red"), f" {printable(result.error or '')}"))
            else:
                _print_run(result.run, events)
                out.print(f"retention {locks[result.key]['retention_text']}")
        if not results:
            out.print("no runs")
    if any(result.run is None for result in results):
        raise typer.Exit(1)


def _retention(archive: Archive, key: str) -> dict[str, Any]:
    """The run's WORM lock for ``show``: JSON ``retention`` (or null) and a line of text."""
    try:
        lock = archive.retention(key)
    except ArchiveError as error:
        return {"retention": None, "retention_text": f"unknown ({printable(str(error))})"}
    if lock is None:
        return {"retention": None, "retention_text": "none (not locked)"}
    return {"retention": lock.as_dict(), "retention_text": str(lock)}


def _read_json(result: RunRead) -> dict[str, Any]:
    if result.run is None:
        return {"key": result.key, "error": result.error}
    run = result.run
    return {
        "key": run.key,
        "format_version": run.format_version,
        "head_hash": run.head_hash,
        "ledger": run.ledger.model_dump(mode="json"),
        "anomalies": [anomaly._asdict() for anomaly in anomalies_of(run.events)],
        "events": run.document.get("events", []),
    }


ENTRY_COLUMNS = (
    Column("order", "id"),
    Column("symbol", "name"),
    Column("side", "name"),
    Column("qty", "number"),
    Column("price", "number"),
    Column("bid / ask", "text"),
    Column("filled (UTC)", "text"),
    Column("type", "name"),
    Column("strategies", "name"),
)
ANOMALY_COLUMNS = (
    Column("execution", "id"),
    Column("symbol", "name"),
    Column("set aside", "name"),
    Column("why", "text"),
)


def _print_run(run: ArchivedRun, with_events: bool) -> None:
    ledger = run.ledger
    out.print(Text(f"── {printable(run.key)}", style="bold"))  # a rule would cut a long key
    out.print(
        printable(
            f"ledger {ledger.ledger_id}  correlation {ledger.correlation_id}  "
            f"format {run.format_version}"
        )
    )
    out.print(f"created {ledger.created_at.isoformat()}  closed {_when(ledger.closed_at)}")
    out.print(
        f"entries {ledger.total_entries}  buy {ledger.total_buy_value}  "
        f"sell {ledger.total_sell_value}  events {len(run.events)}  head {run.head_hash or '-'}"
    )
    rows = []
    for entry in ledger.entries:
        quote = (
            f"{entry.bid_at_fill} / {entry.ask_at_fill}"
            if entry.bid_at_fill is not None or entry.ask_at_fill is not None
            else "-"
        )
        weights = entry.strategy_weights or {}
        strategies = "\n".join(  # one per line, each made printable
            printable(f"{name} {weights.get(name, '')}".strip()) for name in entry.strategy_names
        )
        cells = (
            entry.order_id,
            entry.symbol,
            entry.direction,
            str(entry.filled_qty),
            str(entry.fill_price),
            quote,
            f"{entry.fill_timestamp:%Y-%m-%d %H:%M:%S}",
            entry.order_type,
        )
        rows.append((*(printable(cell) for cell in cells), strategies or "-"))
    print_table(out, ENTRY_COLUMNS, rows)
    _print_anomalies(run)
    if with_events:
        for record in run.document.get("events", []):
            out.print(printable(json.dumps(record, ensure_ascii=False)), highlight=False)


def _print_anomalies(run: ArchivedRun) -> None:
    """What was set aside from the run's fills so they could be recorded, and why."""
    anomalies = anomalies_of(run.events)
    if not anomalies:
        return
    out.print(Text(f"anomalies {len(anomalies)} (set aside so the fills could be recorded)"))
    rows = [
        tuple(printable(cell) for cell in (a.execution_id, a.symbol, a.field, a.reason))
        for a in anomalies
    ]
    print_table(out, ANOMALY_COLUMNS, rows)


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "-"


# -- verify ----------------------------------------------------------------------------

_STYLE = {
    "valid": "green",
    "invalid": "red",
    "unverifiable": "yellow",
    "unreadable": "red",
    "unlogged": "red",
    "missing": "red",
    "unsigned": "yellow",
    "untrusted_key": "red",
}


def verify_runs(
    *,
    archive_location: ArchiveOption = None,
    keys: KeyOption = None,
    day: DateOption = None,
    first: FromOption = None,
    last: ToOption = None,
    as_json: JsonOption = False,
    allow_unverifiable: Annotated[
        bool,
        typer.Option(
            "--allow-unverifiable",
            help="Exit 0 for documents in the original format (no events to check).",
        ),
    ] = False,
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Exit 0 for sound documents written before signing (status unsigned).",
        ),
    ] = False,
    trusted_keys_file: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
            help="Trusted-keys JSON file (default: TRADE_LEDGER__SIGNING__TRUSTED_KEYS, or "
            "trusted-keys.json in the user's config folder).",
        ),
    ] = None,
    workers: WorkersOption = 4,
) -> None:
    """Verify runs: signature, place, hash chain, event order, replay, totals; for a day or
    range also the run log: a logged run gone is missing, a run the log lacks unlogged (exit
    1 unless every run is valid)."""
    archive = chosen_archive(archive_location)
    trusted = trusted_keys_or_exit(trusted_keys_file)
    archive.trusted_keys = trusted
    days = _day_range(day, first, last)
    state: LogState | None = None
    if keys or days is None:
        selected = _selected_keys(archive, keys, day, first, last)
        verdicts = list(
            _with_progress(
                archive.verify_keys(selected, workers=workers), len(selected), "verifying", as_json
            )
        )
    else:
        verdicts, state = _verify_period(
            archive, *days, trusted=trusted, workers=workers, quiet=as_json
        )
    counts = dict.fromkeys(_STYLE, 0)
    for verdict in verdicts:
        counts[verdict.status] += 1
    if as_json:
        report: dict[str, Any] = {
            "archive": archive.location,
            "counts": counts,
            "runs": [verdict.as_dict() for verdict in verdicts],
        }
        if state is not None:
            report["log"] = state.as_dict() if state.exists else None
        print_json(report)
    else:
        _print_verdicts(verdicts)
        out.print(", ".join(f"{count} {status}" for status, count in counts.items()))
        if state is not None:
            _print_log(state)
    failed = (
        counts["invalid"]
        + counts["unreadable"]
        + counts["unlogged"]
        + counts["missing"]
        + counts["untrusted_key"]
    )
    log_failed = state is not None and bool(state.problems)
    if (
        failed
        or log_failed
        or (counts["unverifiable"] and not allow_unverifiable)
        or (counts["unsigned"] and not allow_unsigned)
    ):
        raise typer.Exit(1)


def _verify_period(
    archive: Archive,
    first: date,
    last: date,
    *,
    trusted: TrustedKeys,
    workers: int,
    quiet: bool,
) -> tuple[list[RunVerification], LogState]:
    try:
        with progress_steps(quiet) as steps:
            return verify_period(
                archive, first, last, check=trusted, workers=workers, progress=steps
            )
    except ArchiveError as error:
        err.print(f"cannot list {archive.location}: {error}", style="red")
        raise typer.Exit(1) from error


def _print_log(state: LogState) -> None:
    if not state.exists:
        out.print("run log: none in this archive (runs are logged when a signer is configured)")
        return
    checkpoint = state.checkpoint
    if checkpoint is not None:
        out.print(
            f"run log: {checkpoint.size} runs, root {checkpoint.root[:16]}..., "
            f"signature {state.signature}"
        )
    for problem in state.problems:
        out.print(Text.assemble(("run log problem: ", "red"), printable(problem)))


def _print_verdicts(verdicts: Sequence[RunVerification]) -> None:
    if not verdicts:
        out.print("no runs")
        return
    columns = (
        Column("key", "id", shorten=False),
        Column("status", "name"),
        Column("failed checks", "text"),
        Column("details", "text"),
    )
    rows = [
        (
            printable(verdict.key),
            Text(verdict.status, style=_STYLE[verdict.status]),
            ", ".join(verdict.failed_checks) or "-",
            "\n".join(printable(f"{f.check}: {f.message}") for f in verdict.failures)
            or printable(verdict.signature or "-"),
        )
        for verdict in verdicts
    ]
    print_table(out, columns, rows)


# -- push-outbox -----------------------------------------------------------------------


def push_outbox(
    *,
    archive_location: ArchiveOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send documents kept in the local outbox while the archive was unreachable, and
    append runs whose run-log append is pending (those still waiting are named on stderr)."""
    # A named directory must exist (a typo is a usage error, as for list/show/verify); the
    # default one may not exist yet, and pushing never creates it (documents stay put).
    archive = chosen_archive(archive_location, must_exist=archive_location is not None)
    outcomes = archive.push_outbox()
    if as_json:
        print_json([outcome_json(o) for o in outcomes])
    else:
        for outcome in outcomes:
            line = f"{outcome.status:17s} {outcome.key} {outcome.error or ''}".rstrip()
            out.print(printable(line))
        out.print(f"{len(outcomes)} document(s) handled")
    pending = archive.pending_appends.count() if archive.pending_appends is not None else 0
    if pending:
        err.print(
            f"{pending} archived run(s) not yet in the run log (appended by the next write or "
            "push; verify says unlogged until then)",
            style="yellow",
        )
    if any(o.status in ("outboxed", "conflict", "failed", "quarantined") for o in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``list``, ``show``, ``verify`` and ``push-outbox`` to ``app``."""
    app.command("list")(list_runs)
    app.command("show")(show_runs)
    app.command("verify")(verify_runs)
    app.command("push-outbox")(push_outbox)
