"""Each signal answers the question it is for, and only that one."""

import pandas as pd
from monitor_traffic import VERSION, around_now, flipped, judge

from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.run import signals


def test_traffic_like_the_reference_raises_nothing(reference, limits, traffic):
    traffic()
    result = judge(reference, limits, traffic.folder)
    assert result["status"] == "ok", result["breached"]
    assert result["input_drift"]["drifted"] == []


def test_one_shifted_feature_is_named_and_no_other(reference, limits, traffic):
    def shift(raw):
        raw["mean_texture"] *= 1.6
        return raw

    traffic(shift=shift)
    result = judge(reference, limits, traffic.folder)
    assert result["status"] == "alert"
    assert result["input_drift"]["drifted"] == ["mean_texture"]
    assert result["input_drift"]["features"]["mean_texture"]["psi"] >= limits["limits"]["psi"]


def test_concept_drift_shows_in_realized_quality_not_in_input_drift(reference, limits, traffic):
    sent = traffic()
    truth = pd.Series(flipped(sent["malignant"], share=0.4).to_numpy(), index=sent["id"])
    result = judge(reference, limits, traffic.folder, labels=truth)
    assert result["input_drift"]["breached"] is False
    assert result["quality"]["realized"]["labelled_rows"] > 1000
    assert result["quality"]["realized"]["drop"] >= limits["limits"]["quality_drop"]
    assert result["breached"] == ["quality"]


def test_true_labels_keep_realized_quality_near_offline(reference, limits, traffic):
    sent = traffic()
    truth = pd.Series(sent["malignant"].to_numpy(), index=sent["id"])
    result = judge(reference, limits, traffic.folder, labels=truth)
    assert result["quality"]["breached"] is False
    assert result["quality"]["realized"]["current"] > 0.95


def test_estimated_quality_needs_no_labels_and_follows_the_probabilities(
    reference, limits, traffic
):
    traffic()
    quality = judge(reference, limits, traffic.folder)["quality"]
    assert quality["realized"]["labelled_rows"] == 0 and quality["realized"]["current"] is None
    assert abs(quality["estimated"]["drop"]) < limits["limits"]["quality_drop"]


def test_late_labels_of_earlier_predictions_count_in_a_later_window(
    reference, limits, traffic, tmp_path
):
    """Labels come days late: a window with no traffic of its own judges realized
    quality on the label horizon's predictions, whose labels have arrived."""
    sent = traffic()
    truth = pd.Series(flipped(sent["malignant"], share=0.4).to_numpy(), index=sent["id"])
    start, end = around_now()
    features = list(reference["features"])
    horizon = read_window(str(traffic.folder), features, VERSION, start, end)
    quiet = read_window(str(tmp_path / "no-traffic-today"), features, VERSION, start, end)
    alone = signals(reference, quiet, truth, limits)["quality"]
    assert alone["realized"]["labelled_rows"] == 0 and alone["breached"] is False
    found = signals(reference, quiet, truth, limits, labelled=horizon)["quality"]
    assert found["realized"]["labelled_rows"] > 1000
    assert found["breached"] is True
