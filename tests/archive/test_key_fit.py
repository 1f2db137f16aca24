"""Keys that fit: every key the layout makes is at most S3's 1,024 bytes and every path part
at most 255 bytes, for any ids and any prefix the settings accept; longer prefixes are
refused up front instead of failing the write (neither archived nor outboxed)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.archive import (
    ArchiveSettings,
    LocalDirectoryArchive,
    Outbox,
    StoreUnavailableError,
    archive_from_settings,
    open_archive,
)
from adapters.archive.keys import (
    MAX_KEY_BYTES,
    MAX_NAME_LENGTH,
    MAX_PART_BYTES,
    MAX_PREFIX_BYTES,
    parse_key,
    run_key,
    safe_id,
)
from adapters.archive.settings import normalise_prefix
from adapters.signing.configured import first_use_key
from tests.archive.runs import closed_run

# Parts near the limits, in ASCII and in 2-, 3- and 4-byte UTF-8 characters.
PART_CHARS = st.sampled_from(["a", "é", "株", "😀", "-", "_", "."])
PARTS = st.lists(PART_CHARS, min_size=1, max_size=260).map("".join)
PREFIXES = st.lists(PARTS, min_size=0, max_size=6).map("/".join)
IDS = st.text(min_size=0, max_size=300) | st.text(alphabet="%/.\\é😀 ", max_size=300)
TIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


def accepted(prefix: str) -> str | None:
    try:
        return normalise_prefix(prefix)
    except ValueError:
        return None


@settings(max_examples=150, deadline=None)
@given(PREFIXES, st.uuids().map(str) | IDS, IDS | st.none(), TIMES)
def test_every_key_of_an_accepted_prefix_fits(
    prefix: str, ledger_id: str, correlation_id: str | None, created_at: datetime
) -> None:
    normal = accepted(prefix)
    if normal is None:
        too_long = len(prefix.strip("/").encode()) > MAX_PREFIX_BYTES or any(
            len(part.encode()) > MAX_PART_BYTES for part in prefix.split("/")
        )
        bad_part = any(part in (".", "..") for part in prefix.strip("/").split("/"))
        assert too_long or bad_part or "//" in prefix.strip("/")
        return
    key = run_key(normal, ledger_id, correlation_id, created_at)
    assert len(key.encode("utf-8")) <= MAX_KEY_BYTES
    parts = key.split("/")
    assert all(0 < len(part.encode("utf-8")) <= MAX_PART_BYTES for part in parts)
    assert not any(part in (".", "..") for part in parts)
    assert len(parts[-1]) <= MAX_NAME_LENGTH
    # The outbox's reason file for a quarantined document fits a part too.
    assert len(f"{parts[-1]}.txt") <= MAX_PART_BYTES
    correlation = "none" if correlation_id is None else safe_id(correlation_id)
    assert parts[-1] == f"{created_at:%H%M%S}-{safe_id(ledger_id)}-{correlation}.json"
    # Ledger ids are the aggregate's UUIDs; the layout's "-" separator reads back those and
    # any id without a "-" (one like "-" or "a-b" is not a ledger id the ledger makes).
    if is_uuid(ledger_id) or "-" not in safe_id(ledger_id):
        ref = parse_key(normal, key)
        assert ref is not None
        assert ref.key == key
        assert ref.day == created_at.date()
        assert ref.time == f"{created_at:%H%M%S}"
        assert (ref.ledger_id, ref.correlation_id) == (safe_id(ledger_id), correlation)


def is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def test_the_longest_key_is_exactly_at_the_limit() -> None:
    prefix = "/".join(["p" * MAX_PART_BYTES] * 3 + ["q" * 39])
    assert len(prefix) == MAX_PREFIX_BYTES
    key = run_key(normalise_prefix(prefix), "x" * 300, "y" * 300, datetime(2024, 1, 15))
    assert len(key.encode()) == MAX_KEY_BYTES


@pytest.mark.parametrize(
    ("prefix", "words"),
    [
        ("a" * 256, "a folder name of 256 bytes, more than 255"),
        ("ledgers/" + "é" * 128, "a folder name of 256 bytes"),
        ("/".join(["a" * 200] * 5), "bytes, more than 807"),
        ("ledgers\udcff", "not UTF-8"),
    ],
)
def test_settings_refuse_a_prefix_whose_keys_could_not_be_stored(
    prefix: str, words: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match=words):
        ArchiveSettings(prefix=prefix)
    with pytest.raises(ValueError, match=words):
        LocalDirectoryArchive(tmp_path, prefix=prefix)
    with pytest.raises(ValueError, match=words):
        open_archive(f"s3://bucket-1/{prefix}")


def test_a_prefix_at_the_limits_archives_outboxes_and_lists(tmp_path: Path) -> None:
    """255-byte folder names: the write lands, a conflicting copy is kept, ``list`` reads."""
    prefix = "/".join(["p" * MAX_PART_BYTES, "é" * 127])
    settings = ArchiveSettings(
        prefix=prefix, local_directory=tmp_path / "archive", outbox_directory=tmp_path / "out"
    )
    assert first_use_key(settings.signing) is not None  # signed at the longest keys too
    archive = archive_from_settings(settings)
    long_id = "c" * 256
    events = closed_run(2, correlation_id=long_id)
    outcome = archive.write(events)
    assert outcome.status == "written", outcome
    assert archive.verify(outcome.key).ok
    assert [r.key for r in archive.list_runs(date(2024, 1, 15))] == [outcome.key]
    assert archive.outbox is not None
    kept = archive.outbox.keep_conflict(outcome.key, b"{}")
    assert kept.is_file()
    pending = archive.outbox.put(outcome.key, archive.read_bytes(outcome.key))
    assert pending.is_file()


def test_listing_a_folder_that_cannot_be_read_is_an_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError while listing (a folder without permission, a name too long for the
    file system) is the store's error, which the CLI reports, not a traceback."""
    archive = LocalDirectoryArchive(tmp_path / "archive", outbox=Outbox(tmp_path / "out"))
    archive.write(closed_run(2))
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if str(path).endswith("15"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("adapters.archive.local.os.scandir", scandir)
    with pytest.raises(StoreUnavailableError, match=r"listing .*Permission denied"):
        list(archive.list_runs(date(2024, 1, 15)))
