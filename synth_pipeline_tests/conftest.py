"""Shared fixtures: a private temporary project (datasets file, data, contract) per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from synth_pipeline.defs import build_defs
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import load_config
from synth_pipeline.settings import PROJECT_ROOT

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
DEFAULT_CSV = PROJECT_ROOT / "data" / "customers.csv"
DEFAULT_CONTRACT = PROJECT_ROOT / "contracts" / "customers.json"


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
