"""The whole graph on a real public table, as a new user runs it: a CSV, a datasets entry, `contract init`."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from synth_pipeline.defs import build_defs
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib.config import load_config


def run_real_table(
    root: Path, name: str, table: pd.DataFrame | pa.Table, settings: dict[str, Any] | None = None
) -> tuple[Path, dg.ExecuteInProcessResult]:
    """Write ``table`` as data/<name>.csv (an Arrow table as data/<name>.parquet, its types kept), declare it with
    ``settings`` (none per column), let `synth-pipeline contract init` write its contract, and materialize every
    asset and check."""
    (root / "data").mkdir()
    kind = "parquet" if isinstance(table, pa.Table) else "csv"
    if isinstance(table, pa.Table):
        pq.write_table(table, root / "data" / f"{name}.parquet")
    else:
        table.to_csv(root / "data" / f"{name}.csv", index=False)
    body = {"source": {"type": kind, "path": f"data/{name}.{kind}"}, **(settings or {})}
    datasets = root / "datasets.yaml"
    datasets.write_text(yaml.safe_dump({"datasets": {name: body}}))
    contract_init(datasets, name)
    resource = SynthPipelineResource(
        private_dir=str(root / "private"), public_database=str(root / "public" / "synthetic_data.duckdb")
    )
    defs = build_defs(load_config(datasets), resource)
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        resources=defs.resources,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    return root, result


def contract_init(datasets: Path, name: str, env: dict[str, str] | None = None) -> None:
    """`synth-pipeline contract init <name>`, as a data owner runs it: the command's own ``main``, in this process
    (with ``env`` as its environment). A subprocess imported the whole stack again, 5 to 10 s a call and some twenty
    calls a suite; test_cli runs the installed command itself."""
    from synth_pipeline import cli

    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env or {}, clear=env is not None),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = cli.main(["--datasets", str(datasets), "contract", "init", name])
    assert code == 0, f"contract init {name} exited {code}: {err.getvalue()}"
