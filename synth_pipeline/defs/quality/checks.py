"""Stage 6: the quality gate. Blocking checks on the staged synthetic table; a failure publishes nothing."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from synth_pipeline.defs.common import asset_key, dataset_pool, for_configured_datasets, safe_errors
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib import attacks, plots, privacy, quality, synthesis
from synth_pipeline.lib.config import DatasetConfig, PipelineConfig
from synth_pipeline.lib.outcomes import Outcome, rounded
from synth_pipeline.lib.pii.audit import PiiReference, judge_leaks, judge_run_records
from synth_pipeline.lib.pii.policies import PiiPlan
from synth_pipeline.lib.publishing import record
from synth_pipeline.lib.rules import RuleVerdict, judge_rule_set, judge_rules, rules_from_json
from synth_pipeline.lib.selection import GATE, RuleChecker, holdout_half
from synth_pipeline.lib.storage import append_jsonl, pinned, read_frame, read_json, write_json
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
    "rare_values": (
        "reproduces_rare_values_no_more_than_holdout",
        "In every column, whatever detection said, synthetic cells hit values that fewer than k training rows "
        "(people, where rows are a panel's records) hold no more often than held-out real rows do (one-sided test "
        "per column).",
    ),
}
ATTACK_CHECKS = {
    "singling_out": (
        "cannot_single_out_training_rows",
        "anonymeter singling-out attack (univariate, against held-out rows): the low end of its 95 % interval "
        "stays at or below privacy.max_singling_out_risk.",
    ),
    "linkability": (
        "cannot_link_training_rows",
        "anonymeter linkability attack (two halves of the columns, against held-out rows): the low end of its "
        "95 % interval stays at or below privacy.max_linkability_risk.",
    ),
}
RULES_CHECK = "rows_follow_the_datas_rules"
INFERENCE_CHECK = "inference_risk_on_sensitive_columns"
LEAK_CHECK = "contains_no_raw_pii_values"
STAGES_UPSTREAM = ("raw", "validated", "deidentified", "synthesizer", "synthetic")
RECORDS_CHECK = "run_records_contain_no_raw_pii_values"
# Shares of rows a categorical column's values were replaced in: named in a failing fidelity check's note from
# the first, offered fresh values of their shape from the second.
REWRITTEN_SHARE = 0.1
GENERATE_SHARE = 0.5


def check_specs(dataset: DatasetConfig) -> list[dg.AssetCheckSpec]:
    target = asset_key("synthetic", dataset.name)
    specs = [dg.AssetCheckSpec(name, asset=target, blocking=True, description=desc) for name, desc in CHECKS.values()]
    specs += [
        dg.AssetCheckSpec(name, asset=target, blocking=True, description=desc)
        for name, desc in (*PRIVACY_CHECKS.values(), *ATTACK_CHECKS.values())
    ]
    if dataset.privacy.sensitive_columns:
        specs.append(
            dg.AssetCheckSpec(
                INFERENCE_CHECK,
                asset=target,
                blocking=False,
                description="anonymeter inference attack on the columns marked sensitive (reported, not blocking).",
            )
        )
    specs.append(
        dg.AssetCheckSpec(
            RULES_CHECK,
            asset=target,
            blocking=True,
            description="Every row rule found in (or declared for) the real rows holds in the synthetic rows: no rule "
            "is broken in more synthetic rows than real ones plus rules.tolerance (docs/rules.md).",
        )
    )
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


def run_records_text(context: dg.AssetCheckExecutionContext, paths, dataset: str) -> str:
    """Everything people read that runs of this dataset wrote: event logs, captured stdout/stderr, reports.

    The upstream stages may have run in earlier runs (assets materialized one at a time), so their runs
    are read too.
    """
    instance = context.instance
    run_ids = {context.run.run_id}
    for stage in STAGES_UPSTREAM:
        event = instance.get_latest_materialization_event(asset_key(stage, dataset))
        if event is not None:
            run_ids.add(event.run_id)
    records = [str(entry) for run_id in sorted(run_ids) for entry in instance.all_logs(run_id)]
    base = getattr(instance.compute_log_manager, "_base_dir", None)
    for run_id in sorted(run_ids):
        folder = Path(str(base)) / run_id
        if base and folder.is_dir():
            records += [f.read_text(errors="replace") for f in folder.rglob("*") if f.is_file()]
    if paths.validation_report.exists():
        records.append(paths.validation_report.read_text())
    if paths.pii_plan.exists():  # as the UI shows it; the generators' learnt vocabularies and layouts stay private
        records.append(json.dumps(PiiPlan.from_dict(read_json(paths.pii_plan)).summary_rows()))
    return "\n".join(records)


def _privacy_results(
    target: dg.AssetKey, priv: privacy.PrivacyScores, dataset: DatasetConfig, history: list[dict[str, Any]]
):
    cfg = dataset.privacy
    extra: dict[str, dict[str, Any]] = {
        "exact_copies": {
            "exact_copy_rate": rounded(priv.exact_copy_rate),
            "holdout_copy_rate": rounded(priv.holdout_copy_rate),
            "tolerance": cfg.exact_copy_tolerance,
            **(
                {
                    "membership: synthetic rows equal to a real row": priv.membership.copies,
                    "membership: excess matches of training rows": rounded(priv.membership.excess),
                    "membership: p_value": rounded(priv.membership.p_value, 6),
                    "membership: z were every copy memorized": rounded(priv.membership.z_if_memorized),
                }
                if priv.membership is not None
                else {}
            ),
        },
        "dcr": {
            "dcr_share": rounded(priv.dcr_share),
            "meaning": "share of synthetic rows nearer a training row than a held-out row; 0.5 = no memorization",
        },
        "rare_values": {
            "k (privacy.min_value_count)": cfg.min_value_count,
            "k counts": f"people: {priv.people} in the training rows" if priv.people else "rows",
            "tolerance": cfg.rare_value_tolerance,
            "columns_tested": len(priv.rare_values),
            "columns_failing": sum(not r.passed for r in priv.rare_values),
            "per column (counts only, worst first)": dg.MetadataValue.md(_rare_table(priv)),
        },
    }
    for outcome in privacy.judge_privacy(priv, cfg):
        name, _ = PRIVACY_CHECKS[outcome.name]
        yield _verdict(
            target,
            name,
            outcome,
            priv.synthetic_rows_compared,
            {
                **extra[outcome.name],
                "p_value": rounded(outcome.p_value, 6),
                "significance": cfg.significance,
                "synthetic_rows_compared": priv.synthetic_rows_compared,
                "holdout_rows_compared": priv.reference_rows_compared,
            },
            history,
        )


def _verdict(
    target: dg.AssetKey,
    name: str,
    outcome: Outcome,
    rows_scored: int | None,
    metadata: dict[str, Any],
    history: list[dict[str, Any]],
) -> dg.AssetCheckResult:
    """A blocking check result from one outcome, and the outcome's row of meta.quality_history."""
    history.append(outcome.history_row(name, rows_scored))
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=target,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"score": rounded(outcome.score), "threshold": rounded(outcome.threshold), **metadata}
        | ({"note": outcome.note} if outcome.note else {}),
    )


