"""The run log on both adapters: appends, checkpoints, the set check, audit, forgers' moves."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.archive import Archive, LocalDirectoryArchive, S3Archive, encode_run
from adapters.archive.runlog.audit import audit, load_log, verify_period
from adapters.archive.runlog.merkle import MerkleTree, verify_consistency
from adapters.archive.runlog.records import Checkpoint, decode_checkpoint
from adapters.archive.runlog.store import RunLog
from adapters.archive.signature import sign_document
from adapters.signing import create_key
from tests.archive.conftest import AWS_ENV, FAST_CLIENT, MotoServer
from tests.archive.runs import CREATED, closed_run
from tests.archive.signers import KeySigner, trusting
from tests.archive.test_archive import overwrite

DAY = CREATED.date()


@pytest.fixture
def signer() -> KeySigner:
    return KeySigner()


@pytest.fixture
def logged(archive: Archive, signer: KeySigner) -> Archive:
    """The parametrised archive (local, S3), signing with ``signer`` (documents and log)."""
    archive.signer = signer
    archive.trusted_keys = trusting(signer)
    return archive


def run(number: int, fills: int = 3) -> list[Any]:
    return closed_run(
        fills, correlation_id=f"corr-{number}", created_at=CREATED + timedelta(seconds=number)
    )


def write_runs(archive: Archive, count: int, start: int = 0) -> list[str]:
    keys = []
    for number in range(start, start + count):
        outcome = archive.write(run(number))
        assert outcome.status == "written", outcome
        keys.append(outcome.key)
    return keys


def delete(archive: Archive, key: str) -> None:
    """Remove an object behind the archive's back."""
    if isinstance(archive, LocalDirectoryArchive):
        archive.path(key).unlink()
    else:
        assert isinstance(archive, S3Archive)
        archive.client.delete_object(Bucket=archive.bucket, Key=key)


def test_each_write_appends_a_leaf_and_a_chained_signed_checkpoint(
    logged: Archive, signer: KeySigner
) -> None:
    outcomes = [logged.write(run(number)) for number in range(3)]
    assert [outcome.log_index for outcome in outcomes] == [0, 1, 2]
    log = logged.run_log
    entries = [log.read_entry(index) for index in range(3)]
    assert [entry.key for entry in entries] == [outcome.key for outcome in outcomes]
    tree = MerkleTree([entry.leaf_hash for entry in entries])
    previous: Checkpoint | None = None
    check = trusting(signer)
    for size in (1, 2, 3):
        checkpoint = log.read_checkpoint(size)
        assert checkpoint.root == tree.root(size).hex()
        assert checkpoint.previous == (previous.digest if previous else None)
        assert checkpoint.check_signature(check).ok
        previous = checkpoint
    assert log.latest() == previous
    # The log's objects are not runs: listings and the day's verdicts ignore them.
    assert [ref.key for ref in logged.list_runs(DAY)] == sorted(o.key for o in outcomes)
    verdicts, state = verify_period(logged, DAY, DAY, check=check)
    assert [v.status for v in verdicts] == ["valid"] * 3
    assert state.problems == []
    assert state.signature == "valid"


def test_a_fresh_reader_finds_the_newest_checkpoint(logged: Archive, signer: KeySigner) -> None:
    write_runs(logged, 5)
    fresh = RunLog(logged)
    latest = fresh.latest()
    assert latest is not None
    assert latest.size == 5
    assert latest == logged.run_log.read_checkpoint(5)


def test_a_deleted_run_is_missing(logged: Archive) -> None:
    keys = write_runs(logged, 3)
    delete(logged, keys[1])
    verdicts, _ = verify_period(logged, DAY, DAY)
    by_key = {v.key: v for v in verdicts}
    assert by_key[keys[1]].status == "missing"
    assert by_key[keys[1]].failed_checks == ["log"]
    assert by_key[keys[0]].status == by_key[keys[2]].status == "valid"


def test_a_run_the_log_does_not_know_is_unlogged(logged: Archive, signer: KeySigner) -> None:
    write_runs(logged, 2)
    events = run(7)
    key = logged.key_for(events)
    body = sign_document(key, encode_run(events).body, signer)  # as the writer would
    assert logged.store(key, body).status == "written"  # stored, never appended
    verdicts, _ = verify_period(logged, DAY, DAY)
    by_key = {v.key: v for v in verdicts}
    assert by_key[key].status == "unlogged"
    assert [v.status for k, v in by_key.items() if k != key] == ["valid", "valid"]


