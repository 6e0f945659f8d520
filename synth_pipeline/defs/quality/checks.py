"""Stage 6: the quality gate. Blocking checks on the staged synthetic table; a failure publishes nothing."""

import math
from typing import Any

import dagster as dg
import pandas as pd

from synth_pipeline.defs.common import asset_key, safe_errors
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib import plots, privacy, quality
from synth_pipeline.lib.config import DatasetConfig
from synth_pipeline.lib.pii.audit import PiiReference
from synth_pipeline.lib.publishing import record
from synth_pipeline.lib.storage import file_digest, read_frame, read_json, write_json
from synth_pipeline.lib.synthesis import TABLE

CHECKS = {
    "data_validity": (
        "has_full_data_validity",
        "SDMetrics Data Validity: every synthetic value is within the real column's type and range.",
    ),
    "data_structure": (
        "has_the_training_structure",
        "SDMetrics Data Structure: the synthetic table has exactly the training columns.",
    ),
    "column_shapes": (
        "column_shapes_meet_threshold",
        "SDMetrics Column Shapes: per-column distributions match the real ones.",
    ),
    "column_pair_trends": (
        "column_pair_trends_meet_threshold",
        "SDMetrics Column Pair Trends: strongly related real column pairs keep their relationship.",
    ),
}
PRIVACY_CHECKS = {
    "exact_copies": (
        "copies_training_rows_no_more_than_holdout",
        "Synthetic rows identical to a training row are no more frequent than held-out real rows identical to one.",
    ),
    "dcr": (
        "is_no_closer_to_training_than_to_holdout",
        "Distance to closest record: synthetic rows are not nearer the training rows than the held-out rows.",
    ),
}
LEAK_CHECK = "contains_no_raw_pii_values"
RECORDS_CHECK = "run_records_contain_no_raw_pii_values"


def check_specs(dataset: DatasetConfig) -> list[dg.AssetCheckSpec]:
    target = asset_key("synthetic", dataset.name)
    specs = [dg.AssetCheckSpec(name, asset=target, blocking=True, description=desc) for name, desc in CHECKS.values()]
    specs += [
        dg.AssetCheckSpec(name, asset=target, blocking=True, description=desc) for name, desc in PRIVACY_CHECKS.values()
    ]
    specs.append(
        dg.AssetCheckSpec(
            LEAK_CHECK,
            asset=target,
            blocking=True,
            description="No raw identifying value (after case and whitespace normalization) appears in any synthetic cell.",
        )
    )
    specs.append(
        dg.AssetCheckSpec(
            RECORDS_CHECK,
            asset=target,
            blocking=True,
            description="No raw identifying value appears in this run's logs, asset metadata, validation report or PII plan.",
        )
    )
    return specs


def run_records_text(context: dg.AssetCheckExecutionContext, paths) -> str:
    """Everything this run has written so far that people read: event log (messages, metadata) and reports."""
    records = [str(entry) for entry in context.instance.all_logs(context.run.run_id)]
    for report in (paths.validation_report, paths.pii_plan):
        if report.exists():
            records.append(report.read_text())
    return "\n".join(records)


def _privacy_results(
    target: dg.AssetKey, priv: privacy.PrivacyScores, dataset: DatasetConfig, history: list[dict[str, Any]]
):
    cfg = dataset.privacy
    copy_limit = priv.holdout_copy_rate + cfg.exact_copy_tolerance
    copies_ok = math.isnan(priv.holdout_copy_rate) or priv.exact_copy_rate <= copy_limit
    dcr_ok = math.isnan(priv.dcr_share) or priv.dcr_share <= cfg.max_dcr_share
    rows: list[tuple[str, float, float, bool, dict[str, Any]]] = [
        (
            "exact_copies",
            priv.exact_copy_rate,
            copy_limit,
            copies_ok,
            {
                "exact_copy_rate": quality.rounded(priv.exact_copy_rate),
                "holdout_copy_rate": quality.rounded(priv.holdout_copy_rate),
                "tolerance": cfg.exact_copy_tolerance,
            },
        ),
        (
            "dcr",
            priv.dcr_share,
            cfg.max_dcr_share,
            dcr_ok,
            {
                "dcr_share": quality.rounded(priv.dcr_share),
                "meaning": "share of synthetic rows nearer a training row than a held-out row; 0.5 = no memorization",
            },
        ),
    ]
    for key, score, threshold, passed, extra in rows:
        name, _ = PRIVACY_CHECKS[key]
        note = "" if not math.isnan(priv.holdout_copy_rate) else "no holdout (privacy.holdout_fraction is 0)"
        history.append(
            {
                "check_name": name,
                "score": quality.rounded(score),
                "threshold": quality.rounded(threshold),
                "passed": passed,
                "rows_scored": priv.synthetic_rows_compared,
                "detail": note,
            }
        )
        meta: dict[str, Any] = {
            **extra,
            "score": quality.rounded(score),
            "threshold": quality.rounded(threshold),
            "synthetic_rows_compared": priv.synthetic_rows_compared,
            "holdout_rows_compared": priv.reference_rows_compared,
        }
        if note:
            meta["note"] = note
        yield dg.AssetCheckResult(
            check_name=name,
            asset_key=target,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=meta,
        )


