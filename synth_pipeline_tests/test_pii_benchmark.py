"""Detection quality, measured: a held-out slice of the labeled benchmark must meet the targets."""

from benchmarks.pii_detection import build_tables, evaluate


def test_detection_meets_recall_and_precision_targets_on_held_out_tables():
    table, overall, _ = evaluate(build_tables(num_tables=12, rows=250, seed=7))
    assert overall["flag_recall"] >= 0.99
    assert overall["flag_precision"] >= 0.95
    assert (table["recall"] >= 0.9).all(), table.to_string()
    assert (table["precision"] >= 0.9).all(), table.to_string()