def test_a_whole_deleted_log_leaves_no_signed_run_valid(logged: Archive) -> None:
    """The insider who deletes every leaf and checkpoint: the signed runs are unlogged."""
    keys = write_runs(logged, 2)
    for index in range(2):
        delete(logged, logged.run_log.leaf_key(index))
        delete(logged, logged.run_log.checkpoint_key(index + 1))
    verdicts, state = verify_period(logged, DAY, DAY)
    assert not state.exists
    assert {v.key: v.status for v in verdicts} == dict.fromkeys(keys, "unlogged")
    assert all(v.failed_checks == ["log"] for v in verdicts)


def test_a_re_encoded_forgery_is_invalid(logged: Archive) -> None:
    """A document rebuilt with a changed price verifies on its own; the log's digest does not."""
    keys = write_runs(logged, 2)
    # The forger's move: the stored run's own records, one price changed, re-encoded.
    stored = json.loads(logged.read_bytes(keys[0]))
    records = [{k: v for k, v in event.items() if k != "hash"} for event in stored["events"]]
    fill = next(record for record in records if record["type"] == "FillRecorded")
    fill["price"] = str(Decimal(fill["price"]) + 1)
    body = encode_run(records).body
    overwrite(logged, keys[0], body)
    # The chain alone cannot tell; without the key the forger can only leave it unsigned.
    assert logged.verify(keys[0]).status == "unsigned"
    verdicts, _ = verify_period(logged, DAY, DAY)
    by_key = {v.key: v for v in verdicts}
    assert by_key[keys[0]].status == "invalid"
    assert by_key[keys[0]].failed_checks == ["log"]


def test_a_deleted_log_leaf_breaks_the_log(logged: Archive, signer: KeySigner) -> None:
    keys = write_runs(logged, 4)
    saved = logged.run_log.read_checkpoint(2)
    delete(logged, logged.run_log.leaf_key(1))
    verdicts, state = verify_period(logged, DAY, DAY)
    assert any("leaf 1 cannot be read" in problem for problem in state.problems)
    assert {v.key: v.status for v in verdicts}[keys[1]] == "unlogged"
    report = audit(logged.run_log, saved, check=trusting(signer))
    assert not report.ok
    assert report.problems


def test_a_rewritten_checkpoint_is_detected(logged: Archive, signer: KeySigner) -> None:
    write_runs(logged, 3)
    log = logged.run_log
    saved = log.read_checkpoint(2)
    forger = KeySigner()  # another key, under the real key's id: the signature fails
    document = json.loads(log._get(log.checkpoint_key(3)))
    document["time"] = "2030-01-01T00:00:00.000000Z"
    rewritten = decode_checkpoint(json.dumps(document).encode())
    forged = Checkpoint(
        **{
            **rewritten.__dict__,
            "signature": base64.b64encode(forger.sign(rewritten.statement())).decode(),
        }
    )
    overwrite(logged, log.checkpoint_key(3), forged.encode())
    _, state = verify_period(logged, DAY, DAY, check=trusting(signer))
    assert state.signature == "bad_signature"
    assert state.problems
    report = audit(log, saved, check=trusting(signer))
    assert not report.ok
    # Rewriting the saved checkpoint itself is caught by comparing it with the auditor's copy.
    overwrite(logged, log.checkpoint_key(2), forged.encode())
    report = audit(log, saved, check=trusting(signer))
    assert any("checkpoint 2" in problem for problem in report.problems)


def test_audit_proves_the_log_extends_a_saved_checkpoint(
    logged: Archive, signer: KeySigner
) -> None:
    write_runs(logged, 2)
    saved = logged.run_log.latest()
    assert saved is not None
    keys = write_runs(logged, 3, start=10)
    report = audit(logged.run_log, saved, check=trusting(signer))
    assert report.problems == []
    assert report.ok
    assert [run["key"] for run in report.runs] == keys
    assert [run["status"] for run in report.runs] == ["valid"] * 3
    latest = report.state.checkpoint
    assert latest is not None
    assert latest.size == 5
    # A document replaced after it was logged fails the audit, named.
    overwrite(logged, keys[1], encode_run(run(99)).body)
    report = audit(logged.run_log, saved, check=trusting(signer))
    assert not report.ok
    assert report.runs[1]["status"] == "invalid"
    # An untrusted signer's log does not audit clean.
    assert not audit(logged.run_log, saved, check=trusting(KeySigner())).ok


