"""Stage 7: swap the gated synthetic table into the public DuckDB file."""

import warnings
from datetime import timedelta
from typing import Any

import dagster as dg

from synth_pipeline.defs.common import (
    asset_key,
    column_lineage,
    for_configured_datasets,
    safe_errors,
    stage_asset,
    table_schema,
    what_each_column_became,
)
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import DatasetConfig, PipelineConfig
from synth_pipeline.lib.errors import PublishRefused
from synth_pipeline.lib.pii.policies import PiiPlan
from synth_pipeline.lib.publishing import latest_publication, publish_table, published_schema
from synth_pipeline.lib.selection import describe_privacy_spent
from synth_pipeline.lib.storage import pinned, read_json


def build_published_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    @stage_asset(
        dataset,
        "published",
        # Everything of the run that can fail comes before: a failed comparison step also publishes nothing.
        upstream=("synthetic", "synthesizer_comparison"),
        group="publishing",
        kinds={"duckdb"},
        description=f"synthetic.{dataset.name} in the public DuckDB file: replaced atomically, only after the gate passed.",
        # A failed gate keeps yesterday's table: after freshness_hours it shows as stale.
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=dataset.freshness_hours)),
    )
    def published(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        verdict = read_json(paths.gate_verdict) if paths.gate_verdict.exists() else None
        if not verdict or not verdict.get("passed"):
            raise PublishRefused(
                f"dataset {dataset.name!r}: the staged table has no passing quality gate; nothing was published"
            )
        with pinned(paths.staged) as (staged, staged_digest):
            # Compared and published from the same bytes: an overlapping run that stages another table
            # meanwhile cannot slip it in ungated.
            if verdict.get("staged_digest") != staged_digest:
                raise PublishRefused(
                    f"dataset {dataset.name!r}: the staged table is not the one the gate passed (changed after "
                    "the gate ran, or staged by an overlapping run); nothing was published"
                )
            latest = latest_publication(synth.public_path, dataset.name)
            if latest and latest["table_digest"] == staged_digest:
                why = f"Skipped: synthetic.{dataset.name} already holds this table (published by run {latest['run_id'][:8]})."
                context.log.info(why)
                return dg.MaterializeResult(
                    data_version=dg.DataVersion(staged_digest[:24]),
                    metadata={
                        **_catalog(synth, dataset.name),
                        "table": f"synthetic.{dataset.name}",
                        "republished": False,
                        "why": why,
                    },
                )
            validation = read_json(paths.validation_report)
            report = read_json(paths.candidates)
            spent = report.get("privacy_spent") or {}
            with safe_errors("publishing", dataset.name):
                result = publish_table(
                    synth.public_path,
                    dataset.name,
                    staged,
                    context.run_id,
                    report["winner"],
                    int(validation.get("contract_version", 0)),
                    validation.get("raw_digest", "")[:16],
                    staged_digest,
                    synth.public_storage_version,
                    spent.get("epsilon"),
                    synth.publish_lock_timeout_seconds,
                    dataset.freshness_hours,
                    column_notes(paths, verdict),
                    read_json(paths.source_types) if paths.source_types.exists() else None,
                )
        context.log.info(f"Published {result['table']} ({result['num_rows']} rows) to {synth.public_path}")
        return dg.MaterializeResult(
            data_version=dg.DataVersion(staged_digest[:24]),
            metadata={
                **_catalog(synth, dataset.name),
                "republished": True,
                "table": result["table"],
                "database": dg.MetadataValue.path(str(synth.public_path)),
                "num_columns": result["num_columns"],
                "synthesizer": report["winner"],
                **({"differential privacy": describe_privacy_spent(spent)} if spent else {}),
                "query": dg.MetadataValue.md(f"```sql\nSELECT * FROM {result['table']} LIMIT 10;\n```"),
            },
        )

    return published


def column_notes(paths: Any, verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per published column, what ``meta.columns`` says of it: PII action, description, rules, shape score."""
    plan = PiiPlan.from_dict(read_json(paths.pii_plan)) if paths.pii_plan.exists() else None
    became = what_each_column_became(plan) if plan else {}
    rule_texts: dict[str, list[str]] = {}
    if paths.rules.exists():
        from synth_pipeline.lib.rules import rules_from_json

        for rule in rules_from_json(read_json(paths.rules)["rules"]):
            for col in rule.columns:
                rule_texts.setdefault(col, []).append(rule.text)
    scores = verdict.get("column_shapes") or {}
    notes: dict[str, dict[str, Any]] = {}
    for d in plan.decisions if plan else []:
        notes[d.column] = {
            "is_key": d.action == "key",
            "pii_action": d.action,
            "pii_type": d.pii_type,
            "description": became.get(d.column),
            "rules": "; ".join(rule_texts.get(d.column, [])) or None,
            "column_shape_score": scores.get(d.column),
        }
    return notes


def build_schema_change_checks(datasets: list[DatasetConfig]) -> list[dg.AssetChecksDefinition]:
    """Non-blocking: a column of a published table appeared, disappeared or changed type since the last run."""
    # One check op per dataset: Dagster names the op after the assets it checks, so a single op over every
    # dataset was renamed whenever a dataset was added (an upload, the inbox), and a run launched before
    # that reload failed with "unknown step asset_check_<hash>".
    checks: list[dg.AssetChecksDefinition] = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*currently in beta")
        for d in datasets:
            checks += dg.build_column_schema_change_checks(
                assets=[asset_key("published", d.name)], severity=dg.AssetCheckSeverity.WARN
            )
    return checks


def _catalog(synth: SynthPipelineResource, dataset: str) -> dict[str, Any]:
    """What downstream teams see, read back from the public file: columns, types, rows, and lineage."""
    schema, rows = published_schema(synth.public_path, dataset)
    plan = synth.paths(dataset).pii_plan
    became = what_each_column_became(PiiPlan.from_dict(read_json(plan))) if plan.exists() else {}
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": table_schema(schema, became),
        "dagster/column_lineage": column_lineage(asset_key("synthetic", dataset), list(schema)),
    }


def stage_defs(config: PipelineConfig) -> dg.Definitions:
    datasets = list(config.datasets.values())
    return dg.Definitions(
        assets=[build_published_asset(d) for d in datasets], asset_checks=build_schema_change_checks(datasets)
    )


defs = for_configured_datasets(stage_defs)
