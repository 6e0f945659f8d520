"""Attacks on the synthetic table with anonymeter, the library whose method the CNIL reviewed.

Three attacks, each scored against held-out real rows (anonymeter's control set) so that what an
attacker would guess right anyway is subtracted, and each with a 95 % confidence interval:

- **singling out** (univariate): values unique in the synthetic table used as predicates that isolate
  one real training row;
- **linkability**: the columns split in two halves; a real row's first half and second half, each
  matched to their nearest synthetic rows, point to the same synthetic row;
- **inference**, on the columns a data owner marks sensitive (``privacy.sensitive_columns``): the
  other columns predict the secret one from the nearest synthetic row.

Runs on a seeded sample of ``privacy.attack_rows`` rows with a bounded number of attacks, so its cost
does not grow with the table. anonymeter 1.1.0 is installed with ``--no-deps``: its metadata pins
numpy < 1.27 and pyarrow < 22, which it does not need (it runs on numpy 2.4 and pyarrow 26 here).

Singling out is anonymeter's queries and risk formula, but evaluated here (``_singling_out``): 1.1.0's
correction for a control set smaller than the attacked rows does not work, and it refused fresh real rows
of small tables. anonymeter 1.1.0 also lists the rare values of each column with polars' ``group_by``
without ``maintain_order``, whose order changes from process to process; the seeded shuffle that follows
then picks different queries, and the same tables scored 0.09 in one run and 0.14 in the next.
``_ordered_univariate_queries`` is the same function with the order fixed.

anonymeter's two numba functions (the Gower distance and its nearest-neighbour loop) are compiled on first
use in every process, about 5 s each time: a third of a small table's gate. ``_cache_compiled`` recompiles
them with numba's on-disk cache, so only the first gate on a machine pays for it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.config import PrivacyConfig
from synth_pipeline.lib.disclosure import as_float
from synth_pipeline.lib.outcomes import Outcome
from synth_pipeline.lib.quality import fixed_sample
from synth_pipeline.lib.synthesis import TABLE, prepare_training_frame


@dataclass(frozen=True)
class AttackRisk:
    name: str  # singling_out | linkability | inference:<column>
    risk: float
    ci_low: float
    ci_high: float
    attacks: int
    note: str = ""

    def row(self) -> dict[str, Any]:
        return {
            "attack": self.name,
            "risk": round(self.risk, 4),
            "ci_95": f"{self.ci_low:.3f} - {self.ci_high:.3f}",
            "attacks": self.attacks,
            "note": self.note,
        }


def attack_frame(df: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
    """anonymeter's input: numbers as floats (dates as seconds), everything else as text, missing as its own value."""
    cols = list(metadata["tables"][TABLE]["columns"])
    frame = prepare_training_frame(df[cols], metadata)
    out = {}
    for c in cols:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = as_float(s) / 1e9
        elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype(float).to_numpy()
        else:
            out[c] = s.astype(object).where(s.notna(), "<NA>").astype(str).to_numpy()
    return pd.DataFrame(out)


_CACHED = False


def _cache_compiled() -> None:
    """The same Python functions, jitted with ``cache=True``: compiled once per machine, not once per process.

    ``_nearest_neighbors`` looks ``gower_distance`` up in its module when it is compiled, so it calls the
    cached one too. Numba keeps the cache beside anonymeter's source, or in the user's cache folder when
    that is read-only (a container's site-packages)."""
    global _CACHED
    if _CACHED:
        return
    import numba
    from anonymeter.neighbors import mixed_types_kneighbors as knn

    for name in ("gower_distance", "_nearest_neighbors"):
        jitted = getattr(knn, name)
        setattr(knn, name, numba.jit(nopython=True, nogil=True, cache=True)(jitted.py_func))
    _CACHED = True


