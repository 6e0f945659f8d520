"""A table handed over as a file (the upload page, the inbox folder) becomes a dataset like any other.

Each upload is a folder in the private area: the file, ``dataset.yaml`` (one dataset, absolute paths),
its contract, and ``upload.json`` (what the page shows: column names, kinds, policies and reasons, rules;
never a cell value). The code location reads every ``dataset.yaml`` beside the configured datasets file.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from synth_pipeline.lib.config import DATASET_NAME, PipelineConfig, load_config, parse_config
from synth_pipeline.lib.errors import ConfigError, IngestionError, SynthPipelineError
from synth_pipeline.lib.storage import ensure_private_dir, read_json, write_json

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx", ".json": "json", ".jsonl": "json", ".ndjson": "json"}
# A CSV as portals and mail carry it, compressed: unpacked once on arrival, so the nightly runs read the plain CSV.
PACKED = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zip": "zip"}
TARRED = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz")
UNPACKED_MAX_BYTES = 4 * 2**30  # a compressed upload may not unpack to more (a zip bomb fills the private area)
ACCEPTED = ".csv, .parquet, .xlsx or .json, or a CSV compressed as .gz, .bz2, .xz, .zip or .tar(.gz)"
POLICIES = ("keep", "drop", "fake", "generate", "tokenize", "generalize", "encrypt")
UPLOAD_CONFIG = "dataset.yaml"
UPLOAD_STATE = "upload.json"
# A fast, strong default for people who do not pick: the candidates of `auto` cost minutes more.
DEFAULT_SYNTHESIZER = "sequential_tree"


class UploadRefused(SynthPipelineError):
    """The file cannot become a dataset; the message says why without quoting its content."""


@dataclass
class ColumnView:
    name: str
    kind: str  # numeric | ordinal | categorical | datetime | identifier | text
    pii_type: str | None
    category: str | None
    policy: str
    reason: str
    null_share: float
    unique: bool


@dataclass
class Upload:
    name: str
    filename: str
    kind: str  # csv | parquet | json (an .xlsx workbook is stored as the Parquet of its one filled sheet)
    rows: int
    columns: list[ColumnView]
    rules: list[str]
    primary_key: str | None
    created_at: str
    synthesizer: str = DEFAULT_SYNTHESIZER
    policies: dict[str, str] = field(default_factory=dict)  # the owner's choices, once submitted
    run_id: str | None = None
    origin: str = "page"  # page | inbox
    encoding: str | None = None  # a CSV that is not UTF-8: the encoding it was read in, shown to the owner

    @property
    def key_candidates(self) -> list[str]:
        return [c.name for c in self.columns if c.unique and c.null_share == 0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Upload:
        cols = [ColumnView(**c) for c in data.pop("columns")]
        return cls(columns=cols, **data)


def packing(filename: str) -> str | None:
    """How a file of this name is compressed (``gzip``, ``bzip2``, ``xz``, ``zip``, ``tar``), or None."""
    if filename.lower().endswith(TARRED):
        return "tar"
    return PACKED.get(Path(filename).suffix.lower())


def upload_kind(filename: str) -> str | None:
    """csv, parquet, xlsx or json by the file's name (a compressed file is a CSV), or None where it is none of them."""
    return "csv" if packing(filename) else SUFFIXES.get(Path(filename).suffix.lower())


def slug(filename: str) -> str:
    """A dataset name from a file name: ``Loan Book (2024).csv`` -> ``loan_book_2024``, ``loans.csv.gz`` -> ``loans``."""
    name = Path(filename).stem if packing(filename) else filename
    stem = re.sub(r"[^a-z0-9]+", "_", Path(name).stem.lower()).strip("_")
    if not stem or not stem[0].isalpha():
        stem = f"upload_{stem}".rstrip("_")
    return stem[:63]


def upload_folder(uploads_dir: Path, name: str) -> Path:
    if not DATASET_NAME.match(name):
        raise UploadRefused("the dataset name must be lower-case letters, digits and '_', starting with a letter")
    return uploads_dir / name


