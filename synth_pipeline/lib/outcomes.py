"""One verdict type for every check: the gate yields it, candidate selection compares it, and
``meta.quality_history`` stores it as one row."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def rounded(value: float | None, digits: int = 4) -> float | None:
    """A score for metadata and tables: rounded, with NaN (nothing scored) as None."""
    return None if value is None or math.isnan(value) else round(float(value), digits)


@dataclass(frozen=True)
class Outcome:
    name: str  # the concern: column_shapes, dcr, singling_out, rules, leaks, run_records, ...
    score: float
    threshold: float
    passed: bool
    note: str = ""
    p_value: float = float("nan")  # the privacy checks' one-sided tests; NaN elsewhere

    def history_row(self, check_name: str, rows_scored: int | None) -> dict[str, Any]:
        """The row of ``meta.quality_history``: score and threshold rounded, the note as its detail."""
        return {
            "check_name": check_name,
            "score": rounded(self.score),
            "threshold": rounded(self.threshold),
            "passed": self.passed,
            "rows_scored": rows_scored,
            "detail": self.note,
        }
