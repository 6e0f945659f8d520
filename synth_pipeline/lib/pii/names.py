"""Person names observed in real populations, from installed packages (no download at run time).

- ``names`` ships the US Census Bureau's 1990 name files: 88,799 surnames and 5,494 first names,
  with their frequencies in the population.
- ``gender-guesser`` ships Jörg Michael's ``nam_dict.txt``: about 48,000 first names counted in
  54 countries.
- Faker's per-locale lists add spellings from 20 locales.

Generated lists alone let a detector pass a benchmark made from the same lists and miss the
names of real people (``kevon``, ``philo``); census and survey counts are what real tables hold.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import unicodedata
from pathlib import Path

from synth_pipeline.lib.errors import NameResourceMissing

FAKER_LOCALES = (
    "en_US",
    "en_GB",
    "en_IN",
    "de_DE",
    "fr_FR",
    "es_ES",
    "es_MX",
    "it_IT",
    "pt_BR",
    "pt_PT",
    "nl_NL",
    "sv_SE",
    "no_NO",
    "da_DK",
    "fi_FI",
    "pl_PL",
    "cs_CZ",
    "tr_TR",
    "en_IE",
    "de_AT",
)
# Census surnames rarer than this (per cent of the population) are mostly one-family spellings
# that also collide with ordinary words; the long tail adds little recall.
MIN_SURNAME_FREQUENCY = 0.0


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def fold(token: str) -> str:
    """Lower case without accents: ``José`` and ``JOSE`` are the same name."""
    text = unicodedata.normalize("NFKD", token.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _census(filename: str) -> set[str]:
    folder = _package_dir("names")
    if folder is None or not (folder / filename).exists():
        return set()
    out = set()
    for line in (folder / filename).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and float(parts[1]) >= MIN_SURNAME_FREQUENCY:
            out.add(fold(parts[0]))
    return out


def _gender_guesser() -> set[str]:
    folder = _package_dir("gender_guesser")
    path = folder / "data" / "nam_dict.txt" if folder else None
    if path is None or not path.exists():
        return set()
    out = set()
    for line in path.read_bytes().decode("iso-8859-1").splitlines():
        if line.startswith("#") or len(line) < 30:
            continue
        name = line[3:29].strip()
        if "+" in name or "<" in name or not name:
            continue  # "Ann+Marie" compounds and encoded spellings
        for part in re.split(r"[\s-]+", name):
            if len(part) > 1:
                out.add(fold(part))
    return out


def _faker() -> tuple[set[str], set[str]]:
    first: set[str] = set()
    last: set[str] = set()
    for locale in FAKER_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:  # pragma: no cover - depends on the Faker release
            continue
        for attr in dir(provider):
            target = first if "first_names" in attr else last if "last_names" in attr else None
            names = getattr(provider, attr, ())
            if target is None or not isinstance(names, (list, tuple, dict)):
                continue
            for n in names:
                target.update(fold(p) for p in re.split(r"[\s-]+", str(n)) if len(p) > 1)
    return first, last


# The package each resource comes from, as pip names it.
PACKAGES = {
    "census_last": "names",
    "census_first": "names",
    "gender_guesser": "gender-guesser",
    "faker_first": "Faker",
    "faker_last": "Faker",
}


@functools.lru_cache(maxsize=1)
def _sources() -> dict[str, frozenset[str]]:
    """Each name resource, folded, read once per process. An empty one is an error, not less evidence: a module
    named ``names.py`` beside a script shadowed the census lists, and detection kept US senators' surnames
    (pscl's iraqVote) without a word."""
    faker_first, faker_last = _faker()
    sources = {
        "census_last": frozenset(_census("dist.all.last")),
        "census_first": frozenset(_census("dist.male.first") | _census("dist.female.first")),
        "gender_guesser": frozenset(_gender_guesser()),
        "faker_first": frozenset(faker_first),
        "faker_last": frozenset(faker_last),
    }
    missing = sorted({PACKAGES[name] for name, names in sources.items() if not names})
    if missing:
        raise NameResourceMissing(
            f"the name lists of the package{'s' if len(missing) > 1 else ''} {', '.join(missing)} could not be read "
            "(not installed, or shadowed by a module of the same name on the path): person names would go "
            "undetected. Reinstall with `make setup`."
        )
    return sources


@functools.lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    src = _sources()
    return src["census_first"] | src["gender_guesser"] | src["faker_first"]


@functools.lru_cache(maxsize=1)
def last_names() -> frozenset[str]:
    src = _sources()
    return src["census_last"] | src["faker_last"]


@functools.lru_cache(maxsize=1)
def all_names() -> frozenset[str]:
    return first_names() | last_names()


# Korean, Chinese and Japanese names are written family name first, with no space: `문상준` is 문 then 상준.
CJK_LOCALES = ("ko_KR", "zh_CN", "zh_TW", "ja_JP")


@functools.lru_cache(maxsize=1)
def cjk_surnames() -> frozenset[str]:
    """Family names as Hangul and Han characters write them (Faker's lists: 김, 이, 박 ...; 王, 李 ...; 佐藤 ...)."""
    out: set[str] = set()
    for locale in CJK_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        out.update(str(n) for n in provider.last_names)
    if not out:
        raise NameResourceMissing("Faker's Korean, Chinese and Japanese family names could not be read")
    return frozenset(out)


@functools.lru_cache(maxsize=1)
def corroborated_names() -> frozenset[str]:
    """Names that two independent resources hold. The census surname file's long tail holds words too
    (``groom``, ``bride``, ``no``, ``single``): one source alone is weak evidence for a column of two values."""
    src = _sources()
    resources = [src["census_last"], src["census_first"], src["gender_guesser"], src["faker_first"] | src["faker_last"]]
    counts: dict[str, int] = {}
    for resource in resources:
        for name in resource:
            counts[name] = counts.get(name, 0) + 1
    return frozenset(name for name, count in counts.items() if count >= 2)


def resource_sizes() -> dict[str, int]:
    return {"first_names": len(first_names()), "last_names": len(last_names())}
