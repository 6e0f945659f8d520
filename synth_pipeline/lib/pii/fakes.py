"""Realistic replacement values, made at sampling time and never derived from real ones.

Faker (seeded) supplies values in the dataset's locale. A fake that happens to
equal a real value, or to contain one ("Mr. Connor Davis" where "Connor Davis" is
real), is drawn again, so the leak checks stay meaningful.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from faker import Faker

from synth_pipeline.lib.pii.detection import normalize_name
from synth_pipeline.lib.pii.generate import fresh_values
from synth_pipeline.lib.pii.policies import PiiPlan, fresh_tokens

MAX_REDRAWS = 20


def _generator(fake: Faker, pii_type: str, column: str) -> Callable[[], object]:
    norm = normalize_name(column)
    if pii_type == "person_name":
        if any(t in norm for t in ("first", "given", "vorname", "prenom", "forename")):
            return fake.first_name
        if any(t in norm for t in ("last", "sur", "family", "nachname", "apellido")):
            return fake.last_name
        return fake.name
    return {
        "email": fake.email,
        "phone": fake.phone_number,
        "national_id": fake.ssn,
        "credit_card": fake.credit_card_number,
        "iban": fake.iban,
        "ip_address": fake.ipv4,
        "street_address": lambda: fake.street_address(),
        "postal_code": fake.postcode,
        "date_of_birth": lambda: fake.date_of_birth(minimum_age=18, maximum_age=90),
        "identifier": lambda: fake.bothify("??-########").upper(),
        "free_text_pii": lambda: fake.sentence(nb_words=8),
    }.get(pii_type, lambda: fake.bothify("????????"))


def _draw(
    draw: Callable[[int], list[Any]], num_rows: int, is_forbidden: Callable[[object], bool] | None
) -> list[object]:
    """``num_rows`` values from ``draw`` (n values at a time); the forbidden ones are drawn again, and become null
    after MAX_REDRAWS unlucky rounds, so a real value is never emitted."""
    values = draw(num_rows)
    if is_forbidden is None:
        return values
    bad = [i for i, v in enumerate(values) if is_forbidden(v)]
    for _ in range(MAX_REDRAWS):
        if not bad:
            break
        for i, v in zip(bad, draw(len(bad)), strict=True):
            values[i] = v
        bad = [i for i in bad if is_forbidden(values[i])]
    for i in bad:
        values[i] = None
    return values


def _calls(gen: Callable[[], object], n: int) -> list[object]:
    return [gen() for _ in range(n)]


def fake_column(
    pii_type: str,
    column: str,
    num_rows: int,
    seed: int,
    locale: str = "en_US",
    is_forbidden: Callable[[object], bool] | None = None,
    null_share: float = 0.0,
) -> pd.Series:
    fake = Faker(locale)
    fake.seed_instance(seed)
    gen = _generator(fake, pii_type, column)
    series = pd.Series(_draw(functools.partial(_calls, gen), num_rows, is_forbidden), dtype=object)
    if pii_type == "date_of_birth":
        series = pd.to_datetime(series)
    if null_share > 0:
        rng = np.random.default_rng(seed)
        series[rng.random(num_rows) < null_share] = None
    return series


def generated_column(
    spec: dict,
    num_rows: int,
    seed: int,
    is_forbidden: Callable[[object], bool],
    null_share: float,
    locale: str = "en_US",
    context: pd.Series | None = None,
) -> pd.Series:
    """New values of a near-unique column's shape, or of its kind through Faker; a draw equal to a raw value is
    drawn again. Where the spec has words per value of another column, ``context`` (that column of the same
    synthetic rows) picks each row's words."""
    rng = np.random.default_rng(seed)
    if spec["kind"] == "faker":
        fake = Faker(locale)
        fake.seed_instance(seed)
        method = getattr(fake, spec["method"])
        series = pd.Series(_draw(functools.partial(_calls, method), num_rows, is_forbidden), dtype=object)
    else:
        by = spec.get("by")
        keys = np.full(num_rows, "", dtype=object)
        if by and context is not None:
            keys = context.astype(str).where(context.notna(), "").to_numpy(dtype=object)
        common = spec.get("common")
        series = pd.Series([None] * num_rows, dtype=object)
        fresh = np.ones(num_rows, dtype=bool)
        if common:  # values k rows hold, at their share (the reference does not forbid them); the rest drawn fresh
            values, weights = zip(*common["values"], strict=True)
            # A fresh value equal to a kept one is drawn again, or `manager` made up 50 % of job titles, not 28 %.
            is_forbidden = functools.partial(_kept_or_forbidden, set(values), is_forbidden)
            fresh = rng.random(num_rows) >= common["share"]
            drawn = rng.choice(len(values), int((~fresh).sum()), p=np.asarray(weights) / np.sum(weights))
            series[~fresh] = np.asarray(values, dtype=object)[drawn]
        for key in pd.unique(keys[fresh]):
            rows = np.flatnonzero(fresh & (keys == key))
            own = by["specs"].get(key, spec) if by else spec
            series.iloc[rows] = _draw(functools.partial(fresh_values, own, rng=rng), len(rows), is_forbidden)
    if null_share > 0:
        series[rng.random(num_rows) < null_share] = None
    return series


