"""Both adapters, one behaviour: write once, list, read, replay, verify, outbox."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.archive import (
    Archive,
    ArchiveReadError,
    LocalDirectoryArchive,
    Outbox,
    S3Archive,
    encode_run,
)
from ledger_domain import TradeLedgerService, replay_ledger, to_record
from tests.archive.runs import CREATED, closed_run, unsigned


def overwrite(archive: Archive, key: str, body: bytes) -> None:
    """Change a stored document behind the archive's back (what a tamperer would do)."""
    if isinstance(archive, LocalDirectoryArchive):
        archive.path(key).parent.mkdir(parents=True, exist_ok=True)
        archive.path(key).write_bytes(body)
    else:
        assert isinstance(archive, S3Archive)
        archive.client.put_object(Bucket=archive.bucket, Key=key, Body=body)


def test_write_list_read_replay_verify(archive: Archive) -> None:
    events = closed_run(6)
    outcome = archive.write(events)
    assert outcome.status == "written", outcome
    assert outcome.archived
    assert outcome.error is None
    assert outcome.key.startswith("trade-ledgers/2024/01/15/143052-")
    assert outcome.head_hash == json.loads(archive.read_bytes(outcome.key))["head_hash"]

    refs = list(archive.list_runs(date(2024, 1, 15)))
    assert [ref.key for ref in refs] == [outcome.key]
    assert refs[0].size == len(archive.read_bytes(outcome.key))

    run = archive.read(outcome.key)
    live = replay_ledger(events)
    assert run.ledger == live
    assert run.replayed_ledger() == live
    assert archive.replay(outcome.key).snapshot() == live

    verdict = archive.verify(outcome.key)
    assert verdict.status == "valid", verdict.failures
    assert verdict.event_count == len(events)
    assert verdict.entry_count == live.total_entries


def test_identical_retry_is_already_archived(archive: Archive) -> None:
    events = closed_run(3)
    first = archive.write(events)
    stored = archive.read_bytes(first.key)
    second = archive.write(events)
    assert second.status == "already_archived"
    assert second.archived
    assert second.key == first.key
    assert archive.read_bytes(first.key) == stored


def test_different_document_at_the_same_key_is_a_conflict(archive: Archive, tmp_path: Path) -> None:
    events = closed_run(3)
    first = archive.write(events)
    stored = archive.read_bytes(first.key)
    records = [to_record(event) for event in events]
    records[1]["price"] = "999.99"  # a different history of the same run
    outcome = archive.write(records)
    assert outcome.status == "conflict"
    assert outcome.key == first.key
    assert outcome.error is not None
    assert "not overwritten" in outcome.error
    assert archive.read_bytes(first.key) == stored
    kept = Path(outcome.location)
    assert kept.is_file()
    assert unsigned(kept.read_bytes()) == encode_run(records).body
    assert archive.outbox is not None
    assert archive.outbox.count() == 0


def test_disabled_archive_writes_nothing(archive: Archive) -> None:
    archive.enabled = False
    outcome = archive.write(closed_run(2))
    assert outcome.status == "disabled"
    assert list(archive.list_runs(date(2024, 1, 15))) == []


def test_open_ledger_fails_without_raising(archive: Archive) -> None:
    service = TradeLedgerService("corr-open")
    outcome = archive.write(service.events())
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "open" in outcome.error
    assert not outcome.archived


@pytest.mark.parametrize("bad", [[], [object()], None])
def test_malformed_streams_fail_without_raising(archive: Archive, bad: Any) -> None:
    outcome = archive.write(bad)
    assert outcome.status == "failed"
    assert outcome.error


def test_listing_by_day_and_inclusive_range(archive: Archive) -> None:
    days = [datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC) + timedelta(days=n) for n in range(4)]
    keys = [
        archive.write(closed_run(1, correlation_id=f"c{n}", created_at=d)).key
        for n, d in enumerate(days)
    ]
    assert [r.key for r in archive.list_runs(date(2024, 2, 1))] == [keys[1]]
    assert [r.key for r in archive.list_runs(date(2024, 1, 31), date(2024, 2, 2))] == keys[:3]
    assert [r.key for r in archive.list_runs(date(2024, 1, 1), date(2024, 12, 31))] == keys
    assert list(archive.list_runs(date(2024, 2, 4), date(2024, 3, 1))) == []
    with pytest.raises(ValueError, match="before"):
        list(archive.list_runs(date(2024, 2, 2), date(2024, 2, 1)))


def test_list_page_continues_where_it_stopped(archive: Archive) -> None:
    keys = sorted(
        archive.write(
            closed_run(1, correlation_id=f"c{n}", created_at=CREATED + timedelta(minutes=n))
        ).key
        for n in range(5)
    )
    first = archive.list_page(date(2024, 1, 15), limit=2)
    assert [r.key for r in first.runs] == keys[:2]
    second = archive.list_page(date(2024, 1, 15), start_after=first.next_start_after, limit=2)
    assert [r.key for r in second.runs] == keys[2:4]
    last = archive.list_page(date(2024, 1, 15), start_after=second.next_start_after, limit=2)
    assert [r.key for r in last.runs] == keys[4:]
    assert last.next_start_after is None


