"""Imported once per run by the step forkserver (``executors.PRELOADED``): the stack, the code location's
definitions and the name lists, so every step process forked from it starts warm instead of paying for them
again (a 28k-row table's steps each spent more time importing than working).

Never imported by a code server: there the definitions must be rebuilt on every reload (new uploads).
"""

from __future__ import annotations

import importlib
import sys
from importlib.abc import MetaPathFinder

from synth_pipeline.defs.common import configured_pipeline
from synth_pipeline.lib.synthesizers.registry import REGISTRY

STACK = [
    # The instance's storage classes (SQLite, PostgreSQL): each step process imported them when it opened the
    # instance, 0.15 s per step. Importing is safe before a fork; connecting is not, and is left to each step.
    "dagster._core.storage.base_storage",
    "dagster._core.storage.sqlite_storage",
    "dagster_postgres",
    "duckdb",
    "great_expectations",
    "matplotlib.pyplot",
    "pandas",
    "pyarrow.parquet",
    "sdmetrics",
    "sdv",
    "anonymeter.evaluators",
    "synth_pipeline.lib.attacks",
    "synth_pipeline.lib.contracts",
    "synth_pipeline.lib.plots",
    "synth_pipeline.lib.privacy",
    "synth_pipeline.lib.quality",
]


def _sdv_neural_configured() -> bool:
    """Whether a dataset of this run may train one of SDV's neural synthesizers (CTGAN, TVAE, CopulaGAN)."""
    try:
        config = configured_pipeline()
    except Exception:
        return True  # the definitions below raise it with its message; import as usual
    return any(REGISTRY[c.name].neural for d in config.datasets.values() for c in d.synthesizer.to_train())


class _TorchHidden(MetaPathFinder):
    """SDV and SDMetrics import torch whenever it is installed (for CTGAN, TVAE and a likelihood metric this project
    does not use), and go on without it when it is not. Hidden while they load, every step forked from this server
    starts 1.4 s sooner and 180 MB smaller. TabularARGN imports torch itself when it trains, which still works."""

    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _preload() -> None:
    hidden = None if _sdv_neural_configured() else _TorchHidden()
    if hidden is not None:
        sys.meta_path.insert(0, hidden)
    try:
        for module in STACK:
            importlib.import_module(module)
        from synth_pipeline import definitions
        from synth_pipeline.lib.pii import names

        names.all_names()  # the census, gender-guesser and Faker name lists, folded: 2 s per process otherwise
        names.corroborated_names()
        definitions.prebuilt = definitions.defs()
    finally:
        if hidden is not None:
            sys.meta_path.remove(hidden)  # a step that trains TabularARGN imports torch for itself


_preload()
