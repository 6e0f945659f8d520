"""Any synthesizer behind the disclosure control: it learns protected rows and emits only protected values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.disclosure import DisclosureControl
from synth_pipeline.lib.synthesizers.base import PickledSynthesizer


class ProtectedSynthesizer(PickledSynthesizer):
    """Wraps a fitted SDV-style synthesizer; ``sample`` filters its output through the control.

    Everything else (loss values, the DP budget spent) is the inner synthesizer's.
    """

    def __init__(self, inner: Any, control: DisclosureControl):
        self.inner = inner
        self.control = control
        self._rng = np.random.default_rng(control.seed + 1)

    def __getattr__(self, name: str) -> Any:
        if name in ("inner", "control", "_rng"):  # not set yet (unpickling): no recursion into inner
            raise AttributeError(name)
        return getattr(self.inner, name)

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

    def sample(self, num_rows: int, **kwargs: Any) -> pd.DataFrame:
        out = self.inner.sample(num_rows, **kwargs)
        frame = next(iter(out.values())) if isinstance(out, dict) else out
        return self.control.enforce(frame, self._rng)
