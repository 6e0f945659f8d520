"""Imported once per run by the step forkserver (``executors.PRELOADED``): the heavy libraries and the code
location's definitions, so every step process forked from it starts warm.

Never imported by a code server: there the definitions must be rebuilt on every reload (new uploads).
"""

from __future__ import annotations

import duckdb  # noqa: F401
import pandas  # noqa: F401
import pyarrow.parquet  # noqa: F401
import sdmetrics  # noqa: F401
import sdv  # noqa: F401

from synth_pipeline import definitions

definitions.prebuilt = definitions.defs()
