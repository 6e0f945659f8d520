"""Per-asset tier: one asset built from its factory and called directly with ``dg.build_asset_context()``
over fixture files, with its own private area (no test depends on another's state or order)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from synth_pipeline.defs.ingestion.assets import build_raw_asset, build_source_asset
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.defs.validation.assets import build_validated_asset
from synth_pipeline.lib.config import DatasetConfig, parse_config
from synth_pipeline.lib.contracts import write_contract
from synth_pipeline.lib.errors import ContractViolation, IngestionError
from synth_pipeline.lib.pii.policies import plan_columns
from synth_pipeline.lib.storage import read_frame
from synth_pipeline_tests.conftest import good_table


def _dataset(root: Path, rows: int = 50) -> DatasetConfig:
    good_table(rows).to_csv(root / "people.csv", index=False)
    body = {"source": {"type": "csv", "path": "people.csv"}, "primary_key": "id"}
    return parse_config({"datasets": {"people": body}}, root).dataset("people")


def _resource(root: Path) -> SynthPipelineResource:
    return SynthPipelineResource(private_dir=str(root / "private"), public_database=str(root / "pub.duckdb"))


def test_raw_copies_the_source_and_reports_its_schema_and_rows(tmp_path):
    ds = _dataset(tmp_path)
    result = build_raw_asset(ds, tmp_path)(dg.build_asset_context(), synth=_resource(tmp_path))
    assert result.metadata["dagster/row_count"] == 50
    assert [c.name for c in result.metadata["dagster/column_schema"].columns][:3] == ["id", "name", "age"]
    assert len(read_frame(_resource(tmp_path).paths("people").raw)) == 50


def test_raw_refuses_a_missing_source_with_the_dataset_named(tmp_path):
    ds = _dataset(tmp_path)
    (tmp_path / "people.csv").unlink()
    with pytest.raises(IngestionError, match="dataset 'people': CSV source not found"):
        build_raw_asset(ds, tmp_path)(dg.build_asset_context(), synth=_resource(tmp_path))


def test_validated_passes_its_contract_and_fails_a_changed_table(tmp_path):
    ds = _dataset(tmp_path, rows=600)
    raw = good_table(600)
    write_contract(ds.contract_path(tmp_path), "people", raw, plan_columns(raw, ds))
    synth = _resource(tmp_path)
    build_raw_asset(ds, tmp_path)(dg.build_asset_context(), synth=synth)
    result = build_validated_asset(ds, tmp_path)(dg.build_asset_context(), synth=synth)
    assert result.metadata["expectations_failed"] == 0
    good_table(600).drop(columns=["age"]).to_csv(tmp_path / "people.csv", index=False)
    build_raw_asset(ds, tmp_path)(dg.build_asset_context(), synth=synth)
    with pytest.raises(ContractViolation, match=r"missing \['age'\]"):
        build_validated_asset(ds, tmp_path)(dg.build_asset_context(), synth=synth)


def test_the_source_is_observed_by_size_and_change_time(tmp_path):
    ds = _dataset(tmp_path)
    observe = build_source_asset(ds, tmp_path)
    first = observe.observe_fn()
    assert first.metadata["files"] == 1 and first.metadata["bytes"] > 0
    assert observe.observe_fn().data_version == first.data_version
    good_table(60).to_csv(tmp_path / "people.csv", index=False)
    assert observe.observe_fn().data_version != first.data_version
