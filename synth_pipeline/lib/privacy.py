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
  did not see; values well above 0.5 mean memorization.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from synth_pipeline.lib.synthesis import TABLE

MAX_ONE_HOT = 50


@dataclass(frozen=True)
class PrivacyScores:
    exact_copy_rate: float
    holdout_copy_rate: float
    dcr_share: float
    synthetic_rows_compared: int
    reference_rows_compared: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def holdout_mask(num_rows: int, fraction: float, max_rows: int, seed: int) -> np.ndarray:
    """Seeded choice of held-out rows; capped so large tables keep most rows for training."""
    n_holdout = min(round(num_rows * fraction), max_rows)
    mask = np.zeros(num_rows, dtype=bool)
    if n_holdout >= 1 and num_rows - n_holdout >= 1:
        mask[np.random.default_rng(seed).choice(num_rows, n_holdout, replace=False)] = True
    return mask


def split_holdout(df: pd.DataFrame, fraction: float, max_rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    mask = holdout_mask(len(df), fraction, max_rows, seed)
    return df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)


def _row_keys(df: pd.DataFrame) -> pd.Series:
    """One hash per row; numbers compared as floats, everything else as text, missing equal to missing."""
    canonical = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s.dtype) or not (
            pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype)
        ):
            canonical[c] = s.astype(object).where(s.notna(), "<NA>").astype(str)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            canonical[c] = s.astype("int64").astype(float).where(s.notna())
        else:
            canonical[c] = s.astype(float)
    return pd.util.hash_pandas_object(pd.DataFrame(canonical), index=False)


def copy_rate(rows: pd.DataFrame, reference: pd.DataFrame) -> float:
    if rows.empty:
        return 0.0
    return float(_row_keys(rows).isin(set(_row_keys(reference))).mean())


class _Encoder:
    """Turn mixed columns into a matrix whose L1 distance is a Gower-like distance."""

    def __init__(self, reference: pd.DataFrame, sdtypes: dict[str, str]):
        self.columns = list(reference.columns)
        self.numeric: dict[str, tuple[float, float]] = {}
        self.levels: dict[str, list[Any]] = {}
        for c in self.columns:
            s = reference[c]
            if sdtypes.get(c) == "numerical" or sdtypes.get(c) == "datetime":
                v = self._as_float(s)
                lo, hi = np.nanmin(v) if np.isfinite(v).any() else 0.0, np.nanmax(v) if np.isfinite(v).any() else 1.0
                self.numeric[c] = (float(lo), float(hi - lo) or 1.0)
            else:
                self.levels[c] = list(s.astype(object).where(s.notna(), "<NA>").value_counts().index[:MAX_ONE_HOT])

    @staticmethod
    def _as_float(s: pd.Series) -> np.ndarray:
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out = s.astype("int64").astype(float).to_numpy()
            out[s.isna().to_numpy()] = np.nan
            return out
        return pd.to_numeric(s, errors="coerce").astype(float).to_numpy()

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        parts = []
        for c in self.columns:
            if c in self.numeric:
                lo, span = self.numeric[c]
                v = (self._as_float(df[c]) - lo) / span
                missing = np.isnan(v)
                parts.append(np.where(missing, 0.0, v)[:, None])
                parts.append(missing.astype(float)[:, None])  # missing vs present costs 1
            else:
                values = df[c].astype(object).where(df[c].notna(), "<NA>")
                onehot = np.zeros((len(df), len(self.levels[c]) + 1))
                index = {v: i for i, v in enumerate(self.levels[c])}
                codes = values.map(lambda v, ix=index: ix.get(v, len(ix))).to_numpy(dtype=int)
                onehot[np.arange(len(df)), codes] = 0.5  # a mismatch costs 0.5 + 0.5 = 1
                parts.append(onehot)
        return np.hstack(parts) / max(1, len(self.columns))


def _nearest(reference: np.ndarray, query: np.ndarray) -> np.ndarray:
    nn = NearestNeighbors(n_neighbors=1, metric="manhattan", algorithm="brute", n_jobs=1).fit(reference)
    return nn.kneighbors(query, return_distance=True)[0][:, 0]


def evaluate_privacy(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    metadata: dict[str, Any],
    sample_rows: int,
    seed: int,
) -> PrivacyScores:
    cols = list(metadata["tables"][TABLE]["columns"])
    sdtypes = {c: metadata["tables"][TABLE]["columns"][c]["sdtype"] for c in cols}
    if holdout.empty:
        return PrivacyScores(copy_rate(synthetic[cols], train[cols]), float("nan"), float("nan"), len(synthetic), 0)
    h = min(len(holdout), sample_rows)
    hold = holdout[cols].sample(n=h, random_state=seed) if len(holdout) > h else holdout[cols]
    train_eq = train[cols].sample(n=min(h, len(train)), random_state=seed + 1)
    syn = synthetic[cols].sample(n=min(sample_rows, len(synthetic)), random_state=seed + 2)
    encoder = _Encoder(train[cols], sdtypes)
    syn_x = encoder.transform(syn)
    d_train = _nearest(encoder.transform(train_eq), syn_x)
    d_hold = _nearest(encoder.transform(hold), syn_x)
    closer = (d_train < d_hold - 1e-12).mean() + 0.5 * (np.abs(d_train - d_hold) <= 1e-12).mean()
    return PrivacyScores(
        exact_copy_rate=copy_rate(syn, train[cols]),
        holdout_copy_rate=copy_rate(hold, train[cols]),
        dcr_share=float(closer),
        synthetic_rows_compared=len(syn),
        reference_rows_compared=len(hold),
    )
