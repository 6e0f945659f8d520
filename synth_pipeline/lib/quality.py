"""The quality gate: SDMetrics scores on a fixed-seed sample, reproducible run to run.

SDMetrics subsamples large tables without a seed, so we draw the sample
ourselves (``gate.sample_rows`` rows, ``gate.seed``) and hand SDMetrics tables
small enough that it never subsamples again. Column Pair Trends in SDMetrics
0.32 averages only pairs that are strongly related in the real data; the
number of pairs scored is reported with the score. Its numbers are binned on
the real column's edges for both tables (:func:`_real_binned_pair_trends`).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.config import GateConfig
from synth_pipeline.lib.outcomes import Outcome
from synth_pipeline.lib.synthesis import TABLE, as_datetime, columns_of, prepare_training_frame


@dataclass
class GateScores:
    data_validity: float
    data_structure: float
    column_shapes: float
    column_pair_trends: float
    pairs_scored: int
    pairs_total: int  # pairs looked at: every pair of the table, or a seeded sample of MAX_PAIRS of them
    real_rows_scored: int
    synthetic_rows_scored: int
    column_shapes_detail: pd.DataFrame = field(repr=False)
    column_pair_trends_detail: pd.DataFrame = field(repr=False)
    validity_detail: pd.DataFrame = field(repr=False)
    pooled_columns: list[str] = field(default_factory=list)
    pairs_in_table: int = 0
    pairs_thin: int = 0  # related pairs left out: fewer than MIN_PAIR_ROWS real rows hold both columns

    def as_dict(self) -> dict[str, Any]:
        return {
            "data_validity": self.data_validity,
            "data_structure": self.data_structure,
            "column_shapes": self.column_shapes,
            "column_pair_trends": self.column_pair_trends,
            "pairs_scored": self.pairs_scored,
            "pairs_total": self.pairs_total,
            "pairs_in_table": self.pairs_in_table,
            "pairs_thin": self.pairs_thin,
            "real_rows_scored": self.real_rows_scored,
            "synthetic_rows_scored": self.synthetic_rows_scored,
        }


def fixed_sample(df: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(df) <= rows:
        return df.reset_index(drop=True)
    return df.sample(n=rows, random_state=seed).reset_index(drop=True)


OTHER = "(other)"


def pool_rare_categories(
    real: pd.DataFrame, synthetic: pd.DataFrame, table_meta: dict[str, Any], keep: int
) -> list[str]:
    """Score high-cardinality categoricals on their ``keep`` most frequent real categories plus '(other)'.

    With thousands of categories most contingency cells hold a row or two, so
    even a fresh sample of the real data would score badly; pooling compares
    what can be compared. Changes the scoring copies in place; returns the pooled columns.
    """
    if keep <= 0:
        return []
    pooled = []
    for col, spec in table_meta["columns"].items():
        if spec["sdtype"] != "categorical" or real[col].nunique() <= keep:
            continue
        top = set(real[col].value_counts().index[:keep])
        for frame in (real, synthetic):
            frame[col] = _pooled(frame[col], top)
        pooled.append(col)
    return pooled


def pool_tails(frame: pd.DataFrame, tails: dict[str, list[Any]] | None) -> pd.DataFrame:
    """Long-tail columns (disclosure.py) scored on the values they keep plus '(other)': the real rare values
    and the fresh values that stand for them are one category, as the model learnt them. Returns ``frame``, its
    columns replaced, never written into."""
    for col, kept in (tails or {}).items():
        if col in frame.columns:
            frame[col] = _pooled(frame[col], kept)
    return frame


def _pooled(s: pd.Series, kept: Any) -> pd.Series:
    """``s`` with every value outside ``kept`` (nulls aside) as one category, '(other)'."""
    return s.where(s.isna() | s.isin(kept), OTHER)


def validity_reference(real: pd.DataFrame, sdtypes: dict[str, str], sample_rows: int, seed: int) -> pd.DataFrame:
    """A small stand-in for the real table's columns in ``sdtypes``, with the same minimum, maximum and categories
    per column.

    SDMetrics' Data Validity (boundary and category adherence) only reads those, so a million-row
    table need not be copied to check it (nor is it copied here: rows are picked, then taken).
    """
    default_index = isinstance(real.index, pd.RangeIndex) and real.index.start == 0 and real.index.step == 1
    frame = real if default_index else real.reset_index(drop=True)
    columns = [c for c in frame.columns if c in sdtypes]
    keep = set(fixed_sample(frame, min(sample_rows, 1000), seed).index)
    for col in columns:
        s = frame[col]
        if sdtypes[col] in ("numerical", "datetime") and s.notna().any():
            if sdtypes[col] == "datetime":
                s = as_datetime(s)  # dates written as text ("Mar 26, 2005") order as dates, not as words
            keep.update([s.idxmin(), s.idxmax()])
            # A null too, when the real column has one: SDMetrics counts a synthetic null as out of bounds
            # when the reference has none (a column with 1 null in 2,160 real rows failed validity so).
            missing = s.isna().to_numpy().nonzero()[0]
            if len(missing):
                keep.add(frame.index[missing[0]])
        else:
            keep.update(s.drop_duplicates().index)
    return frame.loc[sorted(keep), columns]


# Data Validity is scored a few columns at a time, about this many synthetic cells at once: prepared whole, a
# million-row synthetic table was the gate's largest copy (+230 MB at 1M x 19, and SDMetrics' own copies on top).
VALIDITY_CELLS = 2_000_000


def diagnose(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    metadata: dict[str, Any],
    sample_rows: int,
    seed: int,
    tails: dict[str, list[Any]] | None = None,
) -> tuple[float, float, pd.DataFrame]:
    """SDMetrics' Diagnostic report (Data Validity, Data Structure) over every synthetic row, column group by group.

    Data Validity averages one score per column and metric, and Data Structure compares column names and dtypes,
    so the groups' details together give the report's scores on the whole table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the single-table reports are deprecated, not changed
        from sdmetrics.reports.single_table import DiagnosticReport
        from sdmetrics.single_table import TableStructure

    table_meta = metadata["tables"][TABLE]
    cols = list(table_meta["columns"])
    sdtypes = {c: spec["sdtype"] for c, spec in table_meta["columns"].items()}
    reference = pool_tails(
        prepare_training_frame(validity_reference(real, sdtypes, sample_rows, seed), metadata), tails
    )
    step = max(1, VALIDITY_CELLS // max(1, len(synthetic)))
    details, shells = [], []
    for start in range(0, len(cols), step):
        group = cols[start : start + step]
        syn = pool_tails(prepare_training_frame(columns_of(synthetic, group), metadata), tails)  # one copy
        report = DiagnosticReport()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report.generate(reference[group], syn, _table_meta_of(table_meta, group), verbose=False)
        details.append(report.get_details("Data Validity"))
        shells.append(syn.iloc[:0])
    detail = pd.concat(details, ignore_index=True)
    structure = TableStructure.compute(reference, pd.concat(shells, axis=1))
    return _score(detail["Score"].mean()), _score(structure), detail


def _table_meta_of(table_meta: dict[str, Any], group: list[str]) -> dict[str, Any]:
    """The table's metadata for ``group`` of its columns: a key is kept where its columns are in the group."""
    meta = {k: v for k, v in table_meta.items() if k not in ("columns", "primary_key", "alternate_keys")}
    meta["columns"] = {c: table_meta["columns"][c] for c in group}
    key = table_meta.get("primary_key")
    if key is not None and set([key] if isinstance(key, str) else key) <= set(group):
        meta["primary_key"] = key
    alternate = [k for k in table_meta.get("alternate_keys", []) if set([k] if isinstance(k, str) else k) <= set(group)]
    if alternate:
        meta["alternate_keys"] = alternate
    return meta


def _score(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return v


MAX_FALLBACK_PAIRS = 300
PAIR_CELLS = 2_000_000  # rows x pairs of one block of correlations: 16 MB an array
CORRELATIONS_TOGETHER = True  # False: SDMetrics' CorrelationSimilarity pair by pair, as the tests compare
# A wide table has too many pairs to score each (HELPfull: 308,505 pairs; no report in minutes): a seeded
# sample of this many stands for them, and the note says so.
MAX_PAIRS = 3000
# A pair's real relation is measured on the rows that hold both columns; on fewer than this many it is noise (a
# correlation's standard error is about 0.18 at 30 rows). great_tables' reactions (1,683 compounds x 35 sparse
# rate constants) had pairs of 2 to 5 such rows, "strongly related" at -1.000 or 0.931, and failed on them.
MIN_PAIR_ROWS = 30
# The breakdown's column that says which pairs Column Pair Trends averages: a reader of reactions' breakdown saw
# twelve pairs of 2 to 13 rows at its top, worst first, none of them in the score.
COUNTED = "Counted in Score"


def _real_binned_pair_trends(seed: int = 0) -> Any:
    """SDMetrics 0.32's Column Pair Trends property, with the synthetic numbers binned on the real column's edges.

    The report bins each table on its own range (``_get_processed_data`` runs once per table), so a
    synthetic column whose extremes the disclosure control clamped has every bin shifted and loses
    contingency score it did not lose in distribution, while a column shifted wholesale keeps its score.
    Real edges with open outer bins are what SDMetrics' own ``ContingencySimilarity`` does with
    ``continuous_column_names`` and what its maintainers specified for the report (SDMetrics#368).
    """
    from sdmetrics.column_pairs import CorrelationSimilarity
    from sdmetrics.reports.single_table._properties import ColumnPairTrends
    from sdmetrics.utils import get_columns_from_metadata, get_table_data_from_dict

    class RealBinnedPairTrends(ColumnPairTrends):
        def __init__(self) -> None:
            super().__init__()
            self._real_edges: dict[str, np.ndarray] = {}
            self._processed: list[pd.DataFrame] = []
            self._correlations: tuple[_Correlations, _Correlations, Any] | None = None  # real, synthetic, metric
            self._pairs: list[tuple[str, str]] = []

        def _generate_details(self, real_data, synthetic_data, metadata, progress_bar=None, column_pairs=None):
            real = self._convert_datetime_columns_to_numeric(get_table_data_from_dict(real_data).copy(), metadata)
            edges: dict[str, np.ndarray] = {}
            for name, spec in get_columns_from_metadata(metadata).items():
                if spec["sdtype"] not in ("numerical", "datetime") or name not in real.columns:
                    continue
                try:
                    e = np.histogram_bin_edges(pd.to_numeric(real[name], errors="coerce").dropna())
                except Exception:  # no real number to bin: SDMetrics records the failure as before
                    continue
                e[0], e[-1] = -np.inf, np.inf
                edges[name] = e
            self._real_edges = edges
            self._processed, self._correlations = [], None
            if column_pairs is None:
                columns = list(get_columns_from_metadata(metadata))
                column_pairs = sampled_pairs(columns, MAX_PAIRS, seed)
            self._pairs = column_pairs = list(column_pairs)
            try:
                return super()._generate_details(real_data, synthetic_data, metadata, progress_bar, column_pairs)
            finally:
                self._real_edges, self._processed, self._correlations, self._pairs = {}, [], None, []

        def _discretize_column(self, column_name, data, bin_edges=None):
            if bin_edges is None:
                bin_edges = self._real_edges.get(column_name)
            return super()._discretize_column(column_name, data, bin_edges)

        def _get_processed_data(self, data, metadata):
            processed = super()._get_processed_data(data, metadata)
            self._processed.append(processed[0])  # the real table's, then the synthetic one's
            return processed

        def _get_columns_data_and_metric(self, column_name_1, column_name_2, *tables_and_metadata):
            # Two numbers: the correlations computed together need the pair's names only, not SDMetrics' two
            # copies of its columns (0.8 ms a pair).
            metadata = tables_and_metadata[-1]
            sdtypes = get_columns_from_metadata(metadata)
            shapes = {self._sdtype_to_shape.get(sdtypes[c]["sdtype"]) for c in (column_name_1, column_name_2)}
            if shapes == {"continuous"} and CORRELATIONS_TOGETHER:
                real, synthetic, _ = self._correlations_of_tables()
                if real.of(column_name_1, column_name_2) and synthetic.of(column_name_1, column_name_2):
                    pair = _ColumnNames([column_name_1, column_name_2])
                    return pair, pair, CorrelationSimilarity
            return super()._get_columns_data_and_metric(column_name_1, column_name_2, *tables_and_metadata)

        def _compute_pair_score(self, metric, col_real, col_synthetic, metric_params):
            if (
                metric.__name__ != "CorrelationSimilarity"
                or "coefficient" in metric_params
                or not CORRELATIONS_TOGETHER
            ):
                return super()._compute_pair_score(metric, col_real, col_synthetic, metric_params)
            *_, together = self._correlations_of_tables()
            return super()._compute_pair_score(together, col_real, col_synthetic, metric_params)

        def _correlations_of_tables(self):
            if self._correlations is None:
                real, synthetic = (_Correlations(frame, self._pairs) for frame in self._processed)
                self._correlations = real, synthetic, _correlation_similarity(real, synthetic)
            return self._correlations

    return RealBinnedPairTrends()


@dataclass(frozen=True)
class _ColumnNames:
    """A pair's names where SDMetrics passes its two columns: all the correlations computed together need."""

    columns: list[str]


class _Correlations:
    """The Pearson correlation of each pair of a table's columns of numbers, on the rows that hold both columns, and
    what SDMetrics' CorrelationSimilarity checks before it: columns of one value, pairs of fewer than two rows.
    Computed for the pairs scored only, a block of pairs at a time: a matrix of every pair of a survey's 786
    columns would cost more than the 3,000 pairs sampled from it.

    Computed pair by pair, SDMetrics' pandas copies, ``nunique``, ``dropna`` and ``pearsonr`` cost about 3 ms a
    pair: the EIA's 311 columns of electricity sales (3,000 pairs scored) spent 8.5 s on them in each candidate's
    scoring and the gate's, and the run took 98 s. Here: 0.8 s, and 63 s; the same scores to 1e-15."""

    def __init__(self, frame: pd.DataFrame, pairs: list[tuple[str, str]]) -> None:
        numbers = frame.select_dtypes(include=["number", "bool"]).astype("float64")
        self.columns = {c: i for i, c in enumerate(numbers.columns)}
        self.constant = (numbers.nunique() == 1).to_numpy()
        values = numbers.to_numpy()
        present = ~np.isnan(values)
        wanted = [(self.columns[a], self.columns[b]) for a, b in pairs if a in self.columns and b in self.columns]
        self.pairs: dict[tuple[int, int], tuple[int, float]] = {}  # (i, j): rows holding both, correlation
        for part in _pair_blocks(len(wanted), len(values)):
            i, j = (np.array(side, dtype=np.intp) for side in zip(*wanted[part], strict=True))
            both = present[:, i] & present[:, j]
            n = both.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.where(both, values[:, i], 0.0)
                y = np.where(both, values[:, j], 0.0)
                x = np.where(both, x - x.sum(axis=0) / n, 0.0)
                y = np.where(both, y - y.sum(axis=0) / n, 0.0)
                r = (x * y).sum(axis=0) / np.sqrt((x * x).sum(axis=0) * (y * y).sum(axis=0))
            # One value on the rows held (`0.1` thrice: its mean is not exactly 0.1): no correlation, as pearsonr says.
            r[_one_value(values[:, i], both) | _one_value(values[:, j], both)] = np.nan
            self.pairs.update(
                zip(zip(i.tolist(), j.tolist(), strict=True), zip(n.tolist(), r.tolist(), strict=True), strict=True)
            )

    def of(self, a: str, b: str) -> tuple[int, float] | None:
        i, j = self.columns.get(a), self.columns.get(b)
        if i is None or j is None:
            return None
        return self.pairs.get((i, j)) or self.pairs.get((j, i))


def _correlation_similarity(real: _Correlations, synthetic: _Correlations) -> Any:
    """SDMetrics' CorrelationSimilarity, reading both tables' correlations as computed together."""
    from sdmetrics.column_pairs import CorrelationSimilarity as Base

    class CorrelationSimilarity(Base):  # the property tells its metrics by name
        @classmethod
        def compute_breakdown(cls, real_data, synthetic_data, coefficient="Pearson", real_correlation_threshold=0):
            names = list(real_data.columns[:2])
            if real.of(*names) is None or synthetic.of(*names) is None:
                return super().compute_breakdown(real_data, synthetic_data, coefficient, real_correlation_threshold)
            for table, said in ((real, "real data"), (synthetic, "synthetic data")):
                constant = [c for c in names if table.constant[table.columns[c]]]
                if constant:
                    cls._raise_constant_data_error(constant, said)
            correlation_real = _pearson(real, *names)
            if np.abs(correlation_real) <= real_correlation_threshold:
                return {"score": np.nan, "real": correlation_real, "synthetic": np.nan}
            correlation_synthetic = _pearson(synthetic, *names)
            if np.isnan(correlation_real) or np.isnan(correlation_synthetic):
                return {"score": np.nan, "real": correlation_real, "synthetic": correlation_synthetic}
            return {
                "score": 1 - abs(correlation_real - correlation_synthetic) / 2,
                "real": correlation_real,
                "synthetic": correlation_synthetic,
            }

    return CorrelationSimilarity


def _pair_blocks(pairs: int, rows: int) -> list[slice]:
    """Slices of the pairs, each block holding about ``PAIR_CELLS`` cells of a rows x pairs array."""
    size = max(1, PAIR_CELLS // max(1, rows))
    return [slice(start, start + size) for start in range(0, pairs, size)]


def _one_value(values: np.ndarray, held: np.ndarray) -> np.ndarray:
    return np.where(held, values, -np.inf).max(axis=0) == np.where(held, values, np.inf).min(axis=0)


def _pearson(table: _Correlations, a: str, b: str) -> float:
    rows, r = table.of(a, b) or (0, float("nan"))
    if rows < 2:
        raise ValueError("`x` and `y` must have length at least 2.")  # as scipy's pearsonr says it
    return min(1.0, max(-1.0, r)) if not math.isnan(r) else r  # pearsonr clips to [-1, 1]


def pair_count(columns: int) -> int:
    return columns * (columns - 1) // 2


def sampled_pairs(columns: list[str], limit: int, seed: int) -> list[tuple[str, str]]:
    """Every pair, in SDMetrics' order, or a seeded sample of ``limit`` of them (in that order too)."""
    total = pair_count(len(columns))
    if total <= limit:
        return list(itertools.combinations(columns, 2))
    chosen = np.sort(np.random.default_rng(seed).choice(total, limit, replace=False))
    # Index k of the combinations, without listing them all: row i starts at i*n - i*(i+1)/2.
    n = len(columns)
    starts = np.array([i * n - i * (i + 1) // 2 for i in range(n)])
    rows = np.searchsorted(starts, chosen, side="right") - 1
    cols = chosen - starts[rows] + rows + 1
    return [(columns[i], columns[j]) for i, j in zip(rows, cols, strict=True)]


def _score_every_pair(
    real: pd.DataFrame, synthetic: pd.DataFrame, pairs: pd.DataFrame, sdtypes: dict[str, str], seed: int
) -> pd.DataFrame:
    """SDMetrics' pair metrics with no relation threshold: correlation for two numbers or dates, contingency
    (numbers in 10 bins) otherwise; at most ``MAX_FALLBACK_PAIRS`` pairs, chosen with ``seed``."""
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity

    chosen = pairs.sample(n=min(len(pairs), MAX_FALLBACK_PAIRS), random_state=seed) if len(pairs) else pairs
    scores = pd.Series(np.nan, index=pairs.index)
    for i, row in chosen.iterrows():
        a, b = row["Column 1"], row["Column 2"]
        continuous = [c for c in (a, b) if sdtypes.get(c) in ("numerical", "datetime")]
        try:
            if len(continuous) == 2:
                value = CorrelationSimilarity.compute(real[[a, b]], synthetic[[a, b]])
            else:
                value = ContingencySimilarity.compute(
                    real[[a, b]], synthetic[[a, b]], continuous_column_names=continuous or None
                )
        except Exception:  # a constant column has no correlation: the pair stays unscored
            value = float("nan")
        scores[i] = _score(value)
    return pairs.assign(Score=scores)


def _rows_holding_both(pairs: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
    present = real.notna().to_numpy()
    where = {c: i for i, c in enumerate(real.columns)}
    i = pairs["Column 1"].map(where).to_numpy(dtype=np.intp)
    j = pairs["Column 2"].map(where).to_numpy(dtype=np.intp)
    both = np.zeros(len(pairs), dtype=np.int64)
    for part in _pair_blocks(len(pairs), len(real)):  # one pass per block of pairs, not two Series per pair
        both[part] = (present[:, i[part]] & present[:, j[part]]).sum(axis=0)
    return both


def evaluate(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    metadata: dict[str, Any],
    gate: GateConfig,
    tails: dict[str, list[Any]] | None = None,
) -> GateScores:
    """Score ``synthetic`` against the de-identified ``real`` table it was trained on. ``tails``: the model's
    long-tail columns with the values each keeps (``DisclosureControl.tails``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the single-table reports are deprecated, not changed
        from sdmetrics.reports.single_table import QualityReport

    table_meta = metadata["tables"][TABLE]
    cols = list(table_meta["columns"])
    # Rows drawn first, columns taken after (the same rows): ``frame[cols]`` would copy every row.
    real_s = pool_tails(prepare_training_frame(fixed_sample(real, gate.sample_rows, gate.seed)[cols], metadata), tails)
    syn_s = pool_tails(
        prepare_training_frame(fixed_sample(synthetic, gate.sample_rows, gate.seed + 1)[cols], metadata), tails
    )
    pooled = pool_rare_categories(real_s, syn_s, table_meta, gate.max_categories)
    sdtypes = {c: spec["sdtype"] for c, spec in table_meta["columns"].items()}
    np.random.seed(gate.seed)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = QualityReport()
        quality.num_rows_subsample = None
        quality._properties["Column Pair Trends"] = _real_binned_pair_trends(gate.seed)
        quality.generate(real_s, syn_s, table_meta, verbose=False)
    # Validity is judged on every synthetic row against every real value range and category.
    validity, structure, validity_detail = diagnose(real, synthetic, metadata, real_s.index.size, gate.seed, tails)

    props = quality.get_properties().set_index("Property")["Score"]
    pairs = quality.get_details("Column Pair Trends").copy()
    if "Meets Threshold?" in pairs.columns:
        scored = pairs[pairs["Meets Threshold?"].fillna(False).astype(bool) & pairs["Score"].notna()]
    else:  # older SDMetrics: every pair counts
        scored = pairs[pairs["Score"].notna()]
    pair_trends = _score(props.get("Column Pair Trends"))
    if len(pairs):  # shown in the check's breakdown: why a related pair was left out
        pairs["Real Rows Holding Both"] = _rows_holding_both(pairs, real_s)
        scored = pairs.loc[scored.index]
    supported = scored.get("Real Rows Holding Both", pd.Series(dtype=np.int64)).to_numpy() >= MIN_PAIR_ROWS
    thin = int((~supported).sum())
    if thin:
        scored = scored[supported]
        pair_trends = float(scored["Score"].mean()) if len(scored) else float("nan")
    if scored.empty and len(pairs):
        # No pair is strongly related in the real data (independent columns): SDMetrics 0.32 then scores nothing.
        # Every pair is evidence that the synthesizer did not invent relations, so they are scored here.
        pairs = _score_every_pair(
            real_s, syn_s, pairs[pairs["Real Rows Holding Both"] >= MIN_PAIR_ROWS], sdtypes, gate.seed
        )
        scored = pairs[pairs["Score"].notna()]
        pair_trends = float(scored["Score"].mean()) if len(scored) else float("nan")
    if len(pairs):  # the breakdown shows the pairs the score averages first, and says which they are
        pairs[COUNTED] = pairs.index.isin(scored.index)
    return GateScores(
        data_validity=validity,
        data_structure=structure,
        column_shapes=_score(props.get("Column Shapes")),
        column_pair_trends=pair_trends,
        pairs_scored=len(scored),
        pairs_total=len(pairs),
        pairs_in_table=pair_count(len(cols)),
        pairs_thin=thin,
        real_rows_scored=len(real_s),
        synthetic_rows_scored=len(syn_s),
        column_shapes_detail=quality.get_details("Column Shapes"),
        pooled_columns=pooled,
        column_pair_trends_detail=pairs,
        validity_detail=validity_detail,
    )


def judge(scores: GateScores, gate: GateConfig) -> list[Outcome]:
    def at_least(name: str, score: float, threshold: float, note: str = "") -> Outcome:
        return Outcome(name, score, threshold, bool(score >= threshold - 1e-12), note)

    pair_note = f"{scores.pairs_scored} of {scores.pairs_total} pairs scored"
    if scores.pairs_in_table > scores.pairs_total:
        pair_note += f" (a seeded sample of the table's {scores.pairs_in_table:,} pairs)"
    if scores.pairs_thin:
        pair_note += f"; {scores.pairs_thin} related pairs left out: fewer than {MIN_PAIR_ROWS} real rows hold both"
    cpt = scores.column_pair_trends
    if np.isnan(cpt) or scores.pairs_scored == 0:
        # No pair scored is no evidence (a table of one column): the check fails rather than passes.
        cpt_outcome = Outcome(
            "column_pair_trends",
            float("nan"),
            gate.column_pair_trends,
            gate.column_pair_trends <= 0,
            "no pair of columns could be scored: no evidence (set gate.column_pair_trends: 0 to publish anyway)",
        )
    else:
        cpt_outcome = at_least("column_pair_trends", cpt, gate.column_pair_trends, pair_note)
    return [
        at_least("data_validity", scores.data_validity, gate.data_validity),
        at_least("data_structure", scores.data_structure, gate.data_structure),
        at_least("column_shapes", scores.column_shapes, gate.column_shapes),
        cpt_outcome,
    ]


def markdown_table(df: pd.DataFrame, max_rows: int = 40, sort_by: str | None = "Score") -> str:
    if df is None or df.empty:
        return "_no rows_"
    view = df.sort_values(sort_by) if sort_by and sort_by in df.columns else df
    if COUNTED in view.columns:  # stable: worst first among the counted rows, then among the others
        view = view.sort_values(COUNTED, ascending=False, kind="stable")
    shown = view.head(max_rows)
    text = shown.to_markdown(index=False, floatfmt=".3f")
    if len(view) > max_rows:
        text += f"\n\n_{len(view) - max_rows} more rows not shown (worst first)._"
    return text
