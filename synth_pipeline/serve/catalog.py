"""Read the published DuckDB file, and only it: a snapshot per publication, row queries, streamed exports.

The publisher replaces the file with ``os.replace``. DuckDB's Python client caches one database instance per
(canonical) path, so a plain ``duckdb.connect(path)`` under steady load would keep serving the replaced file
forever. A :class:`Snapshot` attaches the file to an in-memory database of its own instead: each publication
gets its own instance, a request reads one publication from start to end (a download that runs across a
publish included), and a new publication is picked up by the next request without a restart.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import io
import json
import math
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from synth_pipeline.lib.publishing import META_SCHEMA, SCHEMA
from synth_pipeline.lib.storage import quote_ident

IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
FILTER_OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "IN", "null": "IS"}
CATALOG = "published"
ROWID = "_row"  # the key of a row in a table without a primary key: its position in the published table
BATCH_ROWS = 10_000  # rows per streamed chunk: memory stays flat (a few MB) however long the table


class ApiError(Exception):
    """An error whose message we wrote: it names parameters and columns of the public table, never input."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Snapshot:
    """One publication of the public file, attached read-only to an in-memory DuckDB of its own, shared by
    the requests that started while it was the newest; closed when the last of them ends after a newer one
    arrived."""

    def __init__(self, path: Path, identity: tuple[int, int, int, int]):
        self.identity = identity
        self.con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
        literal = str(path).replace("'", "''")
        self.con.execute(f"ATTACH '{literal}' AS {CATALOG} (READ_ONLY)")
        # From here on no file can be read or attached: every query is ours, and still nothing could.
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self.users = 0
        self.retired = False

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.con.cursor()
        cur.execute(f"USE {CATALOG}")
        return cur

    def close(self) -> None:
        self.con.close()


class PublicCatalog:
    """The published tables, as the API serves them."""

    def __init__(self, database: Path):
        self.database = database
        self._lock = threading.Lock()
        self._current: Snapshot | None = None

    def _identity(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.database)
        except FileNotFoundError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the newest publication, valid for the ``with`` block."""
        identity = self._identity()
        if identity is None:
            raise ApiError(503, "nothing is published yet: run the pipeline (make run) first")
        with self._lock:
            snap = self._current
            if snap is None or snap.identity != identity:
                snap = Snapshot(self.database, identity)
                old, self._current = self._current, snap
                if old is not None:
                    old.retired = True
                    if old.users == 0:
                        old.close()
            snap.users += 1
        try:
            cursor = snap.cursor()
        except BaseException:
            self._release(snap)
            raise
        try:
            yield cursor
        finally:
            cursor.close()
            self._release(snap)

    def _release(self, snap: Snapshot) -> None:
        with self._lock:
            snap.users -= 1
            if snap.retired and snap.users == 0:
                snap.close()

    def close(self) -> None:
        with self._lock:
            if self._current is not None and self._current.users == 0:
                self._current.close()
            self._current = None


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(rows and rows[0][0])


def published_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = ? ORDER BY 1",
        [SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def require_dataset(con: duckdb.DuckDBPyConnection, name: str) -> None:
    # The name is checked against the catalog before it reaches any SQL; the message does not repeat it.
    if not IDENT.match(name) or name not in published_names(con):
        raise ApiError(404, "no published dataset has this name; GET /datasets lists them")


def column_types(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def key_column(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The dataset's (regenerated) primary key, as recorded in ``meta.columns``; None when it has none."""
    if not has_table(con, META_SCHEMA, "columns"):
        return None
    rows = con.execute(
        f"SELECT column_name FROM {META_SCHEMA}.columns WHERE dataset = ? AND is_key LIMIT 1", [name]
    ).fetchall()
    return str(rows[0][0]) if rows else None


def _meta_rows(con: duckdb.DuckDBPyConnection, table: str, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    if not has_table(con, META_SCHEMA, table):
        return []
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, map(jsonable, row), strict=True)) for row in cur.fetchall()]


def gate_scores(con: duckdb.DuckDBPyConnection, name: str, run_id: str | None = None) -> list[dict[str, Any]]:
    """The checks of one gate run (default: the dataset's latest), passed or not."""
    where = (
        "run_id = ?"
        if run_id
        else (
            f"run_id = (SELECT run_id FROM {META_SCHEMA}.quality_history WHERE dataset = ? "
            "ORDER BY evaluated_at DESC LIMIT 1)"
        )
    )
    return _meta_rows(
        con,
        "quality_history",
        f"SELECT check_name AS check, score, threshold, passed, detail, evaluated_at, run_id "
        f"FROM {META_SCHEMA}.quality_history WHERE dataset = ? AND {where} ORDER BY check_name",
        [name, run_id or name],
    )


