"""The datasets file: every dataset is configuration, validated before Dagster sees it.

A wrong key or value raises ``ConfigError`` naming the dataset and the key, so a
typo in ``datasets.yaml`` fails at load time instead of at 02:00.
"""

from __future__ import annotations

import codecs
import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synth_pipeline.lib.errors import ConfigError
from synth_pipeline.lib.synthesizers.registry import REGISTRY

DATASET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

PiiPolicy = Literal["drop", "fake", "generate", "tokenize", "generalize", "encrypt", "keep"]
Sdtype = Literal["numerical", "categorical", "datetime", "boolean"]
# Names and constructor parameters of every synthesizer, checked at load time without importing SDV/torch.
SYNTHESIZER_PARAMS: dict[str, frozenset[str]] = {name: entry.params for name, entry in REGISTRY.items()}
DEFAULT_CANDIDATES = ("sequential_tree", "gaussian_copula")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MIN_HOLDOUT_ROWS = 10  # held-out rows (people) in each half below which no privacy check is evidence
# "?" is how the UCI repository's files and Weka's ARFF exports write a missing value; "." is how SAS and Stata
# exports and FRED's series write one, ".." how the World Bank's and OECD's downloads do.
DEFAULT_NULL_VALUES = ("", "NA", "N/A", "n/a", "#N/A", "NULL", "null", "None", "NaN", "nan", "?", ".", "..")


class CsvSource(_Strict):
    type: Literal["csv"]
    path: str = Field(description="One file, or a glob such as 'exports/*.csv' (a bare directory is refused).")
    delimiter: str | None = Field(
        default=None,
        description="Default ',' (tab for .tsv); a header with no comma but tabs, semicolons or pipes is read with that.",
    )
    header: bool | None = Field(
        default=None,
        description="Default: true unless DuckDB's sniffer finds the first line holds data of the columns' types "
        "(a file with no header row; its columns are then named column0, column1, ... or, from ten columns on, column00, ...).",
    )
    encoding: str = Field(
        default="auto",
        description="auto: UTF-8, UTF-16 by its byte-order mark, else what the bytes say (Windows-1252 among equals); "
        "or any encoding Python knows (cp1252, latin-1, shift_jis, ...).",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(
                    f"unknown encoding {value!r}: auto, or one Python knows (cp1252, latin-1, ...)"
                ) from None
        return value

    null_values: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NULL_VALUES),
        description="Cell texts read as null (so 'N/A' in a number column is a missing number, not text).",
    )


class ParquetSource(_Strict):
    type: Literal["parquet"]
    path: str = Field(description="A file, a directory or a glob of Parquet files.")
    union_by_name: bool = Field(
        default=False,
        description="Files with different columns are refused; true unions them by column name (missing = null).",
    )


class JsonSource(_Strict):
    type: Literal["json"]
    path: str = Field(
        description="A JSON file (an array of objects, or one object per line), gzipped or not, or a glob of them."
    )


class DuckDBQuerySource(_Strict):
    type: Literal["duckdb_query"]
    database: str
    query: str = Field(description="One read-only SELECT (or WITH ... SELECT); run with file access switched off.")

    @model_validator(mode="after")
    def _one_select(self) -> DuckDBQuerySource:
        from synth_pipeline.lib.ingestion import check_query

        check_query(self.query)
        return self


class PostgresQuerySource(_Strict):
    type: Literal["postgres_query"]
    url_env: str = Field(
        default="SYNTH_PIPELINE_SOURCE_URL",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The environment variable that holds the connection URL "
        "(postgresql://user:password@host:5432/db): credentials stay out of the datasets file and of every log.",
    )
    query: str = Field(
        min_length=1,
        description="One SELECT (checked with PostgreSQL's own parser), run in a read-only transaction through a "
        "server-side cursor.",
    )

    @model_validator(mode="after")
    def _one_select(self) -> PostgresQuerySource:
        from synth_pipeline.lib.postgres_source import check_query

        check_query(self.query)
        return self


Source = Annotated[
    CsvSource | ParquetSource | JsonSource | DuckDBQuerySource | PostgresQuerySource, Field(discriminator="type")
]
SOURCE_TYPES = ("csv", "parquet", "json", "duckdb_query", "postgres_query")
# What a path's last suffix, under any compression or archive, says it holds (`data.csv.gz`, `exports/*.tsv`).
_PATH_TYPES = {
    **dict.fromkeys((".csv", ".tsv", ".txt", ".dat", ".data"), "csv"),
    ".parquet": "parquet",
    **dict.fromkeys((".json", ".jsonl", ".ndjson"), "json"),
}
_PACKED = (".gz", ".bz2", ".xz", ".zst", ".zip", ".tar", ".tgz")