def _attack_results(
    target: dg.AssetKey, risks: list[attacks.AttackRisk], dataset: DatasetConfig, history: list[dict[str, Any]]
):
    table = dg.MetadataValue.md(pd.DataFrame([r.row() for r in risks]).to_markdown(index=False))
    for outcome in attacks.judge_attacks(risks, dataset.privacy):
        name, _ = ATTACK_CHECKS[outcome.name]
        yield _verdict(target, name, outcome, dataset.privacy.attack_rows, {"all attacks": table}, history)
    inferred = [r for r in risks if r.name.startswith("inference:")]
    if dataset.privacy.sensitive_columns:
        worst = max((r.risk for r in inferred if r.attacks), default=float("nan"))
        yield dg.AssetCheckResult(
            check_name=INFERENCE_CHECK,
            asset_key=target,
            passed=True,  # reported for the data owner to judge; no threshold is set for it
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"worst_risk": rounded(worst), "per column": table},
        )


def _rule_verdicts(paths, real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict, dataset: DatasetConfig):
    if not paths.rules.exists():
        return []
    stored = read_json(paths.rules)
    checker = RuleChecker.of(rules_from_json(stored["rules"]), real, metadata, stored.get("table", []))
    return judge_rules(checker.real, synthesis.typed_view(synthetic, metadata), checker.book, dataset.rules.tolerance)


