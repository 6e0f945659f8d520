"""Stage 3: detect PII and apply each column's policy before any model sees the data."""

from collections import Counter

import dagster as dg
import numpy as np

from synth_pipeline.defs.common import (
    asset_key,
    column_lineage,
    fingerprint,
    for_configured_datasets,
    markdown_rows,
    parquet_schema,
    safe_errors,
    stage_asset,
    table_schema,
    what_each_column_became,
)
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import DatasetConfig, PipelineConfig
from synth_pipeline.lib.errors import ContractViolation, TooFewRows
from synth_pipeline.lib.pii.audit import PiiReference
from synth_pipeline.lib.pii.policies import apply_plan, encrypt_columns, plan_columns, too_few_columns
from synth_pipeline.lib.privacy import People, people_in, too_few_rows
from synth_pipeline.lib.privacy import held_out as privacy_holdout
from synth_pipeline.lib.storage import entity_digests, file_digest, read_frame, read_json, write_json, write_parquet


def build_deidentified_asset(dataset: DatasetConfig) -> dg.AssetsDefinition:
    @stage_asset(
        dataset,
        "deidentified",
        upstream="validated",
        group="pii",
        kinds={"pandas", "parquet"},
        description=f"'{dataset.name}' with identifying columns dropped, tokenized or generalized: the only table a model trains on.",
    )
    def deidentified(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        report = read_json(paths.validation_report) if paths.validation_report.exists() else {}
        if not report.get("success") or report.get("raw_digest") != file_digest(paths.raw):
            raise ContractViolation(
                f"dataset {dataset.name!r}: the raw copy has not passed validation; materialize validated_{dataset.name} first"
            )
        with safe_errors("PII removal", dataset.name):
            raw = read_frame(paths.raw)
            plan = plan_columns(raw, dataset)
            held_out, entities = privacy_holdout(raw, dataset.privacy, plan.entity_key)
            # Counted in people where rows are their records, as `contract init` counts them: refused on rows
            # first, a panel's owner followed the advice (a holdout_fraction for rows) and was refused again.
            if refusal := too_few_rows(
                dataset.name, len(raw), dataset.privacy, "Nothing was trained or published; ", people_in(entities)
            ):
                raise TooFewRows(refusal)
            training = apply_plan(raw, plan, synth.token_key)
            encrypted = encrypt_columns(raw, plan, synth.encryption_key)
            reference = PiiReference.build(raw, plan, dataset.privacy.min_value_count)
            del raw  # the largest frame of the stage; nothing below needs it
            if refusal := too_few_columns(dataset.name, training):
                raise TooFewRows(refusal)
            write_parquet(training[held_out], paths.holdout)
            write_parquet(training[~held_out], paths.deidentified)
            if entities is not None:  # whose each row is: the disclosure control and the checks count people
                People(entities[~held_out], entities[held_out]).save(paths.entities)
            else:
                paths.entities.unlink(missing_ok=True)
            n_train, n_holdout = int((~held_out).sum()), int(held_out.sum())
            if encrypted is not None:
                # In source order: the n-th "train" row belongs to the n-th row of deidentified.parquet.
                write_parquet(encrypted.assign(split=np.where(held_out, "holdout", "train")), paths.reidentification)
            else:
                paths.reidentification.unlink(missing_ok=True)
            write_json(paths.pii_plan, plan.to_dict())
            reference.save(paths.pii_reference)
        actions = Counter(d.action for d in plan.decisions if d.is_pii)
        context.log.info(
            f"PII plan for {dataset.name!r}: "
            + (", ".join(f"{n} column(s) {a}" for a, n in sorted(actions.items())) or "no identifying column found")
            + f"; {training.shape[1]} columns go to training"
        )
        return dg.MaterializeResult(
            data_version=dg.DataVersion(
                fingerprint(file_digest(paths.deidentified), file_digest(paths.holdout), *entity_digests(paths))
            ),
            metadata={
                "dagster/row_count": n_train,
                "dagster/column_schema": table_schema(
                    parquet_schema(paths.deidentified), what_each_column_became(plan)
                ),
                # Training columns come from the raw column of the same name; dropped ones do not exist here.
                "dagster/column_lineage": column_lineage(asset_key("raw", dataset.name), list(training.columns)),
                "holdout_rows": n_holdout,
                "training_columns": training.shape[1],
                "pii_columns": len(plan.pii_columns),
                "actions": dict(actions),
                "decisions": markdown_rows(plan.summary_rows()),
                "k counts": (
                    f"people: {plan.entity_reason}"
                    if plan.entity_key
                    else f"rows: {plan.entity_reason or 'no identifying key repeats'}"
                ),
            },
        )

    return deidentified


def stage_defs(config: PipelineConfig) -> dg.Definitions:
    return dg.Definitions(assets=[build_deidentified_asset(d) for d in config.datasets.values()])


defs = for_configured_datasets(stage_defs)
