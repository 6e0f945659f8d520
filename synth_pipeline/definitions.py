"""The code location: what ``dagster dev``, ``workspace.yaml`` and the tests load."""

from __future__ import annotations

import dagster as dg

from synth_pipeline.defs import build_defs
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import load_config
from synth_pipeline.settings import Settings, default_resource_config


@dg.definitions
def defs() -> dg.Definitions:
    config = load_config(Settings.from_env().datasets_file)
    return build_defs(config, SynthPipelineResource(**default_resource_config()))
