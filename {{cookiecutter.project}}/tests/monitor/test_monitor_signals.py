"""Each signal answers the question it is for, and only that one."""

import numpy as np
import pandas as pd
from monitor_traffic import VERSION, around_now, flipped, judge, shifted

from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.monitor.log_reader import Window, read_window
from {{ cookiecutter.package }}.monitor.quality import model_quality
from {{ cookiecutter.package }}.monitor.reference import logged_dtypes
from {{ cookiecutter.package }}.monitor.run import signals


def test_traffic_like_the_reference_raises_nothing(reference, limits, traffic):
    traffic()
    result = judge(reference, limits, traffic.folder)
    assert result["status"] == "ok", result["breached"]
    assert result["input_drift"]["drifted"] == []


def test_one_shifted_feature_is_named_and_no_other(reference, limits, traffic, numeric_column):
    traffic(shift=lambda raw: shifted(raw, numeric_column))
    result = judge(reference, limits, traffic.folder)
    assert result["status"] == "alert"
    assert result["input_drift"]["drifted"] == [numeric_column]
    drift = result["input_drift"]["features"][numeric_column]
    assert drift["psi"] >= limits["limits"]["psi"]


def test_concept_drift_shows_in_realized_quality_not_in_input_drift(
    reference, limits, traffic, contract
):
    sent = traffic()
    truth = pd.Series(flipped(sent[contract.label], share=0.4).to_numpy(), index=sent["id"])
    result = judge(reference, limits, traffic.folder, labels=truth)
    assert result["input_drift"]["breached"] is False
    assert result["quality"]["realized"]["labelled_rows"] > 1000
    assert result["quality"]["realized"]["drop"] >= limits["limits"]["quality_drop"]
    assert result["breached"] == ["quality"]


def test_true_labels_keep_realized_quality_near_offline(reference, limits, traffic, contract):
    sent = traffic()
    truth = pd.Series(sent[contract.label].to_numpy(), index=sent["id"])
    result = judge(reference, limits, traffic.folder, labels=truth)
    assert result["quality"]["breached"] is False
    quality = result["quality"]
    offline = reference["metrics"][quality["metric"]]
    assert quality["realized"]["current"] > offline - limits["limits"]["quality_drop"]


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
    label = load_contract().label
    truth = pd.Series(flipped(sent[label], share=0.4).to_numpy(), index=sent["id"])
    start, end = around_now()
    features = logged_dtypes(reference)
    horizon = read_window(str(traffic.folder), features, VERSION, start, end)
    quiet = read_window(str(tmp_path / "no-traffic-today"), features, VERSION, start, end)
    alone = signals(reference, quiet, truth, limits)["quality"]
    assert alone["realized"]["labelled_rows"] == 0 and alone["breached"] is False
    found = signals(reference, quiet, truth, limits, labelled=horizon)["quality"]
    assert found["realized"]["labelled_rows"] > 1000
    assert found["breached"] is True


def test_with_three_classes_the_monitor_judges_accuracy_from_the_answered_class(reference, limits):
    """The log holds the answered class and its probability: accuracy, not ROC AUC."""
    three = {**reference, "prediction": {**reference["prediction"], "classes": 3},
             "metrics": {"roc_auc": 0.99, "accuracy": 0.9}}  # fmt: skip
    window = Window(
        inputs=pd.DataFrame(index=range(4)),
        ids=["a", "b", "c", "d"],
        probability=np.array([0.9, 0.8, 0.7, 0.6]),
        label=np.array([0, 1, 2, 2]),
    )
    truth = pd.Series([0, 1, 0, 2], index=["a", "b", "c", "d"])
    quality = model_quality(three, window, truth, "roc_auc", limits["limits"])
    assert quality["metric"] == "accuracy" and quality["offline"] == 0.9
    assert quality["realized"]["current"] == 0.75  # three of four answered right
    assert quality["estimated"]["current"] == 0.75  # the mean probability of the answer