def test_more_than_a_thousand_runs_in_a_day(archive: Archive) -> None:
    keys = [
        f"trade-ledgers/2024/01/15/{n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}-"
        f"0b7e1c9a-3f59-4f0e-9d9e-{n:012d}-corr-{n}.json"
        for n in range(1001)
    ]
    if isinstance(archive, S3Archive):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda key: overwrite(archive, key, b"{}"), keys))
    else:
        for key in keys:
            overwrite(archive, key, b"{}")
    listed = [ref.key for ref in archive.list_runs(date(2024, 1, 15))]
    assert listed == sorted(keys)
    assert len(listed) == 1001
    page = archive.list_page(date(2024, 1, 15), limit=1000)
    assert len(page.runs) == 1000
    rest = archive.list_page(date(2024, 1, 15), start_after=page.next_start_after)
    assert [r.key for r in rest.runs] == [sorted(keys)[-1]]


def test_read_runs_of_a_date_gives_typed_runs_and_names_bad_ones(archive: Archive) -> None:
    good = [
        archive.write(
            closed_run(2, correlation_id=f"c{n}", created_at=CREATED + timedelta(hours=n))
        )
        for n in range(3)
    ]
    body = archive.read_bytes(good[1].key)
    overwrite(archive, good[1].key, body[: len(body) // 2])  # truncated
    results = list(archive.read_runs(date(2024, 1, 15), workers=2))
    assert [r.key for r in results] == [g.key for g in good]
    assert results[0].run is not None
    assert results[2].run is not None
    assert results[1].run is None
    assert results[1].error is not None
    assert good[1].key in results[1].error
    assert "truncated" in results[1].error

    verdicts = list(archive.verify_runs(date(2024, 1, 15)))
    assert [v.status for v in verdicts] == ["valid", "unreadable", "valid"]
    assert good[1].key in verdicts[1].failures[0].message


def test_reading_a_missing_key_names_it(archive: Archive) -> None:
    key = "trade-ledgers/2024/01/15/000000-nope-nope.json"
    with pytest.raises(ArchiveReadError, match="no such run") as caught:
        archive.read(key)
    assert caught.value.key == key
    assert archive.verify(key).status == "unreadable"


def test_unsafe_ids_stay_inside_the_day(archive: Archive) -> None:
    outcome = archive.write(closed_run(1, correlation_id="../../etc"))
    assert outcome.status == "written"
    assert outcome.key.count("/") == 4
    run = archive.read(outcome.key)
    assert run.ledger.correlation_id == "../../etc"
    assert [r.key for r in archive.list_runs(date(2024, 1, 15))] == [outcome.key]
    if isinstance(archive, LocalDirectoryArchive):
        assert archive.path(outcome.key).parent == archive.directory / "trade-ledgers/2024/01/15"


def test_outbox_document_is_pushed_once(archive: Archive, tmp_path: Path) -> None:
    events = closed_run(2)
    encoded = encode_run(events)
    outbox = archive.outbox
    assert outbox is not None
    if isinstance(archive, LocalDirectoryArchive):
        archive.directory.mkdir()  # pushing never creates the archive (see below)
    key = archive.key_for(events)
    outbox.put(key, encoded.body)
    assert outbox.count() == 1
    pushed = archive.push_outbox()
    assert [o.status for o in pushed] == ["written"]
    assert outbox.count() == 0
    assert archive.read_bytes(key) == encoded.body
    # A copy that was pushed but not removed (a crash in between) is settled, not duplicated.
    outbox.put(key, encoded.body)
    assert [o.status for o in archive.push_outbox()] == ["already_archived"]
    assert archive.push_outbox() == []
    assert [r.key for r in archive.list_runs(date(2024, 1, 15))] == [key]


@pytest.mark.parametrize(
    ("kind", "reason"), [("missing", "does not exist"), ("file", "is not a directory")]
)
def test_pushing_into_a_local_directory_that_is_not_there_keeps_the_documents(
    tmp_path: Path, kind: str, reason: str
) -> None:
    """A mistyped or unmounted archive directory is never created by a push."""
    directory = tmp_path / "archive"
    if kind == "file":
        directory.write_text("not an archive")
    archive = LocalDirectoryArchive(directory, outbox=Outbox(tmp_path / "outbox"))
    assert archive.outbox is not None
    assert archive.push_outbox() == []  # nothing waiting: nothing to say
    runs = [closed_run(2, correlation_id=f"c{n}") for n in range(2)]
    for events in runs:
        archive.outbox.put(archive.key_for(events), encode_run(events).body)
    (outcome,) = archive.push_outbox()
    assert outcome.status == "outboxed"
    assert outcome.error is not None
    assert reason in outcome.error
    assert str(directory) in outcome.error
    assert archive.outbox.count() == 2
    assert directory.is_file() if kind == "file" else not directory.exists()
    if kind == "file":
        directory.unlink()
    directory.mkdir()
    assert [o.status for o in archive.push_outbox()] == ["written", "written"]
    assert archive.outbox.count() == 0
    # Outboxed unsigned (this archive has no signer): sound content, honestly unsigned.
    verdicts = [archive.verify(archive.key_for(events)) for events in runs]
    assert [(v.status, v.failures) for v in verdicts] == [("unsigned", ())] * 2


def test_local_archive_refuses_keys_that_leave_its_folder(tmp_path: Path) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive", outbox=Outbox(tmp_path / "outbox"))
    (tmp_path / "secret.json").write_text("{}")
    for key in ("../secret.json", "/etc/passwd", "a//b.json", "a/./b.json"):
        with pytest.raises(ArchiveReadError, match="unsafe key"):
            archive.read(key)


def test_local_write_failure_goes_to_the_outbox(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the archive folder should be")
    archive = LocalDirectoryArchive(blocked, outbox=Outbox(tmp_path / "outbox"))
    events = closed_run(2)
    outcome = archive.write(events)
    assert outcome.status == "outboxed"
    assert Path(outcome.location).read_bytes() == encode_run(events).body
    assert outcome.error is not None
    assert archive.write(events).status == "outboxed"  # the same document again: one copy
    assert archive.outbox is not None
    assert archive.outbox.count() == 1
    records = [to_record(event) for event in events]
    records[1]["price"] = "999.99"
    other = archive.write(records)  # a different document for the same key while down
    assert other.status == "conflict"
    assert Path(other.location).read_bytes() == encode_run(records).body
    assert archive.outbox.count() == 1
    nowhere = LocalDirectoryArchive(blocked, outbox=Outbox(blocked / "outbox"))
    failed = nowhere.write(events)
    assert failed.status == "failed"
    assert failed.error is not None
    assert "outbox not writable" in failed.error


class BrokenOutbox(Outbox):
    """An outbox whose every write fails with something other than ``OSError``."""

    def put(self, key: str, body: bytes) -> Path:
        raise RuntimeError("outbox broke")

    def keep_conflict(self, key: str, body: bytes, archived: bytes | None = None) -> Path:
        raise RuntimeError("conflicts broke")


UNSAFE_PREFIXES = ["../escape", "a//b", "trade-ledgers/./x", "a\\b"]


@pytest.mark.parametrize("prefix", UNSAFE_PREFIXES)
@pytest.mark.parametrize("with_outbox", [True, False])
def test_write_with_an_unsafe_key_fails_without_raising(
    tmp_path: Path, prefix: str, with_outbox: bool
) -> None:
    """A key the local archive (and its outbox) refuse ends as ``failed``, never raised."""
    outbox = Outbox(tmp_path / "outbox") if with_outbox else None
    archive = LocalDirectoryArchive(tmp_path / "archive", outbox=outbox)
    archive.prefix = prefix  # past the constructor's check, as a subclass or a bug could
    outcome = archive.write(closed_run(2))
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "unsafe key" in outcome.error or "store unavailable" in outcome.error
    assert not (tmp_path / "escape").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_write_fails_without_raising_when_the_outbox_breaks(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the archive folder should be")
    archive = LocalDirectoryArchive(blocked, outbox=BrokenOutbox(tmp_path / "outbox"))
    outcome = archive.write(closed_run(2))
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "outbox broke" in outcome.error


def test_a_conflict_the_outbox_cannot_keep_is_still_an_outcome(tmp_path: Path) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive", outbox=BrokenOutbox(tmp_path / "o"))
    events = closed_run(2)
    assert archive.write(events).status == "written"
    records = [to_record(event) for event in events]
    records[1]["price"] = "999.99"
    outcome = archive.write(records)
    assert outcome.status == "conflict"
    assert outcome.error is not None
    assert "not kept: conflicts broke" in outcome.error


def test_pushing_a_conflicting_document_moves_it_to_conflicts(archive: Archive) -> None:
    events = closed_run(2)
    stored = archive.write(events)
    records = [to_record(event) for event in events]
    records[1]["price"] = "999.99"
    outbox = archive.outbox
    assert outbox is not None
    outbox.put(stored.key, encode_run(records).body)
    pushed = archive.push_outbox()
    assert [o.status for o in pushed] == ["conflict"]
    assert Path(pushed[0].location).read_bytes() == encode_run(records).body
    assert outbox.count() == 0
    assert unsigned(archive.read_bytes(stored.key)) == encode_run(events).body
