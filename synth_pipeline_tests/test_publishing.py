"""Publishing swaps a complete file in; readers are never blocked and never see a half state."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from synth_pipeline.lib.publishing import publish_table, read_only, swap_in
from synth_pipeline_tests.conftest import held_reader


def _stage(tmp_path, n: int, name: str = "s.parquet"):
    path = tmp_path / name
    pd.DataFrame({"v": range(n)}).to_parquet(path)
    return path


def _publish(db, staged, run="r1"):
    return publish_table(db, "people", staged, run, "gaussian_copula", 1, "abc")


def test_publish_creates_table_and_history(tmp_path):
    db = tmp_path / "pub.duckdb"
    assert _publish(db, _stage(tmp_path, 5))["num_rows"] == 5
    con = read_only(db)
    assert con.execute("SELECT count(*) FROM synthetic.people").fetchone()[0] == 5
    assert con.execute("SELECT run_id FROM meta.publications").fetchall() == [("r1",)]


def test_a_failure_during_the_change_leaves_the_published_file_untouched(tmp_path):
    db = tmp_path / "pub.duckdb"
    _publish(db, _stage(tmp_path, 5))
    before = db.read_bytes()

    def broken(con):
        con.execute("DROP TABLE synthetic.people")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        swap_in(db, broken)
    assert db.read_bytes() == before
    assert not list(tmp_path.glob(".pub.duckdb.*"))


def test_a_reader_holding_a_connection_neither_blocks_nor_sees_the_new_table_midway(tmp_path):
    db = tmp_path / "pub.duckdb"
    _publish(db, _stage(tmp_path, 5))
    with held_reader(db, "SELECT count(*) FROM synthetic.people") as (first, again):
        assert first == "5"
        _publish(db, _stage(tmp_path, 9, "s2.parquet"), run="r2")  # must not raise a lock error
        assert again() == "5"  # the old, complete table
    assert duckdb.connect(str(db), read_only=True).execute("SELECT count(*) FROM synthetic.people").fetchone()[0] == 9


def test_meta_freshness_marks_a_table_not_refreshed_within_its_window_as_stale(tmp_path):
    import time

    db = tmp_path / "pub.duckdb"
    publish_table(db, "fresh", _stage(tmp_path, 5), "r1", "x", 1, "abc", stale_after_hours=26)
    publish_table(db, "stale", _stage(tmp_path, 5, "s2.parquet"), "r1", "x", 1, "abc", stale_after_hours=0.0001)
    time.sleep(1)
    con = read_only(db)
    rows = dict(con.execute("SELECT dataset, is_stale FROM meta.freshness").fetchall())
    assert rows == {"fresh": False, "stale": True}


def test_an_overlapping_run_that_restages_cannot_change_what_is_published(tmp_path):
    """The gate's digest and the published bytes come from one pinned file: a table another run renames over
    the staged path after the digest was taken is neither published nor mistaken for the gated one."""
    import os

    from synth_pipeline.lib.storage import file_digest, pinned

    staged = tmp_path / "synthetic.parquet"
    pd.DataFrame({"v": [1, 2, 3]}).to_parquet(staged)
    gated = file_digest(staged)
    with pinned(staged) as (path, digest):
        pd.DataFrame({"v": [666]}).to_parquet(tmp_path / "other.parquet")
        os.replace(tmp_path / "other.parquet", staged)  # the overlapping run stages its own table
        assert digest == gated
        publish_table(tmp_path / "p.duckdb", "d", path, "run", "tree", 1, "src", digest)
    assert read_only(tmp_path / "p.duckdb").sql("SELECT v FROM synthetic.d").fetchall() == [(1,), (2,), (3,)]
    with pinned(staged) as (_, digest):
        assert digest != gated  # publishing now would be refused: the verdict names the other bytes


def test_an_overlapping_run_keeps_its_own_temporary_folder_and_a_dead_runs_is_removed(tmp_path):
    """Training and sampling point ``tempfile`` into the private area: a second run of the dataset entering
    that block must not remove the first's files, and what a killed run left goes the next time."""
    import subprocess
    import sys
    import tempfile

    from synth_pipeline.lib.storage import private_tempdir

    subprocess.run(  # a run that was killed inside the block: its folder stays behind, its pid is gone
        [
            sys.executable,
            "-c",
            "import os,sys; from synth_pipeline.lib.storage import private_tempdir as t\n"
            "with t(__import__('pathlib').Path(sys.argv[1])): os._exit(0)",
            str(tmp_path),
        ],
        check=True,
    )
    assert len(list(tmp_path.glob(".tmp.*"))) == 1
    with private_tempdir(tmp_path) as mine:
        assert list(tmp_path.glob(".tmp.*")) == [mine]  # the dead run's folder is gone
        spill = Path(tempfile.mkstemp()[1])
        with private_tempdir(tmp_path) as overlapping:  # as another process's block would, in the same folder
            assert overlapping != mine and spill.exists()
        assert spill.exists() and not overlapping.exists()
    assert not list(tmp_path.glob(".tmp.*"))


