"""The outbox loses nothing: a poisoned document is quarantined while the others go, a
conflict keeps both versions and is listed, two documents for one key never overwrite
each other, and the executor's archive wait is bounded (a write still going is
``in_progress``, not a failure, and its document lands in the outbox)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from adapters.archive import (
    Archive,
    LocalDirectoryArchive,
    Outbox,
    S3Archive,
    S3ClientSettings,
    encode_run,
)
from adapters.brokers.simulated import SimulatedBroker
from adapters.cli import app
from adapters.execution.executor import Executor
from ledger_domain import to_record
from tests.archive.conftest import AWS_ENV
from tests.archive.runs import closed_run, unsigned
from tests.executor.conftest import item, make_plan
from tests.servers import free_port, port_open, server_missing

POISONED = "poisoned"


@dataclass(frozen=True)
class PolicedS3:
    """A moto server that enforces IAM: ``allowed`` may write any run but the poisoned
    one (a policy denies ``PutObject`` on ``*-poisoned.json``); ``nobody`` may write none."""

    endpoint: str
    bucket: str
    allowed: Any
    nobody: Any


@pytest.fixture(scope="module")
def policed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicedS3]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto-iam") / "moto.log"
    # The first 7 requests (bucket, users, policies, keys) are let through unsigned.
    env = {**os.environ, **AWS_ENV, "INITIAL_NO_AUTH_ACTION_COUNT": "7"}
    with open(log, "wb") as output:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
            )
        except OSError as error:
            server_missing(f"cannot start moto server: {error}")
            raise AssertionError("unreachable") from error
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port, timeout=0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                server_missing(f"moto server did not start: {log.read_text()[-300:]}")
            time.sleep(0.1)
        endpoint, bucket = f"http://127.0.0.1:{port}", "policed-ledgers"
        admin = dict(endpoint_url=endpoint, region_name="us-east-1", **_keys(AWS_ENV))
        boto3.client("s3", **admin).create_bucket(Bucket=bucket)
        iam = boto3.client("iam", **admin)
        arn = f"arn:aws:s3:::{bucket}"
        policies = {
            "allowed": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": [arn, f"{arn}/*"]},
                {
                    "Effect": "Deny",
                    "Action": "s3:PutObject",
                    "Resource": f"{arn}/trade-ledgers/*-{POISONED}.json",
                },
            ],
            "nobody": [{"Effect": "Deny", "Action": "s3:*", "Resource": [arn, f"{arn}/*"]}],
        }
        clients = {}
        for user, statements in policies.items():
            iam.create_user(UserName=user)
            document = json.dumps({"Version": "2012-10-17", "Statement": statements})
            iam.put_user_policy(UserName=user, PolicyName="archive", PolicyDocument=document)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            clients[user] = boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"],
            )
        yield PolicedS3(endpoint, bucket, clients["allowed"], clients["nobody"])
    finally:
        process.terminate()
        process.wait(timeout=10)


def _keys(env: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": env["AWS_SESSION_TOKEN"],
    }


def policed_archive(server: PolicedS3, client: Any, outbox: Path, prefix: str) -> S3Archive:
    return S3Archive(server.bucket, prefix=prefix, outbox=Outbox(outbox), client=client)


def queue(archive: Archive, correlation_ids: list[str]) -> dict[str, bytes]:
    """Put one closed run per correlation id in the archive's outbox: {key: body}."""
    assert archive.outbox is not None
    bodies = {}
    for correlation_id in correlation_ids:
        events = closed_run(2, correlation_id=correlation_id)
        key, body = archive.key_for(events), encode_run(events).body
        archive.outbox.put(key, body)
        bodies[key] = body
    return bodies


def outbox_listing(outbox: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["outbox", "list", "--outbox", str(outbox), "--json"])
    assert result.exit_code == 0, result.output
    listing: dict[str, Any] = json.loads(result.stdout)
    return listing


# -- a poisoned document ----------------------------------------------------------------


