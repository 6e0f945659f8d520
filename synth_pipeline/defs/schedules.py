"""The nightly regeneration of every dataset."""

from __future__ import annotations

import dagster as dg

from synth_pipeline.defs.common import for_configured_datasets
from synth_pipeline.executors import job_executor
from synth_pipeline.lib.config import PipelineConfig

JOB_NAME = "synthesize_all"


def build_job_and_schedule(config: PipelineConfig) -> tuple[dg.UnresolvedAssetJobDefinition, dg.ScheduleDefinition]:
    job = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Ingest, validate, de-identify, train, sample, gate and publish every configured dataset.",
        tags={"synth_pipeline/job": JOB_NAME},
        # Two cores: two steps at a time, so two datasets make progress side by side.
        executor_def=job_executor(max_concurrent=2),
    )
    schedule = dg.ScheduleDefinition(
        name="nightly_synthesis",
        job=job,
        cron_schedule=config.schedule.cron,
        execution_timezone=config.schedule.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING
        if config.schedule.enabled
        else dg.DefaultScheduleStatus.STOPPED,
        description=f"Regenerates every dataset at '{config.schedule.cron}' ({config.schedule.timezone}).",
    )
    return job, schedule


def dataset_job_name(dataset: str) -> str:
    return f"synthesize_{dataset}"


def build_dataset_jobs(config: PipelineConfig) -> list[dg.UnresolvedAssetJobDefinition]:
    """One job per dataset: what the upload page launches, and what to launch by hand for one table."""
    executor = job_executor()
    return [
        dg.define_asset_job(
            dataset_job_name(name),
            selection=dg.AssetSelection.key_prefixes([name]),
            description=f"Ingest, validate, de-identify, train, sample, gate and publish {name}.",
            tags={"synth_pipeline/job": "dataset", "dataset": name},
            executor_def=executor,
        )
        for name in config.datasets
        if dataset_job_name(name) != JOB_NAME
    ]


def stage_defs(config: PipelineConfig) -> dg.Definitions:
    from synth_pipeline.defs.ingestion.sensors import build_inbox_sensor

    job, schedule = build_job_and_schedule(config)
    per_dataset = build_dataset_jobs(config)
    sensors = [build_inbox_sensor(per_dataset)] if per_dataset else []
    return dg.Definitions(jobs=[job, *per_dataset], schedules=[schedule], sensors=sensors, executor=job_executor())


defs = for_configured_datasets(stage_defs)
