"""Tier 3: the whole graph with real DuckDB, Great Expectations and SDV, against temporary storage."""

import hashlib

import dagster as dg
import duckdb
import pandas as pd
import pytest

from synth_pipeline.lib.pii.policies import normalize_value
from synth_pipeline_tests.conftest import DEFAULT_CSV, Project, held_reader

pytestmark = pytest.mark.e2e

RAW = pd.read_csv(DEFAULT_CSV)
DIRECT_PII = ["customer_id", "full_name", "email", "phone", "national_id", "street_address"]


def _table_digest(project: Project) -> str:
    con = duckdb.connect(str(project.public_db), read_only=True)
    rows = con.execute("SELECT * FROM synthetic.customers ORDER BY ALL").fetchall()
    con.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _check_results(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def _raw_pii_values() -> set[str]:
    values: set[str] = set()
    for col in DIRECT_PII:
        values |= {normalize_value(v) for v in RAW[col].dropna()}
    return values


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Project, dg.ExecuteInProcessResult, dg.DagsterInstance]:
    project = Project(tmp_path_factory.mktemp("published"))
    instance = dg.DagsterInstance.ephemeral()
    return project, project.run(instance=instance), instance


def test_the_default_dataset_is_published_after_every_check_passes(published):
    project, result, _ = published
    assert result.success
    checks = _check_results(result)
    assert len(checks) == 13 and all(checks.values()), checks  # the gate's 12 and the schema-change check
    con = duckdb.connect(str(project.public_db), read_only=True)
    df = con.execute("SELECT * FROM synthetic.customers").df()
    assert len(df) == len(RAW)
    assert set(df.columns) == set(RAW.columns) - {"phone", "national_id", "street_address"}
    assert df["customer_id"].is_unique and df["customer_id"].str.startswith("SYN-").all()
    history = con.execute("SELECT check_name, passed FROM meta.quality_history").fetchall()
    assert len(history) == 12 and all(p for _, p in history)


def test_no_raw_pii_value_reaches_the_public_file_or_the_event_log(published):
    project, result, instance = published
    raw_values = {v for v in _raw_pii_values() if len(v) >= 6}
    con = duckdb.connect(str(project.public_db), read_only=True)
    public_cells: set[str] = set()
    for schema, table in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall():
        frame = con.execute(f'SELECT * FROM "{schema}"."{table}"').df()
        for col in frame.columns:
            public_cells |= {normalize_value(v) for v in frame[col].dropna()}
    assert not raw_values & public_cells
    log_text = "\n".join(str(record) for record in instance.all_logs(result.run_id)).casefold()
    leaked = [v for v in raw_values if v in log_text]
    assert not leaked, f"{len(leaked)} raw PII values appear in the event log"
    assert not list(project.public_db.parent.glob("*.parquet"))


def test_a_failed_gate_fails_the_run_and_keeps_the_previous_publication(published, tmp_path):
    project = published[0].copy_to(tmp_path)
    before = _table_digest(project)
    project.settings["datasets"]["customers"]["gate"]["column_shapes"] = 0.999
    result = project.run()
    assert not result.success
    assert _check_results(result)["column_shapes_meet_threshold"] is False
    assert not [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["customers", "published"])
    ]
    assert _table_digest(project) == before
    con = duckdb.connect(str(project.public_db), read_only=True)
    failed = con.execute("SELECT count(*) FROM meta.quality_history WHERE NOT passed").fetchone()[0]
    assert failed >= 1


def test_publishing_refuses_a_staged_table_without_a_passing_gate(published, tmp_path):
    project = published[0].copy_to(tmp_path)
    defs = project.defs()
    (project.private_dir / "customers" / "staged" / "gate_verdict.json").unlink(missing_ok=True)
    result = dg.materialize(
        [a for a in defs.assets if dg.AssetKey(["customers", "published"]) in getattr(a, "keys", ())],
        resources=defs.resources,
        raise_on_error=False,
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert not result.success
    errors = [str(e.step_failure_data.error) for e in result.all_events if e.is_step_failure]
    assert any("no passing quality gate" in m for m in errors), errors


def test_a_schema_change_fails_validation_and_publishes_nothing(project):
    changed = RAW.drop(columns=["income"]).rename(columns={"home": "housing"})
    changed.to_csv(project.root / "data" / "customers.csv", index=False)
    result = project.run()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "customers__validated"
    message = str(failure.step_failure_data.error)
    assert "missing ['home', 'income']" in message and "unexpected ['housing']" in message
    assert not project.public_db.exists()


def test_an_empty_source_fails_ingestion_and_publishes_nothing(project):
    (project.root / "data" / "customers.csv").write_text(",".join(RAW.columns) + "\n")
    result = project.run()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "customers__raw"
    assert "no rows" in str(failure.step_failure_data.error)
    assert not project.public_db.exists()


def test_a_reader_holding_a_connection_does_not_fail_the_nightly_run(published, tmp_path):
    project = published[0].copy_to(tmp_path)
    count = "SELECT count(*) FROM meta.publications"
    before = duckdb.connect(str(project.public_db), read_only=True).execute(count).fetchone()[0]
    project.settings["datasets"]["customers"]["sample"] = {"rows": 3000}  # a new table, so it is published
    with held_reader(project.public_db, count) as (first, again):
        assert int(first) == before
        result = project.run()
        assert int(again()) == before  # the held connection keeps a complete, consistent snapshot
    assert result.success
    after = duckdb.connect(str(project.public_db), read_only=True).execute(count).fetchone()[0]
    assert after == before + 1


def test_keeping_a_direct_identifier_on_purpose_is_refused_with_a_clear_reason(project):
    """``pii: keep`` on names: every name is one person's, so none could leave; PII removal says so."""
    project.settings["datasets"]["customers"]["columns"]["full_name"] = {"pii": "keep"}
    result = project.run()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure and "deidentified" in (e.step_key or ""))
    error = failure.step_failure_data.error
    message = " ".join(e.message for e in (error, error.cause) if e is not None)
    assert "columns.full_name.pii is 'keep'" in message and "'generate'" in message
    assert not project.public_db.exists() or "customers" not in str(
        duckdb.connect(str(project.public_db), read_only=True).execute("SHOW ALL TABLES").fetchall()
    )


