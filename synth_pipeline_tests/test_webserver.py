"""Smoke test: the real dagster-webserver serves the code location with every asset and check."""

import os
import subprocess
import time

import pytest

from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import free_port, graphql, venv_bin

pytestmark = pytest.mark.webserver

QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        assetNodes {
          assetKey { path }
          groupName
          assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
        }
        schedules { name cronSchedule }
      }
    }
  }
}
"""


def test_webserver_serves_the_code_location(tmp_path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    proc = subprocess.Popen(
        [venv_bin("dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        data = None
        while time.monotonic() < deadline:
            try:
                data = graphql(port, QUERY, timeout=10)
                if data.get("data", {}).get("repositoriesOrError", {}).get("nodes"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert data, "webserver did not answer"
        repo = data["data"]["repositoriesOrError"]["nodes"][0]
        assert repo["location"]["name"] == "synth_pipeline"
        nodes = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
        assert {
            "customers/raw",
            "customers/validated",
            "customers/deidentified",
            "customers/synthesizer",
            "customers/synthetic",
            "customers/published",
        } <= set(nodes)
        checks = nodes["customers/synthetic"]["assetChecksOrError"]["checks"]
        assert {c["name"] for c in checks} >= {
            "has_full_data_validity",
            "column_shapes_meet_threshold",
            "column_pair_trends_meet_threshold",
            "contains_no_raw_pii_values",
        }
        assert all(c["blocking"] for c in checks)
        assert {s["name"] for s in repo["schedules"]} == {"nightly_synthesis"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
