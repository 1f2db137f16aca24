"""Export a period of the archive as hive-partitioned Parquet: ``fills``, ``attribution``, ``runs``.

Layout: ``<dest>/<table>/year=YYYY/month=MM/day=DD/<ledger id>.parquet``, one file per
run and table, the day being the run's archive day. A run whose three files are there is
skipped unread, so exporting a period again writes nothing new and a new day is exported
incrementally. Every other run is verified as it is read (hash chain, replay, totals,
and its signature against the archive's trusted keys): one that is invalid (a forged
signature included), unreadable, unverifiable (original format, no events to export) or
holds a value its column cannot hold exactly is left out and reported. A sound run that
is unsigned or signed by a key not trusted is exported, and its ``runs`` row says so
(``verify_status``/``signature_status``: ``valid``, ``unsigned`` or ``untrusted_key``),
as ``verify`` would. Runs stream one at
a time (at most ``workers`` x 2 documents in flight), so memory does not grow with the
period.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.analytics.rows import RunEvents, attribution_rows, fill_rows, run_row
from adapters.analytics.schema import TABLES, ValueTooWideError, table_of
from adapters.analytics.sink import Sink, SinkError
from adapters.archive import Archive, ArchiveReadError, RunRef
from adapters.archive.document import parse_document
from adapters.archive.keys import safe_id
from adapters.archive.signature import check_signature
from adapters.archive.verify import RunVerification, VerifyStatus, verify_parsed
from adapters.signing import TrustedKeys
from ledger_domain import from_record

RunStatus = Literal["written", "already_exported", "too_wide", "failed"] | VerifyStatus
"""A run's outcome: exported, already there, or left out (any verdict but ``valid``, a
value too wide for its column, or a file that could not be written)."""
EXPORTED: frozenset[RunStatus] = frozenset({"written", "already_exported"})


@dataclass(frozen=True)
class RunExport:
    """What happened to one run."""

    key: str
    status: RunStatus
    fills: int = 0
    reason: str | None = None

    @property
    def left_out(self) -> bool:
        return self.status not in EXPORTED


@dataclass
class ExportReport:
    """Counts over the period, and every run left out with its reason."""

    written: int = 0
    already_exported: int = 0
    fills: int = 0
    left_out: list[RunExport] = field(default_factory=list)

    def add(self, result: RunExport) -> None:
        if result.left_out:
            self.left_out.append(result)
        elif result.status == "written":
            self.written += 1
            self.fills += result.fills
        else:
            self.already_exported += 1


def partition(day: date) -> str:
    """The hive partition folder of a day."""
    return f"year={day.year:04d}/month={day.month:02d}/day={day.day:02d}"


def file_name(ref: RunRef) -> str:
    """One run's file name in every table: its ledger id, made safe for a path."""
    return f"{safe_id(ref.ledger_id)}.parquet"


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as one Parquet file (zstd; decimals and UTC timestamps as typed)."""
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression="zstd")
    return bytes(buffer.getvalue().to_pybytes())


def verified_events(key: str, document: dict[str, Any], verdict: RunVerification) -> RunEvents:
    """The events of a document ``verify_parsed`` found valid (its records, typed once)."""
    records = document["events"]
    events = [from_record({k: v for k, v in record.items() if k != "hash"}) for record in records]
    return RunEvents(key, events, verdict.format_version or 0, verdict.head_hash)


class Exporter:
    """Exports runs of ``archive`` into ``sink``; one instance per export."""

    def __init__(self, archive: Archive, sink: Sink) -> None:
        self.archive = archive
        self.sink = sink
        self._listed: dict[tuple[str, date], set[str]] = {}

    def export(
        self,
        first: date,
        last: date,
        *,
        workers: int = 1,
        on_run: Callable[[RunExport], None] | None = None,
    ) -> ExportReport:
        """Export every run of ``first``..``last``; ``on_run`` hears of each (progress)."""
        report = ExportReport()
        self.sink.create()
        for result in self.results(self.archive.list_runs(first, last), workers):
            report.add(result)
            if on_run is not None:
                on_run(result)
        return report

    def results(self, refs: Iterable[RunRef], workers: int) -> Iterator[RunExport]:
        """Each run's outcome in key order; reads run ahead on ``workers`` threads."""
        pending = ((ref, self._missing(ref)) for ref in refs)
        if workers <= 1:
            for ref, missing in pending:
                yield self._export(ref, missing, self._read(ref) if missing else None)
            return
        window: deque[tuple[RunRef, list[str], Future[bytes | ArchiveReadError] | None]] = deque()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool:
            for ref, missing in pending:
                window.append((ref, missing, pool.submit(self._read, ref) if missing else None))
                if len(window) >= workers * 2:
                    yield self._finish(window.popleft())
            while window:
                yield self._finish(window.popleft())

    def _finish(
        self, item: tuple[RunRef, list[str], Future[bytes | ArchiveReadError] | None]
    ) -> RunExport:
        ref, missing, future = item
        return self._export(ref, missing, None if future is None else future.result())

    def _trusted(self) -> TrustedKeys | None:
        """The archive's trusted keys (read once by the archive)."""
        return self.archive.trust()

    def _missing(self, ref: RunRef) -> list[str]:
        """The tables that have no file of this run yet."""
        name = file_name(ref)
        missing = []
        for table in TABLES:
            folder = (table, ref.day)
            names = self._listed.get(folder)
            if names is None:
                if len(self._listed) > 3 * 64:  # a bounded cache: days are listed in order
                    self._listed.clear()
                names = self._listed[folder] = self.sink.names(f"{table}/{partition(ref.day)}")
            if name not in names:
                missing.append(table)
        return missing

    def _read(self, ref: RunRef) -> bytes | ArchiveReadError:
        try:
            return self.archive.read_bytes(ref.key)
        except ArchiveReadError as error:
            return error

    def _export(
        self, ref: RunRef, missing: list[str], body: bytes | ArchiveReadError | None
    ) -> RunExport:
        if body is None:
            return RunExport(ref.key, "already_exported")
        if isinstance(body, ArchiveReadError):
            return RunExport(ref.key, "unreadable", reason=body.reason)
        try:
            document = parse_document(ref.key, body)
        except ArchiveReadError as error:
            return RunExport(ref.key, "unreadable", reason=error.reason)
        verdict = verify_parsed(ref.key, document)
        if verdict.status != "valid":
            details = "; ".join(f"{f.check}: {f.message}" for f in verdict.failures[:3])
            if verdict.status == "unverifiable":
                details = "original format: a snapshot without the events to export"
            return RunExport(ref.key, verdict.status, reason=details)
        try:
            signature = check_signature(ref.key, body, document, self._trusted())
            if signature.verdict == "invalid":
                return RunExport(ref.key, "invalid", reason=f"signature: {signature.message}")
            run = verified_events(ref.key, document, verdict)
            fills = list(fill_rows(run.events))
            tables = {
                "fills": table_of("fills", fills),
                "attribution": table_of("attribution", list(attribution_rows(run.events))),
                "runs": table_of(
                    "runs", [run_row(run, ref.day, signature.verdict, signature.verdict)]
                ),
            }
        except ValueTooWideError as error:
            return RunExport(ref.key, "too_wide", reason=str(error))
        name = file_name(ref)
        wrote = False
        try:
            for table in TABLES:  # runs last: its file says the run's other files are there
                if table in missing:
                    path = f"{table}/{partition(ref.day)}/{name}"
                    wrote = self.sink.put(path, parquet_bytes(tables[table])) or wrote
        except SinkError as error:
            return RunExport(ref.key, "failed", reason=str(error))
        return RunExport(ref.key, "written" if wrote else "already_exported", fills=len(fills))
