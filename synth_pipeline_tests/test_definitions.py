"""Tier 1: the code location loads, with the assets, checks, job and schedule users rely on."""

import os
import subprocess
import sys

import dagster as dg

from synth_pipeline.definitions import defs
from synth_pipeline.defs.quality.checks import CHECKS, LEAK_CHECK, PRIVACY_CHECKS, RECORDS_CHECK
from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import venv_bin

STAGES = ["raw", "validated", "deidentified", "synthesizer", "synthesizer_comparison", "synthetic", "published"]


def test_definitions_load_with_every_stage_of_the_default_dataset():
    d = defs()
    keys = {k.to_user_string() for k in d.resolve_asset_graph().get_all_asset_keys()}
    assert {f"customers/{s}" for s in STAGES} <= keys


def test_assets_are_grouped_by_stage():
    graph = defs().resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["customers/raw"] == "ingestion"
    assert groups["customers/validated"] == "validation"
    assert groups["customers/deidentified"] == "pii"
    assert groups["customers/synthetic"] == "synthesis"
    assert groups["customers/published"] == "publishing"


def test_quality_checks_are_blocking_and_named_like_sentences():
    graph = defs().resolve_asset_graph()
    specs = [graph.get_check_spec(k) for k in graph.asset_check_keys]
    gate = {s.name: s for s in specs if s.asset_key == dg.AssetKey(["customers", "synthetic"])}
    expected = {name for name, _ in (*CHECKS.values(), *PRIVACY_CHECKS.values())} | {LEAK_CHECK, RECORDS_CHECK}
    assert expected <= set(gate)
    assert all(spec.blocking for spec in gate.values())
    # On what downstream teams read: a schema change is a warning, never a reason to withhold the table.
    published = [s for s in specs if s.asset_key == dg.AssetKey(["customers", "published"])]
    assert len(published) == 1 and not published[0].blocking


def test_nightly_schedule_runs_the_job_at_two_by_default():
    d = defs()
    schedule = d.resolve_schedule_def("nightly_synthesis")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == "synthesize_all"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_dagster_definitions_validate_passes_on_the_workspace(tmp_path):
    (tmp_path / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    result = subprocess.run(
        [venv_bin("dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_publishing_waits_for_every_step_that_can_fail_before_it():
    """A killed or failed comparison step must stop publishing too (issue 11: it did not)."""
    graph = defs().resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey(["customers", "published"])).parent_keys}
    assert parents == {"customers/synthetic", "customers/synthesizer_comparison"}


def test_the_instance_fails_runs_whose_process_died():
    import yaml

    instance = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert instance["run_launcher"] == {"module": "synth_pipeline.run_launcher", "class": "HealthCheckedRunLauncher"}
    monitoring = instance["run_monitoring"]
    assert monitoring["enabled"] and monitoring["max_runtime_seconds"] > 0 and monitoring["start_timeout_seconds"] > 0


def test_dg_check_and_list_defs_load_every_stage_from_the_defs_folder(tmp_path):
    """The project is a `dg` project: definitions.py is `load_from_defs_folder`, each stage registers itself."""
    import json

    (tmp_path / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    check = subprocess.run(
        [venv_bin("dg"), "check", "defs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = subprocess.run(
        [venv_bin("dg"), "list", "defs", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found = json.loads(listed.stdout)
    assert {a["asset_key"] for a in found["assets"]} == {f"customers/{s}" for s in [*STAGES, "source"]}
    assert {j["name"] for j in found["jobs"]} == {"synthesize_all", "synthesize_customers"}
    assert {c["asset_key"] for c in found["asset_checks"]} == {"customers/synthetic", "customers/published"}


def test_adding_a_dataset_renames_no_step_of_the_others(tmp_path):
    """A run launched before a reload (an upload, the inbox) runs after it: its steps must keep their names.
    The column-schema check once covered every dataset in one op named after them all, and such runs failed
    with "unknown step asset_check_<hash>"."""
    from synth_pipeline.defs import build_defs
    from synth_pipeline.defs.resources import SynthPipelineResource
    from synth_pipeline.lib.config import parse_config

    def step_names(datasets: list[str]) -> set[str]:
        config = parse_config(
            {"datasets": {n: {"source": {"type": "csv", "path": "x.csv"}} for n in datasets}}, tmp_path
        )
        defs = build_defs(
            config, SynthPipelineResource(private_dir=str(tmp_path), public_database=str(tmp_path / "p.duckdb"))
        )
        return {a.node_def.name for a in [*defs.assets, *defs.asset_checks] if hasattr(a, "node_def")}

    before = step_names(["loans"])
    assert before <= step_names(["loans", "uploaded"])


WARM_PROBE = """
import os, sys
import pandas as pd
import synth_pipeline.warm
from sdv.single_table import ctgan
from synth_pipeline.lib import synthesis
from synth_pipeline.lib.config import CandidateConfig, load_config

dataset = load_config(os.environ["SYNTH_PIPELINE_DATASETS"]).dataset("customers")
df = pd.DataFrame({"age": [20 + i % 50 for i in range(400)], "grade": ["ab"[i % 2] for i in range(400)]})
for name in ("sequential_tree", "gaussian_copula"):
    model = synthesis.fit(df, dataset, CandidateConfig(name=name))[0].synthesizer
    next(synthesis.sample_chunks(model, 100, 100, 1))
print(int("torch" in sys.modules), int(ctgan.CTGAN is not None))
"""


def test_step_processes_load_torch_only_where_a_dataset_trains_an_sdv_neural_model(project):
    """The step forkserver's imports are the run's critical path: torch costs them 1.4 s and every step 180 MB,
    and a step that fits or samples the default models must not import it for itself."""

    def probe() -> list[str]:
        env = {**os.environ, "SYNTH_PIPELINE_DATASETS": str(project.write())}
        out = subprocess.run([sys.executable, "-c", WARM_PROBE], env=env, capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.split()[-2:]

    assert probe() == ["0", "0"]  # the default candidates: the tree and GaussianCopula
    project.settings["datasets"]["customers"]["synthesizer"]["candidates"] = ["sequential_tree", "tvae"]
    assert probe() == ["1", "1"]
