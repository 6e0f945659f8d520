"""The Dagster UI in a real headless Chromium (Debian's, driven by playwright): what a data engineer sees.

A real run publishes a table, a second run fails its gate, and `dagster dev` (webserver and daemons, our
dagster.yaml) serves the instance. The screenshots show the `<dataset>/<stage>` keys in the asset graph,
the published table's columns with their lineage, and the published asset marked stale after the failed
gate. Set SYNTH_PIPELINE_SCREENSHOTS=<folder> to keep them (docs/screenshots/ holds the committed ones).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import background, free_port, graphql, people_project, venv_bin
from synth_pipeline_tests.conftest import screenshot as _shot

pytestmark = pytest.mark.webserver
DATASET = "people"

RUN = """
import sys
import dagster as dg
from synth_pipeline.definitions import defs

d = defs()
result = dg.materialize(
    [*d.assets, *d.asset_checks], resources=d.resources, instance=dg.DagsterInstance.get(), raise_on_error=False
)
print("success" if result.success else "failure")
"""


FRESHNESS = """
{ assetNodeOrError(assetKey: {path: ["people", "published"]}) {
    ... on AssetNode { freshnessStatusInfo { freshnessStatus } } } }
"""


def _published_node(port: int) -> dict | None:
    """The published asset as the webserver serves it, once it does."""
    try:
        node = graphql(port, FRESHNESS)["data"]["assetNodeOrError"]
    except (OSError, KeyError, TypeError):
        return None
    return node if isinstance(node, dict) and "freshnessStatusInfo" in node else None


def _freshness(port: int) -> str | None:
    info = (_published_node(port) or {}).get("freshnessStatusInfo") or {}
    return info.get("freshnessStatus")


def _skip_popup(page) -> None:
    """The community pop-up of the Dagster UI: its "Skip" button, when it shows."""
    with contextlib.suppress(Exception):  # no pop-up this time
        page.get_by_role("button", name="Skip").click(timeout=4000)


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    (root / "home").mkdir()
    datasets = root / "datasets.yaml"
    env = os.environ | {
        "DAGSTER_HOME": str(root / "home"),
        "SYNTH_PIPELINE_DATASETS": str(datasets),
        "SYNTH_PIPELINE_PRIVATE_DIR": str(root / "private"),
        "SYNTH_PIPELINE_PUBLIC_DATABASE": str(root / "public" / "synthetic_data.duckdb"),
        "FRESHNESS_DAEMON_INTERVAL_SECONDS": "2",
    }
    shutil.copy(PROJECT_ROOT / "dagster.yaml", root / "home" / "dagster.yaml")
    # A minute (Dagster's least freshness window): the failed gate's table goes stale meanwhile.
    freshness = {"freshness_hours": 1 / 60}
    people_project(root, 1200, env, **freshness)

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", RUN], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
        )
        lines = done.stdout.strip().splitlines()
        assert lines, done.stderr[-3000:]
        return lines[-1]

    assert run() == "success"
    config = yaml.safe_load(datasets.read_text())
    config["datasets"][DATASET]["gate"] = {"column_shapes": 0.9999}  # tonight's gate cannot pass
    datasets.write_text(yaml.safe_dump(config))
    assert run() == "failure"  # yesterday's table stays
    port = free_port()
    command = [venv_bin("dagster"), "dev", "-w", "workspace.yaml", "-p", str(port), "-h", "127.0.0.1"]
    with background(command, env):
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and _published_node(port) is None:
            time.sleep(1)
        assert _published_node(port) is not None, "dagster dev never served the published asset"
        yield port, root


def _open(browser, port: int, path: str):
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    page.goto(f"http://127.0.0.1:{port}{path}", wait_until="networkidle", timeout=60_000)
    _skip_popup(page)
    return page


def test_the_lineage_shows_keys_by_dataset_and_stage_from_the_source_on(ui, browser, tmp_path):
    port, _ = ui
    page = _open(browser, port, "/assets/people/published?view=lineage&lineageScope=upstream&lineageDepth=8")
    page.get_by_text("deidentified", exact=True).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the graph settles
    _shot(page, "lineage-keys-by-dataset-and-stage", tmp_path)
    text = page.inner_text("body")
    assert "people" in text  # the breadcrumb: Assets > people > published
    for stage in ("source", "raw", "validated", "deidentified", "synthesizer", "synthetic", "published"):
        assert stage in text.split(), stage


def test_the_synthetic_asset_says_what_each_column_became(ui, browser, tmp_path):
    port, _ = ui
    page = _open(browser, port, "/assets/people/synthetic")
    page.get_by_text("regenerated primary key").first.wait_for(timeout=60_000)
    _shot(page, "synthetic-columns-what-each-became", tmp_path)


def test_the_published_asset_shows_its_columns_and_is_stale_after_a_failed_gate(ui, browser, tmp_path):
    port, _ = ui
    # The freshness window is a minute from the first run: the tests above run meanwhile.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and _freshness(port) != "DEGRADED":
        time.sleep(1)
    assert _freshness(port) == "DEGRADED", "the freshness daemon never marked the published table stale"
    page = _open(browser, port, "/assets/people/published")
    page.get_by_text("Freshness policy").first.wait_for(timeout=60_000)
    # The sidebar's heading shows before the policy's status is fetched: wait for the status itself.
    page.get_by_text("since last materialization").first.wait_for(timeout=60_000)
    page.get_by_text("income", exact=True).first.wait_for(timeout=60_000)
    _shot(page, "published-columns-and-stale-after-failed-gate", tmp_path)
    text = page.inner_text("body")
    assert "Failed" in text and "since last materialization" in text  # the freshness policy has failed
    assert "modelled from the real column" in text and "regenerated primary key" in text
    assert "never derived from real values" in text  # the name column: fresh values, not the real ones
