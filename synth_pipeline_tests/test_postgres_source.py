"""A ``postgres_query`` source against the machine's real PostgreSQL: ProPublica's COMPAS defendants in a table
of the test's own database, read with their PostgreSQL types, and queries that would write refused."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from benchmarks.tables import compas
from synth_pipeline.lib import postgres_source
from synth_pipeline.lib.config import parse_config
from synth_pipeline.lib.errors import ConfigError, IngestionError
from synth_pipeline.lib.ingestion import ingest
from synth_pipeline_tests.conftest import fresh_database, query

URL_ENV = "SYNTH_PIPELINE_TEST_SOURCE_URL"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    import sqlalchemy as sa

    with fresh_database() as url:
        engine = sa.create_engine(url)
        compas().to_sql("defendants", engine, index=False)
        with engine.begin() as con:  # types a warehouse table has and a CSV does not
            con.execute(
                sa.text(
                    "ALTER TABLE defendants ADD COLUMN case_uuid uuid DEFAULT gen_random_uuid(), "
                    "ADD COLUMN bail numeric(10, 2), ADD COLUMN flags jsonb, ADD COLUMN booked timestamptz; "
                    "UPDATE defendants SET bail = decile_score * 12.5, flags = json_build_object('d', decile_score), "
                    "booked = timestamptz '2013-01-01 00:00:00+00' + (id || ' minutes')::interval"
                )
            )
        engine.dispose()
        yield url


def _dataset(sql: str):
    body = {"source": {"type": "postgres_query", "url_env": URL_ENV, "query": sql}}
    return parse_config({"datasets": {"defendants": body}}, Path("/tmp")).dataset("defendants")


def test_a_postgres_query_source_is_read_with_its_columns_types(database, tmp_path, monkeypatch):
    monkeypatch.setenv(URL_ENV, database)
    monkeypatch.setattr(postgres_source, "BATCH_ROWS", 500)  # several batches; a column null in the first
    sql = "SELECT *, CASE WHEN id > 1000 THEN priors_count END AS late_priors FROM defendants WHERE age >= 18"
    result = ingest(_dataset(sql), tmp_path, tmp_path / "raw.parquet")
    (expected,) = query(database, "SELECT count(*) FROM defendants WHERE age >= 18")[0]
    assert result.num_rows == expected > 7000
    types = {f.name: str(f.type) for f in pq.read_schema(result.path)}
    assert types["case_uuid"] == "string" and types["flags"] == "string"
    assert types["bail"] == "double" and types["late_priors"] == "int64"
    assert types["booked"].startswith("timestamp")  # UTC, written without its zone as every source's are
    assert not list(tmp_path.glob("*.postgres.parquet"))  # the fetched copy is gone


def test_contract_init_reads_a_postgres_source(database, tmp_path):
    datasets = tmp_path / "datasets.yaml"
    body = {"source": {"type": "postgres_query", "url_env": URL_ENV, "query": "SELECT * FROM defendants"}}
    datasets.write_text(yaml.safe_dump({"datasets": {"defendants": body}}))
    done = subprocess.run(
        [sys.executable, "-m", "synth_pipeline.cli", "--datasets", str(datasets), "contract", "init", "defendants"],
        env=os.environ | {URL_ENV: database},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "contracts" / "defendants.json").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS a; COMMIT; DROP TABLE defendants",  # a read-only transaction alone would let this through
        "SELECT 1) AS q; COMMIT; DROP TABLE defendants; --",
        "DELETE FROM defendants",
    ],
)
def test_a_query_that_is_not_one_select_is_refused_when_the_datasets_file_loads(sql):
    with pytest.raises(ConfigError, match=r"one SELECT|a SELECT|does not parse"):
        _dataset(sql)


def test_a_select_that_writes_or_fails_on_a_value_is_refused_without_quoting_rows(database, tmp_path, monkeypatch):
    monkeypatch.setenv(URL_ENV, database)
    writes = "WITH gone AS (DELETE FROM defendants RETURNING id) SELECT * FROM gone"
    with pytest.raises(IngestionError, match=r"0A000|25006"):  # not in a cursor; and read-only
        ingest(_dataset(writes), tmp_path, tmp_path / "raw.parquet")
    assert query(database, "SELECT count(*) FROM defendants")[0][0] == len(compas())
    with pytest.raises(IngestionError, match="withheld") as err:
        ingest(_dataset("SELECT name::int FROM defendants"), tmp_path, tmp_path / "raw.parquet")
    assert not any(name in str(err.value) for name in compas()["name"].head(50))
    with pytest.raises(IngestionError, match=r"relation .*nope.* does not exist"):
        ingest(_dataset("SELECT * FROM nope"), tmp_path, tmp_path / "raw.parquet")
    monkeypatch.delenv(URL_ENV)
    with pytest.raises(IngestionError, match=f"{URL_ENV}, which is not set"):
        ingest(_dataset("SELECT * FROM defendants"), tmp_path, tmp_path / "raw.parquet")
    assert not (tmp_path / "raw.parquet").exists()
