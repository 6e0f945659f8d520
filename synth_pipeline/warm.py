"""Imported once per run by the step forkserver (``executors.PRELOADED``): the stack, the code location's
definitions and the name lists, so every step process forked from it starts warm instead of paying for them
again (a 28k-row table's steps each spent more time importing than working).

Never imported by a code server: there the definitions must be rebuilt on every reload (new uploads).
"""

from __future__ import annotations

# The instance's storage classes (SQLite, PostgreSQL) are here too: each step process imported them when it opened
# the instance, 0.15 s per step. Importing is safe before a fork; connecting is not, and is left to each step.
import dagster._core.storage.base_storage
import dagster._core.storage.sqlite_storage  # noqa: F401
import dagster_postgres  # noqa: F401
import duckdb  # noqa: F401
import great_expectations  # noqa: F401
import matplotlib.pyplot  # noqa: F401
import pandas  # noqa: F401
import pyarrow.parquet  # noqa: F401
import sdmetrics  # noqa: F401
import sdv  # noqa: F401
from anonymeter.evaluators import LinkabilityEvaluator  # noqa: F401

from synth_pipeline import definitions
from synth_pipeline.lib import attacks, contracts, plots, privacy, quality  # noqa: F401
from synth_pipeline.lib.pii import names

names.all_names()  # the census, gender-guesser and Faker name lists, folded: 2 s per process otherwise
names.corroborated_names()
definitions.prebuilt = definitions.defs()