def source_type_of(source: dict[str, Any]) -> str:
    """The type a source entry without `type:` has, told from its path's suffix (a data owner's first entry is
    often just a path); a query is not guessed at, since DuckDB and PostgreSQL read the same SQL differently."""
    path = str(source.get("path") or "")
    name = Path(path).name.lower()
    packed = name.endswith(_PACKED)
    while name.endswith(_PACKED):
        name = name[: name.rfind(".")]
    kind = _PATH_TYPES.get(Path(name).suffix) or ("csv" if packed else None)  # only CSV is read from an archive
    if kind is None and path.endswith(("/", "\\")):
        kind = "parquet"  # a folder: only Parquet sources may name one
    if kind is None:
        told = f"{path!r} does not say which" if path else "it has no path"
        raise ValueError(f"type is missing and {told}: set it to one of {', '.join(SOURCE_TYPES)}")
    return kind


class ColumnOverride(_Strict):
    """Per-column decisions that beat automatic detection."""

    pii: PiiPolicy | None = None
    pii_type: str | None = None
    is_pii: bool | None = None
    sdtype: Sdtype | None = None
    generalize_to: Literal["year", "age_band", "prefix"] | None = None
    prefix_length: int = Field(default=3, ge=1, le=10)
    linkable_tokens: bool = Field(
        default=False,
        description="pii: tokenize only. True publishes the real rows' HMAC tokens (joins across tables survive, "
        "and anyone holding a real token can find its rows); the default publishes fresh tokens.",
    )


def _known_synthesizer(name: str, allow_auto: bool = False) -> str:
    if name in REGISTRY or (allow_auto and name == "auto"):
        return name
    known = (["auto"] if allow_auto else []) + sorted(REGISTRY)
    raise ValueError(f"unknown synthesizer {name!r} (known: {', '.join(known)})")


def _check_params(name: str, params: dict[str, Any]) -> None:
    allowed = SYNTHESIZER_PARAMS[name]
    for key in params:
        if key not in allowed:
            raise ValueError(f"params.{key} is not a parameter of {name} (allowed: {', '.join(sorted(allowed))})")
    if name == "tabular_argn" and params.get("epsilon") is not None:
        epsilon, ranges = params["epsilon"], params.get("value_protection_epsilon", 1.0)
        if not isinstance(epsilon, int | float) or epsilon <= ranges:
            raise ValueError(
                f"params.epsilon must be a number above value_protection_epsilon ({ranges}), the part of the "
                "budget spent on value ranges before training"
            )
        if params.get("value_protection") is False:
            raise ValueError("params.epsilon needs value_protection: without it the value ranges are not private")


class CandidateConfig(_Strict):
    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _registered(cls, value: str) -> str:
        return _known_synthesizer(value)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known_params(self) -> CandidateConfig:
        _check_params(self.name, self.params)
        return self


class SynthesizerConfig(_Strict):
    name: str = Field(default="auto", description="'auto' or a name in lib/synthesizers/registry.py.")
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 42
    candidates: list[CandidateConfig] = Field(
        default_factory=lambda: [CandidateConfig(name=n) for n in DEFAULT_CANDIDATES],
        description="What 'auto' trains and compares; ignored otherwise.",
    )
    time_budget_seconds: float = Field(default=600, gt=0, description="'auto' starts no new candidate after this.")
    stop_margin: float | None = Field(
        default=0.05,
        ge=0,
        le=1,
        description="'auto' trains the cheapest candidates first and stops at the first that passes every check "
        "with Column Shapes and Column Pair Trends this far above the gate's thresholds; null trains and compares "
        "every candidate.",
    )
    max_training_rows: int = Field(default=200_000, gt=0, description="Larger inputs train on a sample this big.")
    stratify_by: list[str] = Field(
        default_factory=list, description="Categorical columns the training sample keeps in proportion."
    )

    @field_validator("name")
    @classmethod
    def _registered(cls, value: str) -> str:
        return _known_synthesizer(value, allow_auto=True)

    @model_validator(mode="after")
    def _known_params(self) -> SynthesizerConfig:
        if self.name == "auto":
            if self.params:
                raise ValueError("params: 'auto' takes no params; give them per candidate in 'candidates'")
        else:
            _check_params(self.name, self.params)
        return self

    def to_train(self) -> list[CandidateConfig]:
        """The candidates to fit, cheapest first for 'auto', else just the configured synthesizer."""
        if self.name == "auto":
            from synth_pipeline.lib.synthesizers.registry import REGISTRY

            return sorted(self.candidates, key=lambda c: REGISTRY[c.name].cost)  # stable: ties keep their order
        return [CandidateConfig(name=self.name, params=self.params)]