def test_a_failed_append_leaves_the_run_archived_and_pending(
    logged: Archive, signer: KeySigner
) -> None:
    signer.fail = True
    outcome = logged.write(run(0))
    assert outcome.status == "written"
    assert outcome.log_index is None
    assert logged.pending_appends is not None
    assert logged.pending_appends.count() == 1
    verdicts, state = verify_period(logged, DAY, DAY)
    # The same signer signs documents: it was down, so the run went unsigned and unlogged.
    assert outcome.error is not None
    assert "written unsigned" in outcome.error
    assert [(v.status, v.failed_checks) for v in verdicts] == [("unsigned", ["log"])]
    # The leaf went in, its checkpoint could not be signed: the log says so.
    assert any("no checkpoint" in problem for problem in state.problems)
    signer.fail = False
    second = logged.write(run(1))
    assert second.log_index == 1  # the pending append went first, into its own leaf 0
    assert logged.run_log.read_entry(0).key == outcome.key
    assert logged.pending_appends.count() == 0
    verdicts, state = verify_period(logged, DAY, DAY)
    # Logged now; its document stays as written while the key was down: unsigned.
    assert [(v.status, v.failed_checks) for v in verdicts] == [("unsigned", []), ("valid", [])]
    assert state.size == 2
    signer.fail = True
    third = logged.write(run(2))
    verdicts, _ = verify_period(logged, DAY, DAY)
    assert {v.key: v.failed_checks for v in verdicts}[third.key] == ["log"]  # not logged yet
    signer.fail = False
    logged.push_outbox()
    verdicts, _ = verify_period(logged, DAY, DAY)
    assert [(v.status, v.failed_checks) for v in verdicts] == [
        ("unsigned", []),
        ("valid", []),
        ("unsigned", []),
    ]


def test_checkpoints_are_consistent_with_each_other(logged: Archive) -> None:
    write_runs(logged, 6)
    state = load_log(logged.run_log)
    assert state.tree is not None
    for size in range(1, 6):
        old = logged.run_log.read_checkpoint(size)
        new = logged.run_log.read_checkpoint(size + 1)
        proof = state.tree.consistency_proof(size, size + 1)
        verify_consistency(size, size + 1, bytes.fromhex(old.root), bytes.fromhex(new.root), proof)


@pytest.mark.moto
def test_two_processes_append_fifty_runs_each_into_one_bucket(
    moto_server: MotoServer, bucket: str, tmp_path: Path
) -> None:
    """Conditional writes serialise the writers: exactly 100 leaves, every checkpoint chained."""
    signers = [create_key(tmp_path / f"key-{n}.pem") for n in range(2)]
    env = {**os.environ, **AWS_ENV}
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.archive.log_writer",
                moto_server.endpoint,
                bucket,
                str(signer.path),
                str(first),
                "50",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        for signer, first in zip(signers, (0, 1000), strict=True)
    ]
    results = [writer.communicate(timeout=240) for writer in writers]
    for writer, (_, errors) in zip(writers, results, strict=True):
        assert writer.returncode == 0, errors.decode()[-2000:]
    outcomes = [json.loads(line) for output, _ in results for line in output.splitlines()]
    assert len(outcomes) == 100
    assert {outcome["status"] for outcome in outcomes} == {"written"}
    assert sorted(outcome["index"] for outcome in outcomes) == list(range(100))

    archive = S3Archive(bucket, endpoint_url=moto_server.endpoint, client_settings=FAST_CLIENT)
    state = load_log(archive.run_log, check=trusting(*signers))
    assert state.problems == []
    assert state.size == 100
    assert state.tree is not None
    logged = [entry.key for entry in state.entries if entry is not None]
    assert sorted(logged) == sorted(outcome["key"] for outcome in outcomes)  # each exactly once
    previous: Checkpoint | None = None
    for size in range(1, 101):
        checkpoint = archive.run_log.read_checkpoint(size)
        assert checkpoint.check_signature(trusting(*signers)).ok
        assert checkpoint.root == state.tree.root(size).hex()
        if previous is not None:
            assert checkpoint.previous == previous.digest
            proof = state.tree.consistency_proof(size - 1, size)
            verify_consistency(
                size - 1,
                size,
                bytes.fromhex(previous.root),
                bytes.fromhex(checkpoint.root),
                proof,
            )
        previous = checkpoint
    assert archive.run_log.latest() == previous
