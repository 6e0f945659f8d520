"""The bad-input matrix of docs/reliability.md: every case runs through the real Dagster assets against a
real publication, and asserts its outcome, its message (names the dataset and the column or key, never a raw
value) and that the public DuckDB file is byte-identical afterwards."""

from __future__ import annotations

import bz2
import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
import yaml

from synth_pipeline.defs import build_defs
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import load_config
from synth_pipeline.lib.contracts import write_contract
from synth_pipeline.lib.pii.policies import plan_columns
from synth_pipeline.lib.publishing import publish_table
from synth_pipeline.lib.storage import file_digest
from synth_pipeline_tests.conftest import SENTINEL, good_table

DATASET = "people"


@dataclass
class Outcome:
    success: bool
    failed_steps: list[str]
    messages: list[str]  # failure messages of the run's steps
    texts: str  # every log message and metadata entry of the run

    def failure(self) -> str:
        return "\n".join(self.messages)


class Bench:
    """One private area and one public file with a real, good publication of ``people``."""

    def __init__(self, root: Path):
        self.root = root
        (root / "data").mkdir()
        (root / "contracts").mkdir()
        self.public = root / "public" / "synthetic_data.duckdb"
        self.private = root / "private"
        good = good_table()
        good.to_csv(root / "data" / "good.csv", index=False)
        ds = self.config({"type": "csv", "path": "data/good.csv"}).dataset(DATASET)
        raw = pd.read_csv(root / "data" / "good.csv", parse_dates=["joined"])
        write_contract(ds.contract_path(root), DATASET, raw, plan_columns(raw, ds))
        staged = root / "published.parquet"
        good.drop(columns=["name"]).to_parquet(staged)
        publish_table(self.public, DATASET, staged, "setup", "none", 1, "", file_digest(staged))
        self.published = self.public.read_bytes()

    def config(self, source: dict, **settings):
        body = {"source": source, "primary_key": "id", "contract": f"contracts/{DATASET}.json", **settings}
        if body["primary_key"] is None:
            del body["primary_key"]
        path = self.root / "datasets.yaml"
        path.write_text(yaml.safe_dump({"datasets": {DATASET: body}}))
        return load_config(path)

    def run(self, source: dict, stages: tuple[str, ...] = ("raw", "validated"), **settings) -> Outcome:
        config = self.config(source, **settings)
        resource = SynthPipelineResource(private_dir=str(self.private), public_database=str(self.public))
        defs = build_defs(config, resource)
        keys = [dg.AssetKey([DATASET, stage]) for stage in stages]
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)],
            selection=keys,
            resources=defs.resources,
            instance=instance,
            raise_on_error=False,
        )
        failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        messages = [_message(e.step_failure_data.error) for e in failures]
        logs = instance.all_logs(result.run_id)
        texts = "\n".join(str(entry.message) + repr(entry.dagster_event) for entry in logs)
        return Outcome(result.success, [str(e.step_key) for e in failures], messages, texts)

    def write(self, name: str, content: bytes | str) -> dict:
        path = self.root / "data" / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return {"type": "csv", "path": f"data/{name}"}

    def csv(self, name: str, frame: pd.DataFrame, **kwargs) -> dict:
        return self.write(name, frame.to_csv(index=False, **kwargs))


def _message(error) -> str:
    """The user-facing message under Dagster's wrapper ("Error occurred while executing op ...")."""
    parts = []
    while error is not None:
        parts.append(error.message.strip())
        error = error.cause
    return "\n".join(parts)


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Bench:
    return Bench(tmp_path_factory.mktemp("bad_inputs"))


def _good_csv() -> str:
    return good_table().to_csv(index=False)


def _mixed_encodings(bench: Bench, name: str) -> dict:
    """Two exports put together: UTF-8 rows, then rows a Windows spreadsheet saved. Read in one code page, the UTF-8
    text would be published garbled (`PersÃ¶n`); each line is read in its own."""
    lines = _good_csv().replace("Person", "Persön").splitlines(keepends=True)
    half = len(lines) // 2
    return bench.write(name, "".join(lines[:half]).encode("utf-8") + "".join(lines[half:]).encode("cp1252"))


def _with(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Bench, str], dict]:
    return lambda b, name: b.csv(name, change(good_table()))