def _rules_result(
    target: dg.AssetKey,
    verdicts: list[RuleVerdict],
    dataset: DatasetConfig,
    rows: int,
    history: list[dict[str, Any]],
) -> dg.AssetCheckResult:
    cfg = dataset.rules
    outcome = judge_rule_set(verdicts, cfg.none_on_purpose)
    table = sorted((v.row() for v in verdicts), key=lambda r: (r["passed"], r["synthetic_adherence"] or 0))
    return _verdict(
        target,
        RULES_CHECK,
        outcome,
        rows,
        {
            "rules_checked": len(verdicts),
            "rules_broken": sum(not v.passed for v in verdicts),
            "worst_synthetic_adherence": rounded(outcome.score),
            "tolerance (rules.tolerance)": cfg.tolerance,
            "enforced (rules.enforce)": cfg.enforce,
            "synthetic_rows_checked": rows,
            "per rule, real vs synthetic (worst first)": dg.MetadataValue.md(
                pd.DataFrame(table).to_markdown(index=False) if table else "_no rule_"
            ),
        },
        history,
    )


def _releasable_scores(
    context: dg.AssetCheckExecutionContext,
    paths,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    metadata: dict,
    dataset: DatasetConfig,
    outcomes: list[Outcome],
) -> tuple[dict[str, float], dict[str, float]]:
    """Where fidelity fails, the same scores against the training rows as the disclosure control releases them.

    A survey's amounts correlate at 0.95 because one respondent gave 1,000,000 in several columns; clamped to
    the k-th largest value, as the control clamps every output, they correlate at 0.26. No synthesizer may
    reproduce the first figure, so the user is told which shortfall is the control's. Computed only on failure:
    it costs a second scoring. The verdict itself stays against the real rows.

    Also returns the categorical columns the control rewrote in at least a tenth of the rows, with the share, so
    the message names what was lost (a store's cities); from half the rows (ucla_f18's course numbers: 74 %) a
    modelled column is a few common values standing in for most rows, and the message offers fresh values."""
    failed = [o.name for o in outcomes if o.name in ("column_shapes", "column_pair_trends") and not o.passed]
    if not failed or not paths.model.exists():
        return {}, {}
    model = synthesis.load_model(paths.model, read_json(paths.model_fingerprint).get("model_digest"))
    control = getattr(model, "control", None)
    if control is None:
        return {}, {}
    context.log.info("Fidelity failed: scoring again against the training rows as the disclosure control releases them")
    # As the model saw them (integer-coded categories as text, or every year of ucla_f18 counted as rewritten),
    # then typed back like the published table, so the scoring compares like with like.
    released = control.protect(synthesis.typed_view(real, metadata))  # protect copies
    released = synthesis.restore_types(
        released, pa.Schema.from_pandas(real, preserve_index=False), synthesis.month_numbers(real, metadata)
    )
    again = quality.evaluate(released, synthetic, metadata, dataset.gate, control.tails())
    rewritten = {
        col: c.replaced_rows / len(real)
        for col, c in control.columns.items()
        if c.kind == "categorical" and c.tail is None and len(real) and c.replaced_rows >= REWRITTEN_SHARE * len(real)
    }
    return {name: float(getattr(again, name)) for name in failed}, rewritten


def _what_the_control_cost(rewritten: dict[str, float]) -> str:
    if not rewritten:
        return "one person's extremes drive a correlation, and are clamped"
    worst = sorted(rewritten.items(), key=lambda kv: -kv[1])[:3]
    return "categories that few rows hold, replaced by common ones: " + ", ".join(
        f"{col} in {share:.0%} of rows" for col, share in worst
    )


