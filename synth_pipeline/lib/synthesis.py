"""Fit an SDV synthesizer on the de-identified table and sample from it in chunks.

SDV metadata is built from our own column decisions, not from SDV's detection:
detection can type ordinary columns (a US ``state``) as PII and replace them
with fakes. The fitted model and its metadata hold real category values and
ranges, so both live in the private area only.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.config import CandidateConfig, DatasetConfig, SynthesizerConfig
from synth_pipeline.lib.dates import date_number_format, from_date_numbers, looks_like_datetimes, text_to_datetime
from synth_pipeline.lib.disclosure import DisclosureControl
from synth_pipeline.lib.errors import ConfigError, ModelIntegrityError
from synth_pipeline.lib.rules import (
    DiscoverySettings,
    Rule,
    RuleBook,
    RuleScore,
    discover,
    resolve_rules,
    within_budget,
)
from synth_pipeline.lib.synthesizers.base import PickledSynthesizer
from synth_pipeline.lib.synthesizers.gaps import GapEncoding
from synth_pipeline.lib.synthesizers.protected import ProtectedSynthesizer
from synth_pipeline.lib.synthesizers.registry import REGISTRY

TABLE = "table"


LOW_CARDINALITY = 10
ADAPT_ROWS = 5_000


def synthesizer_params(name: str, params: dict[str, Any], num_rows: int, seed: int) -> dict[str, Any]:
    """Preset, then the configured params (already checked against SYNTHESIZER_PARAMS), then run-time defaults."""
    entry = REGISTRY[name]
    out = {**entry.preset, **params}
    if entry.neural:
        out.setdefault("enable_gpu", False)
    if name == "sequential_tree" and out.get("min_samples_leaf", "auto") == "auto":
        # Leaves grow with the table: small leaves copy rows, large ones blur relationships.
        out["min_samples_leaf"] = max(10, round(num_rows / 75))
    if entry.seeded:
        out["seed"] = seed
    return out


def sdv_metadata_dict(df: pd.DataFrame, dataset: DatasetConfig) -> dict[str, Any]:
    columns: dict[str, dict[str, Any]] = {}
    for col in map(str, df.columns):
        override = dataset.columns.get(col)
        s = df[col]
        if override and override.sdtype:
            sdtype = override.sdtype
        elif pd.api.types.is_bool_dtype(s.dtype):
            sdtype = "boolean"
        elif pd.api.types.is_integer_dtype(s.dtype) and s.nunique() <= LOW_CARDINALITY:
            sdtype = "categorical"  # codes and flags (0/1, 1-5 ratings): modelled as categories, as SDV detects them
        elif _day_numbers(s):
            sdtype = "datetime"
        elif pd.api.types.is_numeric_dtype(s.dtype):
            sdtype = "numerical"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype) or looks_like_datetimes(s):
            sdtype = "datetime"
        else:
            sdtype = "categorical"
        spec: dict[str, Any] = {"sdtype": sdtype}
        columns[col] = spec
    return {"tables": {TABLE: {"columns": columns}}, "relationships": [], "METADATA_SPEC_VERSION": "V2"}


def columns_of(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """``df[cols]`` without copying a row: the same arrays, in the order ``cols`` names them, for reading only
    (``df[cols]`` copied the gate's million training rows, 150 MB, to put the columns in the model's order)."""
    if list(df.columns) == cols:
        return df
    return pd.DataFrame({c: df[c] for c in cols}, copy=False)


def prepare_training_frame(df: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
    """Make dtypes match the metadata (categoricals as strings, timestamps as datetime64) so SDV does not guess.
    A copy: the models and the disclosure control write into what they are given."""
    return typed_view(df, metadata).copy()


def typed_view(df: pd.DataFrame, metadata: dict[str, Any], categories_as_text: bool = True) -> pd.DataFrame:
    """``df`` as the models see it (timestamps held as text parsed; categories as strings where
    ``categories_as_text``), sharing with ``df`` every column left as it is: for reading only. The gate's checks
    read a million training rows so, where a copy of them cost 150 MB each time."""
    specs = metadata["tables"][TABLE]["columns"]
    typed: dict[Any, pd.Series] = {}
    for col in df.columns:
        sdtype, values = specs.get(col, {}).get("sdtype"), df[col]
        if sdtype == "datetime" and not pd.api.types.is_datetime64_any_dtype(values.dtype):
            typed[col] = as_datetime(values)
        elif sdtype == "categorical" and categories_as_text and (text := _as_text(values)) is not values:
            typed[col] = text
    if not typed:
        return df
    return pd.DataFrame({c: typed.get(c, df[c]) for c in df.columns}, copy=False)


def dates_parsed(df: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
    """Timestamps the metadata calls dates but the frame holds as text, parsed; the other columns are ``df``'s
    (for reading only)."""
    return typed_view(df, metadata, categories_as_text=False)


def _as_text(values: pd.Series) -> pd.Series:
    """Categories as Python strings, nulls kept; vectorized (this runs on every row of million-row tables)."""
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values
    if values.dtype == object:  # mixed Python objects: 1, 1.0 and True are one value to factorize, three texts
        missing = values.isna()
        text = values.astype(str).astype(object)
        if missing.any():
            text[missing.to_numpy()] = values[missing].to_numpy()  # the null as it was (NaN, None)
        return text
    codes, uniques = pd.factorize(values)  # numbers, dates, flags: each distinct value written once
    out = np.empty(len(values), dtype=object)
    known = codes >= 0
    out[known] = pd.Series(uniques).astype(str).astype(object).to_numpy()[codes[known]]
    out[~known] = values[~known].to_numpy()  # the null as it was
    if values.dtype.kind == "f":  # -0.0 and 0.0 are one value to factorize, two texts
        zero = values.to_numpy() == 0
        if np.signbit(values.to_numpy()[zero]).any():
            out[zero] = values[zero].astype(str).to_numpy()
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def _day_numbers(values: pd.Series) -> bool:
    return date_number_format(values) is not None


def month_numbers(frame: pd.DataFrame, metadata: dict[str, Any]) -> frozenset[str]:
    """The columns of ``frame`` that write months as whole numbers (``192607``): written back so, not as days.
    Only the columns ``metadata`` dates and ``frame`` holds as numbers are read."""
    specs = metadata["tables"][TABLE]["columns"]
    dated = [c for c in frame.columns if specs.get(c, {}).get("sdtype") == "datetime"]
    return frozenset(str(c) for c in dated if date_number_format(frame[c]) == "%Y%m")


def as_datetime(values: pd.Series) -> pd.Series:
    """A column the metadata calls a date as datetimes: dates written yyyymmdd or yyyymm as numbers, or as text."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    if fmt := date_number_format(values):
        return from_date_numbers(values, fmt)
    return text_to_datetime(values)


