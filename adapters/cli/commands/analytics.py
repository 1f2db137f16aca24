"""``trade-ledger export`` (Parquet) and ``trade-ledger sql`` (DuckDB over an export).

``export --from D --to D --dest DIR|s3://bucket/prefix`` writes the period's runs as
hive-partitioned Parquet (see ``adapters.analytics.export``); runs left out (invalid,
unreadable, unverifiable, or holding a value its column cannot hold exactly) are listed
and the exit code is 1. ``sql "SELECT ..." --export DIR|s3://...`` runs one query with
the views ``fills``, ``attribution`` and ``runs``; ``--json``/``--csv`` on stdout. A query
DuckDB cannot parse or bind is a usage error (exit 2); one that fails as it runs (a sum
beyond its decimal type) exits 1.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import duckdb
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.analytics.export import Exporter, ExportReport, RunExport
from adapters.analytics.sink import SinkError, open_sink
from adapters.analytics.sql import connect
from adapters.archive import ArchiveError
from adapters.cli.common import archive_settings, chosen_archive, err, out, print_json
from adapters.cli.printable import printable
from adapters.cli.tables import Column, print_table

FETCH_ROWS = 10_000
"""Rows fetched from DuckDB at a time: output streams, memory does not grow with a result."""


def export(
    *,
    first: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day (inclusive).")
    ],
    last: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last UTC day (inclusive; default today)."),
    ] = None,
    dest: Annotated[
        str, typer.Option("--dest", help="Directory or s3://bucket/prefix to write Parquet to.")
    ],
    archive_location: Annotated[
        str | None,
        typer.Option(
            "--archive",
            "-a",
            help="Archive directory or s3://bucket\\[/prefix] (default: TRADE_LEDGER__ settings).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Summary as JSON on stdout.")] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=64, help="Runs read in parallel.")
    ] = 4,
) -> None:
    """Export a period as hive-partitioned Parquet: fills, attribution, runs (exit 1 if a
    run is left out)."""
    end = last.date() if last is not None else datetime.now(UTC).date()
    if end < first.date():
        raise typer.BadParameter(f"--to {end} is before --from {first.date()}")
    archive = chosen_archive(archive_location)
    try:
        sink = open_sink(dest, archive_settings())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--dest") from error
    exporter = Exporter(archive, sink)
    try:
        total = sum(1 for _ in archive.list_runs(first.date(), end))
        report = _with_progress(exporter, first.date(), end, workers, total)
    except (ArchiveError, SinkError) as error:
        err.print(printable(f"export failed: {error}"), style="red")
        raise typer.Exit(1) from error
    _print_report(report, sink.location, as_json)
    if report.left_out:
        raise typer.Exit(1)


def _with_progress(
    exporter: Exporter, first: date, last: date, workers: int, total: int
) -> ExportReport:
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True, disable=total <= 5) as progress:
        task = progress.add_task("exporting", total=total)

        def advance(result: RunExport) -> None:
            progress.advance(task)
            if result.left_out:
                progress.console.print(printable(f"left out {result.key}: {result.status}"))

        return exporter.export(first, last, workers=workers, on_run=advance)


def _print_report(report: ExportReport, location: str, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "dest": location,
                "written": report.written,
                "already_exported": report.already_exported,
                "fills": report.fills,
                "left_out": [
                    {"key": r.key, "status": r.status, "reason": r.reason} for r in report.left_out
                ],
            }
        )
        return
    out.print(
        f"{location}: {report.written} run(s) written ({report.fills} fills), "
        f"{report.already_exported} already exported, {len(report.left_out)} left out"
    )
    for result in report.left_out:
        out.print(printable(f"left out  {result.key}  {result.status}: {result.reason}"))


def sql(
    query: Annotated[str, typer.Argument(help="One SQL query over fills, attribution, runs.")],
    *,
    export_location: Annotated[
        str, typer.Option("--export", "-e", help="Export directory or s3://bucket/prefix.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Rows as JSON on stdout.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Rows as CSV on stdout.")] = False,
) -> None:
    """Run SQL (DuckDB) over an export, with the views fills, attribution and runs."""
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both")
    try:
        connection = connect(export_location, archive_settings())
    except (ValueError, OSError) as error:
        raise typer.BadParameter(str(error), param_hint="--export") from error
    try:
        cursor = connection.execute(query)
        names = [column[0] for column in cursor.description or []]
        rows = _batches(cursor)
        if as_json:
            _write_json(names, rows)
        elif as_csv:
            _write_csv(names, rows)
        else:
            _write_table(names, rows)
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as error:
        raise typer.BadParameter(str(error), param_hint="QUERY") from error
    except duckdb.Error as error:
        err.print(printable(f"query failed: {error}"), style="red")
        raise typer.Exit(1) from error
    finally:
        connection.close()


def _batches(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    while batch := cursor.fetchmany(FETCH_ROWS):
        yield from batch


def _text(value: Any) -> str:
    """Exact text of a cell: Decimals as written, times in ISO 8601 UTC."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    return printable(str(value))  # ids come from archived documents: inert text


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return _text(value)


def _write_json(names: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    """A JSON array of objects, streamed; Decimals as strings so no digit is lost."""
    stream = sys.stdout
    stream.write("[")
    for index, row in enumerate(rows):
        record = {name: _json_value(value) for name, value in zip(names, row, strict=True)}
        stream.write(("\n  " if index == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
    stream.write("\n]\n" if names else "]\n")
    stream.flush()


def _write_csv(names: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_text(value) for value in row])
    sys.stdout.flush()


def _write_table(names: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    held = list(rows)
    columns = [
        Column(
            name,
            "number"
            if held and all(isinstance(row[i], int | float | Decimal) for row in held)
            else "text",  # words are never broken: a single-word id stays whole
        )
        for i, name in enumerate(names)
    ]
    print_table(out, columns, [tuple(_text(value) for value in row) for row in held])
    out.print(f"{len(held)} row(s)")


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``sql`` to ``app``."""
    app.command("export")(export)
    app.command("sql")(sql)