def test_times_of_day_and_dates_are_published_as_their_source_wrote_them(tmp_path):
    """great-tables' pizza orders (unseen): `time` (11:38:36) is learnt as seconds since midnight and was published
    as 70726.0; `date` came out a timestamp at midnight. Both get their source type back, and so do whole numbers
    with a missing value, which pandas holds as floats (published as DOUBLE, 3.0)."""
    from synth_pipeline.lib.config import DatasetConfig
    from synth_pipeline.lib.ingestion import ingest

    src = tmp_path / "orders.csv"
    src.write_text("date,time,minutes\n2015-01-01,11:38:36,3\n2015-01-02,23:59:59,\n")
    ds = DatasetConfig(name="orders", source={"type": "csv", "path": str(src)})
    result = ingest(ds, tmp_path, tmp_path / "raw.parquet")
    types = result.source_types
    assert types == {"date": "DATE", "time": "TIME", "minutes": "BIGINT"}
    staged = tmp_path / "staged.parquet"
    pd.read_parquet(result.path).to_parquet(staged)  # as the pipeline holds them: timestamps and seconds
    db = tmp_path / "public.duckdb"
    publish_table(db, "orders", staged, "r1", "x", 1, "abc", source_types=types)
    with duckdb.connect(str(db), read_only=True) as con:
        described = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE synthetic.orders)").fetchall())
        values = con.execute("SELECT CAST(date AS VARCHAR), CAST(time AS VARCHAR), minutes FROM synthetic.orders")
        rows = values.fetchall()
    assert pd.read_parquet(staged)["minutes"].dtype == "float64"  # as pandas holds a column with a gap
    assert described == {"date": "DATE", "time": "TIME", "minutes": "BIGINT"}
    assert rows == [("2015-01-01", "11:38:36", 3), ("2015-01-02", "23:59:59", None)]


def test_whole_numbers_a_float_cannot_hold_exactly_stay_floats_rather_than_fail_the_publish(tmp_path):
    """A 64-bit id near the top of its range with a gap: pandas held it as floats, whose largest rounds past what a
    BIGINT holds, and casting it back failed the publish. It stays a float; a count beside it is an integer again."""
    staged = tmp_path / "staged.parquet"
    pd.DataFrame({"hash": [9.223372036854776e18, None], "count": [3.0, None]}).to_parquet(staged)
    db = tmp_path / "public.duckdb"
    publish_table(db, "ids", staged, "r1", "x", 1, "abc", source_types={"hash": "BIGINT", "count": "BIGINT"})
    with duckdb.connect(str(db), read_only=True) as con:
        described = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE synthetic.ids)").fetchall())
    assert described == {"hash": "DOUBLE", "count": "BIGINT"}


def test_a_date_the_pipeline_generalized_to_its_year_stays_a_year(tmp_path):
    """COMPAS's `dob` is a DATE in the source and a year in the synthetic table: casting it back failed the publish."""
    staged = tmp_path / "staged.parquet"
    pd.DataFrame({"dob": [1980, 1991], "seen": pd.to_datetime(["2013-01-01", "2014-02-03"])}).to_parquet(staged)
    db = tmp_path / "public.duckdb"
    publish_table(db, "people", staged, "r1", "x", 1, "abc", source_types={"dob": "DATE", "seen": "DATE"})
    with duckdb.connect(str(db), read_only=True) as con:
        described = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE synthetic.people)").fetchall())
    assert described == {"dob": "BIGINT", "seen": "DATE"}
