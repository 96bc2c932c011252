"""What the monitor must survive: no traffic, broken lines, other versions."""

from pathlib import Path

import pandas as pd
from monitor_traffic import VERSION, around_now, judge

from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.reference import logged_dtypes


def test_no_traffic_is_a_result_not_an_alert(reference, limits, tmp_path):
    result = judge(reference, limits, tmp_path / "nothing-here")
    assert result["status"] == "no_traffic"
    assert result["breached"] == []


def damage(log: Path) -> str:
    """Appends five lines the writer never writes; returns a valid line."""
    good = log.read_text().splitlines()[1]
    fields = good.split(",")
    with log.open("a") as handle:
        handle.write("not a row at all\n")  # one field: the rest empty
        handle.write(good + ",1,2,3\n")  # too many fields
        handle.write(",".join(["x", "yesterday", *fields[2:]]) + "\n")  # no time
        handle.write(",".join([*fields[:4], "maybe", *fields[5:]]) + "\n")  # unknown status
        handle.write(",".join([*fields[:-2], "", ""]) + "\n")  # no prediction
    return good


def test_corrupt_and_truncated_lines_are_counted_and_skipped(reference, limits, traffic):
    traffic(rows=200)
    log = next(traffic.folder.glob("predictions-*.csv"))
    good = damage(log)
    with log.open("a") as handle:
        handle.write(good[:80])  # a last line cut short: no newline
    start, end = around_now()
    window = read_window(str(traffic.folder), logged_dtypes(reference), VERSION, start, end)
    assert window.corrupt_lines == 6
    assert len(window.inputs) == 200


def test_a_value_that_is_not_a_number_costs_only_that_value(reference, traffic, numeric_column):
    written = traffic(rows=100)
    log = next(traffic.folder.glob("predictions-*.csv"))
    header, good = log.read_text().splitlines()[:2]
    fields = good.split(",")
    fields[header.split(",").index(numeric_column)] = "big"
    with log.open("a") as handle:
        handle.write(",".join(fields) + "\n")  # the first row again, one value garbled
    start, end = around_now()
    window = read_window(str(traffic.folder), logged_dtypes(reference), VERSION, start, end)
    assert (len(window.inputs), window.corrupt_lines) == (101, 0)
    # Missing where the traffic had gaps (a nullable column), plus the one garbled value.
    expected = pd.concat([written, written.head(1)])[list(reference["features"])].isna().sum()
    expected[numeric_column] += 1
    assert window.inputs.isna().sum().to_dict() == expected.to_dict()


def test_rows_of_another_version_are_ignored_and_counted(reference, limits, traffic):
    traffic(rows=300)
    traffic(rows=120, version="b" * 16, seed=2)
    start, end = around_now()
    window = read_window(str(traffic.folder), logged_dtypes(reference), VERSION, start, end)
    assert len(window.inputs) == 300
    assert window.other_versions == {"b" * 16: 120}


def test_rows_outside_the_window_are_not_read(reference, traffic):
    traffic(rows=50)
    start, _ = around_now()
    window = read_window(str(traffic.folder), logged_dtypes(reference), VERSION, start, start)
    assert len(window.inputs) == 0 and window.corrupt_lines == 0


def test_out_of_range_values_breach_data_quality(reference, limits, traffic, numeric_column):
    column = numeric_column

    def beyond(raw):
        profile = reference["features"][column]
        raw.loc[:100, column] = profile["train_max"] + (profile["train_max"] - profile["train_min"])
        return raw

    traffic(shift=beyond)
    quality = judge(reference, limits, traffic.folder)["data_quality"]
    assert quality["breached"] is True
    assert quality["out_of_range_rate"][column] > 0.05
    usual = {name: f["out_of_range"] for name, f in reference["features"].items()}
    others = {k: v - usual[k] for k, v in quality["out_of_range_rate"].items() if k != column}
    assert max(others.values()) < limits["limits"]["out_of_range_rate"]


def test_any_whole_class_is_a_prediction_and_anything_else_is_corrupt(reference, traffic):
    # Multiclass models log the class itself: 2 is a prediction, 1.5 and -1 are not.
    traffic(rows=10)
    log = next(traffic.folder.glob("predictions-*.csv"))
    good = log.read_text().splitlines()[1].split(",")
    with log.open("a") as handle:
        for label in ("2", "1.5", "-1"):
            handle.write(",".join([*good[:-1], label]) + "\n")
    start, end = around_now()
    window = read_window(str(traffic.folder), logged_dtypes(reference), VERSION, start, end)
    assert (len(window.inputs), window.corrupt_lines) == (11, 2)
    assert window.label[-1] == 2