def training_sample(df: pd.DataFrame, max_rows: int, stratify_by: list[str], seed: int) -> tuple[pd.DataFrame, str]:
    """A representative, seeded sample when the table exceeds the row budget; says how it was drawn."""
    if len(df) <= max_rows:
        return df, f"all {len(df)} training rows"
    sample, how = _drawn(df, max_rows, stratify_by, seed)
    return sample.reset_index(drop=True), f"{len(sample)} of {len(df)} training rows, {how}, seed {seed}"


def fitted_rows(df: pd.DataFrame, cfg: SynthesizerConfig) -> np.ndarray | None:
    """Which training rows :func:`training_sample` gives the model (None: all of them). The others are real rows it
    never saw, as held-out rows are: controls for the privacy checks' membership test."""
    strata = cfg.stratify_by
    if len(df) <= cfg.max_training_rows or not df.index.is_unique or any(c not in df.columns for c in strata):
        return None
    lean = df[strata] if strata else df[[]]  # the same draw without copying every column's rows
    return np.asarray(df.index.isin(_drawn(lean, cfg.max_training_rows, strata, cfg.seed)[0].index))


def _drawn(df: pd.DataFrame, max_rows: int, stratify_by: list[str], seed: int) -> tuple[pd.DataFrame, str]:
    fraction = max_rows / len(df)
    if stratify_by:
        missing = [c for c in stratify_by if c not in df.columns]
        if missing:
            raise ConfigError(f"synthesizer.stratify_by: no column {missing[0]!r} in the training table")
        sample = df.groupby(stratify_by, dropna=False, group_keys=False, observed=True).sample(
            frac=fraction, random_state=seed
        )
        how = f"stratified on {', '.join(stratify_by)} (each group keeps {fraction:.1%} of its rows)"
    else:
        sample = df.sample(n=max_rows, random_state=seed)
        how = "uniform random"
    return sample, how


