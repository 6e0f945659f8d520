"""Read a configured source through DuckDB into a private Parquet file.

DuckDB streams CSV and Parquet straight to Parquet, so ingestion memory does not
grow with the file, and it keeps column types (dates stay dates). Errors are
re-raised without DuckDB's message, which can quote the offending raw line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from synth_pipeline.lib.config import CsvSource, DatasetConfig, DuckDBQuerySource, ParquetSource, resolve
from synth_pipeline.lib.errors import IngestionError
from synth_pipeline.lib.storage import atomic_path


@dataclass(frozen=True)
class IngestResult:
    path: Path
    num_rows: int
    schema: dict[str, str]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def source_relation_sql(dataset: DatasetConfig, base_dir: Path) -> tuple[str, str | None]:
    """The SELECT that reads the source, and a database to attach (or None)."""
    src = dataset.source
    if isinstance(src, CsvSource):
        path = resolve(base_dir, src.path)
        if not path.exists():
            raise IngestionError(f"dataset {dataset.name!r}: CSV source not found: {path}")
        opts = [f"header = {str(src.header).lower()}", "sample_size = -1"]
        delimiter = src.delimiter or ("\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
        opts.append(f"delim = {_sql_literal(delimiter)}")
        return f"SELECT * FROM read_csv({_sql_literal(str(path))}, {', '.join(opts)})", None
    if isinstance(src, ParquetSource):
        path = resolve(base_dir, src.path)
        pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
        if not path.is_dir() and not any(ch in src.path for ch in "*?[") and not path.exists():
            raise IngestionError(f"dataset {dataset.name!r}: Parquet source not found: {path}")
        return f"SELECT * FROM read_parquet({_sql_literal(pattern)}, union_by_name = true)", None
    if isinstance(src, DuckDBQuerySource):
        db = resolve(base_dir, src.database)
        if not db.exists():
            raise IngestionError(f"dataset {dataset.name!r}: DuckDB source database not found: {db}")
        return src.query, str(db)
    raise IngestionError(f"dataset {dataset.name!r}: unsupported source type")  # pragma: no cover


def _safe_reason(err: Exception) -> str:
    """Keep the error class and any line number; drop the text, which may quote raw values."""
    match = re.search(r"[Ll]ine:?\s*(\d+)", str(err))
    where = f" near line {match.group(1)}" if match else ""
    return f"{type(err).__name__}{where}"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _naive_utc(con: duckdb.DuckDBPyConnection, select: str) -> str:
    """Timestamps with a zone ("2013-01-01T10:00:00Z") become plain UTC timestamps: one kind of datetime
    for the contract, the models and the published table."""
    con.execute("SET TimeZone = 'UTC'")
    try:
        described = con.execute(f"DESCRIBE {select}").fetchall()
    except duckdb.Error:
        return select  # the COPY below reports the error without quoting rows
    zoned = [str(row[0]) for row in described if str(row[1]).upper() == "TIMESTAMP WITH TIME ZONE"]
    if not zoned:
        return select
    casts = ", ".join(f"CAST({_quote_ident(c)} AS TIMESTAMP) AS {_quote_ident(c)}" for c in zoned)
    return f"SELECT * REPLACE ({casts}) FROM ({select})"


def ingest(dataset: DatasetConfig, base_dir: Path, dest: Path, memory_limit: str | None = None) -> IngestResult:
    """Copy the source to ``dest`` as Parquet; ``dest`` is replaced only on success."""
    select, database = source_relation_sql(dataset, base_dir)
    con = duckdb.connect(database or ":memory:", read_only=database is not None)
    try:
        if memory_limit:
            con.execute(f"SET memory_limit = {_sql_literal(memory_limit)}")
        con.execute("SET preserve_insertion_order = true")
        select = _naive_utc(con, select)
        with atomic_path(dest) as tmp:
            try:
                con.execute(
                    f"COPY ({select}) TO {_sql_literal(str(tmp))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)"
                )
            except duckdb.Error as err:
                raise IngestionError(
                    f"dataset {dataset.name!r}: the source could not be read ({_safe_reason(err)}). "
                    "The message from DuckDB is withheld because it can quote raw rows; "
                    "open the file locally to inspect it. Nothing was overwritten."
                ) from None
            meta = pq.read_metadata(tmp)
            if meta.num_rows == 0:
                raise IngestionError(f"dataset {dataset.name!r}: the source has no rows. Nothing was overwritten.")
            schema = {f.name: str(f.type) for f in pq.read_schema(tmp)}
            if len(schema) != len({c.lower() for c in schema}):
                raise IngestionError(f"dataset {dataset.name!r}: column names differ only by case")
    finally:
        con.close()
    return IngestResult(path=dest, num_rows=meta.num_rows, schema=schema)