def sniff(path: Path, kind: str) -> None:
    """The bytes are what the name says: Parquet's magic number, or text with a header line."""
    with path.open("rb") as f:
        head = f.read(65536)
    if not head:
        raise UploadRefused("the file is empty")
    if kind == "parquet":
        if head[:4] != b"PAR1":
            raise UploadRefused("the file is named .parquet but is not a Parquet file")
        return
    if kind == "xlsx":
        if head[:4] != b"PK\x03\x04":
            raise UploadRefused("the file is named .xlsx but is not an Excel workbook")
        return
    if kind == "json":
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"[", b"{")):
            raise UploadRefused("the file is named .json but holds no JSON objects (it should start with [ or {)")
        return
    if b"\x00" in head:
        raise UploadRefused("the file is named .csv but holds binary data (is it a spreadsheet? save it as CSV)")
    if head[:4] == b"PAR1" or head[:2] == b"PK":
        raise UploadRefused("the file is named .csv but is a Parquet or zip (xlsx) file")
    if b"\n" not in head and len(head) == 65536:
        raise UploadRefused("the file has no line break in its first 64 KB: it is not a CSV table")


def unpack(path: Path, packed: str, dest: Path, limit: int | None = None) -> None:
    """The CSV a compressed upload holds, written to ``dest`` (streamed; the caller removes it if refused): refused
    where the bytes are not compressed as the name says, are damaged, or unpack to more than ``limit``
    (``UNPACKED_MAX_BYTES``)."""
    import zipfile

    from synth_pipeline.lib.ingestion import (
        PACKINGS,
        UNPACK_ERRORS,
        NotOneFile,
        open_unpacked,
        tar_file_name,
        zip_members,
    )

    limit = UNPACKED_MAX_BYTES if limit is None else limit
    with path.open("rb") as f:
        head = f.read(10)
    if packed == "tar" and tar_file_name(path) is None:
        raise UploadRefused("the file is not a tar archive, as its name says")
    if packed != "tar" and not PACKINGS[packed].match(head):
        raise UploadRefused(f"the file is not compressed with {packed}, as its name says")
    try:
        if packed == "zip":
            with zipfile.ZipFile(path) as archive:
                members = zip_members(archive)
            if len(members) != 1:
                raise UploadRefused(f"the zip archive holds {len(members)} files: send the one table alone")
        with open_unpacked(path, packed) as plain, dest.open("wb") as out:
            written = 0
            while block := plain.read(1 << 20):
                written += len(block)
                if written > limit:
                    raise UploadRefused(f"the file unpacks to more than {limit / 2**30:g} GB")
                out.write(block)
    except NotOneFile as err:
        raise UploadRefused(f"the tar archive {err}: send the one table alone") from None
    except UNPACK_ERRORS as err:
        raise UploadRefused(f"the {packed} file could not be unpacked ({type(err).__name__})") from None


