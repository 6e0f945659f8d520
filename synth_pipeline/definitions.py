"""The code location: what ``dg``, ``dagster dev``, ``workspace.yaml`` and the tests load.

Every stage module under ``defs/`` registers its own definitions (``@dg.definitions``) for the datasets in
``$SYNTH_PIPELINE_DATASETS``; ``load_from_defs_folder`` collects them.
"""

from __future__ import annotations

import dagster as dg

from synth_pipeline.settings import PROJECT_ROOT


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=PROJECT_ROOT)