class ConditionConfig(_Strict):
    """Rows with fixed column values: ``rows`` of them, or a ``share`` of the sample (rebalancing)."""

    columns: dict[str, str | int | float | bool] = Field(min_length=1)
    rows: int | None = Field(default=None, gt=0)
    share: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _one_of(self) -> ConditionConfig:
        if (self.rows is None) == (self.share is None):
            raise ValueError("give each condition either 'rows' or 'share'")
        return self


class SampleConfig(_Strict):
    rows: int | None = Field(default=None, gt=0)
    scale: float | None = Field(default=None, gt=0)
    chunk_rows: int = Field(default=100_000, gt=0)
    conditions: list[ConditionConfig] = Field(
        default_factory=list,
        description="Groups of rows with fixed column values; the rest of the sample is unconditioned.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> SampleConfig:
        if self.rows is not None and self.scale is not None:
            raise ValueError("give either 'rows' or 'scale', not both")
        if sum(c.share or 0.0 for c in self.conditions) > 1 + 1e-9:
            raise ValueError("conditions: the shares add up to more than 1")
        return self

    def condition_rows(self, num_rows: int) -> list[tuple[int, dict[str, Any]]]:
        """(rows, fixed values) per condition, then (rest, {}) for the unconditioned rows."""
        groups = [
            (c.rows if c.rows is not None else round(num_rows * (c.share or 0.0)), c.columns) for c in self.conditions
        ]
        taken = sum(n for n, _ in groups)
        if taken > num_rows:
            raise ConfigError(
                f"sample.conditions ask for {taken} rows but the sample has {num_rows} (sample.rows / sample.scale)"
            )
        return [(n, dict(v)) for n, v in groups if n > 0] + ([(num_rows - taken, {})] if num_rows > taken else [])

    def num_rows(self, input_rows: int) -> int:
        if self.rows is not None:
            return self.rows
        return max(1, round(input_rows * (self.scale if self.scale is not None else 1.0)))


class PrivacyConfig(_Strict):
    holdout_fraction: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="Share of rows never trained on: the baseline every privacy check needs (0 is refused).",
    )
    holdout_max_rows: int = Field(default=10_000, gt=0)
    min_holdout_rows: int = Field(
        default=100,
        ge=MIN_HOLDOUT_ROWS,
        description="Fewer held-out rows (people, where rows are records of people) in each half are too little "
        "evidence: the privacy checks fail, and a table that cannot give both halves as many is refused.",
    )
    min_value_count: int = Field(
        default=10,
        ge=1,
        description="k: a value held by fewer training rows is never emitted (categories) or reproduced (numbers); "
        "1 switches the control off, for measuring what it costs.",
    )
    rare_value_tolerance: float = Field(
        default=0.01, ge=0, le=1, description="Excess rate of rare-value hits over the holdout's that is tolerated."
    )
    attack_rows: int = Field(default=2000, ge=100, description="Rows of each table the anonymeter attacks use.")
    attack_count: int = Field(
        default=500,
        ge=50,
        description="Linkability and inference attacks per anonymeter evaluator (fixed seed); singling out counts "
        "at least this many.",
    )
    linkability_columns: int = Field(
        default=20,
        ge=2,
        description="The linkability attack joins on at most this many columns, those with the fewest nulls and "
        "the most values: over hundreds of columns every row's nearest neighbour is the same few rows, chance "
        "links 93 % of fresh real rows and the risk is noise.",
    )
    singling_out_queries: int = Field(
        default=2000,
        ge=50,
        description="Singling-out queries drawn from the synthetic table: cheap, and more of them narrow the interval "
        "where the held-out rows are few.",
    )
    max_singling_out_risk: float = Field(
        default=0.10, gt=0, le=1, description="Singling out fails when the low end of its 95 % CI is above this."
    )
    max_linkability_risk: float = Field(
        default=0.10, gt=0, le=1, description="Linkability fails when the low end of its 95 % CI is above this."
    )
    sensitive_columns: list[str] = Field(
        default_factory=list, description="Columns whose inference risk is reported (not blocking)."
    )
    significance: float = Field(
        default=0.001,
        gt=0,
        lt=0.5,
        description="One-sided test level of the privacy checks (per column for rare values).",
    )
    sample_rows: int = Field(default=5_000, gt=0, description="Synthetic rows compared, fixed seed.")
    max_dcr_share: float = Field(default=0.55, gt=0, le=1)
    exact_copy_tolerance: float = Field(default=0.005, ge=0, le=1)
    seed: int = 0


