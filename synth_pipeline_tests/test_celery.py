"""Steps on Celery workers: two real `synth-pipeline worker` processes on the machine's RabbitMQ, the Dagster
instance on its PostgreSQL (the production profile), two datasets in one run.

One run covers the three promises of the Celery executor: every step runs on a worker and the datasets
progress in parallel; a worker killed with SIGKILL in the middle of a step loses nothing (the broker hands
the unacknowledged step to the other worker and the run succeeds); and what is published is byte for byte
what the local executor publishes for the same seeds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import (
    background,
    contract_init,
    dagster_home,
    fresh_database,
    people_project,
    query,
    storage_env,
    venv_bin,
)

pytestmark = pytest.mark.faults
BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
DATASETS = ("people", "staff")


def two_dataset_project(root: Path, env: dict[str, str]) -> Path:
    """people (1,200 rows) and staff (the same kind of table, another seed and size), each with its contract."""
    datasets = people_project(root, 1200, env)
    config = yaml.safe_load(datasets.read_text())
    staff = {**config["datasets"]["people"], "synthesizer": {"name": "sequential_tree", "seed": 7}}
    staff["sample"] = {"scale": 0.5}
    config["datasets"]["staff"] = staff
    datasets.write_text(yaml.safe_dump(config))
    contract_init(datasets, "staff", env)
    return datasets


def published_digests(root: Path) -> dict[str, str]:
    with duckdb.connect(str(root / "public" / "synthetic_data.duckdb"), read_only=True) as con:
        return dict(con.execute("SELECT dataset, table_digest FROM meta.publications").fetchall())


def purge_queue() -> None:
    """Drop tasks an earlier, aborted session may have left on the broker's `dagster` queue."""
    from kombu import Connection

    with Connection(BROKER) as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_purge("dagster")


def engine_events(url: str, run_id: str) -> list[tuple[str, str, str]]:
    """(step key, worker, event type) of the run's delegation events and step starts and ends, in order."""
    rows = query(
        url,
        "SELECT step_key, dagster_event_type, event FROM event_logs WHERE run_id = %s AND step_key IS NOT NULL "
        "AND dagster_event_type IN ('ENGINE_EVENT', 'STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE') ORDER BY id",
        (run_id,),
    )
    out = []
    for step_key, kind, event in rows:
        worker = ""
        if kind == "ENGINE_EVENT":
            if "in celery worker" not in event:
                continue
            entries = json.loads(event)["dagster_event"]["event_specific_data"]["metadata_entries"]
            worker = next(e["entry_data"]["text"] for e in entries if e["label"] == "Celery worker")
            kind = "DELEGATED"
        out.append((step_key, worker, kind))
    return out


def test_celery_workers_run_every_step_survive_a_killed_worker_and_match_the_local_executor(tmp_path):
    with fresh_database() as url:
        env = os.environ | {
            "DAGSTER_HOME": str(dagster_home(tmp_path / "home", "dagster.prod.yaml")),
            "SYNTH_PIPELINE_POSTGRES_URL": url,
            "SYNTH_PIPELINE_DATASETS": str(tmp_path / "datasets.yaml"),
            "SYNTH_PIPELINE_CELERY_BROKER": BROKER,
            **storage_env(tmp_path / "celery"),
        }
        two_dataset_project(tmp_path, env)
        purge_queue()
        subprocess.run([venv_bin("dagster"), "instance", "migrate"], env=env, check=True, capture_output=True)
        worker = [venv_bin("synth-pipeline"), "worker", "--name"]
        with (
            background([*worker, "w1"], env, tmp_path / "w1.log") as w1,
            background([*worker, "w2"], env, tmp_path / "w2.log") as w2,
        ):
            run = subprocess.Popen(
                [venv_bin("dagster"), "job", "execute", "-m", "synth_pipeline.definitions", "-j", "synthesize_all"],
                env=env,
                cwd=PROJECT_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            # Kill, with SIGKILL and its whole process group, the worker that starts the first quality gate
            # (the longest step), as soon as that step has started on it.
            killed, victim = None, None
            deadline = time.monotonic() + 600
            while killed is None and run.poll() is None and time.monotonic() < deadline:
                rows = query(url, "SELECT run_id FROM runs")
                events = engine_events(url, rows[0][0]) if rows else []
                by_step = {step: who for step, who, kind in events if kind == "DELEGATED"}
                started = [s for s, _, kind in events if kind == "STEP_START" and s.startswith("quality_gate")]
                if started:
                    victim = started[0]
                    killed = by_step[victim].split("@")[0]
                    os.killpg({"w1": w1, "w2": w2}[killed].pid, signal.SIGKILL)
                time.sleep(0.2)
            output = run.communicate(timeout=900)[0]
        assert run.returncode == 0, output[-4000:]
        assert killed is not None, "no quality gate started while the run was watched"
        (run_id,) = query(url, "SELECT run_id FROM runs WHERE status = 'SUCCESS'")[0]
        events = engine_events(url, run_id)

    # Every step that succeeded was delegated to a worker, and both workers took steps.
    succeeded = {s for s, _, kind in events if kind == "STEP_SUCCESS"}
    delegated = {s for s, _, kind in events if kind == "DELEGATED"}
    assert succeeded and succeeded <= delegated
    assert {who.split("@")[0] for _, who, kind in events if kind == "DELEGATED"} == {"w1", "w2"}
    assert {s.split("__")[0] for s in succeeded if "__" in s} == set(DATASETS)
    # The two datasets ran side by side: some step of one started while a step of the other was running.
    running: set[str] = set()
    overlapped = False
    for step, _, kind in events:
        if kind == "STEP_START":
            overlapped |= any(step.split("__")[0] != other.split("__")[0] for other in running)
            running.add(step)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            running.discard(step)
    assert overlapped
    # The killed step was handed to the other worker and finished there.
    handled_by = [who.split("@")[0] for s, who, kind in events if s == victim and kind == "DELEGATED"]
    assert handled_by[0] == killed and handled_by[-1] != killed and len(handled_by) == 2
    assert victim in succeeded

    # The local executor, same datasets and seeds, other storage: the same bytes are published.
    local = os.environ | {
        "DAGSTER_HOME": str(dagster_home(tmp_path / "local-home")),
        "SYNTH_PIPELINE_DATASETS": str(tmp_path / "datasets.yaml"),
        **storage_env(tmp_path / "local"),
    }
    local.pop("SYNTH_PIPELINE_CELERY_BROKER", None)
    done = subprocess.run(
        [venv_bin("dagster"), "job", "execute", "-m", "synth_pipeline.definitions", "-j", "synthesize_all"],
        env=local,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    celery_tables, local_tables = published_digests(tmp_path / "celery"), published_digests(tmp_path / "local")
    assert set(celery_tables) == set(DATASETS)
    assert celery_tables == local_tables
