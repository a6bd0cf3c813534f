"""The demo dataset: prospects with names from many scripts and a handful of rows Pardot would refuse.

``pardot-frames demo`` (``cli/demo.py``) exports it to the built-in simulator; the notebook and the
``sql/`` samples read it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import polars as pl

DEMO_SQL = """\
-- The demo dataset: {rows} prospects, names from many scripts, some nulls, and a handful of rows
-- Pardot would refuse (a broken email every 997 rows, a non-numeric score every 1499 rows).
SELECT
    CASE WHEN i % 997 = 13 THEN 'not-an-email ' || i
         ELSE lower(strip_accents(first)) || '.' || i || '@example-' || (i % 37) || '.com' END AS email,
    first AS first_name,
    last AS last_name,
    company,
    CASE WHEN i % 7 = 0 THEN NULL ELSE city END AS city,
    country,
    CASE WHEN i % 1499 = 7 THEN 'ninety' ELSE CAST(i % 250 AS VARCHAR) END AS score,
    i % 11 = 0 AS is_do_not_email
FROM (
    SELECT i,
        ['Anna', 'Jörg', 'Zoë', 'Łukasz', 'Mónica', 'Søren', 'Ayşe', 'Kwame', 'José', 'Chloé'][1 + i % 10] AS first,
        ['Müller', 'O''Brien', 'García', 'Nguyễn', 'Иванова', '山田', 'Dubois', 'Smith & Sons'][1 + i % 8] AS last,
        ['Acme AG', 'Globex 株式会社', 'Initech', 'Umbrella "Labs"', 'Soylent & Co'][1 + i % 5] AS company,
        ['Zürich', 'São Paulo', 'Kraków', 'Tōkyō', 'New York', 'Reykjavík'][1 + i % 6] AS city,
        ['CH', 'BR', 'PL', 'JP', 'US', 'IS'][1 + i % 6] AS country
    FROM range({rows}) t(i)
)
"""
NEWSLETTER, EVENT = 7001, 7002


def demo_prospects(rows: int = 3000, connection: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """The demo prospects as a polars frame (DuckDB -> Arrow -> polars)."""
    import duckdb

    from pardot_frames.prepare.frames import to_polars

    con = connection or duckdb.connect()
    return to_polars(con.sql(DEMO_SQL.format(rows=int(rows))))
