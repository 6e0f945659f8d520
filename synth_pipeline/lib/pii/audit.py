"""Does any raw identifying value show up in output? Compared by salted digest, not by value.

Values are normalized (case, width, whitespace) before hashing. A purely
numeric raw value (an integer id like 1234) is only looked for in its own
column, because the same digits in an income column are not a leak.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from synth_pipeline.lib.disclosure import holders
from synth_pipeline.lib.outcomes import Outcome
from synth_pipeline.lib.pii.detection import (
    EMAIL_SEARCH,
    first_then_last,
    name_evidence,
    normalize_name,
    reads_as_full_name,
)
from synth_pipeline.lib.pii.names import all_names
from synth_pipeline.lib.pii.policies import EDGE_PUNCTUATION, PiiPlan, _digest, normalize_value, runs_of
from synth_pipeline.lib.privacy import people_of
from synth_pipeline.lib.storage import read_json, write_json

_NUMERIC = re.compile(r"^[+-]?\d+(\.0+)?$")
MIN_LENGTH = 4
MAX_WORDS = 12  # longest raw value (in words) looked for in free text; street addresses fit
MIN_LOG_DIGITS = 9  # shorter numbers in logs are counts and timings, not identifiers
# A real surname can be "True" or "Null"; reports are full of those literals, so they cannot count as a leak.
LITERALS = frozenset({"true", "false", "null", "none", "nan", "inf", "infinity"})


# Columns of places: a two-word value many rows of one hold is a place, whoever else bears its name.
PLACE_NAME = re.compile(
    r"(^|_)(city|town|village|county|state|country|region|province|territory|municipality|district|place|"
    r"location|ciudad|stadt)(_|$)"
)


def _common_categories(raw: pd.DataFrame, plan: PiiPlan, k: int) -> dict[str, bool]:
    """Normalized text values that ``k`` rows (people, where rows are a panel's records) of a modelled column
    hold, or that a generated one leaves as they are: the disclosure control lets them out.

    Each maps to whether such a column's name says it holds places (``birthCity``)."""
    watched = set(plan.reference_columns)
    people = people_of(raw, plan.entity_key)
    common: dict[str, bool] = {}
    for d in plan.decisions:
        s = raw[d.column]
        fresh = (d.params.get("generator") or {}).get("common", {}).get("values", []) if d.action == "generate" else []
        if fresh and d.category not in ("direct", "identifier"):
            # Near-unique text leaves its values k rows hold as they are (`various` of coffee's farm names): the
            # lot owners' column holding `various` too makes it no one's name.
            place = bool(PLACE_NAME.search(normalize_name(d.column)))
            for key in (normalize_value(v) for v, _ in fresh):
                common[key] = common.get(key, False) or place
        if d.column in watched or d.action != "keep" or not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        # Per distinct value, then folded: one Python call per value, not per row.
        values, uniques = pd.factorize(s)
        present = values >= 0
        names = np.array([normalize_value(u) for u in uniques], dtype=object)
        folded = holders(pd.Series(names[values[present]], index=s.index[present]), people)
        place = d.pii_type == "location" or bool(PLACE_NAME.search(normalize_name(d.column)))
        for v in folded.index[folded >= k]:
            common[v] = common.get(v, False) or place
    return common


def _named(values: pd.Series) -> pd.Series:
    """Which values read as a person's name: every word a name the lists hold (one unknown among three)."""
    return values.map(lambda v: name_evidence(v, all_names())[0]).astype(bool)


def _led_by_a_first_name(value: str) -> bool:
    return first_then_last(value) or reads_as_full_name(value)


def _mailbox_parts(value: str) -> list[str]:
    """The addresses and display names of ``Robert Elz <kre@munnari.oz.au>, "Tim" <t@x.com>``: each names a
    person on its own, in a published cell or a log line."""
    addresses = [m.group(0) for m in EMAIL_SEARCH.finditer(value)]
    rest = EMAIL_SEARCH.sub(",", value)
    names = [" ".join(n.replace('"', " ").split()).strip(EDGE_PUNCTUATION) for n in re.split(r"[,;<>()]", rest)]
    return addresses + [n for n in names if n]


@dataclass
class PiiReference:
    salt: bytes
    text: set[str] = field(default_factory=set)
    numeric: dict[str, set[str]] = field(default_factory=dict)
    # Single plain words ("pass", "counts" are real surnames): looked for in cells, not in free text, where an
    # isolated word is not evidence of a person and the program's own words would collide with them.
    words: set[str] = field(default_factory=set)
    # Phone numbers by their digits alone: "(555) 000-0000", "555.000.0000" and "5550000000" are one number.
    phone_digits: set[str] = field(default_factory=set)
    # Values of near-unique text that names no one (titles, a fire called "County Fire"): watched in records and
    # as whole cells, but not inside published text, where "Kern County Fire Department" is a category k rows hold.
    quasi: set[str] = field(default_factory=set)
    # Common categories that hold such a value among their words (`CAL FIRE / Riverside County Fire`, a unit
    # dozens of rows hold, around a fire called `Riverside County Fire`): published, and quoted in previews.
    published: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, raw: pd.DataFrame, plan: PiiPlan, k: int = 10) -> PiiReference:
        ref = cls(salt=os.urandom(16))
        # Counted once, and only for a table with something to watch.
        categories = _common_categories(raw, plan, k) if plan.reference_columns else {}
        common, places = list(categories), [v for v, place in categories.items() if place]
        quasi_values: set[str] = set()
        for col in plan.reference_columns:
            d = plan.decision(col)
            values = raw[col].dropna().map(normalize_value).drop_duplicates()
            if d.pii_type == "email":
                values = pd.Series(sorted({p for v in values for p in (v, *_mailbox_parts(v))}), dtype=object)
            values = values[(values.str.len() >= MIN_LENGTH) & ~values.isin(LITERALS)]
            is_word = values.str.fullmatch(r"[^\W\d_]+")
            if d.action == "generate" and d.category not in ("direct", "identifier"):
                # Generated only because it is near-unique, not because it names anyone: a course called
                # "Physics" is no leak when 80 rows of the subject column say "Physics". Nor are the column's own
                # values that k rows hold, which its fresh values include (`No Reviews`): they are in `common`.
                kept = ~values.isin(common)
            else:
                # One word is no person where k rows of a modelled column hold it: `Houston` and `Jackson` are
                # Lahman players' surnames and the cities hundreds of them were born in. Nor are two, where k rows
                # of a column of places hold them: `Santo Domingo`, a surname and a birthplace. Whole names,
                # emails and codes stay watched everywhere else.
                # Nor is a value of words no name list holds together, where k rows of a modelled column hold it:
                # `WORKERS WORLD`, a party in 44 rows, once typed into the candidate column.
                held = values.isin(common)
                unnamed = held.copy()
                unnamed[held] = ~_named(values[held])
                kept = ~((is_word & held) | values.isin(places) | unnamed)
            values, is_word = values[kept], is_word[kept]
            is_num = values.str.match(_NUMERIC)
            phrases = values[~is_num & ~is_word]
            if d.action == "generate" and d.category not in ("direct", "identifier") and len(phrases):
                # Led by a first name too, as a person is written: Spotify's track `Single Saturday Night`, words
                # the surname lists hold, sat inside its common album `Single Saturday Night - Country Songs`.
                named = _named(phrases) & phrases.map(_led_by_a_first_name).astype(bool)
                ref.quasi.update(_digest(v, ref.salt) for v in phrases[~named])
                quasi_values.update(phrases[~named])
                phrases = phrases[named]
            ref.text.update(_digest(v, ref.salt) for v in phrases)
            ref.words.update(_digest(v, ref.salt) for v in values[is_word])
            ref.numeric[col] = {_digest(_canonical_number(v), ref.salt) for v in values[is_num]}
            if plan.decision(col).pii_type == "phone":
                ref.phone_digits.update(_digest(d, ref.salt) for d in map(_phone_digits, values) if d)
        if quasi_values:
            # A common value may spell out a rarer one (`Directed Individual Study or Research`): found inside it,
            # the rarer one is not counted.
            ref.published = {_digest(c, ref.salt) for c in common if not runs_of(c, MAX_WORDS).isdisjoint(quasi_values)}
        return ref

    def save(self, path: Path) -> None:
        write_json(
            path,
            {
                "salt": self.salt.hex(),
                "text": sorted(self.text),
                "words": sorted(self.words),
                "phone_digits": sorted(self.phone_digits),
                "quasi": sorted(self.quasi),
                "published": sorted(self.published),
                "numeric": {k: sorted(v) for k, v in self.numeric.items()},
            },
        )

    @classmethod
    def load(cls, path: Path) -> PiiReference:
        data = read_json(path)
        return cls(
            salt=bytes.fromhex(data["salt"]),
            text=set(data["text"]),
            words=set(data.get("words", [])),
            phone_digits=set(data.get("phone_digits", [])),
            quasi=set(data.get("quasi", [])),
            published=set(data.get("published", [])),
            numeric={k: set(v) for k, v in data["numeric"].items()},
        )

    def matches(self, column: str, value: object) -> bool:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return False
        norm = normalize_value(value)
        if len(norm) < MIN_LENGTH:
            return False
        if self._is_raw_phone(norm):
            return True
        if _NUMERIC.match(norm):
            return _digest(_canonical_number(norm), self.salt) in self.numeric.get(column, set())
        digest = _digest(norm, self.salt)
        return digest in self.text or digest in self.words or digest in self.quasi

    def contains(self, column: str, value: object) -> bool:
        """The value equals a raw identifying value, or spells one out inside it ("Mr. Connor Davis").

        Generated values are redrawn on this, the same test the gate's run-record check applies to text.
        """
        if self.matches(column, value):
            return True
        return isinstance(value, str) and " " in value.strip() and self.scan_text(value) > 0

    def _is_raw_phone(self, norm: str) -> bool:
        digits = _phone_digits(norm)
        return bool(digits) and _digest(digits, self.salt) in self.phone_digits

    def leaks(self, df: pd.DataFrame) -> dict[str, int]:
        """Per output column, how many distinct values equal a raw identifying value."""
        found: dict[str, int] = {}
        for col in df.columns:
            is_text = df[col].dtype == object or pd.api.types.is_string_dtype(df[col].dtype)
            if not is_text and str(col) not in self.numeric:
                continue  # text identifiers cannot hide in a numeric column; numeric ids are per column
            uniques = pd.Series(df[col].dropna().unique())
            if uniques.empty:
                continue
            hits = int(sum(self.matches(str(col), v) for v in uniques))
            if is_text and _is_free_text(uniques):
                # Sentences: a raw email, name or phone inside the text counts, not only a whole cell.
                hits += sum(1 for v in uniques.head(FREE_TEXT_CELLS) if self.scan_text(str(v), quasi=False))
            if hits:
                found[str(col)] = hits
        return found

    def scan_text(self, text: str, max_words: int = MAX_WORDS, quasi: bool = True) -> int:
        """How many distinct raw identifying values free text (logs, metadata, reports) spells out.

        Text is unescaped first (``\\u00e9`` in JSON, ``O\\'Brien`` and ``\\n`` in reprs), and ``key=value``
        is split, so a value at the start of a message or before a newline is still seen.
        """
        if not self.size:  # nothing was detected to watch for: no window of words can match
            return 0
        # A table's cell border ends a window: two neighbouring cells are not one value (a synthetic preview's
        # "| Brooklyn | Apartment |" read as the real listing called "Brooklyn Apartment").
        words = re.split(r"[\s=]+", unescape(text).replace("|", " | "))
        stripped = [w.strip(EDGE_PUNCTUATION) for w in words]
        found: set[str] = set()
        quasi_found: list[tuple[int, int, str]] = []
        published: list[tuple[int, int]] = []  # spans that spell out a published category around such a value
        seen: dict[str, tuple[str, str] | None] = {}  # logs repeat their phrases: each is read once
        for i in range(len(words)):
            for j in range(i + 1, min(i + max_words, len(words)) + 1):
                if words[j - 1] == "|":
                    break
                for candidate in {" ".join(words[i:j]), " ".join(stripped[i:j]).strip(EDGE_PUNCTUATION)}:
                    if candidate not in seen:
                        seen[candidate] = self._read_window(candidate)
                    read = seen[candidate]
                    if read is None:
                        continue
                    kind, digest = read
                    if kind == "found":
                        found.add(digest)
                    elif kind == "text":
                        if digest in self.text:
                            found.add(digest)
                        elif quasi and digest in self.quasi:
                            quasi_found.append((i, j, digest))
                        if digest in self.published:
                            published.append((i, j))
        found.update(d for i, j, d in quasi_found if not any(a <= i and j <= b for a, b in published))
        return len(found)

    def _read_window(self, candidate: str) -> tuple[str, str] | None:
        """A window of words as ``scan_text`` weighs it: a raw phone or long raw number found, or text to look up."""
        norm = normalize_value(candidate)
        if len(norm) < MIN_LENGTH:
            return None
        if self._is_raw_phone(norm):
            return "found", _digest(_phone_digits(norm), self.salt)
        if _NUMERIC.match(norm):
            digest = _digest(_canonical_number(norm), self.salt)
            if len(norm) >= MIN_LOG_DIGITS and any(digest in nums for nums in self.numeric.values()):
                return "found", digest
            return None
        return "text", _digest(norm, self.salt)

    @property
    def size(self) -> int:
        numbers = sum(len(v) for v in self.numeric.values())
        return len(self.text) + len(self.words) + len(self.quasi) + len(self.phone_digits) + numbers


PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]+$")
FREE_TEXT_CELLS = 5000  # distinct free-text cells searched inside, per column


def _phone_digits(norm: str) -> str:
    """The digits of a phone-shaped value (7 to 15 of them), else ''."""
    if not PHONE_CHARS.match(norm):
        return ""
    digits = re.sub(r"\D", "", norm)
    return digits if 7 <= len(digits) <= 15 else ""


def _is_free_text(values: pd.Series) -> bool:
    sample = values.head(200).astype(str)
    return bool(sample.str.split().map(len).mean() >= 3)


UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def unescape(text: str) -> str:
    text = UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    # JSON writes an emoji as two escapes (\ud83d\ude00): pair them back into one character, and drop a lone
    # half, which no raw value holds and which cannot be encoded (a tweets table's logs failed the gate on it).
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    for escaped, plain in (("\\'", "'"), ('\\"', '"'), ("\\n", " "), ("\\t", " "), ("\\r", " ")):
        text = text.replace(escaped, plain)
    return text


def _canonical_number(norm: str) -> str:
    return norm.lstrip("+").split(".")[0]


def judge_leaks(leaks: dict[str, int]) -> Outcome:
    """No synthetic cell may equal a raw identifying value: any match fails, naming the columns only, and what to do
    where the matches are no one's (an owner column lists the companies another column names)."""
    found = float(sum(leaks.values()))
    if not leaks:
        return Outcome("leaks", found, 0.0, True)
    columns = sorted(leaks)
    return Outcome(
        "leaks",
        found,
        0.0,
        False,
        f"cells of {', '.join(columns)} equal raw values of identifying or near-unique columns; if they name no one "
        f"(companies an owner column lists too), declare the column, e.g. columns.{columns[0]}.pii: generate or drop",
    )


def judge_run_records(hits: int) -> Outcome:
    """No raw identifying value may appear in what the runs wrote (logs, metadata, reports)."""
    return Outcome("run_records", float(hits), 0.0, hits == 0)