def test_a_poisoned_document_among_30_is_quarantined_and_the_rest_go(
    policed_s3: PolicedS3, tmp_path: Path
) -> None:
    archive = policed_archive(policed_s3, policed_s3.allowed, tmp_path / "outbox", "p30")
    archive.prefix = "trade-ledgers"  # the policy's denial is under trade-ledgers/
    names = [f"run-{n:02d}" for n in range(30)]
    names[6] = POISONED  # the 7th in key order: 23 documents wait behind it
    bodies = queue(archive, sorted(names))
    poisoned = next(key for key in bodies if key.endswith(f"-{POISONED}.json"))

    outcomes = {o.key: o for o in archive.push_outbox()}
    assert len(outcomes) == 30
    assert outcomes[poisoned].status == "quarantined"
    assert "AccessDenied" in (outcomes[poisoned].error or "")
    others = [key for key in bodies if key != poisoned]
    assert all(outcomes[key].status == "written" for key in others), outcomes
    for key in others:
        assert archive.read_bytes(key) == bodies[key]
        verdict = archive.verify(key)  # queued unsigned: sound content, honestly unsigned
        assert (verdict.status, verdict.failures) == ("unsigned", ())
    assert Path(outcomes[poisoned].location).read_bytes() == bodies[poisoned]
    assert archive.outbox is not None
    assert archive.outbox.count() == 0
    assert archive.push_outbox() == []  # nothing left to hammer the store with

    listing = outbox_listing(tmp_path / "outbox")
    assert listing["counts"] == {"pending": 0, "quarantined": 1, "conflict": 0}
    (entry,) = listing["entries"]
    assert (entry["state"], entry["key"]) == ("quarantined", poisoned)
    assert "AccessDenied" in entry["reason"]
    listed = archive.client.list_objects_v2(Bucket=archive.bucket, Prefix="trade-ledgers/")
    assert sorted(item["Key"] for item in listed["Contents"]) == sorted(others)


def test_a_lone_refusal_is_not_quarantined(policed_s3: PolicedS3, tmp_path: Path) -> None:
    """Refused with nothing else accepted, the store may be refusing everything: the
    document stays pending (``outboxed``), reported with the store's reason."""
    archive = policed_archive(policed_s3, policed_s3.allowed, tmp_path / "outbox", "lone")
    archive.prefix = "trade-ledgers"
    (key,) = queue(archive, [POISONED])
    (outcome,) = archive.push_outbox()
    assert (outcome.status, outcome.key) == ("outboxed", key)
    assert "AccessDenied" in (outcome.error or "")
    assert archive.outbox is not None
    assert [k for k, _ in archive.outbox.pending()] == [key]


def test_a_store_refusing_everything_stops_the_push_and_quarantines_nothing(
    policed_s3: PolicedS3, tmp_path: Path
) -> None:
    archive = policed_archive(policed_s3, policed_s3.nobody, tmp_path / "outbox", "none")
    archive.prefix = "trade-ledgers"
    bodies = queue(archive, [f"run-{n}" for n in range(6)])
    outcomes = archive.push_outbox()
    assert [o.status for o in outcomes] == ["outboxed"] * 3  # stopped after 3 in a row
    assert archive.outbox is not None
    assert archive.outbox.count() == 6
    assert list(archive.outbox.quarantined()) == []
    assert sorted(k for k, _ in archive.outbox.pending()) == sorted(bodies)


def test_an_unreachable_store_stops_the_push_at_the_first_document(tmp_path: Path) -> None:
    os.environ.update(AWS_ENV)
    archive = S3Archive(
        "down-ledgers",
        endpoint_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        client_settings=S3ClientSettings(max_attempts=1, connect_timeout=0.5, read_timeout=0.5),
        outbox=Outbox(tmp_path / "outbox"),
    )
    queue(archive, ["a", "b", "c"])
    assert [o.status for o in archive.push_outbox()] == ["outboxed"]
    assert archive.outbox is not None
    assert archive.outbox.count() == 3


# -- conflicts -----------------------------------------------------------------------------


def test_a_conflict_keeps_both_versions_and_is_listed(archive: Archive, tmp_path: Path) -> None:
    if isinstance(archive, LocalDirectoryArchive):
        archive.directory.mkdir()
    events = closed_run(2)
    stored = archive.write(events)
    assert stored.status == "written"
    records = [to_record(event) for event in events]
    records[1]["price"] = "999.99"
    refused = encode_run(records).body
    assert archive.outbox is not None
    archive.outbox.put(stored.key, refused)
    (outcome,) = archive.push_outbox()
    assert outcome.status == "conflict"
    assert unsigned(archive.read_bytes(stored.key)) == encode_run(events).body  # not overwritten

    listing = outbox_listing(archive.outbox.directory)
    assert listing["counts"] == {"pending": 0, "quarantined": 0, "conflict": 1}
    (entry,) = listing["entries"]
    assert entry["key"] == stored.key
    assert Path(entry["path"]).read_bytes() == refused
    assert unsigned(Path(entry["archived_path"]).read_bytes()) == encode_run(events).body
    assert entry["path"] == outcome.location

    text = CliRunner().invoke(app, ["outbox", "list", "--outbox", str(archive.outbox.directory)])
    assert text.exit_code == 0
    assert "conflict" in text.stdout
    assert "1 conflict" in text.stdout


def test_conflicts_of_the_older_layout_are_listed(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    old = outbox.conflicts_dir / "trade-ledgers/2024/01/15/143052-l-c.0123456789abcdef.json"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"{}")
    (entry,) = outbox.conflicts()
    assert (entry.key, entry.path, entry.archived_path) == (
        "trade-ledgers/2024/01/15/143052-l-c.json",
        old,
        None,
    )


# -- two documents for one key at once ------------------------------------------------------


