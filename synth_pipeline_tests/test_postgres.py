"""The production profile (dagster.prod.yaml) against the machine's real PostgreSQL: a run, the schedule and
the UI's GraphQL, with run, event-log and schedule storage in a database of the test's own."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import (
    background,
    dagster_home,
    free_port,
    fresh_database,
    graphql,
    people_project,
    query,
    storage_env,
    venv_bin,
)

pytestmark = pytest.mark.webserver


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Iterator[tuple[dict[str, str], str, Path]]:
    root = tmp_path_factory.mktemp("postgres")
    with fresh_database() as url:
        env = os.environ | {
            "DAGSTER_HOME": str(dagster_home(root / "home", "dagster.prod.yaml")),
            "SYNTH_PIPELINE_POSTGRES_URL": url,
            "SYNTH_PIPELINE_DATASETS": str(root / "datasets.yaml"),
            **storage_env(root),
        }
        people_project(root, 1200, env)
        yield env, url, root


def test_a_run_is_stored_in_postgres(instance):
    env, url, _ = instance
    done = subprocess.run(
        [venv_bin("dagster"), "job", "execute", "-m", "synth_pipeline.definitions", "-j", "synthesize_people"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = query(url, "SELECT status FROM runs")
    assert [r[0] for r in runs] == ["SUCCESS"]
    (events,) = query(url, "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")[0]
    assert events == 7  # every stage of people (the source is observed), recorded in PostgreSQL
    # The steps ran in the dataset's pool: Dagster claimed and freed its slot in PostgreSQL.
    pools = query(url, "SELECT concurrency_key FROM concurrency_limits")
    assert ("dataset_people",) in pools


def test_the_schedule_and_the_ui_read_postgres(instance):
    env, url, _ = instance
    subprocess.run(
        [venv_bin("dagster"), "schedule", "start", "nightly_synthesis", "-m", "synth_pipeline.definitions"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    # The test's datasets file leaves the schedule off; starting it stores its state in PostgreSQL.
    assert query(url, "SELECT status FROM instigators") == [("RUNNING",)]
    port = free_port()
    command = [venv_bin("dagster-webserver"), "-m", "synth_pipeline.definitions", "-p", str(port), "-h", "127.0.0.1"]
    with background(command, env):
        deadline = time.monotonic() + 120
        data = None
        while time.monotonic() < deadline and data is None:
            with contextlib.suppress(OSError, KeyError, TypeError):
                data = graphql(
                    port,
                    "{ runsOrError { ... on Runs { results { status } } } repositoriesOrError { "
                    "... on RepositoryConnection { nodes { schedules { name scheduleState { status } } } } } }",
                )["data"]
            time.sleep(1)
        assert data is not None
        assert [r["status"] for r in data["runsOrError"]["results"]] == ["SUCCESS"]
        (repository,) = data["repositoriesOrError"]["nodes"]
        schedules = repository["schedules"]
        assert [(s["name"], s["scheduleState"]["status"]) for s in schedules] == [("nightly_synthesis", "RUNNING")]
