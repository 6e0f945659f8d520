"""Mock writes: each sandbox gets its own copy of a dataset on its first write; the published table never changes.

Copies live in one DuckDB file of the API server's own (never the public file, never the private area),
as ``sandbox_<name>.<dataset>``. A copy is frozen at the publication it was taken from until its reset.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from synth_pipeline.lib.publishing import SCHEMA
from synth_pipeline.lib.storage import quote_ident
from synth_pipeline.serve.catalog import (
    BATCH_ROWS,
    ROWID,
    ApiError,
    PublicCatalog,
    column_types,
    has_table,
    key_column,
    key_match,
    latest_publication,
    require_dataset,
    row_by_key,
)

SANDBOX_NAME = re.compile(r"^[a-z0-9_]{1,40}$")
DEFAULT_SANDBOX = "default"


def schema_of(sandbox: str) -> str:
    if not SANDBOX_NAME.match(sandbox):
        raise ApiError(400, "X-Sandbox must be 1 to 40 characters of a-z, 0-9 and _")
    return f"sandbox_{sandbox}"


class Sandboxes:
    def __init__(self, database: Path, catalog: PublicCatalog):
        database.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(database))
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS copies (sandbox VARCHAR, dataset VARCHAR, publication VARCHAR, "
            "key_column VARCHAR, copied_at TIMESTAMP)"
        )
        self.catalog = catalog
        self._lock = threading.Lock()

    def close(self) -> None:
        self.con.close()

    def copy_of(self, sandbox: str, dataset: str) -> tuple[str, str | None] | None:
        """(schema, key column) of the sandbox's copy of a dataset, or None when it reads the published table."""
        schema = schema_of(sandbox)
        cur = self.con.cursor()
        try:
            row = cur.execute(
                "SELECT key_column FROM copies WHERE sandbox = ? AND dataset = ?", [sandbox, dataset]
            ).fetchall()
        finally:
            cur.close()
        return (schema, row[0][0]) if row else None

    @contextlib.contextmanager
    def reading(self, sandbox: str, dataset: str) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, str | None]]:
        """A cursor on what this sandbox sees of the dataset: its copy, or the newest publication."""
        copy = self.copy_of(sandbox, dataset)
        if copy is None:
            with self.catalog.snapshot() as con:
                require_dataset(con, dataset)
                yield con, SCHEMA, key_column(con, dataset)
            return
        cur = self.con.cursor()
        try:
            yield cur, copy[0], copy[1]
        finally:
            cur.close()

    def _ensure_copy(self, sandbox: str, dataset: str) -> tuple[str, str | None]:
        copy = self.copy_of(sandbox, dataset)
        if copy is not None:
            return copy
        schema = schema_of(sandbox)
        with self.catalog.snapshot() as pub:
            require_dataset(pub, dataset)
            key = key_column(pub, dataset)
            latest = latest_publication(pub, dataset)
            reader = pub.sql(f'SELECT * FROM {SCHEMA}."{dataset}"').to_arrow_reader(BATCH_ROWS)
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self.con.register("published_rows", reader)
            try:
                self.con.execute(f'CREATE OR REPLACE TABLE {schema}."{dataset}" AS SELECT * FROM published_rows')
            finally:
                self.con.unregister("published_rows")
        self.con.execute(
            "INSERT INTO copies VALUES (?, ?, ?, ?, ?)",
            [sandbox, dataset, latest["run_id"] if latest else None, key, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
        )
        return schema, key

    def reset(self, sandbox: str, dataset: str) -> bool:
        """Drop the sandbox's copy: its next read sees the newest publication again."""
        schema = schema_of(sandbox)
        with self._lock:
            with self.catalog.snapshot() as pub:
                require_dataset(pub, dataset)
            existed = self.copy_of(sandbox, dataset) is not None
            if has_table(self.con, schema, dataset):
                self.con.execute(f'DROP TABLE {schema}."{dataset}"')
            self.con.execute("DELETE FROM copies WHERE sandbox = ? AND dataset = ?", [sandbox, dataset])
        return existed

    def _checked_values(self, types: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        unknown = [c for c in body if c not in types]
        if unknown:
            raise ApiError(422, f"the body names {len(unknown)} field(s) this dataset does not have")
        return body

    def create(self, sandbox: str, dataset: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            schema, key = self._ensure_copy(sandbox, dataset)
            types = column_types(self.con, schema, dataset)
            values = dict(self._checked_values(types, body))
            table = f'{schema}."{dataset}"'
            if key is not None:
                if values.get(key) is None:
                    values[key] = self._next_key(table, key, types[key])
                elif self._count(f'SELECT count(*) FROM {table} WHERE "{key}" = CAST(? AS {types[key]})', values[key]):
                    raise ApiError(409, "a row with this key exists already; PUT or PATCH it instead")
            cols = list(values)
            self._execute(
                f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in cols)}) VALUES "
                f"({', '.join(f'CAST(? AS {types[c]})' for c in cols)})",
                [_param(values[c]) for c in cols],
            )
            if key is None:
                (new_key,) = self.con.execute(f"SELECT max(rowid) FROM {table}").fetchall()[0]
            else:
                new_key = values[key]
            return row_by_key(self.con, schema, dataset, key, str(new_key))

    def update(self, sandbox: str, dataset: str, key_value: str, body: dict[str, Any], replace: bool) -> dict[str, Any]:
        with self._lock:
            schema, key = self._ensure_copy(sandbox, dataset)
            types = column_types(self.con, schema, dataset)
            values = dict(self._checked_values(types, body))
            values.pop(key or ROWID, None)  # the key names the row; it is not changed
            row_by_key(self.con, schema, dataset, key, key_value)  # 404 when absent
            if replace:
                values = {c: values.get(c) for c in types if c != key}
            if values:
                self._execute(
                    f'UPDATE {schema}."{dataset}" SET '
                    + ", ".join(f"{quote_ident(c)} = CAST(? AS {types[c]})" for c in values)
                    + f" WHERE {key_match(key, types)}",
                    [*(_param(v) for v in values.values()), key_value],
                )
            return row_by_key(self.con, schema, dataset, key, key_value)

    def delete(self, sandbox: str, dataset: str, key_value: str) -> None:
        with self._lock:
            schema, key = self._ensure_copy(sandbox, dataset)
            types = column_types(self.con, schema, dataset)
            row_by_key(self.con, schema, dataset, key, key_value)
            self._execute(f'DELETE FROM {schema}."{dataset}" WHERE {key_match(key, types)}', [key_value])

    def _next_key(self, table: str, key: str, type_: str) -> Any:
        if any(t in type_.upper() for t in ("INT", "DECIMAL", "DOUBLE", "FLOAT")):
            (top,) = self.con.execute(f'SELECT coalesce(max("{key}"), 0) FROM {table}').fetchall()[0]
            return int(top) + 1
        import uuid

        return f"sandbox-{uuid.uuid4().hex[:12]}"

    def _count(self, sql: str, value: Any) -> int:
        try:
            return int(self.con.execute(sql, [_param(value)]).fetchall()[0][0])
        except (duckdb.ConversionException, duckdb.InvalidInputException):
            raise ApiError(422, "a value in the body does not fit its column's type") from None

    def _execute(self, sql: str, params: list[Any]) -> None:
        try:
            self.con.execute(sql, params)
        except (duckdb.ConversionException, duckdb.InvalidInputException):
            raise ApiError(422, "a value in the body does not fit its column's type") from None
        except duckdb.ConstraintException:
            raise ApiError(422, "the row breaks a constraint of the table") from None


def _param(value: Any) -> Any:
    """Bound as text and cast by DuckDB to the column's type; lists and objects are refused."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise ApiError(422, "field values must be scalars (text, numbers, booleans or null)")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
