"""The libraries every step imports, loaded once in a process that steps are then forked from: the step
forkserver (``warm.py``) and a Celery worker's main process (``celery_worker.py``). Importing is safe before a
fork; connecting is not, and is left to each step."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from importlib.abc import MetaPathFinder

STACK = [
    # The instance's storage classes (SQLite, PostgreSQL): each step process imported them when it opened the
    # instance, 0.15 s per step.
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


def import_stack() -> None:
    """The libraries, and the census, gender-guesser and Faker name lists folded (2 s per process otherwise)."""
    for module in STACK:
        importlib.import_module(module)
    from synth_pipeline.lib.pii import names

    names.all_names()
    names.corroborated_names()


class _TorchHidden(MetaPathFinder):
    """SDV and SDMetrics import torch whenever it is installed (for CTGAN, TVAE and a likelihood metric this project
    does not use), and go on without it when it is not. Hidden while they load, every step forked from this server
    starts 1.4 s sooner and 180 MB smaller. TabularARGN imports torch itself when it trains, which still works."""

    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@contextlib.contextmanager
def torch_hidden(hide: bool) -> Iterator[None]:
    """Torch out of reach while the block imports, where ``hide``; a step that needs it later imports it itself."""
    finder = _TorchHidden() if hide else None
    if finder is not None:
        sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if finder is not None:
            sys.meta_path.remove(finder)
