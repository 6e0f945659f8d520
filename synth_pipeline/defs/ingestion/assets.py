"""Stage 1: copy the configured source into the private area."""

from pathlib import Path

import dagster as dg

from synth_pipeline.defs.common import safe_errors, stage_asset, table_schema
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import DatasetConfig
from synth_pipeline.lib.ingestion import ingest
from synth_pipeline.lib.storage import file_digest


def build_raw_asset(dataset: DatasetConfig, base_dir: Path) -> dg.AssetsDefinition:
    @stage_asset(
        dataset,
        "raw",
        upstream=None,
        group="ingestion",
        kinds={"duckdb", "parquet"},
        description=f"Private Parquet copy of the {dataset.source.type} source of '{dataset.name}'. Never published.",
    )
    def raw(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        context.log.info(f"Ingesting {dataset.source.type} source for {dataset.name!r}")
        with safe_errors("ingestion", dataset.name):
            result = ingest(dataset, base_dir, paths.raw, memory_limit=synth.ingest_memory_limit)
        digest = file_digest(result.path)
        context.log.info(f"Ingested {result.num_rows} rows x {len(result.schema)} columns")
        if result.nulled:
            context.log.warning(
                "Numbers a model cannot learn (NaN, infinite, or beyond 1e150) were read as null: "
                + ", ".join(f"{c}: {n} rows" for c, n in result.nulled.items())
            )
        return dg.MaterializeResult(
            data_version=dg.DataVersion(digest[:24]),
            metadata={
                "dagster/row_count": result.num_rows,
                "dagster/column_schema": table_schema(result.schema),
                "num_columns": len(result.schema),
                "source_type": dataset.source.type,
                "file_digest": digest[:16],
                "non-finite numbers read as null": dg.MetadataValue.json(result.nulled),
            },
        )

    return raw
