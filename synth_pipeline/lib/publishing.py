"""Publish into the public DuckDB file without ever blocking on, or exposing a half-state to, readers.

DuckDB allows one writer per file, and a reader that holds the file open blocks
a writer. So we never write the live file: under an exclusive lock (one
publisher at a time, across processes) we copy it, change the copy in one
transaction, checkpoint, fsync, and ``os.replace`` the copy over the live path,
then fsync the folder so the rename survives a crash.
A reader already connected keeps the old file (POSIX keeps the inode alive);
a new connection opens the new one. Either sees a complete table. If anything
fails before the rename, the live file is untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import re
import shutil
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import duckdb

from synth_pipeline.lib.errors import PublishRefused
from synth_pipeline.lib.storage import quote_ident, remove_stale, replace_durably, staging_name

SCHEMA = "synthetic"
# Files are written in a storage format that DuckDB 1.4+ (and the duckdb CLI on PyPI) can read,
# so downstream teams need not upgrade in step with the pipeline.
DEFAULT_STORAGE_VERSION = "v1.4.0"
META_SCHEMA = "meta"
# How long a publisher waits for the lock before failing the run (the last good table stays).
DEFAULT_LOCK_TIMEOUT_S = 600.0
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
ALTER TABLE {META_SCHEMA}.publications ADD COLUMN IF NOT EXISTS stale_after_hours DOUBLE;
CREATE TABLE IF NOT EXISTS {META_SCHEMA}.columns (
    dataset VARCHAR, column_name VARCHAR, ordinal INTEGER, data_type VARCHAR, is_key BOOLEAN, pii_action VARCHAR,
    pii_type VARCHAR, description VARCHAR, rules VARCHAR, column_shape_score DOUBLE, run_id VARCHAR
);
CREATE OR REPLACE VIEW {META_SCHEMA}.freshness AS
SELECT dataset,
       max(published_at) AS last_published_at,
       arg_max(stale_after_hours, published_at) AS stale_after_hours,
       round(date_diff('second', max(published_at), (now() AT TIME ZONE 'UTC')::TIMESTAMP) / 3600, 1) AS age_hours,
       coalesce(date_diff('second', max(published_at), (now() AT TIME ZONE 'UTC')::TIMESTAMP) / 3600
                > arg_max(stale_after_hours, published_at), false) AS is_stale
FROM {META_SCHEMA}.publications
GROUP BY dataset;
"""


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def publish_lock(database: Path, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> Iterator[None]:
    """Exclusive lock beside the public file, owner-only so no reader can take it, with a bounded wait."""
    database.parent.mkdir(parents=True, exist_ok=True)
    path = _lock_path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)  # a lock file made 0644 by an older version is tightened
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise PublishRefused(
                        f"the publish lock {path} is held by another process and was not released within "
                        f"{timeout_s:.0f} s; nothing was written and the last published tables are unchanged. "
                        f"`fuser {path}` shows who holds it."
                    ) from None
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def swap_in(
    database: Path,
    change: Callable[[duckdb.DuckDBPyConnection], Any],
    storage_version: str = DEFAULT_STORAGE_VERSION,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> Any:
    """Apply ``change`` to a copy of ``database`` and atomically, durably replace it."""
    with publish_lock(database, lock_timeout_s):
        remove_stale(database, ".next")  # copies a killed publisher left behind
        tmp = staging_name(database, ".next")
        wal = Path(str(tmp) + ".wal")
        try:
            if database.exists():
                shutil.copyfile(database, tmp)
            con = duckdb.connect(str(tmp), config={"storage_compatibility_version": storage_version})
            try:
                con.execute(HISTORY_DDL)
                con.execute("BEGIN TRANSACTION")
                result = change(con)
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            replace_durably(tmp, database, 0o644)
            return result
        except (OSError, duckdb.IOException) as err:
            full = getattr(err, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or any(
                s in str(err) for s in ("No space left", "File too large", "Disk quota")
            )
            raise PublishRefused(
                f"publishing into {database} failed while writing its new copy "
                f"({'the disk is full' if full else type(err).__name__}); the live file is untouched and still "
                "holds the last published tables."
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
            wal.unlink(missing_ok=True)


def table_name(dataset: str) -> str:
    if not _IDENT.match(dataset):
        raise ValueError(f"dataset name {dataset!r} is not a valid table name")
    return f"{SCHEMA}.{dataset}"


# Whole numbers a float holds exactly. Beyond, pandas has already lost their last digits, and the largest ones round
# past what a BIGINT holds: such a column stays a float.
EXACT_IN_FLOAT = 2**53


def _whole_numbers_as_floats(source_types: dict[str, str], staged: dict[str, str]) -> list[str]:
    """Columns of whole numbers in the source that the staged table holds as floats (pandas, where a value is missing)."""
    return [
        col
        for col, kind in source_types.items()
        if kind not in ("DATE", "TIME", "INTERVAL") and staged.get(col, "").startswith(("DOUBLE", "FLOAT"))
    ]


def _exact_in_float(con: duckdb.DuckDBPyConnection, staged_parquet: Path, columns: list[str]) -> list[str]:
    """Of ``columns``, those whose every value a float holds exactly."""
    if not columns:
        return []
    largest = ", ".join(f"max(abs({quote_ident(c)}))" for c in columns)
    row = con.execute(f"SELECT {largest} FROM read_parquet(?)", [str(staged_parquet)]).fetchone() or ()
    return [c for c, m in zip(columns, row, strict=True) if m is None or m < EXACT_IN_FLOAT]


def _restored(source_types: dict[str, str], staged: dict[str, str], whole: Collection[str] = ()) -> str:
    """The SELECT list that gives learnt-as-seconds columns, dates and whole numbers held as floats (``whole``,
    from :func:`_whole_numbers_as_floats`) their source type back, where the staged table still holds them in that
    form: a date of birth generalized to its year stays a year, and a column given text by a PII policy stays text."""
    casts = []
    for col, kind in source_types.items():
        held = staged.get(col, "")
        if kind == "DATE":
            restore = held.startswith("TIMESTAMP")
        elif kind in ("TIME", "INTERVAL"):
            restore = held.startswith(("DOUBLE", "FLOAT", "BIGINT", "INTEGER"))
        else:  # every value the models and the disclosure control give a whole-number column is whole
            restore = col in whole
        if not restore:
            continue
        q = quote_ident(col)
        micros = f"to_microseconds(CAST(round({q} * 1e6) AS BIGINT))"
        if kind == "DATE":
            casts.append(f"CAST({q} AS DATE) AS {q}")
        elif kind == "TIME":
            casts.append(f"CAST(TIME '00:00:00' + {micros} AS TIME) AS {q}")
        elif kind == "INTERVAL":
            casts.append(f"{micros} AS {q}")
        else:
            casts.append(f"CAST(round({q}) AS {kind}) AS {q}")
    return f"SELECT * REPLACE ({', '.join(casts)})" if casts else "SELECT *"


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
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    stale_after_hours: float | None = None,
    columns: dict[str, dict[str, Any]] | None = None,
    source_types: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Replace ``synthetic.<dataset>`` with the staged Parquet file, all or nothing.

    ``source_types`` gives columns learnt in another form their source's type back: a time of day learnt as
    seconds since midnight is published as a TIME (19:38:46, not 70726.0), an interval learnt as seconds as one,
    and a date, which pandas holds as a timestamp, as a DATE.

    ``dp_epsilon`` is the differential-privacy budget the model spent, for tables from a DP synthesizer.
    ``columns`` documents each column for ``meta.columns`` (keys: is_key, pii_action, pii_type, description,
    rules, column_shape_score), in the same transaction as the table."""
    target = table_name(dataset)

    def change(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        described_staged = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(staged_parquet)]).fetchall()
        staged = {str(r[0]): str(r[1]).upper() for r in described_staged}
        types = source_types or {}
        whole = _exact_in_float(con, staged_parquet, _whole_numbers_as_floats(types, staged))
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS {_restored(types, staged, whole)} FROM read_parquet(?)",
            [str(staged_parquet)],
        )
        (num_rows,) = con.execute(f"SELECT count(*) FROM {target}").fetchone() or (0,)
        described = con.execute(f"DESCRIBE {target}").fetchall()
        num_cols = len(described)
        notes = columns or {}
        con.execute(f"DELETE FROM {META_SCHEMA}.columns WHERE dataset = ?", [dataset])
        for i, (name, type_, *_) in enumerate(described):
            n = notes.get(str(name), {})
            score = n.get("column_shape_score")
            con.execute(
                f"INSERT INTO {META_SCHEMA}.columns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    dataset,
                    name,
                    i + 1,
                    type_,
                    bool(n.get("is_key")),
                    n.get("pii_action"),
                    n.get("pii_type"),
                    n.get("description"),
                    n.get("rules"),
                    score if isinstance(score, float | int) and score == score else None,
                    run_id,
                ],
            )
        con.execute(
            f"INSERT INTO {META_SCHEMA}.publications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                stale_after_hours,
            ],
        )
        return {"table": target, "num_rows": int(num_rows), "num_columns": num_cols}

    return swap_in(database, change, storage_version, lock_timeout_s)


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
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
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

    swap_in(database, change, storage_version, lock_timeout_s)


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


def published_schema(database: Path, dataset: str) -> tuple[dict[str, str], int]:
    """Column types and row count of ``synthetic.<dataset>`` as downstream teams read them."""
    con = read_only(database)
    try:
        target = table_name(dataset)
        schema = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {target}").fetchall()}
        (rows,) = con.execute(f"SELECT count(*) FROM {target}").fetchone() or (0,)
    finally:
        con.close()
    return schema, int(rows)


def read_only(database: Path) -> duckdb.DuckDBPyConnection:
    """How downstream code should connect: read-only, so it can never block or alter a publication."""
    return duckdb.connect(str(database), read_only=True)