def _set(column: str, values: Callable[[pd.DataFrame], object]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df[column] = values(df)
        return df

    return change


def _nul_bytes(b: Bench, name: str) -> dict:
    text = _good_csv().replace("Person 0003", "Per\x00son 0003")
    return b.write(name, text)


def _ragged(b: Bench, name: str) -> dict:
    lines = _good_csv().splitlines()
    lines[10] += f",{SENTINEL},extra"
    return b.write(name, "\n".join(lines) + "\n")


def _unbalanced_quote(b: Bench, name: str) -> dict:
    lines = _good_csv().splitlines()
    lines[20] = lines[20].replace(",Person", ',"Person', 1)
    return b.write(name, "\n".join(lines) + "\n")


def _embedded_newlines(b: Bench, name: str) -> dict:
    return b.csv(name, _set("name", lambda d: d["name"].where(d.index % 3 != 0, "Line one\nline two"))(good_table()))


def _carriage_returns(b: Bench, name: str) -> dict:
    """A lone CR inside text, written unquoted as pandas writes it (seven of dslabs' trump_tweets): DuckDB 2.0's
    reader cannot parse it with any dialect; read with each CR as a line break."""
    return b.csv(name, _set("name", lambda d: d["name"].where(d.index % 7 != 0, "one\rtwo"))(good_table()))


def _duplicate_names(b: Bench, name: str) -> dict:
    lines = _good_csv().splitlines()
    lines[0] = lines[0].replace("age", "city")
    return b.write(name, "\n".join(lines) + "\n")


def _mixed_dates(b: Bench, name: str) -> dict:
    df = good_table()
    joined = df["joined"].dt.strftime("%Y-%m-%d").astype(object)
    joined[df.index % 2 == 0] = df["joined"][df.index % 2 == 0].dt.strftime("%d/%m/%Y")
    return b.csv(name, df.assign(joined=joined))


def _numbers_as_text(b: Bench, name: str) -> dict:
    df = good_table().astype({"income": object})
    df.loc[df.index % 50 == 0, "income"] = "N/A"
    df.loc[df.index % 50 == 1, "income"] = "n/a"
    return b.csv(name, df)


def _non_finite(b: Bench, name: str) -> dict:
    df = good_table().astype({"income": object})
    for i, text in enumerate(["1e308", "inf", "-inf", "NaN", "Infinity"]):
        df.loc[i * 5, "income"] = text
    return b.csv(name, df)


def _zoned(b: Bench, name: str) -> dict:
    df = good_table()
    return b.csv(name, df.assign(joined=df["joined"].dt.strftime("%Y-%m-%dT10:00:00+02:00")))


def _zipped(*members: str) -> Callable[[Bench, str], dict]:
    """linearmodels ships tables as .csv.bz2 and scikit-lego as .zip: DuckDB reads neither, and said that the
    delimiter and quoting could not be told apart. A zip of one file is read as pandas reads it; of more, refused."""

    def make(b: Bench, name: str) -> dict:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member in members:
                archive.writestr(member, _good_csv())
        return b.write(name, buffer.getvalue())

    return make


def _parquet_folder(b: Bench, name: str) -> dict:
    folder = b.root / "data" / name
    folder.mkdir(exist_ok=True)
    df = good_table()
    df.iloc[:300].to_parquet(folder / "part-0.parquet")
    df.iloc[300:].rename(columns={"income": "salary"}).to_parquet(folder / "part-1.parquet")
    return {"type": "parquet", "path": f"data/{name}"}


# (case, how the source is made, outcome: "refused" at a stage or "accepted", what the message says)
CASES: list[tuple[str, Callable[[Bench, str], dict], str, str]] = [
    # files
    ("missing file", lambda b, n: {"type": "csv", "path": "data/nowhere.csv"}, "raw", "not found"),
    ("empty file", lambda b, n: b.write(n, b""), "raw", r"no rows|could not be read"),
    ("header only", lambda b, n: b.write(n, _good_csv().splitlines()[0] + "\n"), "raw", "no rows"),
    ("binary", lambda b, n: b.write(n, np.random.default_rng(1).bytes(4000)), "raw|validated", r"."),
    ("bzip2-compressed", lambda b, n: b.write(n, bz2.compress(_good_csv().encode())), "accepted", ""),
    ("zip of one CSV", _zipped("table.csv"), "accepted", ""),
    ("zip of two CSVs", _zipped("a.csv", "b.csv"), "raw", r"a zip archive that holds no single CSV"),
    (
        "truncated bzip2",
        lambda b, n: b.write(n, bz2.compress(_good_csv().encode())[:-200]),
        "raw",
        r"compressed with bzip2 and could not be decompressed \(EOFError",
    ),
    ("semicolons", lambda b, n: b.write(n, _good_csv().replace(",", ";")), "accepted", ""),  # read from the header
    ("wrong delimiter", lambda b, n: b.write(n, _good_csv().replace(",", " ")), "validated", r"columns changed"),
    ("ragged rows", _ragged, "raw", r"different numbers of fields|could not be read"),
    ("latin-1", lambda b, n: b.write(n, _good_csv().replace("Person", "Persön").encode("latin-1")), "accepted", ""),
    ("UTF-8 and Windows-1252 lines in one file", _mixed_encodings, "accepted", ""),  # each line in its own
    (
        "latin-1 declared UTF-8",
        lambda b, n: b.write(n, _good_csv().replace("Person", "Persön").encode("latin-1")) | {"encoding": "utf-8"},
        "raw",
        "not UTF-8: set source.encoding",
    ),
    ("BOM", lambda b, n: b.write(n, "\ufeff" + _good_csv()), "accepted", ""),
    ("NUL bytes", _nul_bytes, "accepted", ""),  # read as a character of the text
    ("unbalanced quotes", _unbalanced_quote, "accepted", ""),  # the sniffer reads the stray quote as text
    ("embedded newlines", _embedded_newlines, "accepted", ""),
    ("carriage returns inside fields", _carriage_returns, "accepted", ""),
    # columns
    ("duplicate names", _duplicate_names, "raw", r"repeat.*'city'"),
    ("all-null column", _with(_set("income", lambda d: np.nan)), "validated", r"'income'.*filled"),
    ("constant column", _with(_set("city", lambda d: "Lyon")), "accepted", ""),
    ("unique long strings", _with(_set("name", lambda d: [f"{i:06d}-" + "x" * 200 for i in d.index])), "accepted", ""),
    (
        "10,000-character strings",
        _with(_set("name", lambda d: ["y" * 10_000 + str(i) for i in d.index])),
        "accepted",
        "",
    ),
    # schema drift
    ("column added", _with(_set("extra", lambda d: 1)), "validated", r"unexpected \['extra'\]"),
    ("column removed", _with(lambda d: d.drop(columns=["age"])), "validated", r"missing \['age'\]"),
    ("column renamed", _with(lambda d: d.rename(columns={"age": "years"})), "validated", r"missing \['age'\].*'years'"),
    ("type change", _with(_set("age", lambda d: "forty")), "validated", r"'age'.*type is now"),
    # keys
    ("duplicate primary key", _with(_set("id", lambda d: d["id"].where(d.index != 5, 1))), "validated", r"'id'"),
    ("null primary key", _with(_set("id", lambda d: d["id"].where(d.index != 5))), "validated", r"'id'"),
    # values
    ("N/A strings in a number column", _numbers_as_text, "accepted", ""),
    ("mixed date formats", _mixed_dates, "raw", r"'joined'.*2 formats"),
    ("timezones", _zoned, "accepted", ""),
    ("1e308, inf and NaN strings", _non_finite, "accepted", ""),
    # sources
    ("Parquet folder with mismatched schemas", _parquet_folder, "raw", r"disagree.*union_by_name"),
]


@pytest.mark.parametrize(("case", "make", "expected", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_input_gets_its_outcome_and_a_clear_message_and_loses_nothing(bench, case, make, expected, says):
    outcome = bench.run(make(bench, re.sub(r"\W+", "_", case) + ".csv"))
    if expected == "accepted":
        assert outcome.success, outcome.failure()
    else:
        assert not outcome.success
        stage = outcome.failed_steps[0].split("__")[-1]
        assert re.fullmatch(expected, stage), (stage, outcome.failure())
        message = outcome.failure()
        assert f"'{DATASET}'" in message, message
        assert re.search(says, message, re.S), message
    assert SENTINEL.lower() not in outcome.texts.lower()
    assert bench.public.read_bytes() == bench.published


def test_latin_1_reads_once_the_encoding_is_declared(bench):
    source = bench.write("latin.csv", _good_csv().replace("Person", "Persön").encode("latin-1"))
    assert bench.run(source | {"encoding": "latin-1"}).success


def test_non_finite_numbers_become_counted_nulls(bench):
    outcome = bench.run(_non_finite(bench, "nonfinite.csv"), stages=("raw",))
    assert outcome.success
    assert "income: 4 rows" in outcome.texts  # the fifth, "NaN", is one of source.null_values


def test_a_csv_path_that_is_a_directory_is_refused(bench):
    (bench.root / "data" / "folder").mkdir(exist_ok=True)
    outcome = bench.run({"type": "csv", "path": "data/folder"})
    assert not outcome.success and "is a directory" in outcome.failure()
    assert bench.public.read_bytes() == bench.published


def test_a_table_too_small_to_protect_is_refused_before_training(bench):
    source = bench.csv("tiny.csv", good_table().head(2))
    outcome = bench.run(source, stages=("raw", "validated", "deidentified"))
    assert not outcome.success and outcome.failed_steps == [f"{DATASET}__deidentified"]
    assert "too few to protect" in outcome.failure() and "privacy.min_holdout_rows" in outcome.failure()
    assert bench.public.read_bytes() == bench.published


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"sourse": {}}, r"dataset 'd'.*sourse"),
        ({"gate": {"column_shapes": 1.5}}, r"dataset 'd'.*gate.column_shapes"),
        ({"privacy": {"sample_rows": 0}}, r"dataset 'd'.*privacy.sample_rows"),
        ({"sample": {"rows": 0}}, r"dataset 'd'.*sample.rows"),
        ({"synthesizer": {"name": "gausian_copula"}}, r"dataset 'd'.*synthesizer.name"),
        ({"source": {"type": "duckdb_query", "database": "x.duckdb", "query": "ATTACH 'y.duckdb'"}}, r"not ATTACH"),
        ({"source": {"type": "duckdb_query", "database": "x.duckdb", "query": "SELECT 1; SELECT 2"}}, r"2 statements"),
        ({"source": {"type": "duckdb_query", "database": "x.duckdb", "query": "COPY t TO 'f'"}}, r"not COPY"),
    ],
)
def test_config_errors_name_the_dataset_and_the_key(tmp_path, body, says):
    from synth_pipeline.lib.errors import ConfigError

    full = {"source": {"type": "csv", "path": "x.csv"}} | body
    if "sourse" in body:
        full = {"source": {"type": "csv", "path": "x.csv"}, "sourse": {}}
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump({"datasets": {"d": full}}))
    with pytest.raises(ConfigError, match=says):
        load_config(path)


