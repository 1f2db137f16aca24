"""Spark (pyspark in local mode) reads the same export and gives the same by-strategy totals.

Behind the ``spark`` marker (deselected by ``make test``; ``.ci/run`` installs the
``spark`` extra and runs it): skipped with its reason where pyspark or Java is absent,
required under ``CI=true``.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.analytics.export import Exporter
from adapters.analytics.sink import LocalSink
from adapters.analytics.sql import BY_STRATEGY
from adapters.archive import LocalDirectoryArchive
from tests.analytics.compare import exactly, projected
from tests.analytics.runs import archived
from tests.analytics.test_export import STREAM
from tests.projections.streams import Execution
from tests.servers import server_missing

pytestmark = pytest.mark.spark

THIRDS = {"carry": 1 / 3, "value": 1 / 3, "momentum": 1 / 3}
INEXACT = {"momentum": Decimal("0.33333333"), "carry": Decimal("0.66666667")}
MORE = [
    Execution(
        "s1", "s1-a", "SPY", "SELL", Decimal("7.25"), Decimal("512.34"), None, None, THIRDS, 0
    ),
    Execution(
        "s2",
        "s2-a",
        "BRK.B",
        "BUY",
        Decimal("0.0001"),
        Decimal("412345.67"),
        None,
        None,
        INEXACT,
        1,
    ),
    Execution("s1", "s1-b", "SPY", "SELL", Decimal("1"), Decimal("512.35"), None, None, THIRDS, 2),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    try:
        sql = importlib.import_module("pyspark.sql")
    except ImportError:
        server_missing("pyspark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        server_missing("no Java runtime (pyspark needs Java 17)")
    session = (
        sql.SparkSession.builder.master("local[1]")
        .appName("trade-ledger-export-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


def test_spark_by_strategy_equals_the_projection(spark: Any, tmp_path: Path) -> None:
    archive = LocalDirectoryArchive(tmp_path / "archive")
    events = [
        archived(archive, STREAM, day=0, number=1)[1],
        archived(archive, MORE, day=1, number=2)[1],
        archived(archive, MORE[:1] + STREAM[1:], day=1, number=3)[1],
    ]
    report = Exporter(archive, LocalSink(tmp_path / "out")).export(
        date(2024, 3, 1), date(2024, 3, 31)
    )
    assert report.written == 3
    table = spark.read.parquet(str(tmp_path / "out" / "attribution"))
    assert {"year", "month", "day"} <= set(table.columns)
    assert str(dict(table.dtypes)["notional"]) == "decimal(38,24)"
    table.createOrReplaceTempView("attribution")
    rows = [tuple(row) for row in spark.sql(BY_STRATEGY).collect()]
    assert exactly(rows) == exactly(projected(events)["by_strategy"])
