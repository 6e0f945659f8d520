"""Stages 4 and 5: fit the configured SDV synthesizer, then sample a staged synthetic table."""

import datetime as dt
import time
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synth_pipeline.defs.common import (
    asset_key,
    column_lineage,
    fingerprint,
    for_configured_datasets,
    markdown_rows,
    parquet_schema,
    safe_errors,
    stage_asset,
    stage_version,
    table_schema,
    what_each_column_became,
)
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib import plots, synthesis
from synth_pipeline.lib.config import DatasetConfig, PipelineConfig
from synth_pipeline.lib.pii.audit import PiiReference
from synth_pipeline.lib.pii.fakes import add_fakes_and_keys
from synth_pipeline.lib.pii.policies import PiiPlan
from synth_pipeline.lib.privacy import People, people_in
from synth_pipeline.lib.publishing import record
from synth_pipeline.lib.rules import rules_to_json
from synth_pipeline.lib.selection import describe_privacy_spent, train_candidates
from synth_pipeline.lib.storage import (
    atomic_path,
    entity_digests,
    file_digest,
    private_tempdir,
    read_frame,
    read_json,
    typed_nulls,
    unchanged_since,
    write_json,
)
from synth_pipeline.lib.synthesizers.protected import ProtectedSynthesizer


def build_synthesizer_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    chosen = dataset.synthesizer.name

    @stage_asset(
        dataset,
        "synthesizer",
        upstream="deidentified",
        group="synthesis",
        kinds={"sdv", "scikitlearn", "pytorch"},
        description=(
            f"The fitted synthesizer for '{dataset.name}' ({chosen}"
            + (": " + ", ".join(c.name for c in dataset.synthesizer.candidates) if chosen == "auto" else "")
            + "). Private: it encodes real distributions."
        ),
    )
    def synthesizer(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        version = fingerprint(
            file_digest(paths.deidentified),
            file_digest(paths.holdout),
            *entity_digests(paths),
            stage_version(dataset, "synthesizer"),
        )
        previous = unchanged_since(
            paths.model_fingerprint, version, paths.model, paths.candidates, paths.sdv_metadata, paths.rules
        )
        if previous and previous.get("model_digest") != file_digest(paths.model):
            context.log.warning("The saved model's bytes differ from the ones recorded at training; retraining.")
            previous = None
        if previous:
            why = (
                f"Skipped retraining: the training rows and synthesizer settings are unchanged since run "
                f"{previous['run_id'][:8]} ({previous['at']}); reusing its model."
            )
            context.log.info(why)
            report = read_json(paths.candidates)
            return dg.MaterializeResult(
                data_version=dg.DataVersion(version),
                metadata={"synthesizer": report["winner"], "retrained": False, "why": why},
            )
        with safe_errors("synthesizer training", dataset.name), private_tempdir(paths.root):
            train = read_frame(paths.deidentified)
            holdout = read_frame(paths.holdout)
            context.log.info(
                f"Training {chosen} on {len(train)} rows x {train.shape[1]} columns ({len(holdout)} held out)"
            )
            people = People.load(paths.entities)  # whose each row is, where rows are a panel's records
            k_counts = "rows" if people is None else f"people: {people_in(people.train)} in the training rows"
            context.log.info(f"k (privacy.min_value_count) counts {k_counts}")
            outcome = train_candidates(train, holdout, dataset, context.log.info, people)
            winner, results, reason, metadata = outcome
            model_digest = synthesis.save_model(winner.synthesizer, paths.model)
            write_json(paths.sdv_metadata, metadata)
            rule_rows = outcome.rule_rows
            write_json(paths.rules, {"rules": rules_to_json(outcome.rules), "table": rule_rows})
            spent = winner.synthesizer.privacy_spent
            write_json(
                paths.candidates,
                {
                    "winner": winner.name,
                    "reason": reason,
                    "candidates": [r.row() | {"chosen": r is winner} for r in results],
                    "privacy_spent": spent,
                },
            )
            loss = winner.synthesizer.loss_values()
            write_json(
                paths.model_fingerprint,
                {
                    "fingerprint": version,
                    "model_digest": model_digest,
                    "run_id": context.run.run_id,
                    "at": _now(),
                    # The gate scores these columns' fresh values pooled, without loading the model.
                    "tails": winner.synthesizer.control.tails(),
                },
            )
        context.log.info(f"Chose {winner.name}: {reason}")
        meta: dict[str, Any] = {
            "synthesizer": winner.name,
            "retrained": True,
            "why": reason,
            "parameters": winner.params,
            "seed": dataset.synthesizer.seed,
            "fit_seconds": round(winner.fit_seconds, 2),
            "training_rows": len(train),
            "training_columns": train.shape[1],
            "k counts": k_counts,
            "candidates": dg.MetadataValue.md(pd.DataFrame([r.row() for r in results]).to_markdown(index=False)),
            "row_rules": len(outcome.rules),
            "row_rules_enforced": dataset.rules.enforce,
            # Column names and adherence only: a rule never names a value.
            "rules found in the real rows": markdown_rows(rule_rows),
        }
        if spent:
            meta["differential privacy"] = describe_privacy_spent(spent)
            meta["dp_epsilon_spent"] = spent["epsilon"]
        if loss is not None:
            meta["loss curve"] = dg.MetadataValue.md(plots.losses(loss, f"{winner.name} training loss"))
        return dg.MaterializeResult(data_version=dg.DataVersion(version), metadata=meta)

    return synthesizer


def build_comparison_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    @stage_asset(
        dataset,
        "synthesizer_comparison",
        upstream="synthesizer",
        group="synthesis",
        kinds={"duckdb"},
        description=(
            f"Every candidate synthesizer of '{dataset.name}' side by side: fit and sample time, fidelity, "
            "validity, privacy; also in meta.synthesizer_comparison of the public DuckDB file."
        ),
    )
    def comparison(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        report = read_json(paths.candidates)
        # A label names the tree retried with larger leaves apart from the first; the winner's name does not.
        rows = [r | {"chosen": r.get("chosen", r["candidate"] == report["winner"])} for r in report["candidates"]]
        trained_by = read_json(paths.model_fingerprint)["run_id"]
        if trained_by == context.run.run_id:
            record(
                synth.public_path,
                "synthesizer_comparison",
                dataset.name,
                context.run.run_id,
                rows,
                synth.public_storage_version,
                synth.publish_lock_timeout_seconds,
            )
        else:
            context.log.info(f"No new training in this run; the comparison of run {trained_by[:8]} stands")
        return dg.MaterializeResult(
            metadata={
                "trained_by_run": trained_by,
                "winner": report["winner"],
                "why": report["reason"],
                "comparison": dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False)),
            }
        )

    return comparison


