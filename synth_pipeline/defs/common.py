"""Helpers shared by the stage modules: naming, safe errors, metadata."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from synth_pipeline.lib.errors import SynthPipelineError

STAGES = ("raw", "validated", "deidentified", "synthesizer", "synthetic", "published")


def asset_key(stage: str, dataset: str) -> dg.AssetKey:
    return dg.AssetKey(f"{stage}_{dataset}")


def dataset_tags(dataset: str) -> dict[str, str]:
    return {"dataset": dataset}


class StageFailed(SynthPipelineError):
    """A library failed inside a stage; its message is withheld because it may quote raw values."""


@contextlib.contextmanager
def safe_errors(stage: str, dataset: str) -> Iterator[None]:
    """Let our own errors through; replace anything else by its type and location only."""
    try:
        yield
    except (SynthPipelineError, dg.DagsterError):
        raise
    except Exception as err:
        frames = traceback.extract_tb(err.__traceback__)
        where = "; ".join(f"{f.filename.split('site-packages/')[-1]}:{f.lineno} in {f.name}" for f in frames[-3:])
        raise StageFailed(
            f"{stage} failed for dataset {dataset!r}: {type(err).__name__} (at {where}). "
            "The original message is withheld because it may quote raw values; "
            "reproduce locally on the private data to see it."
        ) from None


def table_schema(schema: dict[str, str]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, type_) for name, type_ in schema.items()])


def markdown_rows(rows: list[dict]) -> dg.MetadataValue:
    if not rows:
        return dg.MetadataValue.md("_none_")
    return dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False))
