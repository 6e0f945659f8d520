"""The Dagster layer: one folder per stage, each registering its definitions for every configured dataset.

``dg`` and ``dagster dev`` find them with ``load_from_defs_folder`` (see ``definitions.py``); tests and
benchmarks assemble the same stages for a datasets file of their own with :func:`build_defs`.
"""

from __future__ import annotations

import dagster as dg

from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import PipelineConfig


def build_defs(config: PipelineConfig, resource: SynthPipelineResource) -> dg.Definitions:
    from synth_pipeline.defs import schedules
    from synth_pipeline.defs.ingestion import assets as ingestion
    from synth_pipeline.defs.pii import assets as pii
    from synth_pipeline.defs.publishing import assets as publishing
    from synth_pipeline.defs.quality import checks as quality
    from synth_pipeline.defs.synthesis import assets as synthesis
    from synth_pipeline.defs.validation import assets as validation

    stages = (ingestion, validation, pii, synthesis, quality, publishing, schedules)
    return dg.Definitions.merge(
        *(stage.stage_defs(config) for stage in stages), dg.Definitions(resources={"synth": resource})
    )
