"""Shared fixtures: a private temporary project (datasets file, data, contract) per test."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest
import yaml

from synth_pipeline.defs import build_defs
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import load_config
from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.real_tables import contract_init

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
DEFAULT_CSV = PROJECT_ROOT / "data" / "customers.csv"
DEFAULT_CONTRACT = PROJECT_ROOT / "contracts" / "customers.json"
# A raw value planted in every good_table: no message, log line or metadata entry may carry it.
SENTINEL = "Quillon Vexmoor"


def good_table(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """A small people table (ids, names, ages, incomes with nulls, cities, dates) for fault and UI tests."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, rows).round(2)
    income[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "name": [f"{SENTINEL} {i}" if i % 7 == 0 else f"Person {i:04d}" for i in range(rows)],
            "age": rng.integers(18, 90, rows),
            "income": income,
            "city": rng.choice(["Lyon", "Oslo", "Porto", "Turin", "Ghent", "Brno", "Graz", "Split"], rows),
            "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
        }
    )


def people_project(root: Path, rows: int, env: dict[str, str] | None = None, **settings) -> Path:
    """data/people.csv from :func:`good_table`, a datasets file declaring it (sequential tree, plus
    ``settings``), and its contract from `synth-pipeline contract init`. Returns the datasets file."""
    (root / "data").mkdir(exist_ok=True)
    good_table(rows).to_csv(root / "data" / "people.csv", index=False)
    body = {
        "source": {"type": "csv", "path": "data/people.csv"},
        "primary_key": "id",
        "synthesizer": {"name": "sequential_tree"},
        **settings,
    }
    datasets = root / "datasets.yaml"
    datasets.write_text(yaml.safe_dump({"schedule": {"enabled": False}, "datasets": {"people": body}}))
    contract_init(datasets, "people", env)
    return datasets


def dagster_home(folder: Path, profile: str = "dagster.yaml") -> Path:
    """A Dagster instance folder holding one of the project's instance profiles (dagster.yaml, dagster.prod.yaml)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster.yaml").write_text((PROJECT_ROOT / profile).read_text())
    return folder


def storage_env(root: Path) -> dict[str, str]:
    """A private area and a public file of their own, under ``root``."""
    return {
        "SYNTH_PIPELINE_PRIVATE_DIR": str(root / "private"),
        "SYNTH_PIPELINE_PUBLIC_DATABASE": str(root / "public" / "synthetic_data.duckdb"),
    }


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by playwright (which never downloads a browser of its own)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: make browser"
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def screenshot(page, name: str, tmp_path: Path, full_page: bool = False) -> Path:
    """A PNG of the page; into $SYNTH_PIPELINE_SCREENSHOTS when set (docs/screenshots/ holds the committed ones)."""
    folder = Path(os.environ.get("SYNTH_PIPELINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000
    return path


@contextlib.contextmanager
def background(command: list[str], env: dict[str, str], log: Path | None = None) -> Iterator[subprocess.Popen]:
    """A server (dagster dev, dagster-webserver, synth-pipeline serve) in its own process group, run from the
    project root; the whole group is stopped on exit (SIGTERM, then SIGKILL after 30 s)."""
    err = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


POSTGRES = {"host": "127.0.0.1", "port": 5432, "dbname": "postgres"}


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A PostgreSQL database of the test's own on the machine's server (trust auth), dropped afterwards."""
    import uuid

    import psycopg2

    name = f"synth_pipeline_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(**POSTGRES)
    admin.autocommit = True
    user = admin.get_dsn_parameters()["user"]
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg2://{user}@127.0.0.1:5432/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, timeout: float = 30) -> dict:
    """One query to a local Dagster webserver's GraphQL endpoint."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class Project:
    """A throwaway copy of the default project: its own datasets file, data, contract and storage."""

    def __init__(self, root: Path):
        self.root = root
        (root / "data").mkdir()
        (root / "contracts").mkdir()
        shutil.copy(DEFAULT_CSV, root / "data" / "customers.csv")
        shutil.copy(DEFAULT_CONTRACT, root / "contracts" / "customers.json")
        self.settings = yaml.safe_load((PROJECT_ROOT / "datasets.yaml").read_text())
        self.private_dir = root / "private"
        self.public_db = root / "public" / "synthetic_data.duckdb"

    def copy_to(self, root: Path) -> Project:
        """This project's published state (private area and public file) in a folder of its own, with fresh
        settings: a test that changes settings or files changes only its copy."""
        clone = Project(root)
        for name in ("private", "public"):
            if (self.root / name).exists():
                shutil.copytree(self.root / name, root / name)
        return clone

    @property
    def datasets_file(self) -> Path:
        return self.root / "datasets.yaml"

    def write(self) -> Path:
        self.datasets_file.write_text(yaml.safe_dump(self.settings))
        return self.datasets_file

    def resource(self, **overrides) -> SynthPipelineResource:
        return SynthPipelineResource(
            private_dir=str(self.private_dir), public_database=str(self.public_db), **overrides
        )

    def defs(self, **overrides) -> dg.Definitions:
        return build_defs(load_config(self.write()), self.resource(**overrides))

    def run(self, instance: dg.DagsterInstance | None = None, **overrides) -> dg.ExecuteInProcessResult:
        """Materialize every asset and check, in process, exactly as the nightly job selects them."""
        defs = self.defs(**overrides)
        return dg.materialize(
            [*defs.assets, *defs.asset_checks],
            resources=defs.resources,
            instance=instance or dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def venv_bin(name: str) -> str:
    """A console script of the interpreter running the tests (works without an activated venv)."""
    return str(Path(sys.executable).parent / name)


@contextlib.contextmanager
def held_reader(database: Path, query: str) -> Iterator[tuple[str, Callable[[], str]]]:
    """A separate process that opens ``database`` read-only, answers ``query`` and keeps the connection open.

    Yields the first answer and a function that asks again on the same, still-open connection.
    """
    script = textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(database)!r}, read_only=True)
        print(con.execute({query!r}).fetchone()[0], flush=True)
        sys.stdin.readline()
        print(con.execute({query!r}).fetchone()[0], flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()

        def again() -> str:
            out, _ = proc.communicate("\n", timeout=60)
            return out.strip()

        yield first, again
    finally:
        proc.kill()
