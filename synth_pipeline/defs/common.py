"""Helpers shared by the stage modules: naming, safe errors, metadata."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from synth_pipeline import __version__ as PACKAGE_VERSION
from synth_pipeline.lib.config import DatasetConfig, PipelineConfig
from synth_pipeline.lib.errors import withheld


def configured_pipeline() -> PipelineConfig:
    """The datasets file named by the environment, plus the tables uploaded through the page or the inbox:
    what ``dg`` and ``dagster dev`` load (a reload of the code location picks up a new upload)."""
    from synth_pipeline.lib.config import load_config
    from synth_pipeline.lib.uploads import with_uploads
    from synth_pipeline.settings import Settings

    settings = Settings.from_env()
    return with_uploads(load_config(settings.datasets_file), settings.uploads_dir)


def for_configured_datasets(stage_defs: Callable[[PipelineConfig], dg.Definitions]) -> Any:
    """What ``dg`` (``load_from_defs_folder``) finds in a stage module: that stage's definitions for the
    datasets of ``$SYNTH_PIPELINE_DATASETS``, built when the code location loads."""

    @dg.definitions
    def defs() -> dg.Definitions:
        return stage_defs(configured_pipeline())

    return defs


def asset_key(stage: str, dataset: str) -> dg.AssetKey:
    """``customers/raw``: dataset first, so one dataset's assets sit together and no two names can collide
    (flat ``f"{stage}_{dataset}"`` names did: ``synthesizer`` + ``comparison_x`` vs ``synthesizer_comparison`` + ``x``).
    Ops and steps are named ``customers__raw``."""
    return dg.AssetKey([dataset, stage])


def dataset_pool(dataset: str) -> str:
    """Every step of one dataset shares a concurrency pool: with a pool limit of 1 (dagster.prod.yaml), two
    runs never work on the same dataset's private files at once, while other datasets go on in parallel."""
    return f"dataset_{dataset}"


def dataset_tags(dataset: str) -> dict[str, str]:
    return {"dataset": dataset}


@contextlib.contextmanager
def safe_errors(stage: str, dataset: str) -> Iterator[None]:
    """Let our own errors and Dagster's through; replace anything else by its type and location only."""
    with withheld(stage, dataset, (dg.DagsterError,)):
        yield


def table_schema(schema: dict[str, str], descriptions: dict[str, str] | None = None) -> dg.TableSchema:
    notes = descriptions or {}
    return dg.TableSchema(
        columns=[dg.TableColumn(name, type_, description=notes.get(name)) for name, type_ in schema.items()]
    )


def parquet_schema(path: Path) -> dict[str, str]:
    import pyarrow.parquet as pq

    return {f.name: str(f.type) for f in pq.read_schema(path)}


def what_each_column_became(plan: Any) -> dict[str, str]:
    """Per output column, in words, what the PII plan did to it: the catalog's column descriptions."""
    words = {
        "keep": "modelled from the real column",
        "generalize": "modelled from the real column, generalized to {to}",
        "tokenize": "fresh random tokens (not derived from real values)",
        "fake": "fresh Faker values ({pii_type}); never derived from real values",
        "generate": "fresh values of the real column's shape; never derived from real values",
        "key": "regenerated primary key",
    }
    out = {}
    for d in plan.decisions:
        text = words.get(d.action)
        if text is None:
            continue
        if d.action == "tokenize" and d.params.get("linkable"):
            text = "keyed HMAC tokens of the real values (linkable)"
        out[d.column] = text.format(to=d.params.get("to", ""), pii_type=d.pii_type or "custom")
    return out


def column_lineage(upstream: dg.AssetKey, columns: list[str]) -> dg.TableColumnLineage:
    """Each listed column comes from the column of the same name upstream; others come from nowhere real."""
    return dg.TableColumnLineage(deps_by_column={c: [dg.TableColumnDep(upstream, c)] for c in columns})


def markdown_rows(rows: list[dict]) -> dg.MetadataValue:
    if not rows:
        return dg.MetadataValue.md("_none_")
    return dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False))


def stage_version(dataset: DatasetConfig, stage: str, base_dir: Path | None = None) -> str:
    """Code version of one stage: the package version plus the settings that stage reads.

    Dagster marks an asset unsynced when this changes, and says so in the UI.
    """
    by_stage: dict[str, dict[str, Any]] = {
        "raw": {"source": dataset.source.model_dump()},
        "validated": {"contract": _contract_digest(dataset, base_dir)},
        "deidentified": {
            "columns": {k: v.model_dump() for k, v in dataset.columns.items()},
            "primary_key": dataset.primary_key,
            "privacy": dataset.privacy.model_dump(),
        },
        "synthesizer": {
            "synthesizer": dataset.synthesizer.model_dump(),
            "privacy": dataset.privacy.model_dump(),
            "rules": dataset.rules.model_dump(),
        },
        "synthetic": {
            "sample": dataset.sample.model_dump(),
            "seed": dataset.synthesizer.seed,
            "locale": dataset.fake_locale,
        },
        "synthesizer_comparison": {},
        "published": {"freshness_hours": dataset.freshness_hours},
    }
    settings = by_stage[stage]
    payload = json.dumps({"package": PACKAGE_VERSION, "stage": stage, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _contract_digest(dataset: DatasetConfig, base_dir: Path | None) -> str:
    if base_dir is None:
        return ""
    path = dataset.contract_path(base_dir)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "missing"


def fingerprint(*parts: str) -> str:
    """A short, stable digest of what an output was made from."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def stage_asset(
    dataset: DatasetConfig,
    stage: str,
    *,
    upstream: str | tuple[str, ...] | None,
    group: str,
    kinds: set[str],
    description: str,
    base_dir: Path | None = None,
    **extra: Any,
):
    """``@dg.asset`` for one stage of one dataset: key ``<dataset>/<stage>``, grouped by stage, versioned."""
    return dg.asset(
        **extra,
        key=asset_key(stage, dataset.name),
        deps=[asset_key(u, dataset.name) for u in ((upstream,) if isinstance(upstream, str) else upstream or ())]
        or None,
        group_name=group,
        kinds=kinds,
        tags=dataset_tags(dataset.name),
        code_version=stage_version(dataset, stage, base_dir),
        description=description,
        pool=dataset_pool(dataset.name),
    )
