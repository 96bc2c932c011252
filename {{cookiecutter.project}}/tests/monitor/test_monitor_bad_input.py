"""What the monitor must survive: no traffic, broken lines, other versions."""

from monitor_traffic import VERSION, around_now, judge

from {{ cookiecutter.package }}.monitor.log_reader import read_window


def test_no_traffic_is_a_result_not_an_alert(reference, limits, tmp_path):
    result = judge(reference, limits, tmp_path / "nothing-here")
    assert result["status"] == "no_traffic"
    assert result["breached"] == []


def test_corrupt_and_truncated_lines_are_counted_and_skipped(reference, limits, traffic):
    traffic(rows=200)
    log = next(traffic.folder.glob("predictions-*.jsonl"))
    with log.open("a") as handle:
        handle.write("not json at all\n")
        handle.write('{"id": "x"}\n')  # no time, no fields
        handle.write("[1, 2, 3]\n")
        handle.write(log.read_text().splitlines()[0][:80] + "\n")  # truncated
        handle.write('{"id": "y", "time": 5, "model_version": "a"}\n')  # wrong type
    start, end = around_now()
    window = read_window(str(traffic.folder), list(reference["features"]), VERSION, start, end)
    assert window.corrupt_lines == 5
    assert len(window.inputs) == 200


def test_rows_of_another_version_are_ignored_and_counted(reference, limits, traffic):
    traffic(rows=300)
    traffic(rows=120, version="b" * 16, seed=2)
    start, end = around_now()
    window = read_window(str(traffic.folder), list(reference["features"]), VERSION, start, end)
    assert len(window.inputs) == 300
    assert window.other_versions == {"b" * 16: 120}


def test_rows_outside_the_window_are_not_read(reference, traffic):
    traffic(rows=50)
    start, _ = around_now()
    window = read_window(str(traffic.folder), list(reference["features"]), VERSION, start, start)
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
