"""Dagster's default launcher, plus the health check that lets run monitoring fail dead runs.

The default launcher starts each run in a process on this machine but cannot say whether that process is
still alive, so a run whose process was killed (OOM killer, ``kill -9``, a reboot) stays STARTED forever,
and with one run at a time it blocks every later run, the nightly one included. The run worker records its
pid in an engine event ("Started process for run (pid: N)"); this launcher reports the run FAILED once that
process is gone, and the daemon's run monitoring (``dagster.yaml``) then marks it failed and frees the queue.

It assumes the daemon runs on the machine that runs the runs, as the default launcher does.
"""

from __future__ import annotations

import datetime as dt

import psutil
from dagster import DagsterEventType, DagsterInstance, DagsterRun
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

# A process started this long after the run recorded its pid is not the run's process (the pid was reused).
PID_REUSE_SLACK_S = 5.0


def run_worker(instance: DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of the run's own process, and when it was recorded, or None if none was recorded.

    The first engine event with a pid comes from the process that runs the whole run: the launched run worker
    ("Started process for run"), or the CLI process of ``dagster job execute``; later ones are step processes.
    """
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        data = getattr(event, "engine_event_data", None) if event else None
        pid = (data.metadata or {}).get("pid") if data is not None else None
        if pid is not None:
            return int(str(pid.value)), float(entry.timestamp)
    return None


def worker_alive(pid: int, started_at: float) -> bool:
    try:
        process = psutil.Process(pid)
        return (
            process.is_running()
            and process.status() != psutil.STATUS_ZOMBIE
            and (process.create_time() <= started_at + PID_REUSE_SLACK_S)
        )
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


class HealthCheckedRunLauncher(DefaultRunLauncher):
    """``DefaultRunLauncher`` whose runs are reported FAILED once their process has died."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        worker = run_worker(self._instance, run.run_id)
        if worker is None:
            # Nothing to check; never fail a run on a guess (dagster.yaml's max_runtime_seconds still applies).
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run has recorded no process")
        pid, started_at = worker
        if worker_alive(pid, started_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        since = dt.datetime.fromtimestamp(started_at, dt.UTC).isoformat(timespec="seconds")
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run's process (pid {pid}, started {since}) is gone: it was killed or crashed",
            run_worker_id=str(pid),
        )