def workbook_as_parquet(path: Path) -> Path:
    """The workbook's one sheet with data, as Parquet beside it; the workbook is removed. Data owners keep tables in
    spreadsheets, and saving one as CSV loses its dates' types and, with a comma as the decimal mark, its numbers.
    Several filled sheets are refused: which one is the table is the owner's call, not a guess. Rows of a title or
    notes above the header are left out, as DuckDB's sniffer leaves them out of a CSV."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    except Exception as err:  # a damaged or encrypted workbook; openpyxl's message can quote cells
        raise UploadRefused(f"the workbook could not be read ({type(err).__name__})") from None
    filled = {name: df.dropna(how="all") for name, df in sheets.items()}
    filled = {name: df for name, df in filled.items() if not df.empty}
    if not filled:
        raise UploadRefused("the workbook has no sheet with rows under a header")
    if len(filled) > 1:
        raise UploadRefused(
            f"the workbook has {len(filled)} sheets with data: save the one to synthesize as a workbook of its own"
        )
    name, df = next(iter(filled.items()))
    if header := _header_row(sheets[name]):
        df = pd.read_excel(path, sheet_name=name, header=header, engine="openpyxl").dropna(how="all")
    df.columns = [str(c) for c in df.columns]
    blank = [c for c in df.columns if c.startswith("Unnamed: ") and df[c].isna().all()]  # formatting, no header
    df = df.drop(columns=blank)
    for c in df.columns:  # a column of numbers and notes ("n/a", "pending") is text, as a CSV would give it
        if df[c].dtype == object and df[c].dropna().map(type).nunique() > 1:
            df[c] = df[c].map(lambda v: None if pd.isna(v) else str(v))
    out = path.with_suffix(".parquet")
    df.to_parquet(out, index=False)
    out.chmod(0o600)
    path.unlink()
    return out


MAX_TITLE_ROWS = 20


def _header_row(sheet: pd.DataFrame) -> int:
    """The sheet row holding the table's header, where a title or notes sit above it (0 where the first row is the
    header). A sheet headed `Superstore orders, 2014-2017` over a line of notes and a blank one was read with the
    title as its one named column and every real column name as a first row of data: 21 columns `Unnamed: 1`, ...,
    all text. The header is the first row filling at least half of the table's columns."""
    width = int(sheet.notna().any().sum())
    if 2 * sum(not str(c).startswith("Unnamed: ") for c in sheet.columns) >= width:
        return 0
    filled = sheet.head(MAX_TITLE_ROWS).notna().sum(axis=1).tolist()
    return next((i + 1 for i, n in enumerate(filled) if n >= 2 and 2 * n >= width), 0)


def configured_names(datasets_file: Path) -> set[str]:
    try:
        return set(load_config(datasets_file).datasets)
    except ConfigError:
        return set()


def register(
    source: Path,
    uploads_dir: Path,
    name: str,
    filename: str,
    taken: set[str],
    origin: str = "page",
) -> Upload:
    """Move ``source`` into the upload's folder, read it as the pipeline will, and infer how each column is
    understood and what will be done to it. Nothing of it is run yet."""
    kind = upload_kind(filename)
    if kind is None:
        raise UploadRefused(f"only {ACCEPTED} files are accepted")
    if name in taken:
        raise UploadRefused("a dataset of the datasets file has this name already: choose another name")
    if name == "all":
        raise UploadRefused("'all' is reserved (the job synthesize_all): choose another name")
    folder = upload_folder(uploads_dir, name)
    packed = packing(filename)
    if not packed:
        sniff(source, kind)
    ensure_private_dir(uploads_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=uploads_dir))
    try:
        data = staging / f"source.{kind}"
        if packed:
            unpack(source, packed, data)
            source.unlink()
            sniff(data, kind)
        else:
            shutil.move(str(source), data)
        data.chmod(0o600)
        if kind == "xlsx":
            data, kind = workbook_as_parquet(data), "parquet"
        body = {"source": {"type": kind, "path": str(folder / data.name)}, "synthesizer": {"name": DEFAULT_SYNTHESIZER}}
        upload = _infer(staging, name, body, data, filename, kind, origin)
        write_json(staging / UPLOAD_STATE, upload.to_dict())
        if folder.exists():  # a new upload under the same name replaces the old one (its published table stays)
            shutil.rmtree(folder)
        staging.rename(folder)
        folder.chmod(0o700)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return upload


# The page has no privacy settings: the way out of a refusal is a data engineer's.
ENGINEER_SETS = "A data engineer can still synthesize it: in the datasets file, set"