def _what_the_releasable_table_says(outcome: Outcome, score: float, rewritten: dict[str, float]) -> str:
    """Why a fidelity score failed, where the disclosure control is part of the answer: passed against the table
    the control lets out, only what is never published is missing; failed against it too (France's 2022 results per
    département, each held by 12 rows: 0.799), a model that learns only what may be published fails as well."""
    if outcome.passed or pd.isna(score):  # NaN: nothing scored against the releasable table either
        return ""
    cost = _what_the_control_cost(rewritten)
    if score >= outcome.threshold:
        said = (
            f"below the threshold against the real rows, {rounded(score)} against the releasable table: what is "
            f"missing is held by fewer than privacy.min_value_count rows ({cost}), which is never published. "
            f"Lower gate.{outcome.name} for this dataset to publish it as it is."
        )
    else:
        said = (
            f"below the threshold against the releasable table too ({rounded(score)}): the training rows themselves, "
            f"as the disclosure control lets them out ({cost}), miss it, so a model that learns only what may be "
            f"published misses it as well. Lower gate.{outcome.name} for this dataset to publish what may be published."
        )
    return said + "".join(
        f" Or give {col}, whose values are {share:.0%} held by too few rows, fresh values of its shape instead of a "
        f"few common ones: columns.{col}: {{pii: generate}}."
        for col, share in sorted(rewritten.items(), key=lambda kv: -kv[1])
        if share >= GENERATE_SHARE
    )


def _rare_table(priv: privacy.PrivacyScores) -> str:
    rows = sorted(
        (r.row() for r in priv.rare_values),
        key=lambda r: (r["passed"], -((r["synthetic_rate"] or 0) - max(r["holdout_rate"] or 0, r["grid_rate"]))),
    )
    return pd.DataFrame(rows).to_markdown(index=False) if rows else "_no column scored_"


