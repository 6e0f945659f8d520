"""Any synthesizer behind the disclosure control and the row rules.

It learns protected rows and emits only protected values that obey the rules of the real rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.disclosure import DisclosureControl
from synth_pipeline.lib.errors import SynthPipelineError
from synth_pipeline.lib.rules import RuleBook
from synth_pipeline.lib.synthesizers.base import PickledSynthesizer
from synth_pipeline.lib.synthesizers.gaps import GapEncoding

MIN_ACCEPTANCE = 0.01  # below this a round asks for at most 100x the rows still needed ...
MAX_ASK_FACTOR = 50  # ... and never more than 50x the rows of the call (memory)
UNSAFE = "derived value the disclosure control does not allow"
CONDITION = "not the values of sample.conditions"


class RulesUnmetError(SynthPipelineError):
    """No row of a whole round obeyed the rules: the synthesizer cannot produce this table's rows."""


class ProtectedSynthesizer(PickledSynthesizer):
    """Wraps a fitted SDV-style synthesizer; ``sample`` filters its output through the control, then the rules.

    Rules are enforced as docs/rules.md explains: null patterns copied, domains rounded, broken
    orders closed and dependent columns derived (:meth:`RuleBook.repair`); rows that still break a
    rule are rejected and the synthesizer is asked again, up to ``max_rounds`` times; the few rows
    still missing after that are copies of accepted rows of this batch, counted in :attr:`rule_stats`.

    Every fitted and every loaded model is one of these, so callers ask it (``loss_values()``,
    ``privacy_spent``, ``control``, ``rule_stats``) instead of probing whatever the inner model is.
    """

    def __init__(
        self,
        inner: Any,
        control: DisclosureControl,
        rules: RuleBook | None = None,
        max_rounds: int = 5,
        gaps: GapEncoding | None = None,
    ):
        self.inner = inner
        self.control = control
        self.rules = rules
        self.max_rounds = max_rounds
        self.gaps = gaps  # dates the inner model learnt as gaps from an earlier date (gaps.py)
        self._rng = np.random.default_rng(control.seed + 1)
        self.rule_stats: dict[str, Any] = _empty_stats()

    def __getattr__(self, name: str) -> Any:
        if name in ("inner", "control", "_rng", "rules", "max_rounds", "rule_stats", "gaps"):  # unpickling
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def privacy_spent(self) -> dict[str, float] | None:
        """The differential-privacy budget the model spent (TabularARGN with ``epsilon``), else None."""
        spent = self.inner.__dict__.get("privacy_spent")
        return dict(spent) if spent else None

    def loss_values(self) -> pd.DataFrame | None:
        """Training losses of the neural models (CTGAN, TVAE, CopulaGAN, TabularARGN), else None."""
        getter = getattr(type(self.inner), "get_loss_values", None)
        if getter is None:
            return None
        try:
            losses = getter(self.inner)
        except Exception:  # SDV raises when a model recorded no loss
            return None
        return losses if isinstance(losses, pd.DataFrame) and not losses.empty else None

    def reset_sampling(self, seed: int | None = None) -> None:
        """Back to the state right after fitting; a seed gives another, equally reproducible, stream."""
        inner = self.inner
        if isinstance(inner, PickledSynthesizer):
            inner.reset_sampling(seed)
        elif hasattr(inner, "reset_sampling"):  # SDV: resets, then seeds its own generator on the next sample
            inner.reset_sampling()
            if seed is not None and getattr(inner, "_model", None) is not None:
                inner._set_random_state(seed)
        base = self.control.seed if seed is None else seed
        self._rng = np.random.default_rng(base + 1)
        self.control.moved_cells.clear()
        self.rule_stats = _empty_stats()

    def _draw(self, num_rows: int, **kwargs: Any) -> pd.DataFrame:
        gaps = self.__dict__.get("gaps")  # models saved before 0.7 have none
        book = self.__dict__.get("rules")
        order = getattr(type(self.inner), "visit_order", None)
        if book is not None and order is not None:  # a model that draws column by column derives as it goes
            kwargs["derive"] = book.inline_derivations(self.inner.visit_order, gaps.columns if gaps else ())
        out = self.inner.sample(num_rows, **kwargs)
        frame = next(iter(out.values())) if isinstance(out, dict) else out
        if gaps is None:
            return self.control.enforce(frame, self._rng)
        # Anchors pass the control first and the dates measured from them follow where it moved them: an
        # interview's end stays on its start's day instead of each date being moved a few days on its own.
        anchors = [c for c in frame.columns if c not in gaps.columns]
        frame = gaps.decode(self.control.enforce(frame, self._rng, anchors))
        return self.control.enforce(frame, self._rng, gaps.columns)

    def sample(self, num_rows: int, where: dict[str, Any] | None = None, **kwargs: Any) -> pd.DataFrame:
        """``num_rows`` rows; with ``where``, rows whose columns hold those values (conditional sampling),
        found among the synthesizer's own rows, so the rules and the control hold for them too."""
        book = getattr(self, "rules", None)
        if book is not None and not book.rules:
            book = None
        if book is None and not where:
            return self._draw(num_rows, **kwargs)
        stats = self.rule_stats
        accepted: list[pd.DataFrame] = []
        need, acceptance = num_rows, 1.0
        for round_ in range(self.max_rounds + 1):
            ask = need if round_ == 0 else math.ceil(need / max(acceptance, MIN_ACCEPTANCE) * 1.1)
            batch = self._draw(min(ask, MAX_ASK_FACTOR * num_rows + 10_000), **kwargs)
            valid = np.ones(len(batch), bool)
            rejected: dict[str, int] = {}
            if book is not None:
                # Values an order moved pass the control again (a rare date moves by a few days) ...
                batch = book.repair(batch, self._rng, lambda f, cols: self.control.enforce(f, self._rng, cols))
                valid, rejected = book.valid_rows(batch)
                # ... a computed value must stay exact: one the control would have changed rejects the row.
                unsafe = self.control.unsafe_rows(batch, book.computed_columns) & valid
                if unsafe.any():  # first move a free input of the identity a few steps (docs/rules.md)
                    protect = lambda f, cols: self.control.enforce(f, self._rng, cols)  # noqa: E731
                    batch, nudged = book.nudge(batch, unsafe, self.control.unsafe_rows, protect)
                    stats["nudged_rows"] = stats.get("nudged_rows", 0) + int(nudged.sum())
                    unsafe = self.control.unsafe_rows(batch, book.computed_columns) & valid
                if unsafe.any():
                    rejected[UNSAFE] = int(unsafe.sum())
                    valid &= ~unsafe
            if where:
                off = ~matches(batch, where) & valid
                if off.any():
                    rejected[CONDITION] = int(off.sum())
                    valid &= ~off
            stats["generated"] += len(batch)
            for text, n in rejected.items():
                stats["rejected_by_rule"][text] = stats["rejected_by_rule"].get(text, 0) + n
            acceptance = float(valid.mean()) if len(valid) else 0.0
            good = batch[valid].head(need)
            accepted.append(good)
            need -= len(good)
            if need == 0:
                break
            stats["resample_rounds"] += 1
        frame = pd.concat(accepted, ignore_index=True) if accepted else pd.DataFrame()
        if need > 0:
            if frame.empty:
                worst = sorted(stats["rejected_by_rule"].items(), key=lambda kv: -kv[1])[:3]
                raise RulesUnmetError(
                    f"no synthetic row obeyed every rule{' and the condition' if where else ''} in "
                    f"{self.max_rounds + 1} rounds; most rejections: "
                    + "; ".join(f"{t} ({n} rows)" for t, n in worst)
                    + ". Disable the rule (rules.disable), loosen the condition or try another synthesizer."
                )
            fill = frame.iloc[self._rng.integers(0, len(frame), need)]
            frame = pd.concat([frame, fill], ignore_index=True)
            stats["filled_rows"] += need
        stats["emitted"] += len(frame)
        return frame.reset_index(drop=True)


def matches(frame: pd.DataFrame, where: dict[str, Any]) -> np.ndarray:
    """Rows whose columns hold the given values (numbers compared as numbers, dates as dates, text as text)."""
    ok = np.ones(len(frame), bool)
    for col, value in where.items():
        s = frame[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            ok &= (s == bool(value)).to_numpy()
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            ok &= (s == pd.Timestamp(value)).to_numpy()
        elif pd.api.types.is_numeric_dtype(s.dtype):
            # No relative slack beyond a float's own error: numpy's default (1e-5) took 250,002 for 250,000.
            ok &= np.isclose(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float), float(value), rtol=1e-12)
        else:
            ok &= (s.astype(str) == str(value)).to_numpy() & s.notna().to_numpy()
    return ok


def _empty_stats() -> dict[str, Any]:
    return {
        "generated": 0,
        "emitted": 0,
        "resample_rounds": 0,
        "filled_rows": 0,
        "nudged_rows": 0,
        "rejected_by_rule": {},
    }