def _infer(folder: Path, name: str, body: dict, data: Path, filename: str, kind: str, origin: str) -> Upload:
    from synth_pipeline.lib.ingestion import ingest
    from synth_pipeline.lib.pii.policies import plan_columns
    from synth_pipeline.lib.storage import read_frame

    # Read from where the file lies now (the staging folder); the saved entry points to its final place.
    staged = {**body, "source": {"type": kind, "path": str(data)}}
    dataset = parse_config({"datasets": {name: staged}}, folder).datasets[name]
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        try:
            result = ingest(dataset, folder, Path(tmp) / "raw.parquet")
        except IngestionError as err:
            raise UploadRefused(str(err)) from None
        df = read_frame(result.path)
    if df.empty:
        raise UploadRefused("the file has a header but no rows")
    from synth_pipeline.lib.privacy import entity_codes, people_in, too_few_rows

    # Said now, not by a run that fails after ingestion, validation and detection: the owner cannot change the
    # setting that would run it (a data engineer can, in the datasets file).
    refusal = too_few_rows(name, len(df), dataset.privacy, "The upload is not taken: ", anyway=ENGINEER_SETS)
    if refusal:
        raise UploadRefused(refusal)
    key = _guess_key(df)
    if key:
        dataset = dataset.model_copy(update={"primary_key": key})
    plan = plan_columns(df, dataset)
    people = people_in(entity_codes(df, plan.entity_key))
    if people is not None and (
        refusal := too_few_rows(name, len(df), dataset.privacy, "The upload is not taken: ", people, ENGINEER_SETS)
    ):
        raise UploadRefused(refusal)
    columns = [_view(df[d.column], d) for d in plan.decisions]
    return Upload(
        name=name,
        filename=Path(filename).name,
        kind=kind,
        rows=len(df),
        columns=columns,
        rules=_rules(df, plan, dataset) or [],
        primary_key=key,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        origin=origin,
        encoding=result.encoding,
    )


def _guess_key(df: pd.DataFrame) -> str | None:
    """A filled, unique column named like a key (``id``, ``customer_id``, ``ID``), else none."""
    for col in map(str, df.columns):
        if re.search(r"(^|_)(id|key|nr|no)$", col.lower()) and df[col].notna().all() and df[col].is_unique:
            return col
    return None


def _view(series: pd.Series, d: Any) -> ColumnView:
    filled = series.dropna()
    distinct = filled.nunique()
    unique = bool(len(filled) and distinct == len(series))
    if d.action == "key" or (d.category == "identifier"):
        kind = "identifier"
    elif pd.api.types.is_datetime64_any_dtype(series) or d.pii_type == "date_of_birth":
        kind = "datetime"
    elif pd.api.types.is_bool_dtype(series):
        kind = "categorical"
    elif pd.api.types.is_integer_dtype(series) and distinct <= 20:
        kind = "ordinal"
    elif pd.api.types.is_numeric_dtype(series):
        kind = "numeric"
    elif unique or (len(filled) and distinct / len(filled) > 0.5):
        # Mostly distinct: codes look like identifiers, sentences and names (with spaces) like free text.
        sample = filled.astype(str).head(200)
        kind = "text" if sample.str.contains(" ").mean() > 0.5 else "identifier"
    else:
        kind = "categorical"
    return ColumnView(
        name=d.column,
        kind=kind,
        pii_type=d.pii_type,
        category=d.category,
        policy=d.action,
        reason=d.reason or ("not personal data: modelled" if d.action == "keep" else ""),
        null_share=round(float(series.isna().mean()), 4),
        unique=unique,
    )


def _rules(df: pd.DataFrame, plan: Any, dataset: Any) -> list[str] | None:
    """The row rules discovery finds among the columns that are modelled (texts name columns, never values).
    None found means none is checked: the page says so, and :func:`configure` writes ``rules.discover: false``."""
    from synth_pipeline.lib import synthesis

    try:
        return [r.text for r in synthesis.rules_of_modelled_columns(df, plan, dataset)]
    except Exception:  # discovery is a courtesy here; the run discovers them again and reports them
        return None


def load_upload(uploads_dir: Path, name: str) -> Upload:
    path = upload_folder(uploads_dir, name) / UPLOAD_STATE
    if not path.exists():
        raise UploadRefused("no upload has this name")
    return Upload.from_dict(read_json(path))


