"""The Dagster layer: one set of assets and checks per configured dataset."""

from __future__ import annotations

import dagster as dg

from synth_pipeline.defs.ingestion.assets import build_raw_asset, build_source_asset
from synth_pipeline.defs.pii.assets import build_deidentified_asset
from synth_pipeline.defs.publishing.assets import build_published_asset, build_schema_change_checks
from synth_pipeline.defs.quality.checks import build_quality_checks
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.defs.schedules import build_job_and_schedule
from synth_pipeline.defs.synthesis.assets import (
    build_comparison_asset,
    build_synthesizer_asset,
    build_synthetic_asset,
)
from synth_pipeline.defs.validation.assets import build_validated_asset
from synth_pipeline.lib.config import PipelineConfig


def build_defs(config: PipelineConfig, resource: SynthPipelineResource) -> dg.Definitions:
    assets: list[dg.AssetsDefinition | dg.SourceAsset] = []
    checks: list[dg.AssetChecksDefinition] = []
    for dataset in config.datasets.values():
        assets.append(build_source_asset(dataset, config.base_dir))
        assets += [
            build_raw_asset(dataset, config.base_dir),
            build_validated_asset(dataset, config.base_dir),
            build_deidentified_asset(dataset),
            build_synthesizer_asset(dataset),
            build_comparison_asset(dataset),
            build_synthetic_asset(dataset),
            build_published_asset(dataset),
        ]
        checks.append(build_quality_checks(dataset))
    checks += build_schema_change_checks(list(config.datasets.values()))
    job, schedule = build_job_and_schedule(config)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[job],
        schedules=[schedule],
        resources={"synth": resource},
    )