@dataclass(frozen=True)
class FitResult:
    synthesizer: ProtectedSynthesizer
    seconds: float
    params: dict[str, Any]
    num_rows: int
    num_columns: int


def _seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    # Only a model that uses torch imports it (an SDV neural model when it loads or unpickles; TabularARGN seeds
    # its own engine): importing it here cost the steps that fit and sample the tree 1.4 s each.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        torch.set_flush_denormal(True)  # denormal floats made TVAE ~3x slower on this CPU


def learn_control(
    df: pd.DataFrame, dataset: DatasetConfig, metadata_dict: dict[str, Any], entities: np.ndarray | None = None
) -> DisclosureControl:
    """What may leave the models, from all training rows: a value rare in the table is rare in any sample of it.
    ``entities``: each row's person, where rows are a panel's records."""
    training = typed_view(df, metadata_dict)
    return DisclosureControl.learn(
        training, sdtypes_of(metadata_dict), dataset.privacy.min_value_count, dataset.synthesizer.seed, entities
    )


def sdtypes_of(metadata_dict: dict[str, Any]) -> dict[str, str]:
    return {c: spec["sdtype"] for c, spec in metadata_dict["tables"][TABLE]["columns"].items()}


def learn_rules(
    df: pd.DataFrame,
    dataset: DatasetConfig,
    metadata_dict: dict[str, Any],
    log: Callable[[str], None] | None = None,
    scores: dict[str, RuleScore] | None = None,
) -> list[Rule]:
    """The row rules of the training rows (discovered unless switched off, at most ``rules.max_rules``) with the
    user's additions and removals. ``scores`` receives the scores discovery confirmed rules with (see ``discover``)."""
    cfg = dataset.rules
    found: list[Rule] = []
    if cfg.discover:
        settings = DiscoverySettings(
            min_adherence=cfg.min_adherence,
            min_date_order_adherence=cfg.min_date_order_adherence,
            min_identity_adherence=cfg.min_identity_adherence,
            min_support=cfg.min_support,
            min_group_rows=cfg.min_group_rows,
            seed=dataset.synthesizer.seed,
            k=dataset.privacy.min_value_count,
        )
        found = discover(typed_view(df, metadata_dict), sdtypes_of(metadata_dict), settings, scores)
        found, left_out = within_budget(found, cfg.max_rules)
        if left_out and log is not None:
            log(
                f"{left_out} more discovered rules left out, dependencies first: rules.max_rules is {cfg.max_rules}; "
                "raise it to enforce them, or pin the ones that matter"
            )
    return resolve_rules(found, cfg.add, cfg.pin, cfg.disable, df.columns)


def rules_of_modelled_columns(df: pd.DataFrame, plan: Any, dataset: DatasetConfig) -> list[Rule]:
    """Discovery as the run does it, on the columns the PII plan leaves to the model: what ``contract init`` and
    the upload page tell a user before the first run. Raises ``PiiPolicyError`` when the plan cannot be applied."""
    from synth_pipeline.lib.pii.policies import apply_plan

    return discovered_rules(apply_plan(df, plan, "discovery"), dataset)  # tokens only count distinct values here


def discovered_rules(modelled: pd.DataFrame, dataset: DatasetConfig) -> list[Rule]:
    """Discovery on the frame the PII plan left to the model."""
    return learn_rules(modelled, dataset, sdv_metadata_dict(modelled, dataset))


def rule_book(rules: list[Rule], df: pd.DataFrame, metadata_dict: dict[str, Any], min_group_rows: int = 1) -> RuleBook:
    """What checking (``min_group_rows`` 1) or enforcing (k) the rules needs, learnt from real rows."""
    return RuleBook.learn(rules, typed_view(df, metadata_dict), min_group_rows)