def save_upload(uploads_dir: Path, upload: Upload) -> None:
    write_json(upload_folder(uploads_dir, upload.name) / UPLOAD_STATE, upload.to_dict())


def list_uploads(uploads_dir: Path) -> list[Upload]:
    if not uploads_dir.exists():
        return []
    out = []
    for state in sorted(uploads_dir.glob(f"*/{UPLOAD_STATE}")):
        try:
            out.append(Upload.from_dict(read_json(state)))
        except (OSError, ValueError, TypeError):
            continue
    return out


def configure(
    uploads_dir: Path, upload: Upload, policies: dict[str, str], primary_key: str | None, synthesizer: str
) -> Path:
    """Write the upload's dataset entry with the owner's policies, and its contract; returns dataset.yaml.

    Raises :class:`ConfigError` or :class:`~synth_pipeline.lib.errors.PiiPolicyError` (safe messages) when
    a choice cannot be honoured, e.g. ``keep`` on a column of names that are each too rare to publish."""
    from synth_pipeline.lib.contracts import write_contract
    from synth_pipeline.lib.ingestion import ingest
    from synth_pipeline.lib.pii.policies import plan_columns
    from synth_pipeline.lib.storage import read_frame

    folder = upload_folder(uploads_dir, upload.name)
    proposed = {c.name: c.policy for c in upload.columns}
    columns: dict[str, dict[str, Any]] = {}
    for col, policy in policies.items():
        if col not in proposed or col == primary_key:
            continue
        if policy not in POLICIES:
            raise UploadRefused("a policy is not one of " + ", ".join(POLICIES))
        if policy != proposed[col]:
            columns[col] = {"pii": policy}
            if policy == "keep":
                columns[col]["is_pii"] = False  # the owner says this column is not personal data
    body: dict[str, Any] = {
        "description": f"Uploaded as {upload.filename} ({upload.origin}) on {upload.created_at[:10]}.",
        "source": {"type": upload.kind, "path": str(folder / f"source.{upload.kind}")},
        "contract": str(folder / "contract.json"),
        "synthesizer": {"name": synthesizer},
        "columns": columns,
    }
    if primary_key:
        body["primary_key"] = primary_key
    config = parse_config({"datasets": {upload.name: body}}, folder)
    dataset = config.datasets[upload.name]
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        result = ingest(dataset, folder, Path(tmp) / "raw.parquet")
        df = read_frame(result.path)
    plan = plan_columns(df, dataset)
    found = _rules(df, plan, dataset)
    upload.rules = found or []
    if found == []:
        # The page said no rule holds in the rows; the entry says so too, or the gate would refuse the run for
        # want of a rule to check (Likert answers, a few measurements), which an owner cannot set on the page.
        body["rules"] = {"discover": False}
    write_contract(folder / "contract.json", upload.name, df, plan, k=dataset.privacy.min_value_count)
    entry = folder / UPLOAD_CONFIG
    entry.write_text(yaml.safe_dump({"datasets": {upload.name: body}}, sort_keys=False))
    entry.chmod(0o600)
    upload.policies = {c.name: policies.get(c.name, c.policy) for c in upload.columns}
    upload.primary_key = primary_key
    upload.synthesizer = synthesizer
    save_upload(uploads_dir, upload)
    return entry


def with_uploads(config: PipelineConfig, uploads_dir: Path) -> PipelineConfig:
    """The configured datasets plus every configured upload (a configured dataset wins a name clash).
    An upload whose entry no longer parses is left out, so one bad upload never breaks the code location."""
    datasets = dict(config.datasets)
    if uploads_dir.exists():
        for entry in sorted(uploads_dir.glob(f"*/{UPLOAD_CONFIG}")):
            try:
                extra = load_config(entry)
            except ConfigError:
                continue
            for name, ds in extra.datasets.items():
                datasets.setdefault(name, ds)
    return config.model_copy(update={"datasets": datasets})
