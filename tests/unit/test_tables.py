"""``adapters.cli.tables``: at any width, no id, name or number is broken across lines."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from adapters.cli.tables import Column, ColumnKind, print_table, shorten_id

ID = st.text("abcdef0123456789-", min_size=8, max_size=70)
NAME = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=30)
NUMBER = st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str)
WORDS = st.lists(NAME, min_size=1, max_size=6).map(" ".join)


def render(columns: list[Column], rows: list[tuple[str, ...]], width: int) -> list[str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, markup=False, highlight=False, color_system=None)
    print_table(console, columns, rows, title="title")
    return buffer.getvalue().splitlines()


def whole(value: str, lines: list[str]) -> bool:
    return any(value in line for line in lines)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Column], list[tuple[str, ...]]]:
    kinds: list[ColumnKind] = draw(
        st.lists(st.sampled_from(["id", "name", "number", "text"]), min_size=1, max_size=8)
    )
    columns = [Column(f"{kind} {n}", kind) for n, kind in enumerate(kinds)]
    cell = {
        "id": ID,
        "name": st.lists(NAME, min_size=1, max_size=3).map("\n".join),
        "number": NUMBER,
        "text": WORDS,
    }
    rows = draw(st.lists(st.tuples(*(cell[kind] for kind in kinds)), min_size=0, max_size=4))
    return columns, rows


@settings(max_examples=60, deadline=None)
@given(tables(), st.integers(min_value=30, max_value=160))
def test_no_value_is_broken_at_any_width(
    table: tuple[list[Column], list[tuple[str, ...]]], width: int
) -> None:
    columns, rows = table
    lines = render(columns, rows, width)
    for row in rows:
        for column, cell in zip(columns, row, strict=True):
            if column.kind == "id":
                assert whole(cell, lines) or whole(shorten_id(cell), lines), cell
            elif column.kind == "text":
                for word in cell.split():
                    assert whole(word, lines), word
            else:
                for part in cell.splitlines():
                    assert whole(part, lines), part
    for line in lines:
        if line[:1] in "┏┃┡│└":  # a table line always fits the width
            assert len(line) <= width


def test_a_wide_table_is_kept_and_a_narrow_one_becomes_blocks() -> None:
    columns = [Column("order", "id"), Column("strategy", "name"), Column("qty", "number")]
    rows = [("order-" + "9" * 40, "mean_reversion_strategy", "1.23456789")]
    wide = render(columns, rows, 120)
    assert any(line.startswith("│ order-999") for line in wide)
    shortened = render(columns, rows, 60)
    assert any(shorten_id(rows[0][0]) in line for line in shortened)
    assert any("--json prints them in full" in line for line in shortened)
    blocks = render(columns, rows, 30)
    assert f"order: {rows[0][0]}" in blocks
    assert "  strategy: mean_reversion_strategy" in blocks


def test_keys_are_never_shortened() -> None:
    columns = [Column("key", "id", shorten=False), Column("status", "name")]
    key = "trade-ledgers/2024/01/15/143052-" + "a" * 36 + "-corr.json"
    lines = render(columns, [(key, "valid")], 80)
    assert f"key: {key}" in lines