class GateConfig(_Strict):
    data_validity: float = Field(default=1.0, ge=0, le=1)
    data_structure: float = Field(default=1.0, ge=0, le=1)
    column_shapes: float = Field(default=0.80, ge=0, le=1)
    column_pair_trends: float = Field(default=0.80, ge=0, le=1)
    sample_rows: int = Field(default=20_000, gt=0, description="Rows scored, drawn with a fixed seed.")
    max_categories: int = Field(
        default=20, ge=0, description="Rarer categories are pooled as '(other)' when scoring; 0 keeps all."
    )
    seed: int = 0


class RulesConfig(_Strict):
    """Row rules (docs/rules.md): discovered in the training rows, enforced on every output, checked by the gate."""

    discover: bool = Field(default=True, description="Find the rules that hold in the training rows.")
    enforce: bool = Field(
        default=True, description="Make every synthesizer's output obey them (false: the gate still checks them)."
    )
    model_gaps: bool = Field(
        default=True,
        description="Model the later date of each order between two dates as its gap from the earlier one "
        "(docs/rules.md): both keep their distributions, and the order holds by construction.",
    )
    min_adherence: float = Field(default=0.999, gt=0.5, le=1, description="Share of rows a discovered rule holds in.")
    min_date_order_adherence: float = Field(
        default=0.95,
        gt=0.5,
        le=1,
        description="Orders of two dates (entry before release) are kept from this share, when random pairing "
        "breaks them ten times as often: real timelines hold a few inverted entries.",
    )
    min_identity_adherence: float = Field(
        default=0.99,
        gt=0.5,
        le=1,
        description="Sums, products, differences and day counts (Total = Dead + Injured) are kept from this share: "
        "real tables hold a few typing errors, and chance does not make one hold in 99 % of rows.",
    )
    min_support: int = Field(default=100, ge=10, description="Rows a rule must apply to before it is kept.")
    min_group_rows: int = Field(
        default=20, ge=2, description="Dependencies: mean rows per determinant value (a near-unique key says nothing)."
    )
    max_rounds: int = Field(
        default=5, ge=0, description="Rounds of rejection and resampling before the last rows are filled."
    )
    max_rules: int = Field(
        default=2000,
        ge=1,
        description="Discovered rules kept at most (orders, identities and domains first, dependencies last): a wide "
        "survey holds tens of thousands of skip-pattern dependencies, and every batch is checked against each.",
    )
    tolerance: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="The gate fails a rule broken in more synthetic rows than real ones plus this share.",
    )
    add: list[str] = Field(default_factory=list, description="Rules to enforce whatever discovery finds.")
    pin: list[str] = Field(
        default_factory=list, description="Discovered rules to keep even on a night their adherence dips."
    )
    disable: list[str] = Field(default_factory=list, description="Rules (as the rules table writes them) to drop.")

    @property
    def none_on_purpose(self) -> bool:
        """The data owner said the table has no rules: discovery off and nothing added or pinned."""
        return not self.discover and not self.add and not self.pin

    @model_validator(mode="after")
    def _rules_parse(self) -> RulesConfig:
        from synth_pipeline.lib.rules import parse_rule

        for key in ("add", "pin", "disable"):
            for i, text in enumerate(getattr(self, key)):
                try:
                    parse_rule(text)
                except ValueError as err:
                    raise ValueError(f"{key}[{i}]: {err}") from None
        return self


