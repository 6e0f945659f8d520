"""The inbox: a table file dropped in a folder becomes a dataset, with its config inferred and its contract
written on first sight, and then a run of its job. For data engineers who prefer folders to the upload page.

Tick 1 sees the file; tick 2 sees it unchanged (the copy has finished), registers it as an upload
(``lib/uploads.py``, policies as proposed) and reloads the code location through Dagster's GraphQL API, so
its assets and job exist; the next tick, running in the reloaded location, requests the run.
"""

from __future__ import annotations

import json

import dagster as dg

from synth_pipeline.lib import uploads
from synth_pipeline.lib.errors import SynthPipelineError
from synth_pipeline.settings import Settings


def build_inbox_sensor(jobs: list[dg.UnresolvedAssetJobDefinition]) -> dg.SensorDefinition:
    """Targets the per-dataset jobs (built once, in ``schedules.py``)."""
    from synth_pipeline.defs.schedules import dataset_job_name

    @dg.sensor(
        name="inbox_files",
        jobs=jobs,
        minimum_interval_seconds=Settings.inbox_interval_seconds(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"A {uploads.ACCEPTED} file dropped in $SYNTH_PIPELINE_INBOX_DIR (default: <private area>/inbox) "
        "becomes a dataset and is synthesized.",
    )
    def inbox_files(context: dg.SensorEvaluationContext):
        from synth_pipeline.serve import dagster_client
        from synth_pipeline.settings import ServeSettings

        settings = Settings.from_env()
        known = {job.name for job in jobs}
        # Registered uploads whose job exists in this (reloaded) location: run them once.
        requests = []
        for upload in uploads.list_uploads(settings.uploads_dir):
            if upload.origin == "inbox" and upload.run_id is None and dataset_job_name(upload.name) in known:
                upload.run_id = "requested by the inbox sensor"
                uploads.save_upload(settings.uploads_dir, upload)
                context.log.info(f"inbox: starting the first run of {upload.name}")
                requests.append(
                    dg.RunRequest(
                        run_key=f"inbox-{upload.name}-{upload.created_at}",
                        job_name=dataset_job_name(upload.name),
                        tags={"dataset": upload.name, "synth_pipeline/origin": "inbox"},
                    )
                )
        if requests:
            return requests
        inbox = settings.inbox_dir
        if not inbox.is_dir():
            return dg.SkipReason(f"no inbox folder at {inbox}")
        seen: dict[str, list[float]] = json.loads(context.cursor or "{}")
        now: dict[str, list[float]] = {}
        registered = []
        for path in sorted(inbox.iterdir()):
            if path.name.startswith(".") or uploads.upload_kind(path.name) is None or not path.is_file():
                continue
            stat = path.stat()
            now[path.name] = [stat.st_size, stat.st_mtime]
            if seen.get(path.name) != now[path.name]:
                continue  # first sight, or still being written: look again next tick
            name = uploads.slug(path.name)
            try:
                taken = uploads.configured_names(settings.datasets_file)
                upload = uploads.register(path, settings.uploads_dir, name, path.name, taken, origin="inbox")
                uploads.configure(settings.uploads_dir, upload, {}, upload.primary_key, uploads.DEFAULT_SYNTHESIZER)
            except SynthPipelineError as err:
                refused = inbox / ".refused"
                refused.mkdir(exist_ok=True)
                if path.exists():
                    path.rename(refused / path.name)
                context.log.error(f"inbox: {path.name} was not taken ({err}); it was moved to {refused}")
                continue
            now.pop(path.name, None)
            registered.append(name)
            context.log.info(f"inbox: {path.name} registered as dataset {name} ({upload.rows} rows)")
        context.update_cursor(json.dumps(now))
        if not registered:
            return dg.SkipReason("no new file has settled in the inbox")
        dagster_client.reload_location(ServeSettings.from_env().dagster_url)
        return dg.SkipReason(f"registered {', '.join(registered)}; their runs start at the next tick")

    return inbox_files
