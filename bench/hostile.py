"""What the archive's document limits cost, and what hostile documents cost under them.

    .venv/bin/python bench/hostile.py [--fills 50] [--repeat 200]

Part 1, a real run of ``--fills`` fills: ``json.loads`` of its bytes (the baseline),
``orjson.loads``, the limit checks alone (``check_shape``: nesting and duplicate keys),
``parse_document`` (parse + limits) and ``verify_document``, each as microseconds per
document and as a ratio to ``json.loads`` measured in this run.

Part 2, each hostile document of ``tests/archive/test_hostile.py``: its size, the
verdict, the time ``verify_document`` takes, and how far the resident set grew while it
ran (Linux, peak reset through ``/proc/self/clear_refs``), as a multiple of its size.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from adapters.archive import encode_run, verify_document
from adapters.archive.document import parse_document
from adapters.archive.limits import DEFAULT_LIMITS, check_shape
from tests.archive.runs import closed_run
from tests.archive.test_hostile import HOSTILE, HOSTILE_KEY

KEY = "trade-ledgers/2024/01/15/143052-bench-bench.json"


def per_call(work: Callable[[], object], repeat: int) -> float:
    """Best of 5 rounds of ``repeat`` calls, in microseconds per call."""
    return min(timeit.repeat(work, number=repeat, repeat=5)) / repeat * 1e6


def resident(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    return int(match[1]) * 1024 if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    body = encode_run(closed_run(args.fills)).body
    parsed = orjson.loads(body)
    print(f"a run of {args.fills} fills: {len(body)} bytes")
    baseline = per_call(lambda: json.loads(body), args.repeat)
    rows = [
        ("json.loads (baseline)", baseline),
        ("orjson.loads", per_call(lambda: orjson.loads(body), args.repeat)),
        (
            "limit checks (check_shape)",
            per_call(lambda: check_shape(body, parsed, DEFAULT_LIMITS), args.repeat),
        ),
        ("parse_document", per_call(lambda: parse_document(KEY, body), args.repeat)),
        ("verify_document", per_call(lambda: verify_document(KEY, body), args.repeat)),
    ]
    for name, micros in rows:
        print(f"  {name:28s} {micros:9.1f} us  {micros / baseline:5.2f}x json.loads")

    can_reset = Path("/proc/self/clear_refs").exists()
    print("\nhostile documents (verify_document):")
    for name, (build, *_rest) in HOSTILE.items():
        document = build()
        if can_reset:
            Path("/proc/self/clear_refs").write_text("5")
        before = resident("VmRSS")
        started = time.perf_counter()
        verdict = verify_document(HOSTILE_KEY, document)
        seconds = time.perf_counter() - started
        growth = resident("VmHWM") - before if can_reset else 0
        checks = ",".join(verdict.failed_checks)
        print(
            f"  {name:42s} {len(document) / 2**20:6.2f} MiB  {verdict.status:10s} {checks:22s}"
            f" {seconds * 1000:8.1f} ms  +{growth / 2**20:6.1f} MiB"
            f" ({growth / len(document):5.1f}x its size)"
        )


if __name__ == "__main__":
    main()