def fit(
    df: pd.DataFrame,
    dataset: DatasetConfig,
    candidate: CandidateConfig,
    metadata_dict: dict[str, Any] | None = None,
    control: DisclosureControl | None = None,
    rules: RuleBook | None = None,
) -> tuple[FitResult, dict[str, Any]]:
    """Fit one candidate behind the disclosure control and the row rules (both learnt from every training row
    by the caller when ``df`` is a sample of them; without ``rules`` no rule is enforced)."""
    from sdv.metadata import Metadata

    metadata_dict = metadata_dict or sdv_metadata_dict(df, dataset)
    params = synthesizer_params(candidate.name, candidate.params, len(df), dataset.synthesizer.seed)
    entry = REGISTRY[candidate.name]
    cls = entry.load()
    control = control or learn_control(df, dataset, metadata_dict)
    if rules is not None:
        control.keep_categories(c for r in rules.rules if r.kind == "dependency" for c in r.columns)
    training = control.protect(typed_view(df, metadata_dict))  # a copy; rare values never reach a model
    enforced = rules is not None and dataset.rules.enforce
    if enforced and rules is not None:
        control.keep_weekdays(rules.dates_kept_on_their_weekday)
        control.keep_clock_parts(rules.clock_parts)
    gaps = None
    if rules is not None and enforced and dataset.rules.model_gaps:
        gaps = GapEncoding.learn(rules.rules, training) or None  # no date in order: nothing changes
    model_metadata = gaps.metadata(metadata_dict) if gaps else metadata_dict
    rows = gaps.encode(training) if gaps else training
    if not entry.metadata_dict:
        model_metadata = _with_datetime_formats(model_metadata, rows)
    metadata = model_metadata if entry.metadata_dict else Metadata.load_from_dict(model_metadata)
    _seed_everything(dataset.synthesizer.seed)
    ordered = (
        {"drawn_after": rules.lookup_inputs} if enforced and rules is not None and hasattr(cls, "visit_order") else {}
    )
    synthesizer = cls(metadata, **params, **ordered)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synthesizer.fit({TABLE: rows})
    seconds = time.perf_counter() - started
    protected = ProtectedSynthesizer(synthesizer, control, None, dataset.rules.max_rounds, gaps)
    if enforced and rules is not None:
        # Which column each identity derives is measured on this model's own rows (seeded, discarded).
        probe = protected.sample(min(len(training), ADAPT_ROWS))
        protected.rules = rules.adapted(probe, training)
        protected.reset_sampling()
    return FitResult(protected, seconds, params, len(df), df.shape[1]), metadata_dict


def _with_datetime_formats(metadata_dict: dict[str, Any], rows: pd.DataFrame) -> dict[str, Any]:
    """Each timestamp column's ``datetime_format``, as SDV learns it when none is given (``_get_datetime_format``).

    Without one, SDV's validation checks 1,000 sampled values of each such column one at a time: 12 s of a
    15 s copula fit on COMPAS's 13 dates. Given, the check is one vectorised parse, and the transformer and
    formatter, which guess the same format from the same rows, do exactly what they did. Only columns held as
    timestamps: text dates in another layout would fail a format that a guess over all of them missed."""
    from sdv._utils import _get_datetime_format

    columns = dict(metadata_dict["tables"][TABLE]["columns"])
    for name, spec in columns.items():
        held = rows[name] if spec.get("sdtype") == "datetime" and name in rows else None
        if held is not None and pd.api.types.is_datetime64_any_dtype(held.dtype) and held.notna().any():
            found = _get_datetime_format(held)
            columns[name] = {**spec, "datetime_format": found} if found and "datetime_format" not in spec else spec
    table = {**metadata_dict["tables"][TABLE], "columns": columns}
    return {**metadata_dict, "tables": {**metadata_dict["tables"], TABLE: table}}


def save_model(synthesizer: Any, path: Path) -> str:
    """Write the model owner-only and return the SHA-256 of its bytes: the only bytes ``load_model`` accepts."""
    from synth_pipeline.lib.storage import atomic_path, file_digest

    with atomic_path(path) as tmp:
        synthesizer.save(str(tmp))
        digest = file_digest(tmp)
    return digest


