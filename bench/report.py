"""Report benchmark: ``gather`` (read + verify + fold every view) over a local archive.

    .venv/bin/python bench/report.py [--runs 300] [--fills 50] [--html]

Writes ``--runs`` closed runs of ``--fills`` fills (bench/archive.py's runs, spread over
one day) to a fresh local archive, then times, in the same process and on the same
documents: verifying every run (``archive.verify_keys``, the baseline: the report must
verify each run anyway), and ``gather`` with 1 and 4 workers (verify + decode + fold into
``LedgerViews``), with and without the HTML report's timeline, and rendering the HTML.
Prints runs/s, fills/s and the ratio to verification alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.archive import LocalDirectoryArchive
from adapters.reporting import gather
from bench.archive import DAY, make_runs


def timed(label: str, fills: int, baseline: float | None, action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    ratio = f"{seconds / baseline:5.2f}x verify" if baseline else "baseline"
    print(f"{label:<34} {seconds:8.2f} s {fills / seconds:>10,.0f} fills/s  {ratio}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--fills", type=int, default=50)
    parser.add_argument("--html", action="store_true", help="also time the HTML rendering")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        archive = LocalDirectoryArchive(Path(folder) / "archive")
        for events in make_runs(options.runs, options.fills):
            assert archive.write(events).archived
        day: date = DAY.date()
        refs = list(archive.list_runs(day))
        keys = [ref.key for ref in refs]
        fills = options.runs * options.fills
        print(f"{options.runs} runs x {options.fills} fills = {fills:,} fills")
        base = timed("verify (baseline)", fills, None, lambda: list(archive.verify_keys(keys)))
        timed("gather, 1 worker", fills, base, lambda: gather(archive, refs, day, day, workers=1))
        timed("gather, 4 workers", fills, base, lambda: gather(archive, refs, day, day, workers=4))
        period = None

        def with_timeline() -> None:
            nonlocal period
            period = gather(archive, refs, day, day, workers=1, timeline=True)

        timed("gather + timeline, 1 worker", fills, base, with_timeline)
        if options.html and period is not None:
            from adapters.reporting.html import render_html  # noqa: PLC0415

            report = period
            timed("render HTML", fills, base, lambda: render_html(report))


if __name__ == "__main__":
    main()