class DatasetConfig(_Strict):
    name: str
    description: str = ""
    source: Source
    primary_key: str | None = None
    entity_key: str | list[str] | None = Field(
        default=None,
        description="The column that says whose each row is (a panel's person, a household): values are as rare as "
        "the keys that hold them, and the holdout takes whole keys. A list names a group's column before a key "
        "numbered within each group ([school, pupil]). Found among identifying keys when not set.",
    )
    contract: str | None = None
    columns: dict[str, ColumnOverride] = Field(default_factory=dict)
    synthesizer: SynthesizerConfig = Field(default_factory=SynthesizerConfig)
    sample: SampleConfig = Field(default_factory=SampleConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    fake_locale: str = "en_US"
    freshness_hours: float = Field(
        default=26,
        ge=1 / 60,
        description="The published table shows as stale (UI, meta.freshness) when older than this (at least "
        "1 minute, Dagster's smallest freshness window).",
    )

    @field_validator("source", mode="before")
    @classmethod
    def _source_type_from_path(cls, source: Any) -> Any:
        if isinstance(source, str):  # `source: data/customers.csv`
            source = {"path": source}
        if isinstance(source, dict) and "type" not in source:
            return {"type": source_type_of(source), **source}
        return source

    def contract_path(self, base_dir: Path) -> Path:
        return resolve(base_dir, self.contract or f"contracts/{self.name}.json")


class ScheduleConfig(_Strict):
    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    enabled: bool = True


class PipelineConfig(_Strict):
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    datasets: dict[str, DatasetConfig]
    base_dir: Path

    def dataset(self, name: str) -> DatasetConfig:
        try:
            return self.datasets[name]
        except KeyError:
            known = ", ".join(sorted(self.datasets)) or "none"
            raise ConfigError(f"unknown dataset {name!r} (configured: {known})") from None


def resolve(base_dir: Path, path: str) -> Path:
    """Relative paths in the datasets file are relative to that file."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def _known_keys() -> set[str]:
    """Every key the datasets file knows, for the suggestion a misspelt one gets."""
    models: list[type[BaseModel]] = list(_Strict.__subclasses__())
    keys: set[str] = set()
    while models:
        model = models.pop()
        models.extend(model.__subclasses__())
        keys.update(model.model_fields)
    return keys


def _format_error(where: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        parts = [str(x) for x in e["loc"] if not str(x).startswith(("function-", "tagged-union"))]
        if e["type"] == "extra_forbidden" and parts:
            close = difflib.get_close_matches(parts[-1], sorted(_known_keys()), n=1, cutoff=0.75)
            msg = "not a known key" + (f" (did you mean '{close[0]}'?)" if close else "")
        else:
            msg = str(e["msg"]).removeprefix("Value error, ")
        # A source's type in the location (`source.csv.delimeter`) is pydantic's, not the file's.
        parts = [x for i, x in enumerate(parts) if not (i and parts[i - 1] == "source" and x in SOURCE_TYPES)]
        loc = ".".join(parts)
        lines.append(f"{where}{'.' + loc if loc else ''}: {msg}")
    return "; ".join(lines)


def parse_config(raw: dict[str, Any], base_dir: Path) -> PipelineConfig:
    if not isinstance(raw, dict):
        raise ConfigError("the datasets file must be a mapping with a 'datasets' key")
    unknown = set(raw) - {"schedule", "datasets"}
    if unknown:
        raise ConfigError(f"unknown top-level key(s) {sorted(unknown)}; expected 'schedule' and 'datasets'")
    datasets_raw = raw.get("datasets") or {}
    if not isinstance(datasets_raw, dict) or not datasets_raw:
        raise ConfigError("'datasets' must map at least one dataset name to its settings")
    datasets: dict[str, DatasetConfig] = {}
    for name, body in datasets_raw.items():
        if not isinstance(name, str) or not DATASET_NAME.match(name):
            raise ConfigError(
                f"dataset name {name!r} must be lower-case letters, digits and '_', starting with a letter "
                "(it becomes a table name)"
            )
        if not isinstance(body, dict):
            raise ConfigError(f"dataset {name!r}: settings must be a mapping")
        try:
            ds = DatasetConfig(name=name, **body)
        except ValidationError as err:
            raise ConfigError(_format_error(f"dataset {name!r}: ", err).replace(": .", ": ")) from None
        if ds.primary_key and ds.primary_key in ds.columns and ds.columns[ds.primary_key].pii == "drop":
            raise ConfigError(
                f"dataset {name!r}: columns.{ds.primary_key}.pii: the primary key is regenerated, not dropped"
            )
        datasets[name] = ds
    try:
        schedule = ScheduleConfig(**(raw.get("schedule") or {}))
    except ValidationError as err:
        raise ConfigError(_format_error("schedule", err)) from None
    return PipelineConfig(schedule=schedule, datasets=datasets, base_dir=base_dir)


def load_config(path: Path | str) -> PipelineConfig:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"datasets file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or err.__class__.__name__
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    return parse_config(raw or {}, path.resolve().parent)
