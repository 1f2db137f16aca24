"""Analytics over the archive: flat rows of runs, Parquet export, SQL in DuckDB.

- ``adapters.analytics.rows``: fills, attribution and run rows of one ``ArchivedRun``;
- ``adapters.analytics.schema``: the Parquet tables and their exact decimal types;
- ``adapters.analytics.export``: ``export_runs`` writes a period of the archive as Parquet;
- ``adapters.analytics.sql``: DuckDB over an export, with ``fills``/``attribution``/``runs``.
"""
