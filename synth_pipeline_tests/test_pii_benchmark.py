"""Detection quality, measured: a held-out slice of the labeled benchmark must meet the targets."""

from benchmarks.pii_detection import build_real_tables, build_tables, evaluate


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