def build_quality_checks(dataset: DatasetConfig) -> dg.AssetChecksDefinition:
    target = asset_key("synthetic", dataset.name)

    @dg.multi_asset_check(
        specs=check_specs(dataset),
        name=f"quality_gate_{dataset.name}",
        description="Scores are computed once on a fixed-seed sample and shared by the checks.",
    )
    def quality_gate(context: dg.AssetCheckExecutionContext, synth: SynthPipelineResource):
        paths = synth.paths(dataset.name)
        with safe_errors("quality gate", dataset.name):
            synthetic = read_frame(paths.staged)
            real = read_frame(paths.deidentified)
            holdout = read_frame(paths.holdout)
            metadata = read_json(paths.sdv_metadata)
            context.log.info(f"Scoring up to {dataset.gate.sample_rows} rows of each table (seed {dataset.gate.seed})")
            scores = quality.evaluate(real, synthetic, metadata, dataset.gate)
            outcomes = quality.judge(scores, dataset.gate)
            priv = privacy.evaluate_privacy(
                real, holdout, synthetic, metadata, dataset.privacy.sample_rows, dataset.privacy.seed
            )
            sdtypes = {c: spec["sdtype"] for c, spec in metadata["tables"][TABLE]["columns"].items()}
            worst = list(scores.column_shapes_detail.sort_values("Score")["Column"].head(4))
            pictures = {
                "column_shapes": plots.distributions(real, synthetic, worst, sdtypes),
                "column_pair_trends": plots.correlations(real, synthetic, sdtypes),
            }
            reference = PiiReference.load(paths.pii_reference)
            leaks = reference.leaks(synthetic)
            records_hits = reference.scan_text(run_records_text(context, paths))

        details = {
            "data_validity": scores.validity_detail,
            "data_structure": None,
            "column_shapes": scores.column_shapes_detail,
            "column_pair_trends": scores.column_pair_trends_detail,
        }
        history = []
        for outcome in outcomes:
            name, _ = CHECKS[outcome.name]
            meta: dict[str, Any] = {
                "score": quality.rounded(outcome.score),
                "threshold": outcome.threshold,
                "real_rows_scored": scores.real_rows_scored,
                "synthetic_rows_scored": scores.synthetic_rows_scored,
            }
            if outcome.name == "column_pair_trends":
                meta["pairs_scored"] = scores.pairs_scored
                meta["pairs_total"] = scores.pairs_total
            if outcome.name in ("column_shapes", "column_pair_trends") and scores.pooled_columns:
                meta["scored on top categories + (other)"] = ", ".join(scores.pooled_columns)
            if outcome.note:
                meta["note"] = outcome.note
            if details[outcome.name] is not None:
                meta["breakdown (worst first)"] = dg.MetadataValue.md(quality.markdown_table(details[outcome.name]))
            if outcome.name in pictures:
                meta["real vs synthetic"] = dg.MetadataValue.md(pictures[outcome.name])
            context.log.info(
                f"{name}: score {meta['score']} vs threshold {outcome.threshold}: {'pass' if outcome.passed else 'FAIL'}"
            )
            history.append(
                {
                    "check_name": name,
                    "score": quality.rounded(outcome.score),
                    "threshold": outcome.threshold,
                    "passed": outcome.passed,
                    "rows_scored": scores.synthetic_rows_scored,
                    "detail": outcome.note,
                }
            )
            yield dg.AssetCheckResult(
                check_name=name,
                asset_key=target,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=meta,
            )
        yield from _privacy_results(target, priv, dataset, history)
        leak_rows = [{"column": c, "distinct_values_matching_raw": n} for c, n in sorted(leaks.items())]
        history.append(
            {
                "check_name": LEAK_CHECK,
                "score": float(sum(leaks.values())),
                "threshold": 0.0,
                "passed": not leaks,
                "rows_scored": len(synthetic),
                "detail": ", ".join(sorted(leaks)),
            }
        )
        yield dg.AssetCheckResult(
            check_name=LEAK_CHECK,
            asset_key=target,
            passed=not leaks,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "matching_values": sum(leaks.values()),
                "columns_with_matches": dg.MetadataValue.md(
                    pd.DataFrame(leak_rows).to_markdown(index=False) if leak_rows else "_none_"
                ),
                "rows_scanned": len(synthetic),
            },
        )
        history.append(
            {
                "check_name": RECORDS_CHECK,
                "score": float(records_hits),
                "threshold": 0.0,
                "passed": records_hits == 0,
                "rows_scored": None,
                "detail": "",
            }
        )
        yield dg.AssetCheckResult(
            check_name=RECORDS_CHECK,
            asset_key=target,
            passed=records_hits == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "raw_values_found": records_hits,
                "scanned": "event log of this run, validation report, PII plan",
            },
        )
        passed = all(h["passed"] for h in history)
        write_json(
            paths.gate_verdict,
            {"passed": passed, "staged_digest": file_digest(paths.staged), "run_id": context.run.run_id},
        )
        record(
            synth.public_path,
            "quality_history",
            dataset.name,
            context.run.run_id,
            history,
            synth.public_storage_version,
        )

    return quality_gate
