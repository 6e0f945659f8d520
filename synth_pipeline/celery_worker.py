"""The Celery app that ``synth-pipeline worker`` runs: dagster-celery's step task, with this project's settings.

``celery -A synth_pipeline.celery_worker worker`` is what the command starts; a Kubernetes or systemd unit can
start it the same way.
"""

from __future__ import annotations

from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from synth_pipeline.executors import celery_app_args

app = make_app(celery_app_args())
execute_plan = create_task(app)
