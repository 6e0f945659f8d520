"""synth-pipeline: nightly, gated, privacy-safe synthetic copies of sensitive tables."""

__version__ = "0.9.0"
