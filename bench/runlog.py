"""Run-log benchmark: what the log adds to a write, a day's verify and an audit.

Writes ``--runs`` runs of ``--fills`` fills, signed, into a fresh archive twice, without
the run log (its append skipped: the baseline) and with it (one leaf PUT and one signed
checkpoint PUT per run), on the local directory and on a moto S3 server this script starts on a
free loopback port; then verifies the day without and with the log's set check, and
audits the whole log from its first checkpoint. Prints per-run times, the ratio to the
baseline measured in the same run, and the store requests an append makes.

    python bench/runlog.py [--runs 200] [--fills 10] [--no-s3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
from archive import DAY as START
from archive import make_runs, start_moto
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.archive import Archive, LocalDirectoryArchive, S3Archive
from adapters.archive.runlog.audit import audit, load_log, verify_period
from adapters.archive.settings import S3ClientSettings
from adapters.signing import LocalSigner, TrustedKeys, trusted_entry

DAY = START.date()


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def write_all(archive: Archive, runs: list[list[Any]]) -> float:
    seconds, outcomes = timed(lambda: [archive.write(events) for events in runs])
    assert all(outcome.status == "written" for outcome in outcomes), outcomes[:3]
    return seconds


def bench(name: str, make: Callable[[str], Archive], runs: list[list[Any]]) -> None:
    signer = LocalSigner(Ed25519PrivateKey.generate())
    trusted = TrustedKeys([trusted_entry(signer)])
    plain = make("plain")
    logged = make("logged")
    for archive in (plain, logged):
        archive.signer = signer  # documents signed on both sides: only the log differs
        archive.trusted_keys = trusted
    plain.run_log.append = lambda entry: 0  # type: ignore[method-assign]  # the baseline
    requests: Counter[str] = Counter()
    logged.run_log.on_step = lambda label: requests.update([label])

    base = write_all(plain, runs)
    with_log = write_all(logged, runs)
    count = len(runs)
    per = {label: value / count for label, value in requests.items()}
    print(f"\n{name}: {count} runs")
    print(
        f"  write, no log      {base / count * 1000:8.2f} ms/run  (baseline)\n"
        f"  write + log append {with_log / count * 1000:8.2f} ms/run  "
        f"x{with_log / base:.2f}; the append alone {(with_log - base) / count * 1000:.2f} ms, "
        f"{per.get('put', 0):.2f} PUT + {per.get('get', 0):.2f} GET per run"
    )

    keys = [ref.key for ref in plain.list_runs(DAY)]
    verify_plain, _ = timed(lambda: list(plain.verify_keys(keys, workers=8)))
    verify_logged, (verdicts, state) = timed(
        lambda: verify_period(logged, DAY, DAY, check=trusted, workers=8)
    )
    assert state.problems == [], state.problems
    statuses = Counter(verdict.status for verdict in verdicts)
    assert set(statuses) == {"valid"}, statuses
    load, _ = timed(lambda: load_log(logged.run_log, check=trusted, workers=8))
    print(
        f"  verify the day     {verify_plain:8.3f} s       (baseline)\n"
        f"  verify + set check {verify_logged:8.3f} s       x{verify_logged / verify_plain:.2f}; "
        f"reading the log alone {load:.3f} s ({load / count * 1000:.2f} ms a leaf)"
    )
    first = logged.run_log.read_checkpoint(1)
    seconds, report = timed(lambda: audit(logged.run_log, first, check=trusted, workers=8))
    assert report.ok, report.problems[:3]
    print(
        f"  audit since size 1 {seconds:8.3f} s       x{seconds / verify_plain:.2f} of the "
        f"plain verify ({len(report.runs)} runs: inclusion proof, digest, verify each; "
        f"{count} checkpoints chained)"
    )
    requests.clear()
    fresh = type(logged.run_log)(logged)
    fresh.on_step = lambda label: requests.update([label])
    seconds, latest = timed(fresh.latest)
    assert latest is not None
    assert latest.size == count
    print(
        f"  newest checkpoint from nothing: {requests['get']} GETs, {seconds * 1000:.1f} ms "
        f"(a new process's first append)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fills", type=int, default=10)
    parser.add_argument("--no-s3", action="store_true")
    options = parser.parse_args()
    runs = make_runs(options.runs, options.fills)
    with tempfile.TemporaryDirectory() as folder:
        bench(
            "local directory",
            lambda name: LocalDirectoryArchive(Path(folder) / name),
            runs,
        )
    if options.no_s3:
        return
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    process, endpoint = start_moto()
    try:
        client = boto3.client("s3", endpoint_url=endpoint)

        def s3(name: str) -> Archive:
            bucket = f"bench-{name}-{uuid.uuid4().hex[:8]}"
            client.create_bucket(Bucket=bucket)
            return S3Archive(
                bucket,
                endpoint_url=endpoint,
                client_settings=S3ClientSettings(max_pool_connections=16),
            )

        bench("moto S3 (one request at a time)", s3, runs)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
