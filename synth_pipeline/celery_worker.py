"""The Celery app that ``synth-pipeline worker`` runs: dagster-celery's step task, with this project's settings.

``celery -A synth_pipeline.celery_worker worker`` is what the command starts; a Kubernetes or systemd unit can
start it the same way. The worker's main process imports the libraries every step uses before it forks the
processes that run steps (``stack.import_stack``), so a step starts warm. The definitions are not preloaded:
each step loads the datasets file as it is when the step runs (new uploads).
"""

from __future__ import annotations

import resource

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from synth_pipeline.executors import celery_app_args
from synth_pipeline.stack import import_stack

# A process whose step grew it by more than this is replaced, after the step, by a fresh one forked from the
# warm main process: a kept process held what a large table's training step left for the quality gate after it
# (one worker, 1M rows: 1,514 MB at its peak, 3.7 x the frame; 1,242 MB so). A replacement delays the next step
# by 1 to 7 s; small tables' steps stay under it and keep their process (docs/deploy.md).
RECYCLE_AFTER_GROWTH_MB = 256

app = make_app(celery_app_args())
execute_plan = create_task(app)
import_stack()  # torch too: a worker cannot know which datasets it will train
# Celery compares each process's peak RSS (kB, Linux getrusage) after a task against this.
app.conf.worker_max_memory_per_child = (
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + RECYCLE_AFTER_GROWTH_MB * 1024
)
