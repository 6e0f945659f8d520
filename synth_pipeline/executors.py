"""Where a run's steps execute: local subprocesses by default, Celery workers when a broker is configured.

Both executors run exactly the same steps; only the process that runs them differs. The Celery settings live
here once, for the orchestrating run and for ``synth-pipeline worker`` alike: a worker that read other
settings than the run that sends it tasks would never see them.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from synth_pipeline.lib.errors import ConfigError

ENV_EXECUTOR = "SYNTH_PIPELINE_EXECUTOR"
ENV_CELERY_BROKER = "SYNTH_PIPELINE_CELERY_BROKER"
ENV_CELERY_BACKEND = "SYNTH_PIPELINE_CELERY_BACKEND"

# The stack and the definitions every step loads: the forkserver imports them once per run, not once per step.
PRELOADED = ["synth_pipeline.warm"]

CELERY_SETTINGS: dict[str, Any] = {
    # A task is acknowledged only when its step has finished, and requeued if its worker dies: the broker then
    # hands the step to another worker (RabbitMQ does so as soon as the dead worker's connection drops).
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    # A worker takes one step at a time: a step is minutes of CPU, never a queue of small tasks to prefetch.
    "worker_prefetch_multiplier": 1,
    # With a Redis broker, an unacknowledged task comes back after this many seconds; keep it above the
    # longest step (training on the largest table) or a slow step runs twice.
    "broker_transport_options": {"visibility_timeout": 3600},
    "task_default_queue": "dagster",
}


def celery_broker() -> str | None:
    return os.environ.get(ENV_CELERY_BROKER) or None


def celery_app_args() -> dict[str, Any]:
    """What both sides of Celery are built from: the run that sends steps, and the workers that take them."""
    return {
        "broker": celery_broker(),
        "backend": os.environ.get(ENV_CELERY_BACKEND) or "rpc://",
        "include": [],
        "config_source": CELERY_SETTINGS,
    }


# Kubernetes (deploy/helm/values.yaml): each step in its own pod of the run's image, with the private area's
# volume and the same secrets as the run pod (the chart's includeConfigInLaunchedRuns passes them on).
K8S_STEP_CONFIG: dict[str, Any] = {
    "env_secrets": ["synth-pipeline-secrets"],
    "volumes": [{"name": "synth-data", "persistentVolumeClaim": {"claimName": "synth-pipeline-data"}}],
    "volume_mounts": [{"name": "synth-data", "mountPath": "/data"}],
    "step_k8s_config": {
        "container_config": {"resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "16Gi"}}}
    },
    "max_concurrent": 8,
}


def executor_kind() -> str:
    """``multiprocess`` (the default), ``celery`` (also chosen by setting a broker) or ``k8s``."""
    kind = (os.environ.get(ENV_EXECUTOR) or ("celery" if celery_broker() else "multiprocess")).lower()
    if kind not in ("multiprocess", "celery", "k8s"):
        raise ConfigError(f"{ENV_EXECUTOR}={kind!r}: expected multiprocess, celery or k8s")
    if kind == "celery" and not celery_broker():
        raise ConfigError(f"{ENV_EXECUTOR}=celery needs {ENV_CELERY_BROKER} (e.g. pyamqp://guest:guest@host:5672//)")
    return kind


def start_step_server_early() -> None:
    """In a process started to execute a run, start the step forkserver while the run is still loading its code.

    Its imports (about 7 s: Great Expectations, SDV, the definitions; torch only where a dataset trains one of SDV's
    neural models, ``synth_pipeline.warm``) then run on the second core beside the
    CLI's own start instead of after it; Dagster's multiprocess executor finds the server running with the same
    preload and forks from it. A 28k-row table: 17.5 to 18.2 s end to end with ``dagster job execute``, 14.7 to
    15.5 s with this.
    Only ``dagster job execute`` and ``dagster api execute_run`` (what container run launchers start) are known to
    execute a run from their command line; a webserver, daemon or code server never forks steps, so it never starts
    one. A run the default launcher starts from the UI or the schedule runs in a process the code server spawns,
    which cannot be told apart from the server by its command line: its forkserver starts when the first step does."""
    import multiprocessing
    import sys
    from multiprocessing import forkserver

    if sys.argv[1:3] not in (["job", "execute"], ["api", "execute_run"]) or executor_kind() != "multiprocess":
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["dagster._core.executor.multiprocess", *PRELOADED]  # the list Dagster's executor sets: one server, not two
    )
    forkserver.ensure_running()


def job_executor(max_concurrent: int = 0) -> dg.ExecutorDefinition:
    """The executor of every job and of materializations launched from the UI.

    With ``SYNTH_PIPELINE_CELERY_BROKER`` set, steps go to Celery workers (``synth-pipeline worker``); with
    ``SYNTH_PIPELINE_EXECUTOR=k8s``, each step is a Kubernetes job (dagster-k8s, the ``k8s`` extra).
    Otherwise they run in local subprocesses forked from a server that has already imported the stack, so a
    step starts in a fraction of a second instead of importing SDV and pandas again. ``max_concurrent``
    0 means one step per core.
    """
    kind = executor_kind()
    if kind == "k8s":
        try:
            from dagster_k8s import k8s_job_executor
        except ImportError:
            raise ConfigError(
                f"{ENV_EXECUTOR}=k8s needs dagster-k8s: pip install -c constraints.txt -e '.[k8s]'"
            ) from None

        return k8s_job_executor.configured(K8S_STEP_CONFIG, name="k8s")
    if kind == "celery":
        from dagster_celery import celery_executor

        return celery_executor.configured(
            {
                "broker": {"env": ENV_CELERY_BROKER},
                "backend": celery_app_args()["backend"],
                "config_source": CELERY_SETTINGS,
            },
            name="celery",
        )
    return dg.multiprocess_executor.configured(
        {"max_concurrent": max_concurrent, "start_method": {"forkserver": {"preload_modules": PRELOADED}}},
        name="multiprocess",
    )