def latest_publication(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    rows = _meta_rows(
        con,
        "publications",
        f"SELECT run_id, published_at, synthesizer, contract_version, num_rows, dp_epsilon "
        f"FROM {META_SCHEMA}.publications WHERE dataset = ? ORDER BY published_at DESC LIMIT 1",
        [name],
    )
    return rows[0] if rows else None


def describe_datasets(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    out = []
    for name in published_names(con):
        (rows,) = con.execute(f'SELECT count(*) FROM {SCHEMA}."{name}"').fetchall()[0]
        gate = gate_scores(con, name)
        out.append(
            {
                "name": name,
                "rows": int(rows),
                "columns": len(column_types(con, SCHEMA, name)),
                "key": key_column(con, name) or ROWID,
                "last_publication": latest_publication(con, name),
                "latest_gate": {
                    "run_id": gate[0]["run_id"] if gate else None,
                    "passed": all(g["passed"] for g in gate) if gate else None,
                    "checks": [{k: g[k] for k in ("check", "score", "threshold", "passed")} for g in gate],
                },
            }
        )
    return out


def dictionary(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any]:
    """The data dictionary: ``meta.columns`` where the publisher wrote it, else the bare column types."""
    require_dataset(con, name)
    types = column_types(con, SCHEMA, name)
    documented = {
        r["column"]: r
        for r in _meta_rows(
            con,
            "columns",
            f"SELECT column_name AS column, pii_action, pii_type, description, rules, column_shape_score "
            f"FROM {META_SCHEMA}.columns WHERE dataset = ?",
            [name],
        )
    }
    key = key_column(con, name)
    columns = []
    for col, type_ in types.items():
        doc = documented.get(col, {})
        columns.append(
            {
                "name": col,
                "type": type_,
                "is_key": col == key,
                "pii_action": doc.get("pii_action"),
                "pii_type": doc.get("pii_type"),
                "description": doc.get("description"),
                "rules": [r for r in (doc.get("rules") or "").split("; ") if r],
                "column_shape_score": doc.get("column_shape_score"),
            }
        )
    return {
        "name": name,
        "key": key or ROWID,
        "columns": columns,
        "last_publication": latest_publication(con, name),
        "latest_gate": gate_scores(con, name),
    }


@dataclass
class RowQuery:
    """A page of rows: filters ``column:op:value``, sort ``col,-col``, field selection, limit and offset."""

    limit: int = 100
    offset: int = 0
    filters: list[str] = field(default_factory=list)
    equals: dict[str, str] = field(default_factory=dict)
    sort: str | None = None
    fields: str | None = None

    def where(self, types: dict[str, str]) -> tuple[str, list[Any]]:
        clauses, params = [], []
        parsed = [(i, *_split_filter(f, i)) for i, f in enumerate(self.filters, start=1)]
        parsed += [(0, col, "eq", value) for col, value in self.equals.items()]
        for i, col, op, value in parsed:
            where = f"filter {i}" if i else "a column filter"
            if col not in types:
                raise ApiError(
                    400, f"{where} names a column this dataset does not have; GET /datasets/{{name}} lists them"
                )
            type_ = types[col]
            if op == "null":
                if value not in ("true", "false"):
                    raise ApiError(400, f"{where}: the null operator takes true or false")
                clauses.append(f'"{col}" IS {"" if value == "true" else "NOT "}NULL')
            elif op == "in":
                values = value.split(",")
                clauses.append(f'"{col}" IN ({", ".join(f"CAST(? AS {type_})" for _ in values)})')
                params += values
            else:
                clauses.append(f'"{col}" {FILTER_OPS[op]} CAST(? AS {type_})')
                params.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def order_by(self, types: dict[str, str], key: str | None) -> str:
        terms = []
        for part in (self.sort or "").split(","):
            part = part.strip()
            if not part:
                continue
            desc = part.startswith("-")
            col = part.lstrip("-+")
            if col not in types and col != ROWID:
                raise ApiError(400, "sort names a column this dataset does not have")
            terms.append(f"{_quoted(col)} {'DESC' if desc else 'ASC'} NULLS LAST")
        # A stable order, so paging never repeats or skips a row: the key (or the row's position) last.
        terms.append(_quoted(key) if key else "rowid")
        return " ORDER BY " + ", ".join(terms)

    def select(self, types: dict[str, str], key: str | None) -> str:
        if not self.fields:
            chosen = list(types)
        else:
            chosen = [f.strip() for f in self.fields.split(",") if f.strip()]
            if any(c not in types and c != ROWID for c in chosen):
                raise ApiError(400, "fields names a column this dataset does not have")
        cols = [_quoted(c) for c in chosen if c != ROWID]
        if key is None and (not self.fields or ROWID in chosen):
            cols.insert(0, f"rowid AS {ROWID}")
        if not cols:
            raise ApiError(400, "fields selects no column")
        return ", ".join(cols)


def _quoted(col: str) -> str:
    return "rowid" if col == ROWID else quote_ident(col)


def key_match(key: str | None, types: dict[str, str]) -> str:
    """``<key> = CAST(? AS <its type>)``: the row a key value names (its position when there is no key)."""
    return f"{_quoted(key or ROWID)} = CAST(? AS {types[key] if key else 'BIGINT'})"


def _split_filter(text: str, i: int) -> tuple[str, str, str]:
    parts = text.split(":", 2)
    if len(parts) != 3 or parts[1] not in FILTER_OPS:
        raise ApiError(400, f"filter {i} must read column:op:value with op one of {', '.join(FILTER_OPS)}")
    return parts[0], parts[1], parts[2]


def query_rows(con: duckdb.DuckDBPyConnection, schema: str, name: str, q: RowQuery, key: str | None) -> dict[str, Any]:
    types = column_types(con, schema, name)
    where, params = q.where(types)
    table = f'{schema}."{name}"'
    try:
        (total,) = con.execute(f"SELECT count(*) FROM {table}{where}", params).fetchall()[0]
        sql = f"SELECT {q.select(types, key)} FROM {table}{where}{q.order_by(types, key)} LIMIT ? OFFSET ?"
        cur = con.execute(sql, [*params, q.limit, q.offset])
    except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.BinderException):
        raise ApiError(400, "a filter value does not fit its column's type") from None
    names = [d[0] for d in cur.description or []]
    rows = [dict(zip(names, map(jsonable, r), strict=True)) for r in cur.fetchall()]
    return {"dataset": name, "total": int(total), "limit": q.limit, "offset": q.offset, "rows": rows}


def row_by_key(con: duckdb.DuckDBPyConnection, schema: str, name: str, key: str | None, value: str) -> dict[str, Any]:
    types = column_types(con, schema, name)
    select = ", ".join(([f"rowid AS {ROWID}"] if key is None else []) + [_quoted(c) for c in types])
    try:
        cur = con.execute(f'SELECT {select} FROM {schema}."{name}" WHERE {key_match(key, types)} LIMIT 1', [value])
        rows_ = cur.fetchall()
        row = rows_[0] if rows_ else None
    except (duckdb.ConversionException, duckdb.InvalidInputException):
        raise ApiError(404, "no row has this key") from None
    if row is None:
        raise ApiError(404, "no row has this key")
    names = [d[0] for d in cur.description or []]
    return dict(zip(names, map(jsonable, row), strict=True))


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}


def export(reader: pa.RecordBatchReader, fmt: str) -> Iterator[bytes]:
    """The rows as CSV, JSON lines or Parquet, one batch at a time: memory stays flat however long the table."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        sink = _Chunks()
        with pq.ParquetWriter(sink, reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
                yield from sink.drain()
        yield from sink.drain()
        return
    if fmt == "csv":
        import csv

        import pyarrow.csv as pa_csv

        header = io.StringIO()  # pyarrow quotes every header name; spreadsheets and people expect it plain
        csv.writer(header, lineterminator="\n").writerow(reader.schema.names)
        yield header.getvalue().encode()
        options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
        for batch in reader:
            buf = io.BytesIO()
            pa_csv.write_csv(batch, buf, options)
            yield buf.getvalue()
        return
    for batch in reader:
        lines = [json.dumps({k: jsonable(v) for k, v in row.items()}) for row in batch.to_pylist()]
        yield ("\n".join(lines) + "\n").encode() if lines else b""


class _Chunks(io.RawIOBase):
    """A write-only file that hands what was written to a generator (the Parquet writer's sink)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self._parts.append(data)
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def drain(self) -> Iterator[bytes]:
        parts, self._parts = self._parts, []
        if parts:
            yield b"".join(parts)
