"""Errors whose messages are safe to show: they never carry raw data values."""

from __future__ import annotations


class SynthPipelineError(Exception):
    """Base class. Messages name datasets, columns and counts, never cell values."""


class ConfigError(SynthPipelineError):
    """The datasets file is wrong: names the dataset and the key."""


class IngestionError(SynthPipelineError):
    """The source could not be read, or produced no rows."""


class ContractViolation(SynthPipelineError):
    """The data does not satisfy its versioned Great Expectations contract."""


class PiiPolicyError(SynthPipelineError):
    """A PII policy cannot be applied (missing key, unsupported type, ...)."""


class PublishRefused(SynthPipelineError):
    """Publishing was refused because the staged table has no passing gate verdict."""


class ModelIntegrityError(SynthPipelineError):
    """A saved model's bytes are not the ones the pipeline recorded; it is never unpickled."""


class NoSynthesizerFitted(SynthPipelineError):
    """Every candidate failed: names each one and why, in the pipeline's own words (rules, budgets, types)."""


class TooFewRows(SynthPipelineError):
    """The table is too small (rows, or columns left after PII removal) for the gate to have evidence."""