def test_invalid_yaml_names_the_line(tmp_path):
    from synth_pipeline.lib.errors import ConfigError

    path = tmp_path / "datasets.yaml"
    path.write_text("datasets:\n  d:\n    source: {type: csv\n    path: x\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+"):
        load_config(path)


def test_a_query_source_reads_its_own_database_and_nothing_else(bench):
    import duckdb

    db = bench.root / "data" / "src.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv(?)", [str(bench.root / "data" / "good.csv")])
    con.close()
    ok = bench.run({"type": "duckdb_query", "database": "data/src.duckdb", "query": "SELECT * FROM t"})
    assert ok.success, ok.failure()
    for query in [
        f"SELECT * FROM read_parquet('{bench.public}')",
        f"SELECT * FROM read_csv('{bench.root / 'data' / 'good.csv'}')",
        "SELECT * FROM read_text('/etc/passwd')",
    ]:
        outcome = bench.run({"type": "duckdb_query", "database": "data/src.duckdb", "query": query})
        assert not outcome.success
        assert "outside its database" in outcome.failure()
    bad = bench.run({"type": "duckdb_query", "database": "data/src.duckdb", "query": "SELECT nope FROM t"})
    assert not bad.success and "source.query is not valid" in bad.failure() and "nope" in bad.failure()
    assert bench.public.read_bytes() == bench.published
    assert not [p for p in bench.root.rglob("*.pkl")]


