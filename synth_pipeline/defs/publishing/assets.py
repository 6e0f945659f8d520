"""Stage 7: swap the gated synthetic table into the public DuckDB file."""

import dagster as dg

from synth_pipeline.defs.common import asset_key, dataset_tags, safe_errors
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import DatasetConfig
from synth_pipeline.lib.errors import PublishRefused
from synth_pipeline.lib.publishing import publish_table
from synth_pipeline.lib.storage import file_digest, read_json


def build_published_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key("published", dataset.name),
        deps=[asset_key("synthetic", dataset.name)],
        group_name="publishing",
        kinds={"duckdb"},
        tags=dataset_tags(dataset.name),
        description=f"synthetic.{dataset.name} in the public DuckDB file: replaced atomically, only after the gate passed.",
    )
    def published(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        verdict = read_json(paths.gate_verdict) if paths.gate_verdict.exists() else None
        if not verdict or not verdict.get("passed"):
            raise PublishRefused(
                f"dataset {dataset.name!r}: the staged table has no passing quality gate; nothing was published"
            )
        if verdict.get("staged_digest") != file_digest(paths.staged):
            raise PublishRefused(
                f"dataset {dataset.name!r}: the staged table changed after the gate ran; nothing was published"
            )
        validation = read_json(paths.validation_report)
        with safe_errors("publishing", dataset.name):
            result = publish_table(
                synth.public_path,
                dataset.name,
                paths.staged,
                context.run_id,
                dataset.synthesizer.name,
                int(validation.get("contract_version", 0)),
                validation.get("raw_digest", "")[:16],
                synth.public_storage_version,
            )
        context.log.info(f"Published {result['table']} ({result['num_rows']} rows) to {synth.public_path}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result["num_rows"],
                "table": result["table"],
                "database": dg.MetadataValue.path(str(synth.public_path)),
                "num_columns": result["num_columns"],
                "query": dg.MetadataValue.md(f"```sql\nSELECT * FROM {result['table']} LIMIT 10;\n```"),
            }
        )

    return published
