"""Where each stage keeps its files.

The private area holds everything derived from real data (raw copies, the
de-identified training table, SDV metadata, fitted models, staged output). It is
created owner-only, and so is every file in it; downstream teams get only the
public DuckDB file. Every file is written beside its destination under a name
that carries the writer's pid, fsynced, renamed into place and its folder fsynced:
a kill leaves either the old file or the new one, and the next writer removes
what a dead process left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRIVATE_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_MODE)
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staging_name(dest: Path, suffix: str) -> Path:
    """``.<name>.<pid>.<random><suffix>`` beside ``dest``: unique, and tells who wrote it."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


def remove_stale(dest: Path, suffix: str) -> list[Path]:
    """Remove staging files of ``dest`` whose writing process is gone (a kill -9 mid-write)."""
    removed: list[Path] = []
    prefix = f".{dest.name}."
    if not dest.parent.is_dir():
        return removed
    for entry in dest.parent.iterdir():
        name = entry.name
        if not name.startswith(prefix) or suffix not in name:
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if pid_text.isdigit() and (int(pid_text) == os.getpid() or pid_alive(int(pid_text))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp: Path, dest: Path, mode: int = 0o600) -> None:
    """``os.replace`` that survives a power cut: the file, then the rename in its folder, reach the disk."""
    os.chmod(tmp, mode)
    fsync_path(tmp)
    os.replace(tmp, dest)
    fsync_path(dest.parent)


@contextlib.contextmanager
def atomic_path(dest: Path, mode: int = 0o600) -> Iterator[Path]:
    """Yield a staging path beside ``dest``; it replaces ``dest`` (owner-only, durably) only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(dest, ".tmp")
    tmp = staging_name(dest, ".tmp")
    try:
        yield tmp
        replace_durably(tmp, dest, mode)
    finally:
        for leftover in dest.parent.glob(tmp.name + "*"):
            leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def private_tempdir(root: Path) -> Iterator[Path]:
    """Point ``tempfile`` at an owner-only folder inside the private area for the block.

    Libraries that spill training rows or models into temporary files (mostlyai-engine copies its training
    data into a workspace) then write inside the private area, and whatever a crash left behind is removed
    the next time. The folder is the process's own: two overlapping runs of one dataset each removed the
    other's folder on entry and on exit, failing both.
    """
    remove_stale(root / "tmp", ".dir")
    tmp = ensure_private_dir(staging_name(root / "tmp", ".dir"))
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp)
    try:
        yield tmp
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(dest: Path, payload: Any) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))


def quote_ident(name: str) -> str:
    """A column or table name as a SQL identifier, for DuckDB (ingestion, publishing, the sandbox API)."""
    return '"' + name.replace('"', '""') + '"'


def write_parquet(frame: Any, dest: Path) -> None:
    """A pandas frame to a private Parquet file, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = typed_nulls(table.schema)
    with atomic_path(dest) as tmp:
        pq.write_table(table if schema.equals(table.schema) else table.cast(schema), tmp)
    del table
    release_arrow_memory()


def typed_nulls(schema: Any, known: Any = None) -> Any:
    """``schema`` with every column of Arrow's null type (pandas' all-None text) given its type in ``known``, or text.

    A CSV written with a comma at the end of every line has an empty last column: read as text, it became a column
    of type NULL in the training rows and then in the published table, a type few readers take; and where the first
    sampled chunk held no value of a sparse text column, the next chunk that held one failed the step (Arrow cannot
    cast text to null)."""
    import pyarrow as pa

    def typed(field: Any) -> Any:
        if not pa.types.is_null(field.type):
            return field
        given = known.field(field.name).type if known is not None and field.name in known.names else pa.null()
        return field.with_type(pa.string() if pa.types.is_null(given) else given)

    return pa.schema([typed(f) for f in schema], metadata=schema.metadata)


