"""Two runs of one dataset at once, as `dagster job execute` allows outside the run queue: they share the
dataset's private files and race on every stage. Whatever each run's fate, nothing ungated is published."""

from __future__ import annotations

import json
import os
import subprocess

import duckdb
import pytest
import yaml

from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import dagster_home, people_project, storage_env, venv_bin

pytestmark = pytest.mark.faults


def test_two_overlapping_runs_publish_only_a_table_a_gate_passed(tmp_path):
    env = os.environ | {"DAGSTER_HOME": str(dagster_home(tmp_path / "home")), **storage_env(tmp_path)}
    datasets = people_project(tmp_path, 1200, env)
    # Two settings files for the same dataset and storage: the runs stage different tables (1,200 and 600 rows).
    files = []
    for seed, scale in ((1, 1.0), (2, 0.5)):
        config = yaml.safe_load(datasets.read_text())
        config["datasets"]["people"]["synthesizer"]["seed"] = seed
        config["datasets"]["people"]["sample"] = {"scale": scale}
        path = tmp_path / f"datasets-{seed}.yaml"
        path.write_text(yaml.safe_dump(config))
        files.append(path)
    # The instance's SQLite storage is created once first: two processes creating it at once corrupt it.
    subprocess.run([venv_bin("dagster"), "instance", "migrate"], env=env, check=True, capture_output=True)
    command = [venv_bin("dagster"), "job", "execute", "-m", "synth_pipeline.definitions", "-j", "synthesize_people"]
    runs = [
        subprocess.Popen(
            command,
            env=env | {"SYNTH_PIPELINE_DATASETS": str(f)},
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for f in files
    ]
    outputs = [r.communicate(timeout=900)[0] for r in runs]

    passed = _passed(tmp_path)
    public = tmp_path / "public" / "synthetic_data.duckdb"
    published = []
    if public.exists():
        with duckdb.connect(str(public), read_only=True) as con:
            published = con.execute(
                "SELECT run_id, table_digest FROM meta.publications WHERE dataset = 'people'"
            ).fetchall()
    for run_id, digest in published:  # safety, whatever the interleaving: nothing ungated is published
        assert digest in passed, f"run {run_id[:8]} published a table no gate passed"
    if not published:
        # A close race can cost both runs their publication: seen once in a CI run under load, its interleaving
        # not yet diagnosed. Nothing ungated was published, and the next run publishes: the night is lost, no more.
        assert all(r.returncode != 0 for r in runs), outputs[0][-2000:] + outputs[1][-2000:]
        after = subprocess.run(
            command,
            env=env | {"SYNTH_PIPELINE_DATASETS": str(files[0])},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )
        assert after.returncode == 0, after.stdout[-2000:]
    with duckdb.connect(str(public), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM synthetic.people").fetchone()[0] in (1200, 600)
        digests = [d for (d,) in con.execute("SELECT table_digest FROM meta.publications").fetchall()]
    assert set(digests) <= _passed(tmp_path)


def _passed(root) -> set[str]:
    """Digests of the tables a gate passed; none where no gate gave a verdict (both runs failed before it)."""
    log = root / "private" / "people" / "gate_verdicts.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return {v["staged_digest"] for v in map(json.loads, lines) if v["passed"]}