def test_an_unchanged_rerun_skips_training_sampling_and_publishing_and_says_why(published, tmp_path):
    project = published[0].copy_to(tmp_path)
    result = project.run()
    assert result.success
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert meta["customers/synthesizer"]["retrained"].value is False
    assert "unchanged" in meta["customers/synthesizer"]["why"].value
    assert meta["customers/synthetic"]["resampled"].value is False
    assert meta["customers/published"]["republished"].value is False


def test_one_dataset_failing_does_not_stop_the_others(project):
    project.settings["datasets"]["orders"] = {"source": {"type": "csv", "path": "data/missing.csv"}}
    result = project.run()
    assert not result.success
    failed = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failed == {"orders__raw"}
    con = duckdb.connect(str(project.public_db), read_only=True)
    assert con.execute("SELECT count(*) FROM synthetic.customers").fetchone()[0] == len(RAW)


def test_where_prints_the_public_file_its_tables_and_a_query(published, monkeypatch, capsys):
    from synth_pipeline import cli

    project, _, _ = published
    monkeypatch.setenv("SYNTH_PIPELINE_PUBLIC_DATABASE", str(project.public_db))
    assert cli.main(["where"]) == 0
    out = capsys.readouterr().out
    assert str(project.public_db) in out and "synthetic.customers" in out and "-readonly" in out


def test_a_differentially_private_model_reports_its_budget_in_the_ui_and_the_public_file(project):
    ds = project.settings["datasets"]["customers"]
    ds["synthesizer"] = {
        "name": "tabular_argn",
        "params": {"epsilon": 4.0, "max_training_minutes": 0.1, "clip_to_observed_range": True},
    }
    # A few seconds of DP training cannot reach the default fidelity; this test is about the budget.
    ds["gate"] |= {"column_shapes": 0.0, "column_pair_trends": 0.0}
    result = project.run()
    assert result.success, _check_results(result)
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    spent = meta["customers/synthesizer"]["dp_epsilon_spent"].value
    assert 1.0 < spent <= 4.0
    assert "spent of a 4 budget" in meta["customers/published"]["differential privacy"].value
    con = duckdb.connect(str(project.public_db), read_only=True)
    assert con.execute("SELECT dp_epsilon FROM meta.publications").fetchone()[0] == pytest.approx(spent)
    assert con.execute("SELECT dp_epsilon FROM meta.synthesizer_comparison").fetchone()[0] == pytest.approx(spent)
    assert not list((project.private_dir / "customers").glob(".tmp.*"))  # the engine's workspace is gone


def test_the_catalog_shows_each_columns_schema_lineage_and_what_it_became(published):
    _, _, instance = published

    def metadata(key: str) -> dict:
        event = instance.get_latest_materialization_event(dg.AssetKey(["customers", key]))
        assert event is not None and event.asset_materialization is not None
        return event.asset_materialization.metadata

    for key in ("raw", "deidentified", "synthetic", "published"):
        meta = metadata(key)
        assert meta["dagster/row_count"].value > 0
        assert meta["dagster/column_schema"].value.columns, key
    synthetic = metadata("synthetic")
    columns = {c.name: c.description for c in synthetic["dagster/column_schema"].value.columns}
    assert "never derived from real values" in columns["full_name"]
    assert columns["customer_id"] == "regenerated primary key"
    lineage = synthetic["dagster/column_lineage"].value.deps_by_column
    assert "full_name" not in lineage and "customer_id" not in lineage  # made from no real column
    assert lineage["income"] == [dg.TableColumnDep(dg.AssetKey(["customers", "deidentified"]), "income")]
    deidentified = metadata("deidentified")["dagster/column_lineage"].value.deps_by_column
    assert "email" not in deidentified and deidentified["income"][0].asset_key == dg.AssetKey(["customers", "raw"])
    published_columns = [c.name for c in metadata("published")["dagster/column_schema"].value.columns]
    assert "income" in published_columns and "phone" not in published_columns
    observed = instance.get_latest_materialization_event(dg.AssetKey(["customers", "source"]))
    assert observed is None  # the source is observed (by the UI or a sensor), never materialized
