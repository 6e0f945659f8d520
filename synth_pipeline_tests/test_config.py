"""The datasets file: defaults, and errors that name the dataset and the key."""

from pathlib import Path

import pytest

from synth_pipeline.lib.config import load_config, parse_config
from synth_pipeline.lib.errors import ConfigError

BASE = {"source": {"type": "csv", "path": "x.csv"}}


def test_defaults_match_the_documented_gate():
    cfg = parse_config({"datasets": {"people": BASE}}, Path("/tmp"))
    ds = cfg.dataset("people")
    assert (ds.gate.data_validity, ds.gate.column_shapes, ds.gate.column_pair_trends) == (1.0, 0.80, 0.80)
    assert ds.synthesizer.name == "auto"
    assert [c.name for c in ds.synthesizer.to_train()] == ["sequential_tree", "gaussian_copula"]
    assert ds.privacy.max_dcr_share == 0.55
    assert ds.sample.num_rows(1234) == 1234
    assert cfg.schedule.cron == "0 2 * * *"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({**BASE, "sourse": {}}, "dataset 'people': sourse"),
        ({**BASE, "synthesizer": {"name": "gpt"}}, "dataset 'people': synthesizer.name"),
        ({**BASE, "synthesizer": {"name": "ctgan", "params": {"epochz": 3}}}, "params.epochz"),
        ({**BASE, "synthesizer": {"params": {"epochs": 3}}}, "'auto' takes no params"),
        ({**BASE, "synthesizer": {"candidates": [{"name": "tvae", "params": {"depth": 3}}]}}, "params.depth"),
        ({**BASE, "privacy": {"max_dcr_share": 2}}, "dataset 'people': privacy.max_dcr_share"),
        ({**BASE, "gate": {"column_shapes": 1.5}}, "dataset 'people': gate.column_shapes"),
        ({**BASE, "sample": {"rows": 10, "scale": 2}}, "either 'rows' or 'scale'"),
        ({**BASE, "columns": {"email": {"pii": "shred"}}}, "columns.email.pii"),
        ({"source": {"type": "excel", "path": "x"}}, "dataset 'people': source"),
        ({"source": {"path": "people.xlsx"}}, "source: type is missing and 'people.xlsx' does not say which"),
        (
            {"source": {"path": "p.csv", "delimeter": ";"}},
            "source.delimeter: not a known key (did you mean 'delimiter'?)",
        ),
        ({**BASE, "gate": {"colum_shapes": 0.9}}, "gate.colum_shapes: not a known key (did you mean 'column_shapes'?)"),
        ({"source": {"database": "w.duckdb", "query": "SELECT 1"}}, "type is missing and it has no path"),
    ],
)
def test_wrong_keys_and_values_name_the_dataset_and_key(body, fragment):
    with pytest.raises(ConfigError) as err:
        parse_config({"datasets": {"people": body}}, Path("/tmp"))
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("data/people.csv", "csv"),
        ("exports/*.TSV", "csv"),
        ("msft.tar.gz", "csv"),
        ("p.csv.zst", "csv"),
        ("people.parquet", "parquet"),
        ("exports/", "parquet"),
    ],
)
def test_a_source_without_a_type_is_told_by_its_path(path, kind):
    """A data owner's first entry is often only a path, or just the path as `source`: its suffix says what it is,
    under any compression."""
    cfg = parse_config({"datasets": {"people": {"source": {"path": path}}}}, Path("/tmp"))
    assert cfg.dataset("people").source.type == kind
    shorthand = parse_config({"datasets": {"people": {"source": path}}}, Path("/tmp"))  # `source: data/people.csv`
    assert shorthand.dataset("people").source == cfg.dataset("people").source


def test_bad_dataset_names_and_missing_files_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="lower-case"):
        parse_config({"datasets": {"My Table": BASE}}, tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="unknown dataset 'x'"):
        parse_config({"datasets": {"people": BASE}}, tmp_path).dataset("x")


def test_the_repository_datasets_file_is_valid():
    from synth_pipeline.settings import PROJECT_ROOT

    cfg = load_config(PROJECT_ROOT / "datasets.yaml")
    assert "customers" in cfg.datasets
