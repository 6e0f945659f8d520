"""Publish into the public DuckDB file without ever blocking on, or exposing a half-state to, readers.

DuckDB allows one writer per file, and a reader that holds the file open blocks
a writer. So we never write the live file: under an exclusive lock (one
publisher at a time, across processes) we copy it, change the copy in one
transaction, checkpoint, and ``os.replace`` the copy over the live path.
A reader already connected keeps the old file (POSIX keeps the inode alive);
a new connection opens the new one. Either sees a complete table. If anything
fails before the rename, the live file is untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "synthetic"
# Files are written in a storage format that DuckDB 1.4+ (and the duckdb CLI on PyPI) can read,
# so downstream teams need not upgrade in step with the pipeline.
DEFAULT_STORAGE_VERSION = "v1.4.0"
META_SCHEMA = "meta"
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")

HISTORY_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {META_SCHEMA};
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.quality_history (
    run_id VARCHAR, dataset VARCHAR, evaluated_at TIMESTAMP, check_name VARCHAR,
    score DOUBLE, threshold DOUBLE, passed BOOLEAN, rows_scored BIGINT, detail VARCHAR
);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.synthesizer_comparison (
    run_id VARCHAR, dataset VARCHAR, evaluated_at TIMESTAMP, candidate VARCHAR, status VARCHAR,
    fit_s DOUBLE, sample_s DOUBLE, validity DOUBLE, column_shapes DOUBLE, column_pair_trends DOUBLE,
    exact_copy_rate DOUBLE, holdout_copy_rate DOUBLE, dcr_share DOUBLE, passed BOOLEAN, chosen BOOLEAN,
    why_not VARCHAR
);
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.publications (
    run_id VARCHAR, dataset VARCHAR, published_at TIMESTAMP, table_name VARCHAR,
    num_rows BIGINT, num_columns INTEGER, synthesizer VARCHAR, contract_version INTEGER,
    source_digest VARCHAR
);
ALTER TABLE {META_SCHEMA}.publications ADD COLUMN IF NOT EXISTS table_digest VARCHAR;
ALTER TABLE {META_SCHEMA}.publications ADD COLUMN IF NOT EXISTS dp_epsilon DOUBLE;
ALTER TABLE {META_SCHEMA}.synthesizer_comparison ADD COLUMN IF NOT EXISTS dp_epsilon DOUBLE;
"""


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def publish_lock(database: Path) -> Iterator[None]:
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(_lock_path(database), "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def swap_in(
    database: Path,
    change: Callable[[duckdb.DuckDBPyConnection], Any],
    storage_version: str = DEFAULT_STORAGE_VERSION,
) -> Any:
    """Apply ``change`` to a copy of ``database`` and atomically replace it."""
    with publish_lock(database):
        fd, name = tempfile.mkstemp(prefix=f".{database.name}.", suffix=".next", dir=database.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            if database.exists():
                shutil.copyfile(database, tmp)
            else:
                tmp.unlink()
            con = duckdb.connect(str(tmp), config={"storage_compatibility_version": storage_version})
            try:
                con.execute(HISTORY_DDL)
                con.execute("BEGIN TRANSACTION")
                result = change(con)
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            os.chmod(tmp, 0o644)
            os.replace(tmp, database)
            return result
        finally:
            if tmp.exists():
                tmp.unlink()
            wal = Path(str(tmp) + ".wal")
            if wal.exists():
                wal.unlink()


def table_name(dataset: str) -> str:
    if not _IDENT.match(dataset):
        raise ValueError(f"dataset name {dataset!r} is not a valid table name")
    return f"{SCHEMA}.{dataset}"


def publish_table(
    database: Path,
    dataset: str,
    staged_parquet: Path,
    run_id: str,
    synthesizer: str,
    contract_version: int,
    source_digest: str,
    table_digest: str = "",
    storage_version: str = DEFAULT_STORAGE_VERSION,
    dp_epsilon: float | None = None,
) -> dict[str, Any]:
    """Replace ``synthetic.<dataset>`` with the staged Parquet file, all or nothing.

    ``dp_epsilon`` is the differential-privacy budget the model spent, for tables from a DP synthesizer."""
    target = table_name(dataset)

    def change(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_parquet(?)", [str(staged_parquet)])
        (num_rows,) = con.execute(f"SELECT count(*) FROM {target}").fetchone() or (0,)
        num_cols = len(con.execute(f"DESCRIBE {target}").fetchall())
        con.execute(
            f"INSERT INTO {META_SCHEMA}.publications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                dataset,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                target,
                num_rows,
                num_cols,
                synthesizer,
                contract_version,
                source_digest,
                table_digest,
                dp_epsilon,
            ],
        )
        return {"table": target, "num_rows": int(num_rows), "num_columns": num_cols}

    return swap_in(database, change, storage_version)


QUALITY_FIELDS = ("check_name", "score", "threshold", "passed", "rows_scored", "detail")
COMPARISON_FIELDS = (
    "candidate",
    "status",
    "fit_s",
    "sample_s",
    "validity",
    "column_shapes",
    "column_pair_trends",
    "exact_copy_rate",
    "holdout_copy_rate",
    "dcr_share",
    "passed",
    "chosen",
    "why_not",
    "dp_epsilon",
)


META_TABLES = {"quality_history": QUALITY_FIELDS, "synthesizer_comparison": COMPARISON_FIELDS}


def record(
    database: Path,
    table: str,
    dataset: str,
    run_id: str,
    rows: list[dict[str, Any]],
    storage_version: str = DEFAULT_STORAGE_VERSION,
) -> None:
    """Append ``(run_id, dataset, now, *fields)`` rows to ``meta.quality_history`` (gate scores, passed or
    not) or ``meta.synthesizer_comparison`` (candidate scores), through the same safe swap as publishing."""
    fields = META_TABLES[table]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    placeholders = ", ".join("?" for _ in range(3 + len(fields)))

    def change(con: duckdb.DuckDBPyConnection) -> None:
        for r in rows:
            con.execute(
                f"INSERT INTO {META_SCHEMA}.{table} VALUES ({placeholders})",
                [run_id, dataset, now, *(r.get(f) for f in fields)],
            )

    swap_in(database, change, storage_version)


def latest_publication(database: Path, dataset: str) -> dict[str, Any] | None:
    """The newest row of ``meta.publications`` for a dataset, or None."""
    if not database.exists():
        return None
    con = read_only(database)
    try:
        columns = {r[0] for r in con.execute("DESCRIBE meta.publications").fetchall()}
        if "table_digest" not in columns:
            return None
        row = con.execute(
            "SELECT run_id, published_at, table_digest FROM meta.publications WHERE dataset = ? "
            "ORDER BY published_at DESC LIMIT 1",
            [dataset],
        ).fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
    return None if row is None else {"run_id": row[0], "published_at": row[1], "table_digest": row[2]}


def read_only(database: Path) -> duckdb.DuckDBPyConnection:
    """How downstream code should connect: read-only, so it can never block or alter a publication."""
    return duckdb.connect(str(database), read_only=True)
