"""Fresh values for near-unique text that detection did not recognize (codes, names it missed, free text).

Such a column cannot be modelled as categories: almost every value is one person's. It is not trained
on; the output gets new values of the same shape instead:

- **pattern**: the layouts that at least ``k`` values share, character class by character class
  (``13011352CF10A`` -> ``99999999AA99A``), filled with random digits and letters (syllables, for a run of
  letters that reads as a word), but for the runs whose common values cover nearly all of a layout's values,
  drawn from those (a template's words, a rating's first digit: ``Rated 4.9 out of 5 stars``);
- **words**: text assembled from words that at least ``k`` rows use, minus every known person name, handle,
  address, link and long number, with the real distribution of word counts, in the order of the pairs of
  adjacent words that ``k`` rows use;
- **runs**: the layouts that at least ``k`` values share once each run of one character class counts as one
  (``Mohammad Zahir Shah.Afghanistan.1946.1952.Monarchy`` -> ``Aa Aa Aa.Aa.9.9.Aa``), each run filled with
  random digits, or syllables for letters, of a length drawn from the real run lengths of its class;
- **letters**: syllables with the real lengths, when none of the above has enough support.

Words are drawn per value of another column where that column says much about them (a catalogue's titles by
its `Sub Category`): each value's own words, those at least ``k`` of its rows use, along the column's pairs.

The spec holds only shapes, common words, common pairs and counts, never a value fewer than ``k`` rows share.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections import Counter
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from synth_pipeline.lib.pii.detection import normalize_name
from synth_pipeline.lib.pii.names import all_names, fold

NEAR_UNIQUE_SHARE = 0.5  # at least this share of rows hold a value fewer than k rows share
MIN_VOCABULARY = 10  # fewer common words than this give too few different values to read as a column
CLASSES = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}


def shape(value: str) -> str:
    """A letter of a script without case (Hebrew, Arabic, Han, Hangul) is a lower-case letter: kept as itself, a
    Hebrew first name was a layout of its own, and the column fell through to Latin syllables."""
    return "".join(
        "9" if ch.isdigit() else "A" if ch.isupper() else "a" if ch.islower() or ch.isalpha() else ch for ch in value
    )


ALPHABET_SAMPLE = 20_000  # values the letters of a column are counted on
MAX_ALPHABET = 600  # Han characters: the commonest, enough to read as the script
MIN_ALPHABET = 10


def _alphabet(text: pd.Series, k: int) -> list[list[Any]] | None:
    """The letters of a column written mostly in another script than Latin (Cyrillic, Greek, Hebrew, Arabic,
    Hangul, Han), each held by ``k`` rows at least, with their frequencies: fresh values are drawn in the column's
    own script, not as Latin syllables (an Israeli register's `רחל` came out `Tusi`). A script's letters are no
    one's; the caller still draws again a value equal to a real one."""
    sample = _sample_of(text)
    if "".join(sample).isascii():  # most columns: no letter to count one by one
        return None
    rows: Counter[str] = Counter()
    uses: Counter[str] = Counter()
    for value in sample:
        letters = [_lower(ch) for ch in value if ch.isalpha()]
        uses.update(letters)
        rows.update(set(letters))
    latin = sum(n for ch, n in uses.items() if _is_latin(ch))
    if not uses or latin >= 0.5 * sum(uses.values()):
        return None
    kept = [(ch, n) for ch, n in uses.most_common() if not _is_latin(ch) and rows[ch] >= k][:MAX_ALPHABET]
    if len(kept) < MIN_ALPHABET:
        return None
    kept.sort()  # in the script's order: the plan shows the letters, not which come most often together
    return [[ch for ch, _ in kept], _norm(np.array([n for _, n in kept], dtype=float))]


def _lower(ch: str) -> str:
    """One letter in lower case, where that is one letter (`İ` lowers to `i` and a combining dot)."""
    low = ch.lower()
    return low if len(low) == 1 else ch


def _sample_of(text: pd.Series) -> pd.Series:
    return text.sample(ALPHABET_SAMPLE, random_state=0) if len(text) > ALPHABET_SAMPLE else text


def _is_latin(ch: str) -> bool:
    return ch.isascii() or _script_of(ch) == "LATIN"


# Faker's locales for each script, the first the one taken when the dataset's `fake_locale` writes another script.
SCRIPT_LOCALES = {
    "CYRILLIC": ("ru_RU", "uk_UA", "bg_BG", "mk_MK", "sr_BA", "kk_KZ", "az_AZ"),
    "GREEK": ("el_GR", "el_CY"),
    "HEBREW": ("he_IL",),
    "ARABIC": ("ar_AA", "ar_AE", "ar_BH", "ar_DZ", "ar_EG", "ar_JO", "ar_PS", "ar_SA", "fa_IR"),
    "HANGUL": ("ko_KR",),
    "KANA": ("ja_JP",),
    "CJK": ("zh_CN", "zh_TW", "ja_JP"),
    "THAI": ("th_TH", "th"),
    "DEVANAGARI": ("hi_IN", "ne_NP"),
    "BENGALI": ("bn_BD",),
    "TAMIL": ("ta_IN",),
    "ARMENIAN": ("hy_AM",),
    "GEORGIAN": ("ka_GE",),
}


def script_locale(values: pd.Series, locale: str) -> str | None:
    """A Faker locale that writes the script most of a text column's letters are in, where ``locale`` writes
    another: replacement names for Korean players in Hangul are Korean names, not `John Smith`. Kana beside Han
    characters is Japanese."""
    sample = _sample_of(values.dropna().astype(str))
    if "".join(sample).isascii():
        return None
    scripts: Counter[str] = Counter()
    for value in sample:
        scripts.update(_script_of(ch) for ch in value if ch.isalpha())
    if not scripts:
        return None
    script, n = scripts.most_common(1)[0]
    if script == "CJK" and scripts["KANA"] > 0.05 * n:
        script = "KANA"
    locales = SCRIPT_LOCALES.get(script, ())
    if n < 0.5 * sum(scripts.values()) or not locales or locale in locales:
        return None
    return locales[0]


@functools.lru_cache(maxsize=4096)
def _script_of(ch: str) -> str:
    """The script of one letter, by the first word of its Unicode name (`LATIN`, `CYRILLIC`, `CJK`, kana as `KANA`)."""
    first = unicodedata.name(ch, "").split(" ")[0]
    return "KANA" if first in ("HIRAGANA", "KATAKANA") else first


def learn_generator(values: pd.Series, k: int, vocabulary_from: pd.Series | None = None) -> dict[str, Any]:
    """``vocabulary_from``: the rows whose words may be drawn, when ``values`` are a part of them (a long tail of
    lists, whose items are mostly common in the whole column, not in the tail)."""
    text = values.dropna().astype(str)
    whole = None if vocabulary_from is None else vocabulary_from.dropna().astype(str)
    if text.empty:
        return {"kind": "letters", "lengths": [8], "weights": [1.0]}
    shapes_of = text.map(shape)
    shapes = shapes_of.value_counts()
    frequent = shapes[shapes >= k]
    patterned = frequent.sum() >= 0.5 * len(text)
    # Codes keep their layout (``13011352CF10A``); prose and place names read better as common words
    # ("Municipal Field") than as letters in a name's layout ("Iywjwvqjo Wftopsbki"). Words are counted only
    # when a code's layout does not decide it: a Python pass over every row.
    coded = patterned and "9" in frequent.index[0]
    words = None if coded else _words(text, k, whole=whole)
    if words is None and not coded and (sep := _list_separator(text)):
        words = _words(text, k, sep, whole)  # lists of codes (`GB,ZW`, `en,sw,af`): common codes, not random letters
    if patterned and words is None:
        layouts = list(frequent.index)
        spec = {"kind": "pattern", "shapes": layouts, "weights": _norm(frequent.to_numpy())}
        # Each layout's runs are counted on a sample of its values (k of a sample holding a value is k of the whole),
        # its distinct values on all of them.
        distinct = shapes_of[~text.duplicated()].value_counts()
        pool = text.sample(min(len(text), TEMPLATE_POOL), random_state=0) if len(text) > TEMPLATE_SAMPLE else text
        groups = dict(list(pool.groupby(shapes_of.reindex(pool.index), sort=False)))
        empty = pd.Series(dtype=object)
        samples = [groups.get(layout, empty).head(TEMPLATE_SAMPLE) for layout in layouts[:MAX_TEMPLATES]]
        learnt = [
            _layout_runs(v, layout, k, int(distinct[layout])) for v, layout in zip(samples, layouts, strict=False)
        ]
        nonzero = [_no_leading_zero(v, layout) for v, layout in zip(samples, layouts, strict=False)]
        spec |= ({"runs": learnt} if any(learnt) else {}) | ({"nonzero": nonzero} if any(nonzero) else {})
        return spec | _script(text, k)
    if words is not None:
        return words
    runs = _runs(text, k)
    if runs is not None:
        return runs | _script(text, k)
    chars = text.str.len().clip(1, 60).value_counts()
    letters = {"kind": "letters", "lengths": [int(x) for x in chars.index], "weights": _norm(chars.to_numpy())}
    return letters | _script(text, k)


def _script(text: pd.Series, k: int) -> dict[str, Any]:
    alphabet = _alphabet(text, k)
    return {"alphabet": alphabet} if alphabet else {}


MAX_TEMPLATES = 100  # the commonest layouts whose runs are learnt
TEMPLATE_SHARE = 0.9  # a run whose common values cover this share of a layout's values is drawn from them
TEMPLATE_SAMPLE = 20_000  # values of a layout its runs are learnt from
TEMPLATE_POOL = 200_000  # values of the column those samples are taken from
MAX_RUN_VALUES = 50
DRAWS_PER_VALUE = 30  # fewer fills per real value, and more would meet a real one (`Room 7`) or a held-out one


def _layout_runs(values: pd.Series, layout: str, k: int, distinct: int) -> dict[str, list]:
    """The runs of a layout whose values at least ``k`` of its values write cover nearly all of them, each with
    those values and their weights: a template's words (`Rated 4.7 out of 5 stars based on 1404 reviews.`: every
    word and the `5`), a rating's first digit, a date's month. Filled at random, a catalogue's ratings read
    `Lerta 3.9 noi no 8 meala creas di 388 durteal.` The runs that always take one value are kept only where at
    least ``k`` values hold all of them, so the template is no one's, and only where enough different values can
    still be drawn."""
    least_draws = DRAWS_PER_VALUE * distinct
    spans = _spans(layout)
    runs: dict[str, list] = {}
    for j, (a, b) in enumerate(spans):
        counts = values.str.slice(a, b).value_counts()
        common = counts[counts >= k].head(MAX_RUN_VALUES)
        if common.sum() >= TEMPLATE_SHARE * len(values):
            runs[str(j)] = [[str(v) for v in common.index], _norm(common.to_numpy())]
    constant = {place: options for place, options in runs.items() if len(options[0]) == 1}
    holds_all = pd.Series(True, index=values.index)
    for place, options in constant.items():
        holds_all &= values.str.slice(*spans[int(place)]) == options[0][0]
    if holds_all.sum() < k:  # the template whole is fewer than k values': none of it
        runs = {place: options for place, options in runs.items() if place not in constant}
        constant = {}
    # Every such run where enough different fills remain; else the template alone (`Rated 9.9 out of 5 stars based
    # on 99 reviews.`: 2 first digits, 4 second ones and 100 counts, 800 fills for 180 real values, too few).
    for learnt in (runs, constant):
        draws = 1.0
        for j, (a, b) in enumerate(spans):
            draws *= len(learnt[str(j)][0]) if str(j) in learnt else 10.0 ** (b - a)
        if learnt and draws >= least_draws:
            return learnt
    return {}


def _no_leading_zero(values: pd.Series, layout: str) -> list[int]:
    """The runs of two digits or more that no value of the layout starts with a 0: counts and amounts (`based on
    1404 reviews`), which read `based on 047 reviews` filled at random; codes (`02134`, `000123`) keep their zeros.
    Looked for in a sample, as the runs are: a 0 too rare to be in it is too rare to miss."""
    spans = _spans(layout)
    return [
        j
        for j, (a, b) in enumerate(spans)
        if layout[a] == "9" and b - a >= 2 and not values.str.slice(a, a + 1).eq("0").any()
    ]


LIST_SEPARATORS = (",", ";", "|")
LIST_SHARE = 0.2  # values holding the separator, among values without a space: a list column


def _list_separator(text: pd.Series) -> str | None:
    bare = text[~text.str.contains(" ", regex=False)]
    for sep in LIST_SEPARATORS:
        if len(bare) >= 0.5 * len(text) and bare.str.contains(sep, regex=False).mean() >= LIST_SHARE:
            return sep
    return None


def _words(text: pd.Series, k: int, sep: str | None = None, whole: pd.Series | None = None) -> dict[str, Any] | None:
    """Text of the words at least ``k`` rows (of ``whole``, when given) use, when there are enough of them and
    values are several words (or, with ``sep``, several items of a list)."""
    tokens = text.str.split(sep)
    names = all_names()
    rows_per_word: Counter[str] = Counter()
    rows_per_pair: Counter[tuple[str, str]] = Counter()
    rows_per_start: Counter[str] = Counter()
    for words in tokens if whole is None else whole.str.split(sep):
        rows_per_word.update({w for w in words})
        if sep is None and words:  # a list's items have no order to learn
            rows_per_pair.update(set(pairwise(words)))
            rows_per_start[words[0]] += 1
    # In alphabetical order: in the order met, neighbours in the list are neighbours in a real value, and the
    # plan shown in the UI spelt out course titles ("Quantum", "Mechanics") that fewer than k rows hold.
    vocab = sorted(
        (w for w, n in rows_per_word.items() if n >= k and not _personal_word(w, names)),
        key=lambda w: (w.casefold(), w),
    )
    lengths = tokens.map(len).clip(1, 40).value_counts()
    if len(vocab) >= MIN_VOCABULARY and tokens.map(len).mean() >= 1.5:
        counts = np.array([rows_per_word[w] for w in vocab], dtype=float)
        return {
            "kind": "words",
            "vocabulary": vocab,
            "vocabulary_weights": _norm(counts),
            "lengths": [int(x) for x in lengths.index],
            "weights": _norm(lengths.to_numpy()),
            **({"separator": sep} if sep else _word_order(vocab, rows_per_pair, rows_per_start, k)),
        }
    return None


def _word_order(
    vocab: list[str], rows_per_pair: Counter[tuple[str, str]], rows_per_start: Counter[str], k: int
) -> dict[str, Any]:
    """Which word follows which, and which words open a value, where at least ``k`` rows do so: drawn one by one,
    an electronics catalogue's features read `Intel® of 4 and 4070, Tracking Get with 1080)`; walked along
    pairs that k rows share, `Wireless Keyboard and Mouse`. A pair that k rows share is no one's, and a walk that
    lands on a real value is drawn again by the caller, as every fresh value is. Words are held as their places
    in the alphabetical vocabulary, so the plan file never spells two of them side by side."""
    index = {w: i for i, w in enumerate(vocab)}
    common = ((index[a], index[b], n) for (a, b), n in rows_per_pair.items() if a in index and b in index)
    following: dict[str, list[list[Any]]] = {}
    for a, b, n in sorted(p for p in common if p[2] >= k and p[0] != p[1]):
        nexts = following.setdefault(str(a), [[], []])
        nexts[0].append(b)
        nexts[1].append(n)
    for nexts in following.values():
        nexts[1] = _norm(np.array(nexts[1], dtype=float))
    starts = sorted((index[w], n) for w, n in rows_per_start.items() if n >= k and w in index)
    if not following:
        return {}
    return {
        "next": following,
        "starts": [[i for i, _ in starts], _norm(np.array([n for _, n in starts], dtype=float))] if starts else None,
    }


MAX_CONTEXT_VALUES = 20  # the most common values of a context column that get words of their own
MAX_CONTEXT_CANDIDATES = 10
CONTEXT_SAMPLE = 20_000  # rows on which candidate context columns are scored
MIN_CONTEXT_GAIN = 0.1  # nats per word: less, and the column says too little about the words to be worth it


def learn_context(spec: dict[str, Any], text: pd.Series, candidates: dict[str, pd.Series], k: int) -> dict | None:
    """Words of their own for each common value of the column that says most about the words, when one says
    enough: in a catalogue, a laptop's fresh title drew `iBUYPOWER 4K UHD QLED LCD TV` from the whole column.

    A candidate is scored on a sample by how far its values' word distributions are from the column's (the
    relative entropy, per word, of the words at least ``k`` of a value's rows use), and only words that ``k`` rows
    of that value use enter its spec: no value's rare word, nor a rare pairing of a word and a value, is in it.
    Values with too few rows for ``MIN_VOCABULARY`` such words keep the column's words."""
    if spec.get("kind") != "words" or "separator" in spec:
        return None
    text = text.dropna().astype(str)
    global_p = dict(zip(spec["vocabulary"], spec["vocabulary_weights"], strict=True))
    sample = text.sample(min(len(text), CONTEXT_SAMPLE), random_state=0) if len(text) > CONTEXT_SAMPLE else text
    word_sets = sample.str.split().map(set)
    best, best_gain = None, MIN_CONTEXT_GAIN
    for name, column in list(candidates.items())[:MAX_CONTEXT_CANDIDATES]:
        keys, common = _context_values(column, sample.index, k)
        gain = 0.0
        for value in common.index:
            rows: Counter[str] = Counter()
            for words in word_sets[keys == value]:
                rows.update(w for w in words if w in global_p)
            own = {w: n for w, n in rows.items() if n >= k}
            if len(own) < MIN_VOCABULARY:
                continue
            total = sum(own.values())
            gain += common[value] * sum(n / total * np.log(n / total / global_p[w]) for w, n in own.items())
        if gain / len(sample) > best_gain:
            best, best_gain = name, gain / len(sample)
    if best is None:
        return None
    keys, common = _context_values(candidates[best], text.index, k)
    specs = {}
    for value in common.index:
        if (words := _own_words(spec, text[keys == value], k)) is not None:
            specs[str(value)] = words
    return {"column": best, "specs": specs, "gain": round(float(best_gain), 3)} if specs else None


def _context_values(column: pd.Series, rows: pd.Index, k: int) -> tuple[pd.Series, pd.Series]:
    """The column on these rows as text (nulls kept), and the row counts of its commonest values with 3k rows."""
    keys = column.reindex(rows)
    keys = keys.astype(str).where(keys.notna())
    common = keys.value_counts().head(MAX_CONTEXT_VALUES)
    return keys, common[common >= 3 * k]


def _own_words(spec: dict[str, Any], text: pd.Series, k: int) -> dict[str, Any] | None:
    """The column's words that at least ``k`` of these rows use, weighted and opened as these rows do; they follow
    one another along the column's pairs (each used by k values). A value's own pairs alone were too few: walks
    fell back on random words, and fewer adjacent words formed a real pair (tweets by source, 0.59 -> 0.50)."""
    tokens = text.str.split()
    rows_per_word: Counter[str] = Counter()
    rows_per_start: Counter[str] = Counter()
    for words in tokens:
        rows_per_word.update(set(words))
        if words:
            rows_per_start[words[0]] += 1
    own = [w for w in spec["vocabulary"] if rows_per_word[w] >= k]  # alphabetical, as the column's
    if len(own) < MIN_VOCABULARY:
        return None
    place = {w: i for i, w in enumerate(spec["vocabulary"])}
    to_own = {place[w]: j for j, w in enumerate(own)}
    following = {}
    for a, (bs, ws) in spec.get("next", {}).items():
        kept = [(to_own[b], w) for b, w in zip(bs, ws, strict=True) if int(a) in to_own and b in to_own]
        if kept:
            following[str(to_own[int(a)])] = [[b for b, _ in kept], _norm(np.array([w for _, w in kept]))]
    starts = sorted((to_own[place[w]], n) for w, n in rows_per_start.items() if n >= k and place.get(w) in to_own)
    lengths = tokens.map(len).clip(1, 40).value_counts()
    order: dict[str, Any] = {}
    if following:
        order["next"] = following
        order["starts"] = (
            [[i for i, _ in starts], _norm(np.array([n for _, n in starts], dtype=float))] if starts else None
        )
    return {
        "kind": "words",
        "vocabulary": own,
        "vocabulary_weights": _norm(np.array([rows_per_word[w] for w in own], dtype=float)),
        "lengths": [int(x) for x in lengths.index],
        "weights": _norm(lengths.to_numpy()),
        **order,
    }


RUN = re.compile(r"9+|A+|a+")
MAX_RUN = 30


def _choose(p: Any, rng: np.random.Generator) -> int:
    """One index drawn with probabilities ``p``: exactly what ``rng.choice(len(p), p=p)`` draws (one uniform, on the
    same normalized cumulative sums), without its checks of ``p``, which made each fresh value's handful of such
    draws cost 7 us each."""
    return int(_choose_many(p, 1, rng)[0])


def _choose_many(p: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(np.asarray(p, dtype=float))
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(n), side="right")


@functools.lru_cache(maxsize=4096)
def _spans(layout: str) -> tuple[tuple[int, int], ...]:
    """Where each run of one character class starts and ends in a layout: found once per layout, not once per
    fresh value drawn from it."""
    return tuple(m.span() for m in RUN.finditer(layout))


def _runs(text: pd.Series, k: int) -> dict[str, Any] | None:
    """Layouts with each run of one class as one (``Aa Aa.9``), when values sharing one with ``k`` others
    cover half the rows; run lengths are drawn per class from the real ones."""
    shapes = text.map(shape)
    coarse = shapes.str.replace(RUN, lambda m: m.group(0)[0], regex=True)
    counts = coarse.value_counts()
    frequent = counts[counts >= k]
    if frequent.sum() < 0.5 * len(text):
        return None
    lengths: dict[str, Counter[int]] = {c: Counter() for c in CLASSES}
    for layout in shapes[coarse.isin(frequent.index)].head(20_000):
        for m in RUN.finditer(layout):
            lengths[m.group(0)[0]][min(len(m.group(0)), MAX_RUN)] += 1
    return {
        "kind": "runs",
        "shapes": list(frequent.index),
        "weights": _norm(frequent.to_numpy()),
        "run_lengths": {c: sorted(n.items()) for c, n in lengths.items() if n},
    }


def _personal_word(word: str, names: frozenset[str]) -> bool:
    """A known name, a handle or address (``@realDonaldTrump``, ``a@b.org``), a link, or a number long enough
    to be part of a phone or account: common as such words may be, they point at a person or lead to one."""
    bare = re.sub(r"['’]s$", "", word.strip(".,;:!?'\"()[]"))  # "Trump's" is Trump
    return (
        fold(bare) in names
        or "@" in bare
        or "://" in bare
        or bare.lower().startswith("www.")
        or sum(ch.isdigit() for ch in bare) >= 5
    )


def _norm(counts: np.ndarray) -> list[float]:
    total = float(np.sum(counts))
    return [float(c) / total for c in counts]


# Columns whose fresh values Faker writes better than a learnt shape, by name: a city reads as a city, not as
# "Jwqjo". The name is folded as detection folds it (``cityName`` -> ``city_name``).
FAKER_NAMES = (
    (re.compile(r"(^|_)(city|town|hometown|ciudad|stadt|ville|municipality)(_|$)"), "city"),
    # A panel of 214 countries whose 127 smaller ones each hold fewer than k rows: `Scbitssl` read as no country.
    (re.compile(r"(^|_)(country|pais|land)(?!_(code|iso|id|abbr))(_|$)"), "country"),
)


def faker_kind(column: str) -> dict[str, Any] | None:
    folded = normalize_name(column)
    for pattern, method in FAKER_NAMES:
        if pattern.search(folded):
            return {"kind": "faker", "method": method}
    return None


def fresh_values(spec: dict[str, Any], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` draws of ``spec`` (a learnt shape, or a Faker kind seeded from ``rng``)."""
    if spec["kind"] == "faker":
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(int(rng.integers(2**31)))
        if spec["method"] == "city":  # two words: Faker's one-word cities (`Greenberg`, `Whiteside`) are surnames
            return [
                f"{fake.city_prefix()} {fake.first_name()}{fake.city_suffix() if rng.random() < 0.5 else ''}"
                for _ in range(n)
            ]
        method = getattr(fake, spec["method"])
        return [str(method()) for _ in range(n)]
    if spec["kind"] == "pattern":
        return _patterns(spec, n, rng)
    return [generate(spec, rng) for _ in range(n)]


def _patterns(spec: dict[str, Any], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` values of learnt layouts, drawn a layout at a time: one draw per run, not one per character and
    value (drawn one by one, a 13-character code cost 110 us, a templated rating 440 us)."""
    chosen = _choose_many(spec["weights"], n, rng)
    runs, nonzero = spec.get("runs", []), spec.get("nonzero", [])
    out = np.empty(n, dtype=object)
    for i in np.unique(chosen):
        rows = np.flatnonzero(chosen == i)
        learnt = runs[i] if i < len(runs) else {}
        out[rows] = _fill_layout(
            spec["shapes"][i], learnt, nonzero[i] if i < len(nonzero) else [], len(rows), rng, spec.get("alphabet")
        )
    return out.tolist()


def _fill_layout(
    layout: str,
    learnt: dict[str, list],
    nonzero: list[int],
    m: int,
    rng: np.random.Generator,
    alphabet: list[list[Any]] | None = None,
) -> list:
    """``m`` fills of one layout, as :func:`generate` fills it: a learnt run from its values, a run of digits at
    random (no leading 0 where no real value has one), and each word of runs not learnt as :func:`_fill` fills it."""
    spans = _spans(layout)
    parts: list[Any] = []  # the layout's text between runs, and an array of m fills per run
    end = j = 0
    while j < len(spans):
        a, b = spans[j]
        parts.append(layout[end:a])
        if str(j) in learnt:
            options, weights = learnt[str(j)]
            parts.append(np.asarray(options, dtype=object)[_choose_many(weights, m, rng)])
        elif layout[a] == "9":
            digits = rng.integers(0, 10, (m, b - a))
            if j in nonzero:
                digits[:, 0] = rng.integers(1, 10, m)
            parts.append(_strings(digits + ord("0")))
        else:  # a word: this run of letters and those right after it (`Aaaa` is `A` then `aaa`)
            while j + 1 < len(spans) and spans[j + 1][0] == b and layout[b] != "9" and str(j + 1) not in learnt:
                j += 1
                b = spans[j][1]
            word = layout[a:b]
            if len(word) < 5 and "a" not in word and not alphabet:  # a code's capitals (`CF`), at random
                parts.append(_strings(rng.integers(0, 26, (m, len(word))) + ord("A")))
            else:
                parts.append([_cased(_syllables(len(word), rng, alphabet), word) for _ in range(m)])
        end = b
        j += 1
    parts.append(layout[end:])
    columns = [[p] * m if isinstance(p, str) else p for p in parts if not isinstance(p, str) or p]
    return ["".join(t) for t in zip(*columns, strict=True)]


def _strings(codes: np.ndarray) -> np.ndarray:
    """Rows of character codes as strings."""
    width = codes.shape[1]
    return np.ascontiguousarray(codes, dtype=np.uint8).view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def generate(spec: dict[str, Any], rng: np.random.Generator) -> str:
    kind = spec["kind"]
    if kind == "pattern":
        return _patterns(spec, 1, rng)[0]
    if kind == "runs":
        layout = spec["shapes"][_choose(spec["weights"], rng)]
        sized = []
        for i, ch in enumerate(layout):
            if ch == "A" and layout[i + 1 : i + 2] == "a":  # a capital begins a word: `Waiscorno`, not `MAstouto`
                sized.append("A")
            elif ch in CLASSES:
                sizes, counts = zip(*spec["run_lengths"][ch], strict=True)
                sized.append(ch * int(sizes[_choose(_norm(np.array(counts, dtype=float)), rng)]))
            else:
                sized.append(ch)
        return _fill("".join(sized), rng, spec.get("alphabet"))
    n = int(spec["lengths"][_choose(spec["weights"], rng)])
    if kind == "words":
        vocab = spec["vocabulary"]
        if "next" in spec and (walked := _walk(spec, min(n, len(vocab)), rng)):
            return walked
        picks = rng.choice(len(vocab), min(n, len(vocab)), replace=False, p=spec["vocabulary_weights"])
        words = [vocab[i] for i in picks]
        if "separator" in spec:
            return str(spec["separator"]).join(words)
        if text := _between_content_words(words):
            return text
        content = [w for w in vocab if _is_content(w)] or words  # a value of joining words alone: one content word
        return str(content[rng.integers(len(content))])
    return _fill("A" + "a" * (n - 1), rng, spec.get("alphabet"))


def _walk(spec: dict[str, Any], n: int, rng: np.random.Generator) -> str:
    """``n`` words along the pairs of :func:`_word_order`, from a word that opens values; where a word has no
    follower left, any common word goes next, as without pairs. Joining words are not left at either end."""
    vocab, following, starts = spec["vocabulary"], spec["next"], spec.get("starts")
    picked = [int(starts[0][_choose(starts[1], rng)])] if starts else [_choose(spec["vocabulary_weights"], rng)]
    while len(picked) < n:
        nexts = following.get(str(picked[-1]))
        options = [(j, w) for j, w in zip(*nexts, strict=True) if j not in picked] if nexts else []
        if options:
            weights = np.array([w for _, w in options])
            picked.append(int(options[_choose(weights / weights.sum(), rng)][0]))
            continue
        unused = [int(j) for j in rng.choice(len(vocab), 8, p=spec["vocabulary_weights"]) if j not in picked]
        if not unused:
            break
        picked.append(unused[0])
    words = [vocab[i] for i in picked]
    while words and not _is_content(words[-1]):
        words.pop()
    while words and not _is_content(words[0]):
        words.pop(0)
    return " ".join(words)


# Words that join others: a company name drawn from common words read `&`, `Group &` or `of Finl` (HSAUR's
# Forbes 2000). They go between two other words, or nowhere.
JOINING = frozenset(
    {"&", "+", "-", "/", "of", "and", "for", "in", "on", "at", "to", "the", "de", "du", "la", "y", "et"}
)


def _is_content(word: str) -> bool:
    return word.casefold() not in JOINING and any(ch.isalnum() for ch in word)


def _between_content_words(words: list[str]) -> str:
    content = [w for w in words if _is_content(w)]
    if not content:
        return ""
    joining = [w for w in words if not _is_content(w)][: len(content) - 1]
    out = [content[0]]
    for i, w in enumerate(content[1:]):
        out += [joining[i], w] if i < len(joining) else [w]
    return " ".join(out)


LETTERS = re.compile(r"[Aa]+")
# Syllables, not random letters: a county or a surname that fell in a long tail reads as a word (`Lomera`), not
# as `Lwvxlh`. They are drawn from fixed lists, so they carry nothing of the real values; a draw that equals one
# is drawn again by the caller.
ONSETS = (*"bcdfghjklmnprstvwz", "br", "ch", "cl", "cr", "dr", "fl", "gr", "pl", "sh", "st", "th", "tr", "")
ONSET_WEIGHTS = _norm(np.array([4] * 18 + [1] * 12 + [3], dtype=float))
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ea", "ou", "ai", "y")
CODAS = ("", "", "", "n", "r", "l", "s", "t", "m", "nd", "rt", "ck")


def _fill(layout: str, rng: np.random.Generator, alphabet: list[list[Any]] | None = None) -> str:
    """Digits at random; a run of letters as syllables of its length, in the layout's case (`Aaaaaa` -> `Lomera`),
    unless it is a short run of capitals: a code (`CF`, `JFK`) keeps random letters. With an ``alphabet``, letters
    of the column's own script."""

    def letters(m: re.Match[str]) -> str:
        run = m.group(0)
        if len(run) < 5 and "a" not in run and not alphabet:
            return "".join(CLASSES["A"][i] for i in rng.integers(0, 26, len(run)))
        return _cased(_syllables(len(run), rng, alphabet), run)

    return LETTERS.sub(letters, "".join(CLASSES["9"][rng.integers(10)] if ch == "9" else ch for ch in layout))


def _syllables(n: int, rng: np.random.Generator, alphabet: list[list[Any]] | None = None) -> str:
    if alphabet:  # a script of its own: its letters at their frequencies (a Hangul or Han character is a syllable)
        return "".join(alphabet[0][i] for i in _choose_many(alphabet[1], n, rng))
    text = ""
    while len(text) < n:
        left = n - len(text)
        syllable = ONSETS[_choose(ONSET_WEIGHTS, rng)] + VOWELS[rng.integers(len(VOWELS))]
        syllable += CODAS[rng.integers(len(CODAS))]
        if len(syllable) > left:  # the word ends on a whole short syllable, not on a cut one (`Crasj`)
            short = "bdklmnprstv"[rng.integers(11)] + "aeiou"[rng.integers(5)] + "nrlst"[rng.integers(5)]
            syllable = short[1:2] if left == 1 else short[:left]
        text += syllable
    return text


def _cased(word: str, layout: str) -> str:
    return "".join(c.upper() if case == "A" else c for c, case in zip(word, layout, strict=True))
