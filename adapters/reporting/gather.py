"""Every run of a period, read, verified and folded into the projections in time order.

Each run's document is fetched once, verified (hash chain, sequence, replay, snapshot,
totals: ``adapters.archive.verify``) and only a ``valid`` run is folded; an invalid,
unreadable or unverifiable one (the original snapshot-only format has no events to fold)
is left out and listed in ``PeriodReport.skipped``. Runs are read on ``workers`` threads
(worth it on S3, where a read waits on the network), at most ``4 x workers`` ahead of the
fold, so memory holds a window of runs, never the period.

FIFO lots follow stream order, so runs are folded in time order: by ``created_at``, then
ledger id. Keys sort by day and second already; the runs of one second are sorted before
they are folded, so the P&L is the same on every read of the same archive.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from adapters.archive import Archive, ArchiveReadError, RunRef, decode_run, verify_document
from adapters.reporting.timeline import Timeline
from ledger_domain import Ledger
from projections import LedgerReport, LedgerViews

T = TypeVar("T")
R = TypeVar("R")

NOT_PROVEN = frozenset({"unverifiable", "unsigned"})
READ_AHEAD = 4
"""Runs read ahead of the fold, per worker."""
MAX_REASONS = 3
"""Failures quoted per left-out run (``trade-ledger verify`` lists them all)."""


@dataclass(frozen=True)
class CountedRun:
    """A run that verified and was folded into the report."""

    key: str
    ledger_id: str
    correlation_id: str | None
    created_at: datetime
    closed_at: datetime | None
    fills: int


@dataclass(frozen=True)
class SkippedRun:
    """A run left out of the report: ``invalid``, ``unreadable`` or ``unverifiable``."""

    key: str
    status: str
    reason: str


@dataclass(frozen=True)
class PeriodReport:
    """The projections over every valid run of ``first``..``last``, and what was left out."""

    location: str
    first: date
    last: date
    runs: tuple[CountedRun, ...]
    skipped: tuple[SkippedRun, ...]
    report: LedgerReport
    timeline: Timeline | None = None

    @property
    def failed(self) -> tuple[SkippedRun, ...]:
        """Runs left out for a failure: all but ``unverifiable`` and ``unsigned`` ones
        (sound documents of the original format or written before signing)."""
        return tuple(run for run in self.skipped if run.status not in NOT_PROVEN)


@dataclass(frozen=True)
class _Read:
    """One run after reading and verifying: folded (``run`` and ``events``) or ``skipped``."""

    ref: RunRef
    run: CountedRun | None = None
    events: tuple[Ledger.Event, ...] = ()
    skipped: SkippedRun | None = None


FOLDED = frozenset({"valid"})
"""Verdicts whose runs are folded; ``unsigned`` too when the caller allows it."""


def read_verified(archive: Archive, ref: RunRef, folded: frozenset[str] = FOLDED) -> _Read:
    """Fetch one run, verify its bytes (content and signature against the archive's trusted
    keys), and decode it only when its verdict is in ``folded``."""
    key = ref.key
    try:
        body = archive.read_bytes(key)
    except ArchiveReadError as error:
        return _Read(ref, skipped=SkippedRun(key, "unreadable", error.reason))
    verdict = verify_document(key, body, archive.limits, trusted=archive.trust())
    if verdict.status not in folded:
        reasons = "; ".join(f"{f.check}: {f.message}" for f in verdict.failures[:MAX_REASONS])
        reasons = reasons or verdict.signature or ""
        if verdict.status == "unverifiable":
            reasons = "original format without events: nothing to verify or fold"
        return _Read(ref, skipped=SkippedRun(key, verdict.status, reasons))
    try:
        decoded = decode_run(key, body)
    except ArchiveReadError as error:
        return _Read(ref, skipped=SkippedRun(key, "unreadable", error.reason))
    ledger = decoded.ledger
    fills = sum(1 for event in decoded.events if isinstance(event, Ledger.FillRecorded))
    run = CountedRun(
        key=key,
        ledger_id=ledger.ledger_id,
        correlation_id=ledger.correlation_id,
        created_at=ledger.created_at,
        closed_at=ledger.closed_at,
        fills=fills,
    )
    return _Read(ref, run=run, events=tuple(decoded.events))


def gather(
    archive: Archive,
    refs: Sequence[RunRef],
    first: date,
    last: date,
    *,
    workers: int = 4,
    timeline: bool = False,
    allow_unsigned: bool = False,
    on_run: Callable[[], None] | None = None,
) -> PeriodReport:
    """The report over ``refs`` (a listing of ``first``..``last``), each run verified.

    ``timeline`` also collects what the HTML report plots; ``on_run`` is called after
    each run is handled (for a progress bar). ``allow_unsigned`` folds sound runs written
    before signing (verdict ``unsigned``); otherwise they are left out like the others.
    """
    folded = FOLDED | {"unsigned"} if allow_unsigned else FOLDED
    views = LedgerViews()
    series = Timeline() if timeline else None
    counted: list[CountedRun] = []
    skipped: list[SkippedRun] = []
    reads = ordered_map(lambda ref: read_verified(archive, ref, folded), refs, workers)
    for _second, group in itertools.groupby(reads, key=lambda read: (read.ref.day, read.ref.time)):
        runs: list[_Read] = []
        for read in group:
            if read.skipped is not None:
                skipped.append(read.skipped)
                if on_run is not None:
                    on_run()
            else:
                runs.append(read)
        runs.sort(key=_time_order)
        for read in runs:
            assert read.run is not None
            views.extend(read.events)
            counted.append(read.run)
            if series is not None:
                series.add_run(read.events)
                series.mark_pnl(
                    read.run.closed_at or read.run.created_at,
                    views.strategy_pnl.realised_by_strategy(),
                )
            if on_run is not None:
                on_run()
    return PeriodReport(
        location=archive.location,
        first=first,
        last=last,
        runs=tuple(counted),
        skipped=tuple(skipped),
        report=views.result(),
        timeline=series,
    )


def _time_order(read: _Read) -> tuple[datetime, str]:
    run = read.run
    assert run is not None
    return run.created_at, run.ledger_id


def ordered_map(function: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``map`` in order, on ``workers`` threads, at most ``READ_AHEAD x workers`` ahead."""
    if workers <= 1:
        yield from map(function, items)
        return
    window = READ_AHEAD * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report") as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
