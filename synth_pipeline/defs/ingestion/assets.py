"""Stage 1: the configured source (observed where it lives) and its private copy."""

import datetime as dt
import glob
import hashlib
import warnings
from pathlib import Path

import dagster as dg

from synth_pipeline.defs.common import (
    asset_key,
    dataset_tags,
    for_configured_datasets,
    safe_errors,
    stage_asset,
    table_schema,
)
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import (
    CsvSource,
    DatasetConfig,
    DuckDBQuerySource,
    JsonSource,
    ParquetSource,
    PipelineConfig,
    PostgresQuerySource,
    resolve,
)
from synth_pipeline.lib.contracts import boolean_columns, text_columns
from synth_pipeline.lib.ingestion import headerless_note, ingest
from synth_pipeline.lib.storage import file_digest, write_json


def build_raw_asset(dataset: DatasetConfig, base_dir: Path) -> dg.AssetsDefinition:
    @stage_asset(
        dataset,
        "raw",
        upstream="source",
        group="ingestion",
        kinds={"duckdb", "parquet"},
        description=f"Private Parquet copy of the {dataset.source.type} source of '{dataset.name}'. Never published.",
    )
    def raw(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        context.log.info(f"Ingesting {dataset.source.type} source for {dataset.name!r}")
        with safe_errors("ingestion", dataset.name):
            result = ingest(
                dataset,
                base_dir,
                paths.raw,
                memory_limit=synth.ingest_memory_limit,
                boolean_columns=boolean_columns(dataset.contract_path(base_dir)),
                text_columns=text_columns(dataset.contract_path(base_dir)),
            )
        write_json(paths.source_types, result.source_types)
        digest = file_digest(result.path)
        if result.decompressed:
            context.log.info(f"Decompressed ({result.decompressed}) into the private area to be read")
        if result.encoding:
            context.log.info(f"Read as {result.encoding}, not UTF-8 (source.encoding says otherwise when set)")
        context.log.info(f"Ingested {result.num_rows} rows x {len(result.schema)} columns")
        if result.headerless:
            context.log.warning(headerless_note(list(result.schema)))
        if result.converted:
            context.log.info(
                "Types a model cannot learn were read as ones it can: "
                + ", ".join(f"{c} ({how})" for c, how in result.converted.items())
            )
        if result.line_breaks:
            context.log.warning(
                f"{result.line_breaks} carriage returns inside text (written unquoted, as pandas writes them) were "
                "read as line breaks"
            )
        if result.footer_lines:
            context.log.warning(
                f"{result.footer_lines} lines of notes after the table (a source, footnotes: at most half the "
                "header's fields each) were left out"
            )
        if result.nulled:
            context.log.warning(
                "Numbers a model cannot learn (NaN, infinite, or beyond 1e150) were read as null: "
                + ", ".join(f"{c}: {n} rows" for c, n in result.nulled.items())
            )
        return dg.MaterializeResult(
            data_version=dg.DataVersion(digest[:24]),
            metadata={
                "dagster/row_count": result.num_rows,
                "dagster/column_schema": table_schema(result.schema),
                "num_columns": len(result.schema),
                "source_type": dataset.source.type,
                **({"decompressed from": result.decompressed} if result.decompressed else {}),
                **({"encoding": result.encoding} if result.encoding else {}),
                "file_digest": digest[:16],
                "non-finite numbers read as null": dg.MetadataValue.json(result.nulled),
                "types read as ones a model can learn": dg.MetadataValue.json(result.converted),
                "first line read as data (no header)": result.headerless,
                "carriage returns read as line breaks": result.line_breaks,
                "lines of notes after the table left out": result.footer_lines,
            },
        )

    return raw


def source_files(dataset: DatasetConfig, base_dir: Path) -> list[Path]:
    src = dataset.source
    if isinstance(src, DuckDBQuerySource):
        return [resolve(base_dir, src.database)]
    assert isinstance(src, CsvSource | ParquetSource | JsonSource)
    path = resolve(base_dir, src.path)
    if path.is_dir():
        return sorted(Path(p) for p in glob.glob(str(path / "**" / "*.parquet"), recursive=True))
    return sorted(Path(p) for p in glob.glob(str(path))) if any(c in src.path for c in "*?[") else [path]


def build_source_asset(dataset: DatasetConfig, base_dir: Path) -> dg.SourceAsset:
    """The data where it lives, outside the pipeline: observed (files, bytes, last change), never read here.

    Its data version changes when a file's size or modification time does, so the UI marks ``<dataset>/raw``
    unsynced when new data arrived, and the lineage starts where the data does.
    """

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*currently in beta")  # stable in use since Dagster 1.5
        decorate = dg.observable_source_asset(
            key=asset_key("source", dataset.name),
            group_name="ingestion",
            tags=dataset_tags(dataset.name),
            description=f"The {dataset.source.type} source of '{dataset.name}', outside the private area. Observed only.",
        )

    @decorate
    def source() -> dg.ObserveResult:
        if isinstance(dataset.source, PostgresQuerySource):
            # Not queried to observe it: a table may be large, and its rows are read once per run.
            return dg.ObserveResult(
                data_version=dg.DataVersion(hashlib.sha256(dataset.source.query.encode()).hexdigest()[:24]),
                metadata={
                    "database": f"PostgreSQL, URL in {dataset.source.url_env}; read by each run of raw",
                    "observed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                },
            )
        files = [f for f in source_files(dataset, base_dir) if f.exists()]
        stats = [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
        extra = dataset.source.query if isinstance(dataset.source, DuckDBQuerySource) else ""
        version = hashlib.sha256(repr((stats, extra)).encode()).hexdigest()[:24]
        changed = max((m for _, _, m in stats), default=0) / 1e9
        return dg.ObserveResult(
            data_version=dg.DataVersion(version if files else "missing"),
            metadata={
                "files": len(files),
                "bytes": sum(size for _, size, _ in stats),
                "last_modified": dg.MetadataValue.timestamp(changed) if files else "missing",
                "observed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )

    return source


def stage_defs(config: PipelineConfig) -> dg.Definitions:
    """Every dataset's observed source and raw copy."""
    datasets = config.datasets.values()
    return dg.Definitions(
        assets=[build_source_asset(d, config.base_dir) for d in datasets]
        + [build_raw_asset(d, config.base_dir) for d in datasets]
    )


defs = for_configured_datasets(stage_defs)
