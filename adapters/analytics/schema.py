"""The Parquet tables of an export and their exact decimal types.

Why DECIMAL(38, s): DuckDB, Spark and Athena read Parquet decimals of at most 38 digits
(DuckDB reads wider ones as DOUBLE, Spark and Athena refuse them), and the same files
must give the same exact numbers in all three. The ledger's own input limits (30
significant digits, magnitudes 1E-20 to <1E+16) would need DECIMAL(65, 49) for an input
and DECIMAL(130, 98) for a value (quantity x price): beyond every engine's decimal, and
beyond Arrow's decimal256 (76 digits) for the value. So each column's scale is chosen for
what trading writes, and a value that does not fit is refused with ``ValueTooWideError``
naming it (the run is left out, never rounded):

- ``AMOUNT`` DECIMAL(38, 20) for quantity, price, bid, ask: every value the ledger
  accepts that has at most 20 decimal places (the ledger's smallest magnitude is 1E-20)
  and, as the ledger requires, is below 1E+16; sums stay exact up to 1E+18.
- ``VALUE`` DECIMAL(38, 24) for values, attributed quantities and notionals, weight
  adjustments and run totals: a product of two amounts of up to 12 decimal places each,
  or weight x quantity x price with a float weight's 16 places (``1/3``) and 8 between
  quantity and price; sums stay exact up to 1E+14.
- ``WEIGHT`` DECIMAL(38, 36): strategy weights (each at most 1 + 1E-6).

Sums in DuckDB and Spark (with ANSI mode) raise on overflow rather than round.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

from adapters.analytics.rows import AttributionRow, FillRow, RunRow

AMOUNT = pa.decimal128(38, 20)
VALUE = pa.decimal128(38, 24)
WEIGHT = pa.decimal128(38, 36)
TIME = pa.timestamp("us", tz="UTC")
TEXT = pa.string()

FILLS = pa.schema(
    [
        ("ledger_id", TEXT),
        ("correlation_id", TEXT),
        ("sequence", pa.int64()),
        ("order_id", TEXT),
        ("execution_id", TEXT),
        ("symbol", TEXT),
        ("side", TEXT),
        ("quantity", AMOUNT),
        ("price", AMOUNT),
        ("value", VALUE),
        ("bid", AMOUNT),
        ("ask", AMOUNT),
        ("quoted_at", TIME),
        ("filled_at", TIME),
        ("order_type", TEXT),
        ("opens_order", pa.bool_()),
    ]
)
ATTRIBUTION = pa.schema(
    [
        ("ledger_id", TEXT),
        ("sequence", pa.int64()),
        ("order_id", TEXT),
        ("execution_id", TEXT),
        ("symbol", TEXT),
        ("side", TEXT),
        ("strategy", TEXT),
        ("weight", WEIGHT),
        ("quantity", VALUE),
        ("notional", VALUE),
        ("weight_adjustment", VALUE),
        ("opens_order", pa.bool_()),
    ]
)
RUNS = pa.schema(
    [
        ("ledger_id", TEXT),
        ("correlation_id", TEXT),
        ("run_key", TEXT),
        ("run_date", pa.date32()),
        ("created_at", TIME),
        ("closed_at", TIME),
        ("format_version", pa.int32()),
        ("event_count", pa.int64()),
        ("fill_count", pa.int64()),
        ("total_entries", pa.int64()),
        ("total_buy_value", VALUE),
        ("total_sell_value", VALUE),
        ("head_hash", TEXT),
        ("verify_status", TEXT),
        ("signature_status", TEXT),
    ]
)
TABLES: dict[str, pa.Schema] = {"fills": FILLS, "attribution": ATTRIBUTION, "runs": RUNS}
"""Every table of an export by name (the folder and the SQL view)."""
PARTITIONS = pa.schema([("year", pa.int32()), ("month", pa.int32()), ("day", pa.int32())])
"""The hive partition columns (``year=2024/month=01/day=15``): the run's archive day."""


class ValueTooWideError(ValueError):
    """A value that the column's decimal type cannot hold exactly (it is never rounded)."""

    def __init__(self, table: str, column: str, where: str, value: Decimal, kind: Any) -> None:
        self.table = table
        self.column = column
        self.value = value
        integers = kind.precision - kind.scale
        super().__init__(
            f"{table}.{column} of {where}: {value} does not fit DECIMAL({kind.precision}, "
            f"{kind.scale}) (below 1E+{integers}, at most {kind.scale} decimal places); "
            "not exported rather than rounded"
        )


def fits(value: Decimal, kind: Any) -> bool:
    """Whether DECIMAL(precision, scale) holds ``value`` exactly."""
    if not value:
        return True
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite: the ledger holds no NaN or infinity
    scale: int = kind.scale
    return exponent >= -scale and value.adjusted() < kind.precision - scale


def table_of(
    name: str, rows: Sequence[FillRow] | Sequence[AttributionRow] | Sequence[RunRow]
) -> pa.Table:
    """The rows as an Arrow table of ``TABLES[name]``; ``ValueTooWideError`` for a value
    that does not fit its decimal column (pyarrow refuses any loss; the slow search for
    the culprit runs only then)."""
    schema = TABLES[name]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = []
    for field, values in zip(schema, columns, strict=True):
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
            raise _too_wide(name, field, values, rows) or error from None
    return pa.Table.from_arrays(arrays, schema=schema)


def _too_wide(
    name: str,
    field: pa.Field,
    values: Sequence[Any],
    rows: Sequence[FillRow] | Sequence[AttributionRow] | Sequence[RunRow],
) -> ValueTooWideError | None:
    if not pa.types.is_decimal(field.type):
        return None
    for value, row in zip(values, rows, strict=True):
        if isinstance(value, Decimal) and not fits(value, field.type):
            where = f"ledger {row[0]}"
            if isinstance(row, FillRow | AttributionRow):
                where += f", execution {row.execution_id!r} (sequence {row.sequence})"
            return ValueTooWideError(name, field.name, where, value, field.type)
    return None
