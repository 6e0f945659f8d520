"""Errors whose messages are safe to show: they never carry raw data values."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator


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


class NameResourceMissing(PiiPolicyError):
    """A list of real names that detection reads is missing or shadowed: detection would miss names silently."""


class PublishRefused(SynthPipelineError):
    """Publishing was refused because the staged table has no passing gate verdict."""


class ModelIntegrityError(SynthPipelineError):
    """A saved model's bytes are not the ones the pipeline recorded; it is never unpickled."""


class NoSynthesizerFitted(SynthPipelineError):
    """Every candidate failed: names each one and why, in the pipeline's own words (rules, budgets, types)."""


class TooFewRows(SynthPipelineError):
    """The table is too small (rows, or columns left after PII removal) for the gate to have evidence."""


class StageFailed(SynthPipelineError):
    """A library failed inside a stage; its message is withheld because it may quote raw values."""


@contextlib.contextmanager
def withheld(stage: str, dataset: str, passing: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Let our own errors (and ``passing``) through; replace anything else by its type and location only: a
    library's message may quote the cell it choked on (DuckDB's `Could not convert string '...'`)."""
    ours: tuple[type[BaseException], ...] = (SynthPipelineError, *passing)
    try:
        yield
    except ours:
        raise
    except Exception as err:
        frames = traceback.extract_tb(err.__traceback__)
        where = "; ".join(f"{f.filename.split('site-packages/')[-1]}:{f.lineno} in {f.name}" for f in frames[-3:])
        raise StageFailed(
            f"{stage} failed for dataset {dataset!r}: {type(err).__name__} (at {where}). "
            "The original message is withheld because it may quote raw values; "
            "reproduce locally on the private data to see it."
        ) from None