def release_arrow_memory() -> None:
    """Hand back the memory Arrow's allocator keeps after a table is freed. It keeps it for the next table, but a
    step reads or writes one or two, and the rest of its work allocates outside Arrow: at a million rows the gate's
    step process held 270 MB so, 0.65 x the input frame, while it scored (docs/scale.md)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def append_jsonl(dest: Path, row: dict[str, Any]) -> None:
    """One line appended, owner-only (O_APPEND: concurrent writers never interleave within a line)."""
    fd = os.open(dest, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(row, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class DatasetPaths:
    """The private files of one dataset."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw.parquet"

    @property
    def source_types(self) -> Path:
        """Source types the model learns in another form (a time of day as seconds), restored when published."""
        return self.root / "source_types.json"

    @property
    def validation_report(self) -> Path:
        return self.root / "validation.json"

    @property
    def deidentified(self) -> Path:
        return self.root / "deidentified.parquet"

    @property
    def holdout(self) -> Path:
        """De-identified rows never trained on: the baseline of the privacy checks."""
        return self.root / "holdout.parquet"

    @property
    def entities(self) -> Path:
        """Each training and held-out row's person as a code (row-aligned with both tables, :class:`privacy.People`),
        where rows are a panel's records; absent where each row is a person of its own."""
        return self.root / "entities.parquet"

    @property
    def candidates(self) -> Path:
        """Scores of every candidate synthesizer of the last training run."""
        return self.root / "candidates.json"

    @property
    def reidentification(self) -> Path:
        """Ciphertexts of ``encrypt`` columns, row-aligned with the training table."""
        return self.root / "reidentification.parquet"

    @property
    def pii_plan(self) -> Path:
        """Column decisions; holds no values. Kept private because it describes the raw table."""
        return self.root / "pii_plan.json"

    @property
    def pii_reference(self) -> Path:
        """Digests of raw PII values, for the leak check and for fakes that must not collide."""
        return self.root / "pii_reference.json"

    @property
    def sdv_metadata(self) -> Path:
        return self.root / "sdv_metadata.json"

    @property
    def rules(self) -> Path:
        """The row rules of the last training run (column names only) and their real adherence."""
        return self.root / "rules.json"

    @property
    def model(self) -> Path:
        return self.root / "synthesizer.pkl"

    @property
    def model_fingerprint(self) -> Path:
        """What the saved model was trained from; equal fingerprints mean retraining can be skipped."""
        return self.root / "synthesizer.fingerprint.json"

    @property
    def staged_fingerprint(self) -> Path:
        return self.root / "staged" / "synthetic.fingerprint.json"

    @property
    def staged(self) -> Path:
        return self.root / "staged" / "synthetic.parquet"

    @property
    def gate_verdict(self) -> Path:
        return self.root / "staged" / "gate_verdict.json"

    @property
    def gate_log(self) -> Path:
        """Every verdict the gate gave (run, digest of the bytes scored, passed): the audit of what was gated."""
        return self.root / "gate_verdicts.jsonl"

    @property
    def gate_pictures(self) -> Path:
        """The gate's real-vs-synthetic pictures (PNG data URIs), for the upload page's report."""
        return self.root / "staged" / "gate_pictures.json"


def dataset_paths(private_dir: Path, dataset: str) -> DatasetPaths:
    ensure_private_dir(private_dir)
    root = ensure_private_dir(private_dir / dataset)
    ensure_private_dir(root / "staged")
    return DatasetPaths(root)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def unchanged_since(record: Path, fingerprint: str, *outputs: Path) -> dict | None:
    """The earlier run that made ``outputs`` from the same inputs, if they are all still there."""
    if not record.exists() or not all(p.exists() for p in outputs):
        return None
    previous = read_json(record)
    return previous if previous.get("fingerprint") == fingerprint else None


def read_frame(path: Path, columns: list[str] | None = None):
    """Read a private Parquet file; dates come back as datetime64, not Python objects."""
    import pyarrow.parquet as pq

    frame = pq.read_table(path, columns=columns).to_pandas(date_as_object=False)
    release_arrow_memory()
    return frame


def entity_digests(paths: DatasetPaths) -> list[str]:
    """Part of the training rows' version where there is one: the same rows grouped into other people are other
    evidence (none where each row is a person of its own, so such versions stay as they were)."""
    return [file_digest(paths.entities)] if paths.entities.exists() else []


@contextlib.contextmanager
def pinned(path: Path) -> Iterator[tuple[Path, str]]:
    """``path``'s bytes as they are now, with their SHA-256: a path that keeps reading those bytes even if
    another run renames a new file over ``path`` meanwhile (every writer here replaces, never rewrites).

    The gate scores, and publishing publishes, exactly the bytes whose digest they compare: two overlapping
    runs of one dataset can never publish a staged table that no gate passed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        h = hashlib.sha256()
        while block := os.read(fd, 1 << 20):
            h.update(block)
        proc = Path(f"/proc/self/fd/{fd}")
        if proc.exists():
            yield proc, h.hexdigest()
            return
        copy = staging_name(path, ".pinned")  # no /proc: a private copy of the same bytes
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            with open(copy, "wb") as out:
                while block := os.read(fd, 1 << 20):
                    out.write(block)
            yield copy, h.hexdigest()
        finally:
            copy.unlink(missing_ok=True)
    finally:
        os.close(fd)
