"""DuckDB over an export, with the views ``fills``, ``attribution`` and ``runs`` predefined.

Each view is a pyarrow dataset (hive partitions ``year``/``month``/``day`` as columns) on
pyarrow's own file system, local or S3: DuckDB's S3 extension would be downloaded at run
time, which a machine without internet cannot do, while pyarrow's S3 client ships in its
wheel. The views have the export's schema even where a table has no file yet, so a query
over an empty export answers with no rows. The connection cannot reach files or install
extensions itself: only the export is read, and nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from adapters.analytics.schema import PARTITIONS, TABLES
from adapters.archive import ArchiveSettings
from adapters.archive.s3 import parse_s3_url

BY_SYMBOL = """
SELECT symbol, side,
       count(*) FILTER (WHERE opens_order) AS entries,
       count(*) AS executions,
       sum(quantity) AS quantity,
       sum(value) AS notional
FROM fills GROUP BY symbol, side ORDER BY symbol, side
"""
BY_STRATEGY = """
SELECT strategy,
       count(*) FILTER (WHERE opens_order) AS entries,
       count(*) AS executions,
       coalesce(sum(quantity) FILTER (WHERE side = 'BUY'), 0) AS buy_quantity,
       coalesce(sum(notional) FILTER (WHERE side = 'BUY'), 0) AS buy_notional,
       coalesce(sum(quantity) FILTER (WHERE side = 'SELL'), 0) AS sell_quantity,
       coalesce(sum(notional) FILTER (WHERE side = 'SELL'), 0) AS sell_notional,
       sum(weight_adjustment) AS weight_adjustment
FROM attribution GROUP BY strategy ORDER BY strategy NULLS LAST
"""
TOTALS = """
SELECT coalesce(sum(value) FILTER (WHERE side = 'BUY'), 0) AS buy_value,
       coalesce(sum(value) FILTER (WHERE side = 'SELL'), 0) AS sell_value,
       coalesce(sum(value) FILTER (WHERE side = 'BUY'), 0)
         - coalesce(sum(value) FILTER (WHERE side = 'SELL'), 0) AS net_value,
       count(*) FILTER (WHERE side = 'BUY' AND opens_order) AS buy_entries,
       count(*) FILTER (WHERE side = 'SELL' AND opens_order) AS sell_entries,
       count(*) FILTER (WHERE side = 'BUY') AS buy_executions,
       count(*) FILTER (WHERE side = 'SELL') AS sell_executions
FROM fills
"""
QUERIES = {"by_symbol": BY_SYMBOL, "by_strategy": BY_STRATEGY, "totals": TOTALS}
"""The SQL of the projections ``BySymbol``, ``ByStrategy`` and ``Totals`` (docs/analytics.md)."""


def export_filesystem(
    location: str, settings: ArchiveSettings | None = None
) -> tuple[pafs.FileSystem, str]:
    """pyarrow's file system of an export and the export's root path on it.

    ``s3://bucket/prefix`` uses ``S3FileSystem`` with the endpoint of the settings
    (``TRADE_LEDGER__ENDPOINT_URL``) or ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``, and
    AWS's usual credential chain; anything else is a local directory.
    """
    if location.startswith("s3://"):
        bucket, prefix = parse_s3_url(location)
        settings = settings if settings is not None else ArchiveSettings()
        endpoint = (
            settings.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        options: dict[str, object] = {}
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            options = {"endpoint_override": host.rstrip("/"), "scheme": scheme}
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        root = f"{bucket}/{prefix}" if prefix else bucket
        return pafs.S3FileSystem(**options), root
    if "://" in location:
        raise ValueError(f"unsupported export location {location!r}: use a path or s3://")
    directory = Path(location)
    if not directory.is_dir():
        raise ValueError(f"export directory {location!r} does not exist")
    return pafs.LocalFileSystem(), str(directory.resolve())


def table_dataset(filesystem: pafs.FileSystem, root: str, table: str) -> ds.Dataset:
    """One table of an export as a dataset (empty, with its schema, if it has no files)."""
    schema = TABLES[table]
    full = schema
    for partition_field in PARTITIONS:
        full = full.append(partition_field)
    folder = f"{root}/{table}"
    if filesystem.get_file_info(folder).type != pafs.FileType.Directory:
        return ds.dataset(full.empty_table())
    return ds.dataset(
        folder,
        filesystem=filesystem,
        format="parquet",
        schema=full,
        partitioning=ds.partitioning(PARTITIONS, flavor="hive"),
        exclude_invalid_files=False,
        ignore_prefixes=[".", "_"],
    )


def connect(location: str, settings: ArchiveSettings | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the export's tables as views; it reads nothing else.

    A local export is read by DuckDB's own Parquet reader (confined to the export's
    directory by ``allowed_directories``); an S3 export through pyarrow datasets.
    """
    filesystem, root = export_filesystem(location, settings)
    connection = duckdb.connect(":memory:")
    connection.execute("SET autoinstall_known_extensions = false")
    connection.execute("SET autoload_known_extensions = false")
    local = isinstance(filesystem, pafs.LocalFileSystem)
    for table in TABLES:
        if local and _has_files(Path(root) / table):
            pattern = _quoted(f"{root}/{table}/*/*/*/*.parquet")
            connection.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet({pattern}, "  # noqa: S608
                "hive_partitioning = true, "
                "hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER})"
            )
        else:
            connection.register(table, table_dataset(filesystem, root, table))
    if local:
        connection.execute(f"SET allowed_directories = [{_quoted(root + '/')}]")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
    return connection


def _has_files(folder: Path) -> bool:
    """Whether any Parquet file is under ``folder`` (stops at the first)."""
    return next(folder.glob("*/*/*/*.parquet"), None) is not None


def _quoted(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
