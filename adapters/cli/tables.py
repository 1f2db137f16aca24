"""Tables that stay readable in an 80-column terminal or a pipe.

Rich squeezes a table that is wider than the console by folding cells letter by letter:
an order id over six lines, a strategy name one letter a line. Here no id, name or
number is ever broken across lines. ``print_table`` tries, in order:

1. every value in full, text cells wrapped only between words;
2. ids shortened (``3f2a9c1…1b2c``; ``--json`` prints them in full), when that fits;
3. one record per block (``header: value`` lines, never broken by the program; a value
   longer than the terminal is wrapped by the terminal alone, and a pipe gets it whole).

Each column says what its cells are (``Column.kind``):

- ``id``: never broken; shortened in step 2 unless ``shorten=False`` (keys to copy);
- ``name``: never broken, one name per line of the cell (symbols, strategies, statuses);
- ``number``: right-aligned, never broken (Decimals as their exact text);
- ``text``: free text, wrapped between words.

Commands build ``Column``s and rows of ``str`` or ``rich.text.Text`` (for a style) and
call ``print_table(console, columns, rows, title=...)``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

ColumnKind = Literal["id", "name", "number", "text"]
Cell = str | Text

ID_HEAD = 7
ID_TAIL = 4
ELLIPSIS = "…"
SHORTENED_NOTE = "ids shortened (…): --json prints them in full"


@dataclass(frozen=True)
class Column:
    """One column: its header and what its cells are (see the module docstring)."""

    header: str
    kind: ColumnKind = "text"
    shorten: bool = True
    """For ``id`` columns: whether the id may be shortened to fit (``False`` for keys)."""


def shorten_id(value: str) -> str:
    """``value`` cut to its head and tail around an ellipsis, when longer than that."""
    if len(value) <= ID_HEAD + ID_TAIL + 1:
        return value
    return f"{value[:ID_HEAD]}{ELLIPSIS}{value[-ID_TAIL:]}"


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _range(column: Column, cells: Sequence[str]) -> tuple[int, int]:
    """(narrowest, widest) width the column needs without breaking a value.

    Headers wrap between words in every kind of column; cells only in ``text`` columns.
    """
    lines = [line for cell in cells for line in cell.splitlines()]
    header = column.header.split() or [""]
    words = [w for line in lines for w in line.split()] if column.kind == "text" else lines
    narrowest = max(cell_len(word) for word in (*header, *words))
    widest = max(cell_len(line) for line in (column.header, *lines))
    return max(narrowest, 1), max(widest, 1)


def _widths(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], room: int
) -> list[int] | None:
    """Column widths (content only) that fit ``room`` without breaking a value, or ``None``."""
    ranges = [_range(column, [row[i] for row in rows]) for i, column in enumerate(columns)]
    # Each column has one space of padding either side, and one border between columns
    # and at each edge.
    available = room - 3 * len(columns) - 1
    widths = [narrowest for narrowest, _ in ranges]
    if sum(widths) > available:
        return None
    spare = available - sum(widths)
    for index, (narrowest, widest) in enumerate(ranges):
        extra = min(spare, widest - narrowest)
        widths[index] += extra
        spare -= extra
    return widths


def _shortened(columns: Sequence[Column], row: Sequence[Cell]) -> list[Cell]:
    cells: list[Cell] = []
    for column, cell in zip(columns, row, strict=True):
        if column.kind == "id" and column.shorten:
            short = shorten_id(_plain(cell))
            cells.append(Text(short, style=cell.style) if isinstance(cell, Text) else short)
        else:
            cells.append(cell)
    return cells


def print_table(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
) -> None:
    """Print ``rows`` as a table that fits ``console``, or one record per block."""
    plain = [[_plain(cell) for cell in row] for row in rows]
    room = console.width
    widths = _widths(columns, plain, room)
    shown: Sequence[Sequence[Cell]] = rows
    note = None
    if widths is None and any(c.kind == "id" and c.shorten for c in columns):
        short = [_shortened(columns, row) for row in rows]
        widths = _widths(columns, [[_plain(cell) for cell in row] for row in short], room)
        if widths is not None:
            shown, note = short, SHORTENED_NOTE
    if widths is None:
        print_blocks(console, columns, rows, title=title)
        return
    if title:
        console.print(Text(title, style="bold"), soft_wrap=True)
    table = Table(show_lines=any("\n" in cell for row in plain for cell in row))
    for column, width in zip(columns, widths, strict=True):
        table.add_column(
            "\n".join(textwrap.wrap(column.header, width, break_long_words=False)),
            width=width,
            no_wrap=column.kind != "text",
            overflow="fold" if column.kind == "text" else "ellipsis",
            justify="right" if column.kind == "number" else "left",
        )
    for row in shown:
        table.add_row(*row)
    console.print(table, soft_wrap=False)
    if note:
        console.print(note, style="dim", soft_wrap=True)


def print_blocks(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
) -> None:
    """One record per block: the first column as its heading, then ``header: value`` lines.

    Lines are never broken by the program (``soft_wrap``): a terminal narrower than a
    value wraps it on screen only, and a pipe receives each line whole.
    """
    if title:
        console.print(Text(title, style="bold"), soft_wrap=True)
    for number, row in enumerate(rows):
        if number or title:
            console.print(soft_wrap=True)
        first, *rest = zip(columns, row, strict=True)
        heading = Text.assemble(f"{first[0].header}: ", _one_line(first[1]))
        heading.stylize("bold", 0, len(first[0].header) + 1)
        console.print(heading, soft_wrap=True)
        for column, cell in rest:
            if not _plain(cell):
                continue
            console.print(Text.assemble(f"  {column.header}: ", _one_line(cell)), soft_wrap=True)


def _one_line(cell: Cell) -> Text:
    """A cell on one line: the lines of a multi-line cell joined with ``, ``."""
    text = cell if isinstance(cell, Text) else Text(cell)
    if "\n" not in text.plain:
        return text
    return Text(", ".join(text.plain.splitlines()), style=text.style)
