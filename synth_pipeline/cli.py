"""``synth-pipeline``: the few operations that are not Dagster runs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from synth_pipeline.lib.config import load_config
from synth_pipeline.lib.errors import SynthPipelineError, withheld
from synth_pipeline.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from synth_pipeline.lib.config import DatasetConfig
    from synth_pipeline.lib.pii.policies import PiiPlan


def _contract_init(args: argparse.Namespace) -> int:
    import tempfile

    from synth_pipeline.lib.contracts import write_contract
    from synth_pipeline.lib.ingestion import headerless_note, ingest
    from synth_pipeline.lib.pii.policies import plan_columns
    from synth_pipeline.lib.privacy import entity_codes, people_in, too_few_rows
    from synth_pipeline.lib.storage import ensure_private_dir, read_frame

    config = load_config(args.datasets or Settings.from_env().datasets_file)
    dataset = config.dataset(args.dataset)
    path = dataset.contract_path(config.base_dir)
    if path.exists() and not args.force:
        print(f"{path} exists; pass --force to overwrite it (and bump contract_version by hand)", file=sys.stderr)
        return 1
    # Read in the private area, as the nightly run reads it: a decompressed copy or the raw Parquet never lands in /tmp.
    private = ensure_private_dir(Settings.from_env().private_dir)
    with withheld("contract init", dataset.name), tempfile.TemporaryDirectory(prefix=".contract-", dir=private) as tmp:
        result = ingest(dataset, config.base_dir, Path(tmp) / "raw.parquet")
        df = read_frame(result.path)
        plan = plan_columns(df, dataset)
    contract = write_contract(path, dataset.name, df, plan, k=dataset.privacy.min_value_count)
    n = len(contract["expectation_suite"]["expectations"])
    if result.headerless:
        print(f"note: {headerless_note(list(result.schema))}", file=sys.stderr)
    if result.encoding:
        print(
            f"note: the file is not UTF-8: read as {result.encoding}; set source.encoding if that is wrong",
            file=sys.stderr,
        )
    if result.converted:  # a mark read as missing, a unit dropped: seen before the first run, not after it
        shown = "; ".join(f"{c}: {how}" for c, how in list(result.converted.items())[:SHOWN_CONVERSIONS])
        more = len(result.converted) - SHOWN_CONVERSIONS
        print(
            f"note: {len(result.converted)} column(s) read as types a model can learn: {shown}"
            + (f"; and {more} more, each named in the log and the raw asset's metadata" if more > 0 else ""),
            file=sys.stderr,
        )
    print(
        f"wrote {path}: contract v1 with {n} expectations "
        f"({len(plan.pii_columns)} PII columns get structural expectations only)"
    )
    if plan.entity_key:
        print(
            f"note: rows are records of people ({plan.entity_reason}): k (privacy.min_value_count) counts people, "
            "not rows, and whole people are held out. Set entity_key in the datasets entry to name another column",
            file=sys.stderr,
        )
    elif plan.entity_reason:
        print(f"note: {plan.entity_reason}", file=sys.stderr)
    people = people_in(entity_codes(df, plan.entity_key))
    refusal = too_few_rows(dataset.name, len(df), dataset.privacy, "The nightly run will refuse it, as ", people)
    if refusal:
        print(f"note: {refusal}", file=sys.stderr)
    modelled, blocked = _modelled(df, plan, dataset)
    if blocked:
        print(f"note: {blocked} The nightly run will refuse it.", file=sys.stderr)
    elif _finds_no_rule(modelled, dataset):
        print(
            "note: no row rule holds among the columns the model learns, so the nightly run's check "
            "rows_follow_the_datas_rules would fail for want of evidence and publish nothing. If the table has none, "
            "set rules.discover: false in its datasets entry (or declare its rules in rules.add): docs/rules.md",
            file=sys.stderr,
        )
    return 0


SHOWN_CONVERSIONS = 3


def _modelled(df: pd.DataFrame, plan: PiiPlan, dataset: DatasetConfig) -> tuple[pd.DataFrame, str | None]:
    """The frame the PII plan leaves to the model, and why the run will stop at PII removal, if it will.
    modeldata's fine-food reviews (a product code, the review, a score): codes and text get fresh values, so one
    column was left to model, and the first run stopped there; the note said only that no rule held."""
    from synth_pipeline.lib.errors import PiiPolicyError
    from synth_pipeline.lib.pii.policies import apply_plan, too_few_columns

    try:
        modelled = apply_plan(df, plan, "discovery")  # tokens only count distinct values here
    except PiiPolicyError as err:
        return df.iloc[:, :0], str(err)
    return modelled, too_few_columns(dataset.name, modelled)


def _finds_no_rule(modelled: pd.DataFrame, dataset: DatasetConfig) -> bool:
    """Discovery as the run does it, on the columns the model learns: a table of a few categories (openintro's
    simpsons_paradox_covid, Stat2Data's AthleteGrad) has no rule, and its first run published nothing. Said here,
    the user sets rules.discover: false before the first run instead of after it."""
    from synth_pipeline.lib import synthesis

    if not dataset.rules.discover or dataset.rules.add or dataset.rules.pin:
        return False
    return not synthesis.discovered_rules(modelled, dataset)


def _where(args: argparse.Namespace) -> int:
    import duckdb

    db = Settings.from_env().public_database
    if not db.exists():
        print(f"No published database yet (expected at {db}). Run `make run` first.", file=sys.stderr)
        return 1
    con = duckdb.connect(str(db), read_only=True)
    tables = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema = 'synthetic' ORDER BY 1"
    ).fetchall()
    print(f"Published DuckDB file: {db}")
    for (t,) in tables:
        (n,) = con.execute(f"SELECT count(*) FROM {t}").fetchone() or (0,)
        print(f"  {t}: {n} rows")
    hist = con.execute(
        "SELECT dataset, check_name, round(score, 4), threshold, passed FROM meta.quality_history "
        "WHERE run_id = (SELECT run_id FROM meta.quality_history ORDER BY evaluated_at DESC LIMIT 1)"
    ).fetchall()
    if hist:
        print("Latest gate scores:")
        for row in hist:
            print("  " + "  ".join(str(x) for x in row))
    con.close()
    if tables:
        bin_dir = Path(sys.executable).parent
        cli = bin_dir / "duckdb" if (bin_dir / "duckdb").exists() else Path("duckdb")
        table = tables[0][0]
        print("\nTry:")
        print(f'  {cli} -readonly {db} "SELECT * FROM {table} LIMIT 5"')
        query = f"import duckdb; print(duckdb.connect('{db}', read_only=True).sql('FROM {table} LIMIT 5'))"
        print(f'  {sys.executable} -c "{query}"')
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from synth_pipeline.lib.pii.crypto import ENCRYPTION_KEY_ENV, new_key

    print(new_key())
    print(
        f"# store it in a secret manager and export it as {ENCRYPTION_KEY_ENV} (or SYNTH_PIPELINE_TOKEN_KEY); "
        "it is not saved anywhere",
        file=sys.stderr,
    )
    return 0


def _decrypt(args: argparse.Namespace) -> int:
    """For key holders only: reverse ``encrypt`` tokens. Each token is bound to its dataset, column and row key
    (the ``_row_key`` column of the private reidentification file), so all three must be given."""
    import os

    from synth_pipeline.lib.pii.crypto import ENCRYPTION_KEY_ENV, decrypt_value, parse_key

    key = parse_key(os.environ.get(ENCRYPTION_KEY_ENV))
    if args.token:
        pairs = [(args.row, args.token)]
    else:  # "<row key><TAB><token>" per line
        pairs = [tuple(line.rstrip("\n").split("\t", 1)) for line in sys.stdin if line.strip()]
    for row_key, token in pairs:
        print(decrypt_value(token, key, args.dataset, args.column, row_key))
    return 0


def _prune(args: argparse.Namespace) -> int:
    """Delete the private copies of datasets no longer in the datasets file (a dry run without --yes)."""
    import os
    import shutil

    from synth_pipeline.lib.uploads import with_uploads
    from synth_pipeline.settings import DEFAULTS, ENV_PRIVATE_DIR, uploads_dir

    private = Path(os.environ.get(ENV_PRIVATE_DIR) or DEFAULTS[ENV_PRIVATE_DIR])
    # Uploaded datasets (page or inbox) are datasets too; their files and the inbox are never pruned.
    config = with_uploads(load_config(args.datasets or Settings.from_env().datasets_file), uploads_dir(private))
    keep = {"tmp", "uploads", "inbox"}
    gone = (
        sorted(p for p in private.iterdir() if p.is_dir() and p.name not in config.datasets and p.name not in keep)
        if private.exists()
        else []
    )
    if not gone:
        print(f"nothing to prune in {private}: every folder belongs to a configured dataset")
        return 0
    for folder in gone:
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        if args.yes:
            shutil.rmtree(folder)
        print(f"{'deleted' if args.yes else 'would delete'} {folder} ({size / 1e6:.1f} MB): not in the datasets file")
    if not args.yes:
        print("run again with --yes to delete them (their published tables stay; drop those by hand)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """The sandbox API and the upload page, on loopback unless told otherwise."""
    import uvicorn

    from synth_pipeline.serve.app import create_app
    from synth_pipeline.settings import ServeSettings

    settings = ServeSettings.from_env()
    if args.datasets:
        settings = dataclasses.replace(settings, datasets_file=args.datasets)
    print(
        f"synth-pipeline serve: API docs at http://{args.host}:{args.port}/docs, upload page at "
        f"http://{args.host}:{args.port}/upload; reading {settings.public_database}"
        + (" (API keys required)" if settings.api_keys else ""),
        file=sys.stderr,
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _worker(args: argparse.Namespace) -> int:
    """A Celery worker that executes steps sent by runs on the Celery executor (same broker settings)."""
    import os

    from synth_pipeline.executors import ENV_CELERY_BROKER, celery_broker

    if not celery_broker():
        print(f"error: set {ENV_CELERY_BROKER} (e.g. pyamqp://guest:guest@127.0.0.1:5672//)", file=sys.stderr)
        return 2
    command = [
        sys.executable, "-m", "celery", "-A", "synth_pipeline.celery_worker", "worker",
        "--queues", "dagster", "--hostname", f"{args.name}@%h", "--concurrency", str(args.concurrency),
        "--loglevel", args.log_level, "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    print(f"synth-pipeline worker {args.name}: {args.concurrency} step(s) at a time", file=sys.stderr)
    os.execv(sys.executable, command)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="synth-pipeline", description=__doc__)
    parser.add_argument(
        "--datasets", type=Path, help="datasets file (default: $SYNTH_PIPELINE_DATASETS or ./datasets.yaml)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    contract = sub.add_parser("contract", help="data contracts")
    csub = contract.add_subparsers(dest="contract_command", required=True)
    init = csub.add_parser("init", help="write the first contract of a dataset from its current data")
    init.add_argument("dataset")
    init.add_argument("--force", action="store_true")
    init.set_defaults(func=_contract_init)
    where = sub.add_parser("where", help="print where the published DuckDB file is and what it holds")
    where.set_defaults(func=_where)
    keygen = sub.add_parser(
        "keygen", help="print a new 256-bit key for SYNTH_PIPELINE_ENCRYPTION_KEY or SYNTH_PIPELINE_TOKEN_KEY"
    )
    keygen.set_defaults(func=_keygen)
    decrypt = sub.add_parser("decrypt", help="key holders: decrypt tokens of an encrypted column")
    decrypt.add_argument("--dataset", required=True, help="the dataset the tokens came from (bound into each token)")
    decrypt.add_argument("--column", required=True, help="the column the tokens came from (bound into each token)")
    decrypt.add_argument("--row", help="the token's row key (_row_key in the reidentification file)")
    decrypt.add_argument("token", nargs="?", help="one token (default: '<row key><TAB><token>' lines on stdin)")
    decrypt.set_defaults(func=_decrypt)
    prune = sub.add_parser("prune", help="delete private copies of datasets removed from the datasets file")
    prune.add_argument("--yes", action="store_true", help="delete (default: only list what would go)")
    prune.set_defaults(func=_prune)
    serve = sub.add_parser("serve", help="start the sandbox REST API and the upload page")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="start a Celery worker for runs on the Celery executor")
    worker.add_argument("--name", default="synth-pipeline", help="worker name; the host name is appended")
    worker.add_argument("--concurrency", type=int, default=1, help="steps at a time (default 1: a step is CPU-bound)")
    worker.add_argument("--log-level", default="INFO", choices=["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"])
    worker.set_defaults(func=_worker)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SynthPipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
