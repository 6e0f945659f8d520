"""The code location: what ``dg``, ``dagster dev``, ``workspace.yaml`` and the tests load.

Every stage module under ``defs/`` registers its own definitions (``@dg.definitions``) for the datasets in
``$SYNTH_PIPELINE_DATASETS``; ``load_from_defs_folder`` collects them.
"""

from __future__ import annotations

import dagster as dg

from synth_pipeline.executors import start_step_server_early
from synth_pipeline.settings import PROJECT_ROOT

# Set only in a run's step forkserver (synth_pipeline.warm): the definitions that run was launched with,
# built once there so that each step process forked from it does not build them again.
prebuilt: dg.Definitions | None = None


@dg.definitions
def defs() -> dg.Definitions:
    if prebuilt is not None:
        return prebuilt
    start_step_server_early()
    return dg.load_from_defs_folder(project_root=PROJECT_ROOT)