def run_attacks(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    metadata: dict[str, Any],
    cfg: PrivacyConfig,
) -> list[AttackRisk]:
    from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator

    _cache_compiled()
    rows = cfg.attack_rows
    ori = attack_frame(fixed_sample(train, rows, cfg.seed), metadata)
    syn = attack_frame(fixed_sample(synthetic, rows, cfg.seed + 1), metadata)
    control = attack_frame(fixed_sample(holdout, rows, cfg.seed + 2), metadata)
    n = min(cfg.attack_count, len(control), len(ori))
    if len(control) < cfg.min_holdout_rows:  # too few rows to measure what chance gives: no evidence, fails
        note = f"{len(control)} held-out rows, at least {cfg.min_holdout_rows} needed"
        names = ["singling_out", "linkability", *(f"inference:{c}" for c in cfg.sensitive_columns)]
        return [AttackRisk(name, float("nan"), float("nan"), float("nan"), 0, note) for name in names]
    out: list[AttackRisk] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anonymeter warns when it finds fewer queries than asked: reported below
        out.append(_singling_out(ori, syn, control, min(cfg.singling_out_queries, len(ori)), cfg))
        cols = list(ori.columns)
        if len(cols) >= 2:
            linked = linking_columns(ori, cfg.linkability_columns)
            np.random.seed(cfg.seed)  # anonymeter draws its targets from numpy's global generator
            linking = LinkabilityEvaluator(
                ori, syn, aux_cols=(linked[0::2], linked[1::2]), n_attacks=n, control=control
            )
            linking.evaluate(n_jobs=1)
            chosen = (
                "columns split alternately into two halves"
                if len(linked) == len(cols)
                else f"the {len(linked)} of {len(cols)} columns with the fewest nulls and most values, split "
                "alternately into two halves"
            )
            control_rate = float(linking.results().control_rate.value)
            out.append(_risk("linkability", linking.risk(), n, f"{chosen}; chance links {control_rate:.0%}"))
        else:
            out.append(AttackRisk("linkability", float("nan"), float("nan"), float("nan"), 0, "fewer than 2 columns"))
        for secret in cfg.sensitive_columns:
            if secret not in cols:
                out.append(
                    AttackRisk(f"inference:{secret}", float("nan"), float("nan"), float("nan"), 0, "not trained")
                )
                continue
            np.random.seed(cfg.seed)
            inference = InferenceEvaluator(
                ori,
                syn,
                aux_cols=[c for c in cols if c != secret],
                secret=secret,
                regression=bool(pd.api.types.is_float_dtype(ori[secret].dtype)),
                n_attacks=n,
                control=control,
            )
            inference.evaluate(n_jobs=1)
            out.append(_risk(f"inference:{secret}", inference.risk(), n, "other columns predict it"))
    return out


def _singling_out(
    ori: pd.DataFrame, syn: pd.DataFrame, control: pd.DataFrame, queries: int, cfg: PrivacyConfig
) -> AttackRisk:
    """anonymeter's univariate singling-out risk, with the size of the held-out set accounted for by design.

    Whether a query singles out a row depends on how many rows it runs on. anonymeter 1.1.0 attacks all
    ``ori`` rows and scales the control's successes to that size with a fitted curve, but counts every
    query evaluated instead of the successful ones (``_measure_queries_success``), so the curve is flat:
    284 held-out rows against 2,000 training rows made fresh real rows score 0.31 on MASS Aids2.

    Here both sides are attacked at the control's size: the training sample is cut into chunks of as many
    rows as the control has, and each query's success is averaged over the chunks, so what chance gives
    cancels exactly, whatever the table. The excess that remains is what the synthetic table leaks at that
    size. A leaked row is in a sample of ``n`` rows with probability ``n / N``, so that excess grows
    linearly with the sample; it is scaled by ``len(ori) / n`` to the size anonymeter attacks, interval
    included (an upper bound for values that several training rows share). The interval is a paired one
    over the queries, which are drawn from the synthetic table independently of both sides.
    """
    import polars as pl
    from anonymeter.evaluators.singling_out_evaluator import _evaluate_queries, _safe_column_names
    from scipy.stats import norm

    def frame(df: pd.DataFrame) -> Any:
        return pl.DataFrame(_safe_column_names(df)).unique(maintain_order=True)

    ori_pl, syn_pl, control_pl = frame(ori), frame(syn), frame(control)
    asked = _ordered_univariate_queries(syn_pl, queries, np.random.default_rng(cfg.seed))
    n = min(len(control_pl), len(ori_pl))
    if n == 0 or queries < 2:
        return AttackRisk("singling_out", float("nan"), float("nan"), float("nan"), 0, "nothing to attack")

    # As in anonymeter, an attack the synthetic table offers no query for is a failed attack, on both sides; the
    # attacks are at least ``attack_count``, so a table that offers three queries does not score on three.
    total = max(len(asked), min(cfg.attack_count, queries))

    def singled_out(df: Any) -> np.ndarray:
        hits = np.zeros(total)
        hits[: len(asked)] = np.asarray(_evaluate_queries(df, asked), dtype=float) == 1 if asked else []
        return hits

    chunks = len(ori_pl) // n
    on_training = np.mean([singled_out(ori_pl.slice(j * n, n)) for j in range(chunks)], axis=0)
    on_control = singled_out(control_pl.head(n))
    excess = on_training - on_control
    scale = len(ori_pl) / n
    room = max(1.0 - float(on_control.mean()), 1e-9)
    value = float(excess.mean()) / room * scale
    error = float(norm.ppf(0.975) * excess.std(ddof=1) / np.sqrt(total)) / room * scale
    note = (
        f"{total} attacks, {len(asked)} with a query from the synthetic table; {on_training.mean():.1%} single out a "
        f"training row (mean over {chunks} chunks of {n} rows), {on_control.mean():.1%} one of {n} held-out rows; "
        f"excess scaled x{scale:.2f} to {len(ori_pl)} training rows"
    )
    return AttackRisk(
        "singling_out",
        min(max(value, 0.0), 1.0),
        min(max(value - error, 0.0), 1.0),
        min(max(value + error, 0.0), 1.0),
        total,
        note,
    )


