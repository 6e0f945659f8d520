"""Stages 4 and 5: fit the configured SDV synthesizer, then sample a staged synthetic table."""

import time

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from synth_pipeline.defs.common import asset_key, dataset_tags, safe_errors
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib import synthesis
from synth_pipeline.lib.config import DatasetConfig
from synth_pipeline.lib.pii.audit import PiiReference
from synth_pipeline.lib.pii.fakes import add_fakes_and_keys
from synth_pipeline.lib.pii.policies import PiiPlan
from synth_pipeline.lib.storage import atomic_path, read_frame, read_json, write_json


def build_synthesizer_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key("synthesizer", dataset.name),
        deps=[asset_key("deidentified", dataset.name)],
        group_name="synthesis",
        kinds={"sdv"},
        tags=dataset_tags(dataset.name),
        description=f"The fitted {dataset.synthesizer.name} model for '{dataset.name}' (private: it encodes real distributions).",
    )
    def synthesizer(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        with safe_errors("synthesizer training", dataset.name):
            training = read_frame(paths.deidentified)
            context.log.info(
                f"Fitting {dataset.synthesizer.name} on {len(training)} rows x {training.shape[1]} columns"
            )
            result, metadata = synthesis.fit(training, dataset)
            synthesis.save_model(result.synthesizer, paths.model)
            write_json(paths.sdv_metadata, metadata)
        context.log.info(f"Fitted in {result.seconds:.1f}s")
        return dg.MaterializeResult(
            metadata={
                "synthesizer": dataset.synthesizer.name,
                "parameters": {k: repr(v) for k, v in result.params.items()},
                "seed": dataset.synthesizer.seed,
                "fit_seconds": round(result.seconds, 2),
                "training_rows": result.num_rows,
                "training_columns": result.num_columns,
            }
        )

    return synthesizer


def build_synthetic_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key("synthetic", dataset.name),
        deps=[asset_key("synthesizer", dataset.name)],
        group_name="synthesis",
        kinds={"sdv", "parquet"},
        tags=dataset_tags(dataset.name),
        description=f"Synthetic '{dataset.name}', staged privately until every blocking quality check passes.",
    )
    def synthetic(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        started = time.perf_counter()
        with safe_errors("sampling", dataset.name):
            plan = PiiPlan.from_dict(read_json(paths.pii_plan))
            reference = PiiReference.load(paths.pii_reference)
            model = synthesis.load_model(paths.model)
            input_rows = pq.read_metadata(paths.deidentified).num_rows
            num_rows = dataset.sample.num_rows(input_rows)
            null_shares = {d.column: d.params.get("null_share", 0.0) for d in plan.decisions if d.action == "fake"}
            paths.gate_verdict.unlink(missing_ok=True)
            written = 0
            preview = None
            with atomic_path(paths.staged) as tmp:
                writer = None
                try:
                    chunks = synthesis.sample_chunks(
                        model, num_rows, dataset.sample.chunk_rows, dataset.synthesizer.seed
                    )
                    for i, chunk in enumerate(chunks):
                        chunk = add_fakes_and_keys(
                            chunk,
                            plan,
                            dataset.synthesizer.seed + i,
                            dataset.fake_locale,
                            reference.matches,
                            null_shares,
                            key_offset=written,
                        )
                        table = pa.Table.from_pandas(chunk, preserve_index=False)
                        if writer is None:
                            writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                            preview = chunk.head(5)
                        writer.write_table(table.cast(writer.schema))
                        written += len(chunk)
                        context.log.info(f"Sampled {written} of {num_rows} rows")
                finally:
                    if writer is not None:
                        writer.close()
        seconds = time.perf_counter() - started
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": written,
                "sample_seconds": round(seconds, 2),
                "columns": len(plan.output_columns),
                "preview (synthetic rows)": dg.MetadataValue.md(
                    preview.to_markdown(index=False) if preview is not None else ""
                ),
            }
        )

    return synthetic
