"""Each signal answers the question it is for, and only that one."""

import pandas as pd
from monitor_traffic import flipped, judge


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
