"""One answer on every path: DuckDB SQL over an export equals the Python projections."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.analytics.export import Exporter
from adapters.analytics.sink import LocalSink
from adapters.analytics.sql import connect
from adapters.archive import LocalDirectoryArchive
from tests.analytics.compare import exactly, projected, queried
from tests.analytics.runs import archived
from tests.projections.streams import Execution, streams

FIRST, LAST = date(2024, 3, 1), date(2024, 3, 31)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(streams(max_orders=8), st.integers(0, 3)),
        min_size=0,
        max_size=4,
    )
)
def test_sql_over_the_export_equals_the_projections_to_the_last_digit(
    runs: list[tuple[list[Execution], int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        archive = LocalDirectoryArchive(root / "archive")
        events = [
            archived(archive, stream, day=day, number=n)[1] for n, (stream, day) in enumerate(runs)
        ]
        report = Exporter(archive, LocalSink(root / "export")).export(FIRST, LAST)
        assert report.left_out == []
        assert report.written == len(runs)
        connection = connect(str(root / "export"))
        try:
            from_sql = queried(connection)
        finally:
            connection.close()
    expected = projected(events)
    for name in ("by_symbol", "by_strategy", "totals"):
        assert exactly(from_sql[name]) == exactly(expected[name]), name