def test_every_private_file_is_owner_only(bench):
    outcome = bench.run(bench.csv("perm.csv", good_table(1200)), stages=("raw", "validated", "deidentified"))
    assert outcome.success, outcome.failure()
    files = [p for p in bench.private.rglob("*") if p.is_file()]
    assert files
    assert all(os.stat(p).st_mode & 0o077 == 0 for p in files), [oct(os.stat(p).st_mode) for p in files]


def _wide(columns: int, rows: int = 1200) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    base = rng.normal(size=rows)
    # Amounts: non-negative, as most measured columns are (a table with no row rule at all fails the rules check).
    return pd.DataFrame(
        {f"m{i:03d}": (base * (i % 5) + rng.normal(size=rows)).round(3).__abs__() for i in range(columns)}
    )


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("shape", "table", "published"),
    [
        ("1 column", lambda: _wide(1), False),
        ("2 columns", lambda: _wide(2), True),
        ("300 columns", lambda: _wide(300), None),
    ],
)
def test_narrow_and_wide_tables(tmp_path, shape, table, published):
    """One column is refused before training (no pair for the gate); two are published; 300 are ingested,
    validated and de-identified (training 300 columns is measured in benchmarks, not here)."""
    from synth_pipeline_tests.real_tables import run_real_table

    settings = {"synthesizer": {"name": "sequential_tree"}}
    if published is None:
        df = table()
        bench = Bench.__new__(Bench)
        bench.root, bench.private = tmp_path, tmp_path / "private"
        bench.public = tmp_path / "public" / "synthetic_data.duckdb"
        (tmp_path / "data").mkdir()
        (tmp_path / "contracts").mkdir()
        source = bench.csv("wide.csv", df)
        ds = bench.config(source, primary_key=None).dataset(DATASET)
        write_contract(ds.contract_path(tmp_path), DATASET, df, plan_columns(df, ds))
        outcome = bench.run(source, stages=("raw", "validated", "deidentified"), primary_key=None)
        assert outcome.success, outcome.failure()
        return
    root, result = run_real_table(tmp_path, "shape", table(), settings)
    public = root / "public" / "synthetic_data.duckdb"
    if published:
        assert result.success
        import duckdb

        assert (
            duckdb.connect(str(public), read_only=True).execute("SELECT count(*) FROM synthetic.shape").fetchone()[0]
            == 1200
        )
    else:
        assert not result.success
        failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        assert failures[0].step_key == "shape__deidentified"
        assert "single-column table cannot be published" in _message(failures[0].step_failure_data.error)
        assert not public.exists()