def build_quality_checks(dataset: DatasetConfig) -> dg.AssetChecksDefinition:
    target = asset_key("synthetic", dataset.name)

    @dg.multi_asset_check(
        specs=check_specs(dataset),
        name=f"quality_gate_{dataset.name}",
        pool=dataset_pool(dataset.name),
        description="Scores are computed once on a fixed-seed sample and shared by the checks.",
    )
    def quality_gate(context: dg.AssetCheckExecutionContext, synth: SynthPipelineResource):
        paths = synth.paths(dataset.name)
        with safe_errors("quality gate", dataset.name), pinned(paths.staged) as (staged, staged_digest):
            # The bytes scored are the bytes whose digest the verdict records, whatever another run writes.
            synthetic = read_frame(staged)
            real = read_frame(paths.deidentified)
            holdout = read_frame(paths.holdout)
            metadata = read_json(paths.sdv_metadata)
            context.log.info(f"Scoring up to {dataset.gate.sample_rows} rows of each table (seed {dataset.gate.seed})")
            tails = read_json(paths.model_fingerprint).get("tails") if paths.model_fingerprint.exists() else None
            scores = quality.evaluate(real, synthetic, metadata, dataset.gate, tails)
            outcomes = quality.judge(scores, dataset.gate)
            # The other half of the holdout than candidate selection used: the gate's evidence is its own.
            fitted = synthesis.fitted_rows(real, dataset.synthesizer)
            people = privacy.People.load(paths.entities)  # where rows are a panel's records
            judged_on, half_people = holdout_half(holdout, GATE, people)
            priv = privacy.evaluate_privacy(real, judged_on, synthetic, metadata, dataset.privacy, fitted, half_people)
            context.log.info(f"Running anonymeter attacks on {dataset.privacy.attack_rows} rows of each table")
            risks = attacks.run_attacks(real, judged_on, synthetic, metadata, dataset.privacy)
            sdtypes = {c: spec["sdtype"] for c, spec in metadata["tables"][TABLE]["columns"].items()}
            worst = list(scores.column_shapes_detail.sort_values("Score")["Column"].head(4))
            pictures = {
                "column_shapes": plots.distributions(
                    real,
                    synthetic,
                    worst,
                    sdtypes,
                    dataset.privacy.min_value_count,
                    dataset.gate.sample_rows,
                    dataset.gate.seed,
                    None if people is None else people.train,
                ),
                "column_pair_trends": plots.correlations(
                    real, synthetic, sdtypes, dataset.gate.sample_rows, dataset.gate.seed
                ),
            }
            context.log.info("Checking the row rules on every synthetic row")
            rule_verdicts = _rule_verdicts(paths, real, synthetic, metadata, dataset)
            reference = PiiReference.load(paths.pii_reference)
            leaks = reference.leaks(synthetic)
            records_hits = reference.scan_text(run_records_text(context, paths, dataset.name))

        releasable, rewritten = _releasable_scores(context, paths, real, synthetic, metadata, dataset, outcomes)
        details = {
            "data_validity": scores.validity_detail,
            "data_structure": None,
            "column_shapes": scores.column_shapes_detail,
            "column_pair_trends": scores.column_pair_trends_detail,
        }
        history: list[dict[str, Any]] = []
        for outcome in outcomes:
            name, _ = CHECKS[outcome.name]
            meta: dict[str, Any] = {
                "real_rows_scored": scores.real_rows_scored,
                "synthetic_rows_scored": scores.synthetic_rows_scored,
            }
            if outcome.name == "column_pair_trends":
                meta["pairs_scored"] = scores.pairs_scored
                meta["pairs_total"] = scores.pairs_total
            if outcome.name in ("column_shapes", "column_pair_trends") and scores.pooled_columns:
                meta["scored on top categories + (other)"] = ", ".join(scores.pooled_columns)
            if outcome.name in releasable:
                meta["score against the releasable table"] = rounded(releasable[outcome.name])
                meta["releasable table"] = (
                    "the training rows as the disclosure control lets them out: extremes clamped to the k-th "
                    "largest and smallest values, categories fewer than k rows hold replaced"
                )
                if said := _what_the_releasable_table_says(outcome, releasable[outcome.name], rewritten):
                    outcome = dataclasses.replace(outcome, note=(outcome.note + "; " if outcome.note else "") + said)
            if details[outcome.name] is not None:
                meta["breakdown (worst first)"] = dg.MetadataValue.md(quality.markdown_table(details[outcome.name]))
            if outcome.name in pictures:
                meta["real vs synthetic"] = dg.MetadataValue.md(pictures[outcome.name])
            context.log.info(
                f"{name}: score {rounded(outcome.score)} vs threshold {outcome.threshold}: "
                + ("pass" if outcome.passed else "FAIL")
            )
            yield _verdict(target, name, outcome, scores.synthetic_rows_scored, meta, history)
        yield from _privacy_results(target, priv, dataset, history)
        yield from _attack_results(target, risks, dataset, history)
        yield _rules_result(target, rule_verdicts, dataset, len(synthetic), history)
        leak_rows = [{"column": c, "distinct_values_matching_raw": n} for c, n in sorted(leaks.items())]
        yield _verdict(
            target,
            LEAK_CHECK,
            judge_leaks(leaks),
            len(synthetic),
            {
                "matching_values": sum(leaks.values()),
                "columns_with_matches": dg.MetadataValue.md(
                    pd.DataFrame(leak_rows).to_markdown(index=False) if leak_rows else "_none_"
                ),
                "rows_scanned": len(synthetic),
            },
            history,
        )
        yield _verdict(
            target,
            RECORDS_CHECK,
            judge_run_records(records_hits),
            None,
            {
                "raw_values_found": records_hits,
                "scanned": "event logs and captured stdout/stderr of the runs that built this dataset, validation report, "
                "PII plan as the UI shows it",
            },
            history,
        )
        passed = all(h["passed"] for h in history)
        shapes = scores.column_shapes_detail
        write_json(paths.gate_pictures, pictures)
        write_json(
            paths.gate_verdict,
            {
                "passed": passed,
                "staged_digest": staged_digest,
                "run_id": context.run.run_id,
                # per column, for the data dictionary (meta.columns) of the published table
                "column_shapes": {
                    str(c): float(v) for c, v in zip(shapes.get("Column", []), shapes.get("Score", []), strict=True)
                }
                if shapes is not None and not shapes.empty
                else {},
            },
        )
        append_jsonl(paths.gate_log, {"run_id": context.run.run_id, "staged_digest": staged_digest, "passed": passed})
        record(
            synth.public_path,
            "quality_history",
            dataset.name,
            context.run.run_id,
            history,
            synth.public_storage_version,
            synth.publish_lock_timeout_seconds,
        )

    return quality_gate


def stage_defs(config: PipelineConfig) -> dg.Definitions:
    return dg.Definitions(asset_checks=[build_quality_checks(d) for d in config.datasets.values()])


defs = for_configured_datasets(stage_defs)
