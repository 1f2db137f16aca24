"""Key layout and id sanitising."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.archive.keys import (
    MAX_ID_LENGTH,
    NO_CORRELATION,
    day_prefix,
    parse_key,
    range_listing,
    run_key,
    safe_id,
)

LEDGER = "0b7e1c9a-3f59-4f0e-9d9e-6f1b2c3d4e5f"
SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-%")


def test_key_follows_the_guide_layout() -> None:
    created = datetime(2024, 1, 15, 14, 30, 52, 999999, tzinfo=UTC)
    key = run_key("trade-ledgers", LEDGER, "xyz789", created)
    assert key == f"trade-ledgers/2024/01/15/143052-{LEDGER}-xyz789.json"


def test_time_is_the_creation_time_in_utc() -> None:
    new_york = timezone(timedelta(hours=-5))
    created = datetime(2024, 1, 15, 21, 0, 1, tzinfo=new_york)  # 02:00:01 UTC next day
    assert run_key("p", LEDGER, "c", created) == f"p/2024/01/16/020001-{LEDGER}-c.json"


def test_naive_creation_time_is_read_as_utc() -> None:
    created = datetime(2024, 1, 15, 9, 5, 7)
    assert run_key("p", LEDGER, "c", created).startswith("p/2024/01/15/090507-")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("../../etc", "%2E.%2F..%2Fetc"),
        ("a/b", "a%2Fb"),
        (".hidden", "%2Ehidden"),
        ("..", "%2E."),
        ("corr_123-x.y", "corr_123-x.y"),
        ("a b", "a%20b"),
        ("100%", "100%25"),
        ("back\\slash", "back%5Cslash"),
        ("é", "%C3%A9"),
        ("", "%"),
        ("\x00", "%00"),
    ],
)
def test_unsafe_characters_are_escaped(raw: str, escaped: str) -> None:
    assert safe_id(raw) == escaped


@pytest.mark.parametrize("correlation", ["../../etc", "a/b", "/abs", "..", "x/../../y", "\x00"])
def test_unsafe_ids_neither_escape_nor_add_levels(correlation: str) -> None:
    key = run_key("trade-ledgers", correlation, correlation, datetime(2024, 1, 15, tzinfo=UTC))
    parts = key.split("/")
    assert parts[:4] == ["trade-ledgers", "2024", "01", "15"]
    assert len(parts) == 5
    assert ".." not in parts
    assert not parts[-1].startswith(".")


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_any_id_becomes_one_safe_segment(value: str) -> None:
    escaped = safe_id(value)
    assert set(escaped) <= SAFE
    assert not escaped.startswith(".")
    assert len(escaped) <= MAX_ID_LENGTH


@settings(max_examples=200)
@given(st.text(max_size=40), st.text(max_size=40))
def test_distinct_short_ids_stay_distinct(left: str, right: str) -> None:
    if left != right:
        assert safe_id(left) != safe_id(right)


def test_long_ids_are_cut_with_a_digest() -> None:
    long_a, long_b = "x" * 200 + "a", "x" * 200 + "b"
    assert safe_id(long_a) != safe_id(long_b)
    assert len(safe_id(long_a)) <= MAX_ID_LENGTH
    # An escape is never cut in half.
    cut = safe_id("/" * 100)
    assert all(part[:2].isalnum() for part in cut.split("%")[1:-1])


def test_missing_correlation_has_a_placeholder() -> None:
    key = run_key("p", LEDGER, None, datetime(2024, 1, 15, tzinfo=UTC))
    assert key.endswith(f"-{LEDGER}-{NO_CORRELATION}.json")


def test_parse_key_reads_back_the_parts() -> None:
    key = run_key("trade-ledgers", LEDGER, "a/b", datetime(2024, 1, 15, 14, 30, 52, tzinfo=UTC))
    ref = parse_key("trade-ledgers", key)
    assert ref is not None
    assert (ref.day, ref.time, ref.ledger_id, ref.correlation_id) == (
        date(2024, 1, 15),
        "143052",
        LEDGER,
        "a%2Fb",
    )


@pytest.mark.parametrize(
    "key",
    [
        "other/2024/01/15/143052-x-y.json",
        "trade-ledgers/2024/01/15/notes.txt",
        "trade-ledgers/2024/13/15/143052-x-y.json",
        "trade-ledgers/2024/01/15/sub/143052-x-y.json",
        "trade-ledgers/2024/01/15/.143052-x-y.json.tmp",
    ],
)
def test_keys_outside_the_layout_are_ignored(key: str) -> None:
    assert parse_key("trade-ledgers", key) is None


def test_empty_prefix() -> None:
    key = run_key("", LEDGER, "c", datetime(2024, 1, 15, tzinfo=UTC))
    assert key.startswith("2024/01/15/")
    assert parse_key("", key) is not None


def test_range_listing_covers_the_range_in_one_listing() -> None:
    prefix, after = range_listing("trade-ledgers", date(2024, 1, 15), date(2024, 1, 20))
    assert prefix == "trade-ledgers/2024/01/"
    assert after == "trade-ledgers/2024/01/15"
    assert day_prefix("trade-ledgers", date(2024, 1, 14)) + "235959-x-y.json" < after
    assert day_prefix("trade-ledgers", date(2024, 1, 15)) + "000000-x-y.json" > after
    prefix, _ = range_listing("trade-ledgers", date(2023, 12, 31), date(2024, 1, 1))
    assert prefix == "trade-ledgers/"
