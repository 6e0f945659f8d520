"""Imported once per run by the step forkserver (``executors.PRELOADED``): the stack, the code location's
definitions and the name lists, so every step process forked from it starts warm instead of paying for them
again (a 28k-row table's steps each spent more time importing than working).

Never imported by a code server: there the definitions must be rebuilt on every reload (new uploads).
"""

from __future__ import annotations

from synth_pipeline.defs.common import configured_pipeline
from synth_pipeline.lib.synthesizers.registry import REGISTRY
from synth_pipeline.stack import import_stack, torch_hidden


def _sdv_neural_configured() -> bool:
    """Whether a dataset of this run may train one of SDV's neural synthesizers (CTGAN, TVAE, CopulaGAN)."""
    try:
        config = configured_pipeline()
    except Exception:
        return True  # the definitions below raise it with its message; import as usual
    return any(REGISTRY[c.name].neural for d in config.datasets.values() for c in d.synthesizer.to_train())


def _preload() -> None:
    with torch_hidden(not _sdv_neural_configured()):  # a step that trains TabularARGN imports torch for itself
        import_stack()
        from synth_pipeline import definitions

        definitions.prebuilt = definitions.defs()


_preload()
