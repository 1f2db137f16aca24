"""Reads are bounded (regular files only, a size cap) and push-outbox sends only run documents."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from adapters.archive import Archive, LocalDirectoryArchive, S3Archive, encode_run
from tests.archive.runs import LEGACY, LEGACY_KEY, closed_run

KEY = "trade-ledgers/2024/01/15/000001-abc-def.json"


def special(archive: LocalDirectoryArchive, kind: str, key: str = KEY) -> Path:
    path = archive.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "broken link":
        path.symlink_to(path.parent / "nowhere")
    return path


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("fifo", "not a regular file (a FIFO)"),
        ("zero", "not a regular file (a character device)"),
        ("directory", "not a regular file (a directory)"),
    ],
)
def test_local_reads_only_regular_files(
    local_archive: LocalDirectoryArchive, kind: str, reason: str
) -> None:
    if kind == "zero" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    special(local_archive, kind)
    verdict = local_archive.verify(KEY)
    assert verdict.status == "unreadable"
    assert reason in verdict.failures[0].message
    assert KEY in verdict.failures[0].message
    (read,) = local_archive.read_keys([KEY])
    assert read.run is None
    assert read.error is not None
    assert reason in read.error


@pytest.mark.timeout(10)
def test_listing_skips_what_is_not_a_regular_file(local_archive: LocalDirectoryArchive) -> None:
    good = local_archive.write(closed_run(2))
    names = ["000001-a-fifo.json", "000002-a-dir.json", "000003-a-zero.json", "000004-a-x.json"]
    for name, kind in zip(names, ["fifo", "directory", "zero", "broken link"], strict=True):
        special(local_archive, kind, f"trade-ledgers/2024/01/15/{name}")
    assert [r.key for r in local_archive.list_runs(date(2024, 1, 15))] == [good.key]
    assert [v.status for v in local_archive.verify_runs(date(2024, 1, 15))] == ["valid"]


def test_oversized_documents_are_unreadable(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = archive.write(closed_run(1, correlation_id="small"))
    big = archive.write(closed_run(8, correlation_id="big"))
    cap = len(archive.read_bytes(small.key))
    assert len(archive.read_bytes(big.key)) > cap
    monkeypatch.setattr(archive, "max_document_bytes", cap)
    assert archive.verify(small.key).status == "valid"
    verdict = archive.verify(big.key)
    assert verdict.status == "unreadable"
    assert f"larger than {cap} bytes" in verdict.failures[0].message
    statuses = {v.key: v.status for v in archive.verify_runs(date(2024, 1, 15), workers=2)}
    assert statuses == {small.key: "valid", big.key: "unreadable"}


def test_s3_body_is_read_to_the_cap_even_if_the_length_lies(
    s3_archive: S3Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``ContentLength`` the stream itself is cut one byte past the cap."""
    outcome = s3_archive.write(closed_run(3))
    body = s3_archive.read_bytes(outcome.key)
    client = s3_archive.client
    real_get = client.get_object
    asked: list[int | None] = []

    def get_object(**kwargs: object) -> object:
        response = real_get(**kwargs)  # type: ignore[arg-type]
        response.pop("ContentLength", None)  # type: ignore[misc]
        stream = response["Body"]
        real_read = stream.read

        def read(amt: int | None = None) -> bytes:
            asked.append(amt)
            return real_read(amt)

        monkeypatch.setattr(stream, "read", read)
        return response

    monkeypatch.setattr(client, "get_object", get_object)
    monkeypatch.setattr(s3_archive, "max_document_bytes", 100)
    verdict = s3_archive.verify(outcome.key)
    assert verdict.status == "unreadable"
    assert "larger than 100 bytes" in verdict.failures[0].message
    assert asked
    assert all(amt is not None and amt <= 101 for amt in asked)
    monkeypatch.setattr(s3_archive, "max_document_bytes", len(body))
    assert s3_archive.read_bytes(outcome.key) == body


# -- push-outbox -------------------------------------------------------------------------


def prepared(archive: Archive) -> None:
    if isinstance(archive, LocalDirectoryArchive):
        archive.directory.mkdir(exist_ok=True)


def test_push_outbox_refuses_what_is_not_a_run_and_leaves_it(archive: Archive) -> None:
    prepared(archive)
    outbox = archive.outbox
    assert outbox is not None
    events = closed_run(2)
    good_key = archive.key_for(events)
    outbox.put(good_key, encode_run(events).body)
    outbox.put("random.txt", b"hello")
    evil = "trade-ledgers/2026/11/19/000001-evil-doc.json"
    outbox.put(evil, b"not json at all")
    invalid_body = json.loads(encode_run(events).body)
    invalid_body["events"][0]["price"] = "1.00"  # breaks the chain
    invalid_key = "trade-ledgers/2026/11/19/000002-evil-doc.json"
    outbox.put(invalid_key, json.dumps(invalid_body).encode())
    misplaced = "trade-ledgers/2026/11/19/000003-evil-doc.json"  # a valid run, wrong key
    outbox.put(misplaced, encode_run(events).body)
    outbox.put(LEGACY_KEY, json.dumps(LEGACY).encode())  # unverifiable: may go

    outcomes = {o.key: o for o in archive.push_outbox()}
    assert outcomes[good_key].status == "written"
    assert outcomes[LEGACY_KEY].status == "written"
    for key, reason in [
        ("random.txt", "not a run key"),
        (evil, "unreadable"),
        (invalid_key, "invalid"),
        (misplaced, f"belongs at {good_key}"),
    ]:
        assert outcomes[key].status == "failed", outcomes[key]
        error = outcomes[key].error or ""
        assert "refused" in error
        assert reason in error
        assert (outbox.pending_dir / key).is_file()  # left in place
        with pytest.raises(Exception, match="no such run"):
            archive.read_bytes(key)
    assert outbox.count() == 4
    pushed = archive.verify(good_key)  # pushed as outboxed: sound, unsigned
    assert (pushed.status, pushed.failures) == ("unsigned", ())
    assert archive.verify(LEGACY_KEY).status == "unverifiable"
    if isinstance(archive, S3Archive):
        listed = archive.client.list_objects_v2(Bucket=archive.bucket)
        runs = [item["Key"] for item in listed["Contents"] if "/log/" not in item["Key"]]
        assert sorted(runs) == sorted([good_key, LEGACY_KEY])  # (and the signed run log)
    # A second push refuses the same entries again and sends nothing.
    again = archive.push_outbox()
    assert sorted(o.key for o in again) == sorted(["random.txt", evil, invalid_key, misplaced])
    assert {o.status for o in again} == {"failed"}


@pytest.mark.timeout(10)
def test_push_outbox_refuses_special_and_oversized_entries(
    local_archive: LocalDirectoryArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared(local_archive)
    outbox = local_archive.outbox
    assert outbox is not None
    fifo = outbox.pending_dir / KEY
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    events = closed_run(2)
    key = local_archive.key_for(events)
    outbox.put(key, encode_run(events).body)
    monkeypatch.setattr(local_archive, "max_document_bytes", 100)
    outcomes = {o.key: o for o in local_archive.push_outbox()}
    assert outcomes[KEY].status == "failed"
    assert "not a regular file (a FIFO)" in (outcomes[KEY].error or "")
    assert outcomes[key].status == "failed"
    assert "larger than 100 bytes" in (outcomes[key].error or "")
    monkeypatch.undo()
    outcomes = {o.key: o for o in local_archive.push_outbox()}
    assert outcomes[key].status == "written"
    assert outcomes[KEY].status == "failed"
    assert fifo.exists()