NAMES = ["Prénom Âge", "select", "order", 'he said "hi"', "it's", "group by", "数量", "Date d'entrée"]


@pytest.mark.e2e
def test_column_names_with_unicode_spaces_quotes_and_sql_keywords_simply_work(tmp_path):
    from synth_pipeline_tests.real_tables import run_real_table

    rng = np.random.default_rng(5)
    rows = 1200
    names = NAMES
    base = rng.normal(size=rows)
    table = pd.DataFrame(
        {
            names[0]: rng.integers(18, 90, rows),
            names[1]: rng.choice(["a", "b", "c"], rows),
            names[2]: (base * 3 + rng.normal(size=rows)).round(2),
            names[3]: (base * 2 + rng.normal(size=rows)).round(2),
            names[4]: rng.choice(["x", "y"], rows),
            names[5]: rng.integers(0, 5, rows),
            # Whole numbers with missing values, written as R and spreadsheets write them (`4`, ``): pandas holds
            # them as floats, and they were published as DOUBLE.
            names[6]: pd.array(np.where(rng.random(rows) < 0.1, np.nan, rng.poisson(4, rows)), dtype="Int64"),
            names[7]: pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D"),
            # A comma at the end of every line, as spreadsheet exports write: an empty last column with no name.
            "": None,
        }
    )
    root, result = run_real_table(tmp_path, "odd_names", table)
    assert result.success, [e.message for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    import duckdb

    con = duckdb.connect(str(root / "public" / "synthetic_data.duckdb"), read_only=True)
    described = con.execute("DESCRIBE synthetic.odd_names").fetchall()
    assert [r[0] for r in described] == [*names, "column8"]
    # Published as empty text, as it was read: it was a column of DuckDB's type NULL, which few readers take.
    assert described[-1][1] == "VARCHAR"
    assert described[6][1] == "BIGINT", described  # as the source holds them
    assert con.execute("SELECT count(column8) FROM synthetic.odd_names").fetchone() == (0,)
