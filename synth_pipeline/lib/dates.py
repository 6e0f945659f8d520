"""Dates written as text: which columns hold them, and how each value is read.

Ingestion, PII detection and the models' metadata must agree on it: a near-unique column that detection called
dates was not generated as text, the metadata took it as categories, and each one-off value was withheld as rare
(openintro's Blizzard salaries, `8/6/20 18:57`; git's `Sat, 22 Apr 2017 15:11:58 -0500`).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

# A date written with its month's name ("Mar 26, 2005", "26 March 2005") has a comma, a small and a four-digit number
# as "Main St 12, 8001 Zurich" has; it is a date.
MONTH_DATE = re.compile(
    r"^(\w+,?\s+)?(\d{1,2}(st|nd|rd|th)?\s+)?(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sept?(ember)?|"
    r"oct(ober)?|nov(ember)?|dec(ember)?)\.?"
    r"(\s+\d{1,2}(st|nd|rd|th)?)?,?\s+\d{4}$",
    re.IGNORECASE,
)


def text_to_datetime(values: pd.Series) -> pd.Series:
    """Text to naive UTC datetimes, each distinct text parsed once (``format="mixed"`` parses value by value).

    Value by value, ``13/04/1998`` is the 13th of April and ``01/04/1998`` the 4th of January: a column whose
    first numbers go past 12 and whose second never do is read day first throughout."""
    codes, uniques = pd.factorize(values)
    texts = pd.Series(uniques, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(texts, errors="coerce", utc=True, format="mixed", dayfirst=_day_first(texts))
    naive = parsed.dt.tz_localize(None).to_numpy()
    out = np.full(len(values), np.datetime64("NaT"), dtype=naive.dtype if len(naive) else "datetime64[ns]")
    known = codes >= 0
    out[known] = naive[codes[known]]
    return pd.Series(out, index=values.index, name=values.name)


SHORT_YEAR_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{2}(\s+\d{1,2}:\d{2}(:\d{2})?(\s*[AaPp][Mm])?)?")
YEAR = re.compile(r"(?<!\d)(?:1[6-9]|20)\d{2}(?!\d)")
DAY_MONTH = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.]\d{2,4}\b")


def _day_first(texts: pd.Series) -> bool:
    fields = texts.astype(str).str.extract(DAY_MONTH).dropna().astype(int)
    if not len(fields):
        return False
    return day_first(int(fields[0].max()), int(fields[1].max()), fields[0].nunique(), fields[1].nunique())


def day_first(first_max: int, second_max: int, first_distinct: int, second_distinct: int) -> bool:
    """Whether dates written ``n/n/yyyy`` put the day first, from their two numbers' largest and distinct counts.

    Day first where the first number goes past 12 and the second never does. Where neither does, day first only
    where the first stays the same and the second changes: a monthly series' day is the one that stays (US files
    write ``2/1/1919, 3/1/1919``, European ones ``1/2/1919, 1/3/1919``). Otherwise month first, as US files and
    pandas write and read them."""
    if first_max > 12 or second_max > 12:
        return first_max > 12 >= second_max
    return first_distinct == 1 < second_distinct


def looks_like_datetimes(values: pd.Series) -> bool:
    """Text columns of timestamps ("2013-07-17T14:00:00Z", "Mar 26, 2005") are dates, not thousands of categories."""
    if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
        return False
    sample = values.dropna().astype(str).head(500).str.strip()
    if sample.empty:
        return False
    # US reports write "Mar 26, 2005": dates all the same, not 1,300 categories each withheld as rare.
    numeric = sample.str.contains(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", regex=True)
    # A spreadsheet's or a form's export writes `8/6/20 18:57` (openintro's Blizzard salaries): two-digit years, as
    # the whole value, with or without a time.
    short = sample.str.fullmatch(SHORT_YEAR_DATE)
    written = numeric | short | sample.str.match(MONTH_DATE)
    # Else any text pandas reads as a date and that holds a year, with letters or separators (`Sat, 22 Apr 2017
    # 15:11:58 -0500` as git writes it, `Jan-2020`): not a bare number, a case number or a title.
    if not written.all():
        number = pd.to_numeric(sample, errors="coerce").notna()  # `2019.5` is a number pandas would read as May
        if not (sample.str.contains(YEAR) & sample.str.contains(r"\D") & ~number).all():
            return False
    return bool(text_to_datetime(sample).notna().mean() >= 0.95)


TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s*[AaPp]\.?[Mm]\.?)?")
SAMPLE_ROWS = 2000


def mostly_dates_or_numbers(values: pd.Series) -> bool:
    """Numbers, times of day, and dates as the models will read them (:func:`looks_like_datetimes`), not as
    pandas would: git's `Sat, 22 Apr 2017 15:11:58 -0500` parsed here and was kept, the models took it as
    categories, and every value was withheld as rare."""
    sample = values.head(SAMPLE_ROWS).astype(str)
    numbers = pd.to_numeric(sample, errors="coerce").notna().mean()
    times = sample.str.strip().str.fullmatch(TIME_OF_DAY).mean()  # `14:35`: the models' categories, or numbers
    return bool(max(numbers, times) >= 0.9 or looks_like_datetimes(sample))


def is_plain_text(s: pd.Series) -> bool:
    """Text that is not numbers, times or dates written as text: what the PII stage may generate afresh and the
    disclosure control may give a tail of fresh words (codes such as ``250000`` would not read back as the
    source's type). Codes of digits with leading zeros (`01234`) are text: a reader keeps them text, as the source
    did, and so fresh ones of their shape. Left out, a column of 400 branch codes, each in a few of 2,000 rows, had
    no value the disclosure control could release, was published empty, and Data Validity failed (0.75)."""
    is_text = s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
    if not (is_text and s.notna().any()):
        return False
    present = s.dropna()
    return not mostly_dates_or_numbers(present) or _zero_led_codes(present.head(SAMPLE_ROWS).astype(str))


def _zero_led_codes(sample: pd.Series) -> bool:
    digits = sample.str.fullmatch(r"[0-9]+")
    return bool(digits.all() and sample.str.startswith("0").any() and (sample.str.len() > 1).all())


def date_number_format(values: pd.Series) -> str | None:
    """``%Y%m%d`` or ``%Y%m`` for dates written as whole numbers: statsmodels' Mauna Loa CO2 readings date each week
    `19580329`, arch's Fama-French factors each month `192607`. Modelled as numbers, 19601783 (the 83rd day of a
    17th month) and 193030 (a 30th month, 97 % of published months) were published. Every distinct value must be a
    real day or month: random 8-digit codes are days one time in 25, sequential ones never (their months start at
    00); a column of months has at least 12, so six-digit codes rarely pass."""
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return None
    present = values.dropna()
    if present.empty or (present % 1 != 0).any():
        return None
    if present.between(1000_01_01, 2999_12_31).all():
        days = pd.Series(present.unique())
        return "%Y%m%d" if from_date_numbers(days, "%Y%m%d").notna().all() else None
    if present.between(1000_01, 2999_12).all():
        months = pd.Series(present.unique())
        if len(months) >= MIN_MONTHS and from_date_numbers(months, "%Y%m").notna().all():
            return "%Y%m"
    return None


MIN_MONTHS = 12


def from_date_numbers(values: pd.Series, fmt: str) -> pd.Series:
    """Each distinct date number parsed once, as :func:`text_to_datetime` parses each distinct text once."""
    codes, uniques = pd.factorize(values)
    days = pd.to_datetime(pd.Series(uniques).astype("Int64").astype(str), format=fmt, errors="coerce").to_numpy()
    out = np.full(len(values), np.datetime64("NaT"), dtype=days.dtype if len(days) else "datetime64[ns]")
    out[codes >= 0] = days[codes[codes >= 0]]
    return pd.Series(out, index=values.index, name=values.name)