def load_model(path: Path, digest: str | None) -> ProtectedSynthesizer:
    """Unpickle a model only if its bytes are the ones this pipeline wrote (unpickling runs code)."""
    import hashlib

    import cloudpickle
    from sdv.single_table.base import BaseSynthesizer

    data = path.read_bytes()
    if not digest or hashlib.sha256(data).hexdigest() != digest:
        raise ModelIntegrityError(
            f"dataset {path.parent.name!r}: {path.name} is not the model this pipeline saved (its SHA-256 does not match the one recorded at "
            "training); it was not loaded. Rematerialize the synthesizer asset to train a new one."
        )
    model = cloudpickle.loads(data)
    if not isinstance(model, ProtectedSynthesizer):
        raise ModelIntegrityError(f"dataset {path.parent.name!r}: {path.name} does not hold a protected synthesizer")
    if isinstance(model.inner, BaseSynthesizer):
        from sdv._utils import check_synthesizer_version

        check_synthesizer_version(model.inner)
    return model


def sample_chunks(
    synthesizer: Any,
    num_rows: int,
    chunk_rows: int,
    seed: int,
    groups: list[tuple[int, dict[str, Any]]] | None = None,
) -> Iterator[pd.DataFrame]:
    """Bounded-memory sampling, one chunk at a time; reset once so a rerun gives the same table.

    ``groups`` (from ``SampleConfig.condition_rows``) asks for rows with fixed column values first, then
    the unconditioned rest; they must add up to ``num_rows``.
    """
    _seed_everything(seed)
    if isinstance(synthesizer, PickledSynthesizer):
        synthesizer.reset_sampling(seed)
    elif hasattr(synthesizer, "reset_sampling"):
        synthesizer.reset_sampling()
    for rows, where in groups or [(num_rows, {})]:
        done = 0
        while done < rows:
            n = min(chunk_rows, rows - done)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = synthesizer.sample(n, where=where) if where else synthesizer.sample(n)
            frame = out[TABLE] if isinstance(out, dict) else out
            yield frame.reset_index(drop=True)
            done += n


def check_conditions(synthesizer: ProtectedSynthesizer, groups: list[tuple[int, dict[str, Any]]]) -> None:
    """Refuse a condition the output can never meet, before sampling; the message never repeats the value."""
    control = synthesizer.control
    for i, (_, where) in enumerate(g for g in groups if g[1]):
        for col, value in where.items():
            if control is None:
                raise ConfigError("sample.conditions need a model trained by this version; rematerialize synthesizer")
            if not control.known(col):
                raise ConfigError(
                    f"sample.conditions[{i}]: column {col!r} is not synthesized (not in the training table, "
                    "or dropped or replaced by PII removal)"
                )
            if not control.allows(col, value):
                raise ConfigError(
                    f"sample.conditions[{i}]: the value given for {col!r} is never emitted: fewer than "
                    f"privacy.min_value_count training rows hold it, it reads as a person's name, or it lies "
                    "outside the published range"
                )


def restore_types(frame: pd.DataFrame, schema: Any, months: Collection[str] = ()) -> pd.DataFrame:
    """Give columns modelled as categories their real type back (a numeric code sampled as the text
    ``"250000"`` is published as the integer it was): downstream teams see the source's types, and the gate
    compares like with like. ``schema`` is the de-identified table's Arrow schema; ``months``: its columns of
    months written as numbers (:func:`month_numbers`), the other dates written as numbers being days."""
    import pyarrow as pa

    out = frame.copy(deep=False)  # columns are replaced, never written into: the caller's frame is untouched
    for field in schema:
        col = field.name
        t = field.type
        numeric = pa.types.is_integer(t) or pa.types.is_floating(t)
        if col in frame.columns and numeric and pd.api.types.is_datetime64_any_dtype(frame[col]):
            days = frame[col].dt  # dates the source wrote yyyymmdd or yyyymm, as it wrote them
            month = days.year * 100 + days.month
            written = (month if col in months else month * 100 + days.day).astype("Int64")
            out[col] = written if pa.types.is_integer(t) else written.astype("float64")
            continue
        if col not in frame.columns or frame[col].dtype != object:
            continue
        if pa.types.is_boolean(t):
            text = frame[col].map(lambda v: v if v is None or isinstance(v, bool) or v != v else str(v).lower())
            values = text.map({"true": True, "false": False, True: True, False: False})
            out[col] = values.astype("boolean")  # not assign(**{col: ...}): a column may be called "self"
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            values = pd.to_numeric(frame[col], errors="coerce")
            out[col] = values.astype("Int64") if pa.types.is_integer(t) else values
    return out
