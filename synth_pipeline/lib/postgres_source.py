"""A ``postgres_query`` source: one SELECT streamed from PostgreSQL into a private Parquet file.

The query is one SELECT as PostgreSQL's own parser reads it (checked when the datasets file loads), run in a
read-only transaction through a server-side cursor, so nothing it does can write. Rows arrive in batches, so memory
does not grow with the table. Types follow the column's PostgreSQL type, not the first rows' values: a column null in
the first batch keeps its type. The file then goes through the Parquet path of
:func:`synth_pipeline.lib.ingestion.ingest`, like any other source.

The URL comes from an environment variable; errors name the variable and PostgreSQL's error code, and quote
PostgreSQL's message only where it cannot hold a row's value (syntax, unknown table or column, permissions,
connection).
"""

from __future__ import annotations

import decimal
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synth_pipeline.lib.config import PostgresQuerySource
from synth_pipeline.lib.errors import IngestionError

BATCH_ROWS = 50_000
# PostgreSQL type OIDs (pg_type) and the Arrow type each is written as; anything else is written as text.
_ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    26: pa.int64(),  # oid
    700: pa.float64(),
    701: pa.float64(),
    1700: pa.float64(),  # numeric: a model learns floats; Decimal objects would be text
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}
# SQLSTATE classes whose messages name only the query's own words: syntax or access (42), connection (08),
# invalid authorization (28), invalid catalog (3D), insufficient resources (53), operator intervention (57).
_SAFE_CLASSES = ("42", "08", "28", "3D", "53", "57")


def check_query(query: str) -> None:
    """Exactly one SELECT, as PostgreSQL's own parser (libpg_query, through ``pglast``) reads it. A read-only
    transaction alone is not enough: ``SELECT 1; COMMIT; DROP TABLE t`` commits it and drops the table in the
    next one, and a server-side cursor declares the SELECT and runs the rest as it is sent."""
    import pglast

    try:
        statements = pglast.parse_sql(query)
    except pglast.parser.ParseError as err:
        raise ValueError(f"the query does not parse as PostgreSQL: {err}") from None
    if len(statements) != 1:
        raise ValueError(f"the query must be one SELECT statement, found {len(statements)} statements")
    kind = type(statements[0].stmt).__name__
    if kind != "SelectStmt":
        raise ValueError(f"the query must be a SELECT, not {kind.removesuffix('Stmt').upper()}")


def _connect(src: PostgresQuerySource, dataset: str) -> Any:
    import psycopg2

    url = os.environ.get(src.url_env)
    if not url:
        raise IngestionError(
            f"dataset {dataset!r}: source.url_env names {src.url_env}, which is not set. Set it to the "
            "database's URL (postgresql://user:password@host:5432/db)."
        )
    # SQLAlchemy's dialect prefix (as Dagster's own settings write it) is not libpq's.
    url = url.replace("postgresql+psycopg2://", "postgresql://", 1)
    try:
        con = psycopg2.connect(url, connect_timeout=15, application_name="synth-pipeline")
    except psycopg2.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise IngestionError(
            f"dataset {dataset!r}: could not connect to the database in {src.url_env}: {first}"
        ) from None
    con.set_session(readonly=True)
    return con


def _refused(err: Exception, src: PostgresQuerySource, dataset: str) -> IngestionError:
    code = getattr(err, "pgcode", None) or ""
    if code[:2] in _SAFE_CLASSES:
        first = str(err).strip().splitlines()[0]
        return IngestionError(f"dataset {dataset!r}: source.query was refused by PostgreSQL ({code}): {first}")
    return IngestionError(
        f"dataset {dataset!r}: source.query failed in PostgreSQL ({type(err).__name__}, SQLSTATE {code or 'none'}). "
        "PostgreSQL's message is withheld because it can quote a row's value; run the query in psql to see it. "
        "Nothing was overwritten."
    )


def _cell(value: Any, kind: pa.DataType) -> Any:
    """One value as its Arrow type takes it: uuids, json, arrays, intervals and times as text."""
    if value is None:
        return None
    if pa.types.is_string(kind):
        if isinstance(value, dict | list):
            return json.dumps(value, default=str, ensure_ascii=False)
        if isinstance(value, memoryview | bytes):
            return bytes(value).hex()
        return str(value)  # uuids, times, intervals
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def fetch(src: PostgresQuerySource, dataset: str, dest: Path) -> int:
    """Stream the query's rows into ``dest`` (Parquet); the number of rows."""
    import psycopg2

    con = _connect(src, dataset)
    rows = 0
    try:
        with con.cursor(name="synth_pipeline_source") as cur:  # server-side: DECLARE ... CURSOR FOR <query>
            cur.itersize = BATCH_ROWS
            try:
                cur.execute(src.query)
                batch = cur.fetchmany(BATCH_ROWS)
            except psycopg2.Error as err:
                raise _refused(err, src, dataset) from None
            schema = pa.schema([(d.name, _ARROW_TYPES.get(d.type_code, pa.string())) for d in cur.description])
            with pq.ParquetWriter(dest, schema, compression="zstd") as writer:
                while batch:
                    columns = [
                        pa.array([_cell(row[i], f.type) for row in batch], type=f.type) for i, f in enumerate(schema)
                    ]
                    writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                    rows += len(batch)
                    try:
                        batch = cur.fetchmany(BATCH_ROWS)
                    except psycopg2.Error as err:
                        raise _refused(err, src, dataset) from None
    finally:
        con.rollback()
        con.close()
    return rows
