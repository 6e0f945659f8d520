"""Dates in order are modelled as an anchor date and a gap: SDV's CAG idea, from discovered order rules.

A model that draws ``c_jail_in`` and ``c_jail_out`` each from its own marginal breaks their order in half
of its rows (GaussianCopula on COMPAS); closing the order afterwards turns the later date into the larger of
two draws, a shift of 0.25 in its Column Shapes score whatever the gap drawn. Learning ``c_jail_out - c_jail_in``
instead, and writing ``c_jail_out`` back as ``c_jail_in + gap``, keeps both marginals and the order.

The dates of discovered or declared orders between two dates form a forest: each date is measured from at
most one anchor, tightest gaps first, and only from an anchor it almost never has a value without. A gap is
a number of the date's own steps (days, hours, minutes or seconds), on the order's side when written back.
The encoding holds column names and steps, and per gap one aggregate: the anchor's median (of 100 rows or more),
from which the few dates without an anchor are measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.disclosure import _step, as_float

MAX_ORPHAN_SHARE = 0.01  # rows of b with no anchor value: a gap cannot say them, so b would lose them
MIN_ROWS = 100


@dataclass(frozen=True)
class Gap:
    anchor: str
    column: str
    step: float  # nanoseconds: the column's precision
    later: bool = True  # the column comes after its anchor (an order's later date); else before it
    dtype: str = "datetime64[ns]"  # the column's own unit (Parquet gives us or ms): published as it came
    # Where real rows have the date but not the anchor (at most MAX_ORPHAN_SHARE of them), the gap is measured from
    # the anchor's median instead: the date keeps its value rather than coming out null where the real one is not.
    fill: float = float("nan")


@dataclass
class GapEncoding:
    gaps: list[Gap] = field(default_factory=list)  # an anchor is written back before the dates measured from it

    def __bool__(self) -> bool:
        return bool(self.gaps)

    @property
    def columns(self) -> list[str]:
        return [g.column for g in self.gaps]

    @classmethod
    def learn(cls, rules: list[Any], frame: pd.DataFrame) -> GapEncoding:
        """Each date of an order rule measured from one other, tightest gaps first, as a forest of anchors.

        Either end may be measured from the other: ``c_offense_date <= compas_screening_date`` measures the
        offence back from the screening, which every row has, rather than the screening from an offence date
        that a sixth of the rows lack. A column is measured only from an anchor it never has a value without.
        """
        candidates: list[tuple[float, Gap]] = []
        for r in rules:
            if r.kind != "order" or not all(c in frame.columns for c in r.columns):
                continue
            a, b = r.columns
            if not all(pd.api.types.is_datetime64_any_dtype(frame[c].dtype) for c in (a, b)):
                continue
            va, vb = as_float(frame[a]), as_float(frame[b])
            both = ~np.isnan(va) & ~np.isnan(vb)
            if both.sum() < MIN_ROWS:
                continue
            spread = float(np.std(vb[both] - va[both]))
            for anchor, col, values, later in ((a, b, vb, True), (b, a, va, False)):
                present = ~np.isnan(values)
                orphans = int((present & ~both).sum())
                if orphans <= MAX_ORPHAN_SHARE * present.sum():
                    step = _step(np.sort(values[present]), True)
                    anchors = va if later else vb
                    # A median of 100 rows or more; only where real rows have the date without the anchor (else a
                    # drawn date without its anchor stays null, as in every real row).
                    fill = float(np.round(np.nanmedian(anchors) / step) * step) if orphans else float("nan")
                    candidates.append((spread, Gap(anchor, col, step, later, str(frame[col].dtype), fill)))
        chosen: dict[str, Gap] = {}
        tree = _Forest()
        for _, g in sorted(candidates, key=lambda c: (c[0], c[1].column, c[1].anchor)):
            if g.column not in chosen and tree.join(g.anchor, g.column):
                chosen[g.column] = g
        return cls(_in_anchor_order(chosen))

    def describe(self) -> list[str]:
        """One line per measured date, as the UI shows them: ``c_jail_in = c_jail_out - gap``."""
        return [f"{g.column} = {g.anchor} {'+' if g.later else '-'} gap" for g in self.gaps]

    def metadata(self, metadata_dict: dict[str, Any]) -> dict[str, Any]:
        """The model's metadata: each gap is a number."""
        out = {**metadata_dict, "tables": {t: {**spec} for t, spec in metadata_dict["tables"].items()}}
        for table, spec in out["tables"].items():
            columns = {c: dict(v) for c, v in spec["columns"].items()}
            for col in self.columns:
                if col in columns:
                    columns[col] = {"sdtype": "numerical"}
            out["tables"][table]["columns"] = columns
        return out

    def encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each measured date as its distance from its anchor, in its own steps (from the real values of both)."""
        out = frame.copy()
        for g in self.gaps:
            gap = (as_float(frame[g.column]) - _anchor(frame, g)[0]) / g.step
            out[g.column] = pd.Series(gap if g.later else -gap, index=frame.index, dtype=float)
        return out

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Dates back from their anchors (already written back), on their own steps, on the order's side."""
        out = frame.copy()
        for g in self.gaps:
            gap = pd.to_numeric(out[g.column], errors="coerce").to_numpy(dtype=float)
            anchor, orphan = _anchor(out, g)  # an orphan is measured from the median: either side of it
            steps = np.round(np.where(orphan, gap, np.clip(gap, 0.0, None))) * (1.0 if g.later else -1.0)
            # On the column's own grid: the model's anchor may carry a fraction of a second the column never has.
            values = np.round((anchor + steps * g.step) / g.step) * g.step
            ok = ~np.isnan(values)
            stamps = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
            stamps[ok] = values[ok].astype(np.int64).astype("datetime64[ns]")
            written = pd.Series(stamps, index=out.index)
            out[g.column] = written.astype(g.dtype) if "," not in g.dtype else written  # a zone: left as UTC
        return out


def _anchor(frame: pd.DataFrame, g: Gap) -> tuple[np.ndarray, np.ndarray]:
    """The anchor's values, its median where it is null, and which rows those are."""
    values = as_float(frame[g.anchor])
    orphan = np.isnan(values) & ~np.isnan(g.fill)
    return np.where(orphan, g.fill, values), orphan


def _in_anchor_order(chosen: dict[str, Gap]) -> list[Gap]:
    """Anchors first; a chain that loops back (contradictory declared rules) is left out."""
    ordered: list[Gap] = []
    pending = dict(chosen)
    while ready := sorted((g for g in pending.values() if g.anchor not in pending), key=lambda g: g.column):
        for g in ready:
            ordered.append(g)
            del pending[g.column]
    return ordered


class _Forest:
    """Union-find over columns: a new anchor link must not close a loop."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def _root(self, x: str) -> str:
        while self.parent.get(x, x) != x:
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> bool:
        ra, rb = self._root(a), self._root(b)
        if ra == rb:
            return False
        self.parent[rb] = ra
        return True