def _kept_or_forbidden(kept: set[str], is_forbidden: Callable[[object], bool], value: object) -> bool:
    return value in kept or is_forbidden(value)


def fresh_keys(num_rows: int, offset: int, integer_start: int | None) -> pd.Series:
    """New unique primary keys that cannot equal a real one.

    Integer keys start at the power of ten above the largest real key; string keys are ``SYN-`` numbers.
    """
    if integer_start is not None:
        return pd.Series(np.arange(num_rows, dtype="int64") + integer_start + offset)
    return pd.Series([f"SYN-{offset + i:09d}" for i in range(1, num_rows + 1)], dtype=object)


def add_fakes_and_keys(
    synthetic: pd.DataFrame,
    plan: PiiPlan,
    seed: int,
    locale: str,
    is_forbidden: Callable[[str, object], bool],
    null_shares: dict[str, float],
    key_offset: int = 0,
) -> pd.DataFrame:
    """Insert fake and key columns back, in the source's column order."""
    n = len(synthetic)
    out = synthetic.copy()
    for i, col in enumerate(plan.columns_with("fake")):
        d = plan.decision(col)
        out[col] = fake_column(
            d.pii_type or "custom",
            col,
            n,
            seed + 1000 * (i + 1),
            d.params.get("locale", locale),  # the column's script's, where the dataset's locale writes another
            is_forbidden=functools.partial(is_forbidden, col),
            null_share=null_shares.get(col, 0.0),
        ).to_numpy()
    for i, col in enumerate(plan.columns_with("generate")):
        d = plan.decision(col)
        spec = d.params["generator"]
        by = spec.get("by", {}).get("column")
        out[col] = generated_column(
            spec,
            n,
            seed + 7000 + 1000 * i,
            functools.partial(is_forbidden, col),
            d.params.get("null_share", 0.0),
            locale,
            context=out[by] if by in out.columns else None,
        ).to_numpy()
    for i, col in enumerate(c for c in plan.columns_with("tokenize") if fresh_tokens(plan.decision(c))):
        rng = np.random.default_rng(seed + 9000 + 1000 * i)
        tokens = pd.Series(["tok_" + rng.bytes(10).hex() for _ in range(n)], dtype=object)
        null_share = plan.decision(col).params.get("null_share", 0.0)
        if null_share > 0:
            tokens[rng.random(n) < null_share] = None
        out[col] = tokens.to_numpy()
    if plan.primary_key:
        start = plan.decision(plan.primary_key).params.get("integer_start")
        out[plan.primary_key] = fresh_keys(n, key_offset, start).to_numpy()
    return out[[c for c in plan.output_columns if c in out.columns]]
