"""Every synthesizer the datasets file can name, in one table.

Adding a model is one class (SDV's ``BaseSynthesizer`` shape: ``fit``, ``sample``, ``save``/``load``, or
:class:`~synth_pipeline.lib.synthesizers.base.PickledSynthesizer`) and one line here. The config checks names
and parameters against this table when the datasets file loads, without importing SDV or torch: classes
are named by import path and imported only when a model is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_COMMON = ("enforce_min_max_values", "enforce_rounding")
_COPULA = (*_COMMON, "default_distribution", "numerical_distributions", "locales")
_GAN = (
    *_COMMON,
    "batch_size",
    "discriminator_decay",
    "discriminator_dim",
    "discriminator_lr",
    "discriminator_steps",
    "embedding_dim",
    "enable_gpu",
    "epochs",
    "generator_decay",
    "generator_dim",
    "generator_lr",
    "locales",
    "log_frequency",
    "pac",
    "verbose",
)
_TVAE = (
    *_COMMON,
    "batch_size",
    "compress_dims",
    "decompress_dims",
    "embedding_dim",
    "enable_gpu",
    "epochs",
    "l2scale",
    "loss_factor",
    "verbose",
)
_ARGN = (
    "epsilon",
    "delta",
    "noise_multiplier",
    "max_grad_norm",
    "value_protection_epsilon",
    "max_training_minutes",
    "max_epochs",
    "batch_size",
    "value_protection",
    "clip_to_observed_range",
)


@dataclass(frozen=True)
class Synthesizer:
    """One entry: how to build the model and what the datasets file may say about it."""

    name: str
    cls: str  # "module:Class", imported on use
    params: frozenset[str]  # constructor parameters a datasets file may set (test_synthesis checks them)
    preset: Mapping[str, Any] = field(default_factory=dict)  # applied before the configured params
    metadata_dict: bool = False  # takes our metadata dict (our own classes), not an SDV Metadata object
    neural: bool = False  # torch-based: runs on the CPU here (enable_gpu False)
    seeded: bool = False  # takes ``seed`` in its constructor
    cost: int = 5  # relative fit time on the same rows: 'auto' trains the cheaper candidates first

    def load(self) -> type:
        module, _, attr = self.cls.partition(":")
        return getattr(importlib.import_module(module), attr)


REGISTRY: dict[str, Synthesizer] = {
    s.name: s
    for s in (
        Synthesizer(
            "sequential_tree",
            "synth_pipeline.lib.synthesizers.sequential_tree:SequentialTreeSynthesizer",
            frozenset(("min_samples_leaf", "smoothing", "visit_sequence", "max_depth")),
            metadata_dict=True,
            seeded=True,
            cost=1,
        ),
        Synthesizer("gaussian_copula", "sdv.single_table:GaussianCopulaSynthesizer", frozenset(_COPULA), cost=3),
        # SDV 1.x's FAST_ML preset, which SDV 2.0 removed: a normal-marginal Gaussian copula without rounding.
        Synthesizer(
            "fast",
            "sdv.single_table:GaussianCopulaSynthesizer",
            frozenset(_COPULA),
            preset={"default_distribution": "norm", "enforce_rounding": False},
            cost=2,
        ),
        Synthesizer("ctgan", "sdv.single_table:CTGANSynthesizer", frozenset(_GAN), neural=True, cost=9),
        Synthesizer("tvae", "sdv.single_table:TVAESynthesizer", frozenset(_TVAE), neural=True, cost=8),
        Synthesizer(
            "copula_gan",
            "sdv.single_table:CopulaGANSynthesizer",
            frozenset((*_GAN, "default_distribution", "numerical_distributions")),
            neural=True,
            cost=10,
        ),
        Synthesizer(
            "tabular_argn",
            "synth_pipeline.lib.synthesizers.tabular_argn:TabularARGNSynthesizer",
            frozenset(_ARGN),
            metadata_dict=True,
            seeded=True,
            cost=8,
        ),
    )
}
