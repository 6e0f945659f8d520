"""Pictures for the Dagster UI: PNGs embedded in Markdown metadata.

Only aggregates are drawn (histograms, category shares, correlations, losses)
and only of the de-identified and synthetic tables, never of raw PII columns.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synth_pipeline.lib.disclosure import holders
from synth_pipeline.lib.quality import fixed_sample

MAX_CATEGORIES = 10


def to_markdown(fig: plt.Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return f"![{alt}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def distributions(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: list[str],
    sdtypes: dict[str, str],
    min_count: int = 10,
    max_rows: int = 20_000,
    seed: int = 0,
    entities: np.ndarray | None = None,
) -> str:
    """Real against synthetic for the given (worst) columns, on seeded samples of at most ``max_rows`` rows each.

    A category is drawn as a label only when ``min_count`` rows of the real sample hold it (the rare-value rule):
    the whole table holds it at least as often. Where ``entities`` gives each real row's person, ``min_count``
    people of the whole table must hold it too.
    """
    columns = columns[:6]
    if not columns:
        return "_no columns_"
    people = None if entities is None else pd.Series(entities, index=real.index)
    whole = real
    real, synthetic = fixed_sample(real, max_rows, seed)[columns], fixed_sample(synthetic, max_rows, seed)[columns]
    fig, axes = plt.subplots(1, len(columns), figsize=(3.2 * len(columns), 2.6), squeeze=False)
    for ax, col in zip(axes[0], columns, strict=False):
        r, s = real[col].dropna(), synthetic[col].dropna()
        if sdtypes.get(col) == "numerical" and pd.api.types.is_numeric_dtype(r.dtype):
            bins = np.histogram_bin_edges(r.astype(float), bins=30)
            ax.hist(r.astype(float), bins=bins, alpha=0.5, density=True, label="real")
            ax.hist(pd.to_numeric(s, errors="coerce").dropna(), bins=bins, alpha=0.5, density=True, label="synthetic")
        else:
            counts = r.astype(str).value_counts()
            if people is not None:
                held = holders(whole[col].dropna().astype(str), people)
                counts = counts[counts.index.isin(held.index[held >= min_count])]
            top = (counts[counts >= min_count] / max(1, len(r))).head(MAX_CATEGORIES)
            syn = s.astype(str).value_counts(normalize=True).reindex(top.index).fillna(0)
            x = np.arange(len(top))
            ax.bar(x - 0.2, top.to_numpy(), width=0.4, label="real")
            ax.bar(x + 0.2, syn.to_numpy(), width=0.4, label="synthetic")
            ax.set_xticks(x, [str(v)[:10] for v in top.index], rotation=60, fontsize=7)
        ax.set_title(col, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    return to_markdown(fig, "real vs synthetic distributions")


def correlations(
    real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str], max_rows: int = 20_000, seed: int = 0
) -> str:
    """Spearman correlation of numeric columns, real and synthetic side by side, on seeded samples of at most
    ``max_rows`` rows each (the picture of a million rows is the picture of twenty thousand)."""
    numeric = [c for c, t in sdtypes.items() if t == "numerical" and c in real.columns][:20]
    if len(numeric) < 2:
        return "_fewer than two numeric columns_"
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, frame, title in ((axes[0], real, "real"), (axes[1], synthetic, "synthetic")):
        rows = fixed_sample(frame, max_rows, seed)[numeric]  # rows drawn first: frame[numeric] copies every row
        corr = rows.apply(pd.to_numeric, errors="coerce").corr(method="spearman")
        im = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(numeric)), numeric, rotation=90, fontsize=7)
        ax.set_yticks(range(len(numeric)), numeric, fontsize=7)
        ax.set_title(title)
    fig.colorbar(im, ax=axes, shrink=0.8)
    return to_markdown(fig, "correlation matrices")


def losses(loss: pd.DataFrame, title: str) -> str:
    fig, ax = plt.subplots(figsize=(6, 3))
    numeric = loss.select_dtypes("number")
    x = numeric.columns[0] if "Epoch" in numeric.columns[0] else None
    for col in numeric.columns:
        if col == x:
            continue
        series = loss.groupby(x)[col].mean() if x else loss[col]
        ax.plot(series.index, series.to_numpy(), label=col)
    ax.set_xlabel(x or "step")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return to_markdown(fig, "training loss")