def test_two_different_documents_for_one_key_never_overwrite_each_other(tmp_path: Path) -> None:
    """Of two documents added at once exactly one waits; the other is refused, whole."""
    outbox = Outbox(tmp_path / "outbox")
    barrier = threading.Barrier(2)

    def add(key: str, body: bytes) -> bool:
        barrier.wait()
        try:
            outbox.put(key, body)
        except FileExistsError:
            return False
        return True

    with ThreadPoolExecutor(2) as pool:
        for round_ in range(60):
            key = f"trade-ledgers/2024/01/15/000000-r{round_}-c.json"
            bodies = [b"first" * 50, b"second" * 50]
            added = list(pool.map(add, [key, key], bodies))
            assert sorted(added) == [False, True], round_
            winner = bodies[added.index(True)]
            assert outbox.pending_path(key).read_bytes() == winner
            assert outbox.put(key, winner) == outbox.pending_path(key)  # identical: reused


def test_two_runs_for_one_key_while_the_store_is_down_keep_both(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the archive folder should be")
    archive = LocalDirectoryArchive(blocked, outbox=Outbox(tmp_path / "outbox"))
    events = closed_run(2)
    records = [to_record(event) for event in events]
    records[1]["price"] = "999.99"
    documents = [encode_run(events).body, encode_run(records).body]
    for _round in range(10):
        barrier = threading.Barrier(2)

        def write(stream: list[Any], barrier: threading.Barrier = barrier) -> Any:
            barrier.wait()
            return archive.write(stream)

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(write, [events, records]))
        assert sorted(o.status for o in outcomes) == ["conflict", "outboxed"]
        waiting = outcomes[[o.status for o in outcomes].index("outboxed")]
        kept = outcomes[[o.status for o in outcomes].index("conflict")]
        assert {Path(waiting.location).read_bytes(), Path(kept.location).read_bytes()} == set(
            documents
        )
        assert archive.outbox is not None
        for _key, path in archive.outbox.pending():
            path.unlink()  # start the next round afresh


# -- the executor's bounded wait --------------------------------------------------------------


class SilentServer:
    """Accepts connections and answers nothing until released (an S3 that hangs)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        self.released = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            if self.released.is_set():
                connection.close()
            else:
                self.held.append(connection)

    def release(self) -> None:
        self.released.set()
        for connection in self.held:
            connection.close()
        self.socket.close()


def test_archive_timeout_bounds_the_run_and_the_document_lands_in_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    server = SilentServer()
    outbox = Outbox(tmp_path / "outbox")
    archive = S3Archive(
        "hanging-ledgers",
        endpoint_url=f"http://127.0.0.1:{server.port}",
        client_settings=S3ClientSettings(max_attempts=1, connect_timeout=60, read_timeout=60),
        outbox=outbox,
    )
    plan = make_plan([item("AAPL", "BUY", "1000")])
    executor = Executor(SimulatedBroker(), archive=archive, archive_timeout=0.5)
    try:
        result = asyncio.run(executor.execute_rebalance_plan(plan))
        # The run is over while the store still holds the write (nothing released yet).
        assert not server.released.is_set()
        assert result.archive is not None
        assert result.archive.status == "in_progress", result.archive
        assert result.archive_error is None  # reported as in progress, not as a failure
        assert any("still being written" in warning for warning in result.warnings)
        events = executor.trade_ledger.events()
        key = archive.key_for(events)
        assert result.archive.key == key
        assert result.archive.location == str(outbox.pending_path(key))
        assert outbox.pending_path(key).read_bytes() == encode_run(events).body
    finally:
        server.release()
    # The background write ends (the store hung up): the document still waits, once.
    deadline = time.monotonic() + 30
    while archive.settle(key, 0).status == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert archive.settle(key, 0).status == "outboxed"
    assert [k for k, _ in outbox.pending()] == [key]


def test_settle_reports_a_stored_document_while_the_write_still_pushes_others(
    s3_archive: S3Archive,
) -> None:
    events = closed_run(2)
    assert s3_archive.write(events).status == "written"
    settled = s3_archive.settle(s3_archive.key_for(events), 1.0)
    assert settled.status == "written"
    other = closed_run(2, correlation_id="never-written")
    pending = s3_archive.settle(s3_archive.key_for(other), 1.0)
    assert pending.status == "in_progress"
    assert "being prepared" in (pending.error or "")
    assert list(s3_archive.list_runs(date(2024, 1, 15))) != []


def test_a_fast_write_is_reported_as_usual(tmp_path: Path) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive", outbox=Outbox(tmp_path / "outbox"))
    plan = make_plan([item("AAPL", "BUY", "1000")])
    result = asyncio.run(
        Executor(SimulatedBroker(), archive=archive, archive_timeout=30).execute_rebalance_plan(
            plan
        )
    )
    assert result.archive is not None
    assert result.archive.status == "written"