def build_synthetic_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    @stage_asset(
        dataset,
        "synthetic",
        upstream="synthesizer",
        group="synthesis",
        kinds={"sdv", "parquet"},
        description=f"Synthetic '{dataset.name}', staged privately until every blocking quality check passes.",
    )
    def synthetic(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        version = fingerprint(
            read_json(paths.model_fingerprint)["fingerprint"],
            file_digest(paths.pii_plan),
            stage_version(dataset, "synthetic"),
        )
        previous = unchanged_since(paths.staged_fingerprint, version, paths.staged)
        if previous:
            why = f"Skipped sampling: model and sample settings unchanged since run {previous['run_id'][:8]} ({previous['at']})."
            context.log.info(why)
            plan = PiiPlan.from_dict(read_json(paths.pii_plan))
            return dg.MaterializeResult(
                data_version=dg.DataVersion(version),
                metadata={
                    "dagster/row_count": pq.read_metadata(paths.staged).num_rows,
                    **_catalog(dataset, paths.staged, plan, paths.deidentified),
                    "resampled": False,
                    "why": why,
                },
            )
        started = time.perf_counter()
        with safe_errors("sampling", dataset.name), private_tempdir(paths.root):
            plan = PiiPlan.from_dict(read_json(paths.pii_plan))
            reference = PiiReference.load(paths.pii_reference)
            model = synthesis.load_model(paths.model, read_json(paths.model_fingerprint).get("model_digest"))
            input_rows = pq.read_metadata(paths.deidentified).num_rows + pq.read_metadata(paths.holdout).num_rows
            num_rows = dataset.sample.num_rows(input_rows)
            groups = dataset.sample.condition_rows(num_rows)
            synthesis.check_conditions(model, groups)
            for n, where in groups:
                if where:
                    context.log.info(f"{n} rows conditioned on {', '.join(sorted(where))}")
            null_shares = {d.column: d.params.get("null_share", 0.0) for d in plan.decisions if d.action == "fake"}
            paths.gate_verdict.unlink(missing_ok=True)
            real_schema = pq.read_schema(paths.deidentified)
            months = _month_numbers(paths.deidentified, real_schema, read_json(paths.sdv_metadata))
            written = 0
            preview = None
            with atomic_path(paths.staged) as tmp:
                writer = None
                try:
                    chunks = synthesis.sample_chunks(
                        model, num_rows, dataset.sample.chunk_rows, dataset.synthesizer.seed, groups
                    )
                    redraws = np.random.default_rng(dataset.synthesizer.seed + 7)
                    for i, chunk in enumerate(chunks):
                        chunk = model.control.redraw_tail_values(chunk, reference.contains, redraws)
                        chunk = add_fakes_and_keys(
                            chunk,
                            plan,
                            dataset.synthesizer.seed + i,
                            dataset.fake_locale,
                            reference.contains,
                            null_shares,
                            key_offset=written,
                        )
                        chunk = synthesis.restore_types(chunk, real_schema, months)
                        table = pa.Table.from_pandas(chunk, preserve_index=False)
                        if writer is None:
                            writer = pq.ParquetWriter(tmp, typed_nulls(table.schema, real_schema), compression="zstd")
                            preview = chunk.head(5)
                        writer.write_table(table.cast(writer.schema))
                        written += len(chunk)
                        context.log.info(f"Sampled {written} of {num_rows} rows")
                finally:
                    if writer is not None:
                        writer.close()
        write_json(paths.staged_fingerprint, {"fingerprint": version, "run_id": context.run.run_id, "at": _now()})
        seconds = time.perf_counter() - started
        return dg.MaterializeResult(
            data_version=dg.DataVersion(version),
            metadata={
                "dagster/row_count": written,
                **_catalog(dataset, paths.staged, plan, paths.deidentified),
                "resampled": True,
                "sample_seconds": round(seconds, 2),
                "columns": len(plan.output_columns),
                "conditioned rows": sum(n for n, where in groups if where),
                "preview (synthetic rows)": dg.MetadataValue.md(
                    preview.to_markdown(index=False) if preview is not None else ""
                ),
                # What the value-level disclosure control changed, per column, in counts (never values).
                "disclosure control (k = privacy.min_value_count)": markdown_rows(model.control.summary_rows()),
                **_rule_enforcement(model),
            },
        )

    return synthetic


def _catalog(dataset: DatasetConfig, staged: Path, plan: PiiPlan, trained_on: Path) -> dict[str, Any]:
    """Column schema with what each column became, and lineage: modelled columns come from the training
    table; fakes, fresh tokens and keys come from no real column."""
    schema, training_columns = parquet_schema(staged), set(parquet_schema(trained_on))
    modelled = [c for c in schema if c in training_columns]
    return {
        "dagster/column_schema": table_schema(schema, what_each_column_became(plan)),
        "dagster/column_lineage": column_lineage(asset_key("deidentified", dataset.name), modelled),
    }


def _rule_enforcement(model: ProtectedSynthesizer) -> dict[str, Any]:
    """How the row rules were met while sampling: rows generated, rejected per rule, filled."""
    stats = model.rule_stats
    if not stats or model.rules is None:
        return {"row rules enforced": False}
    rejected = [
        {"rule": t, "rows_rejected": n} for t, n in sorted(stats["rejected_by_rule"].items(), key=lambda x: -x[1])
    ]
    gaps = getattr(model, "gaps", None)  # a model saved before 0.7 has none
    return {
        "row rules enforced": True,
        "rows generated for the rules": stats["generated"],
        "resample rounds": stats["resample_rounds"],
        "rows filled with accepted copies": stats["filled_rows"],
        "rows kept by moving an identity's free input": stats.get("nudged_rows", 0),
        "rows rejected per rule": markdown_rows(rejected),
        "dates modelled as gaps from another": dg.MetadataValue.json(gaps.describe() if gaps else []),
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def stage_defs(config: PipelineConfig) -> dg.Definitions:
    assets = []
    for d in config.datasets.values():
        assets += [build_synthesizer_asset(d), build_comparison_asset(d), build_synthetic_asset(d)]
    return dg.Definitions(assets=assets)


defs = for_configured_datasets(stage_defs)


def _month_numbers(deidentified: Path, schema: pa.Schema, metadata: dict[str, Any]) -> frozenset[str]:
    """The training table's months written as numbers (``192607``), read from its dates held as numbers only."""
    specs = metadata["tables"][synthesis.TABLE]["columns"]
    numbers = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    dated = [c for c in numbers if specs.get(c, {}).get("sdtype") == "datetime"]
    if not dated:
        return frozenset()
    return synthesis.month_numbers(pq.read_table(deidentified, columns=dated).to_pandas(), metadata)