def _ordered_univariate_queries(df: Any, n_queries: int, rng: np.random.Generator) -> list[Any]:
    """anonymeter 1.1.0's ``univariate_singling_out_queries`` with rare values in a fixed (sorted) order."""
    import polars as pl
    from anonymeter.evaluators.singling_out_evaluator import UniqueSinglingOutQueries

    queries: list[Any] = []
    schema = df.schema
    for col in df.columns:
        if df.select(pl.col(col).is_null().sum()).item() == 1:
            queries.append(pl.col(col).is_null())
        if schema[col].is_numeric() and df[col].drop_nulls().len() > 0:
            queries.extend([pl.col(col) <= df[col].min(), pl.col(col) >= df[col].max()])
        counts = df.group_by(col, maintain_order=True).len()
        rare = counts.filter(pl.col("len") == 1).select(col).to_series().sort(nulls_last=True).to_list()
        queries.extend(pl.col(col) == value for value in rare)
    rng.shuffle(queries)
    unique = UniqueSinglingOutQueries(max_size=n_queries)
    unique.check_and_extend(queries, df)
    return unique.queries


def linking_columns(frame: pd.DataFrame, limit: int) -> list[str]:
    """The columns the linkability attack joins on, in table order: all of them, or the ``limit`` most telling.

    Over hundreds of columns, distances concentrate: one synthetic row is the nearest neighbour of both halves
    of almost every real row. On HELPfull (788 columns) chance then linked 93 % of fresh real rows, so the
    risk (attack rate less chance, over what chance leaves) divided noise by 0.05 and swung from 0 to 0.5. An
    attacker joins on the columns that tell rows apart: filled in, with many values.
    """
    cols = list(frame.columns)
    if len(cols) <= limit:
        return cols
    filled = frame.apply(lambda s: s.notna() & (s.astype(str) != "<NA>")).mean()
    score = filled * np.log1p(frame.nunique())
    keep = set(score.sort_values(ascending=False, kind="stable").index[:limit])
    return [c for c in cols if c in keep]


def _risk(name: str, risk: Any, attacks: int, note: str) -> AttackRisk:
    low, high = risk.ci
    return AttackRisk(name, float(risk.value), float(low), float(high), attacks, note)


def judge_attacks(risks: list[AttackRisk], cfg: PrivacyConfig) -> list[Outcome]:
    """Singling out and linkability fail when even the low end of the 95 % interval is above the limit;
    an attack that could not run is no evidence, and fails."""
    limits = {"singling_out": cfg.max_singling_out_risk, "linkability": cfg.max_linkability_risk}
    out = []
    for r in risks:
        if r.name not in limits:
            continue
        evaluated = r.attacks > 0 and not np.isnan(r.ci_low)
        note = f"risk {r.risk:.3f}, 95 % CI {r.ci_low:.3f} - {r.ci_high:.3f}, {r.attacks} attacks; {r.note}"
        out.append(Outcome(r.name, r.risk, limits[r.name], evaluated and r.ci_low <= limits[r.name], note))
    return out
