"""Data quality of a window, and the model's quality: estimated, then realized.

Estimated quality needs no labels: for a calibrated classifier a record
predicted with probability p is positive with probability p, so the expected
confusion matrix (and ROC AUC) follows from the probabilities alone. This is
the idea of NannyML's CBPE, in a few lines of scikit-learn rather than a
dependency. It is compared with the same estimate on the reference rows, so
a model that is not perfectly calibrated is not blamed for it every window.

With three or more classes the log holds the answered class and its
probability, not every class's: enough for accuracy (realized: the answered
class against the label; estimated: the mean probability of the answered
class), not for ROC AUC. The monitor judges accuracy then, and says so.
"""

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score

from {{ cookiecutter.package }}.monitor.log_reader import Window
from {{ cookiecutter.package }}.monitor.reference import is_categorical, unseen

METRICS = ("roc_auc", "accuracy")


def rate(count: float, total: int) -> float:
    return round(float(count) / total, 6) if total else 0.0


def outside_training(profile: dict[str, Any], values: pd.Series) -> pd.Series:
    """Values beyond the training range; for a category, values training never saw."""
    if is_categorical(profile):
        return unseen(values, profile["train_values"])
    beyond: pd.Series = (values < profile["train_min"]) | (values > profile["train_max"])
    return beyond


def data_quality(
    reference: dict[str, Any], window: Window, limits: dict[str, float]
) -> dict[str, Any]:
    """Refused requests, missing values and values outside the training range
    (for a categorical column: values training never saw).

    Missing and out of range values are judged by how much more often they
    happen than on the evaluation rows (a nullable column has missing values by
    design; a held-out set has values beyond training's too).
    """
    scored, refused = len(window.inputs), sum(window.refused.values())
    missing, more_missing, outside, excess = {}, {}, {}, {}
    for name, profile in reference["features"].items():
        values = window.inputs[name]
        missing[name] = rate(values.isna().sum(), scored)
        more_missing[name] = missing[name] - profile["missing"] / max(reference["rows"], 1)
        outside[name] = rate(outside_training(profile, values).sum(), scored)
        excess[name] = outside[name] - profile["out_of_range"]
    refused_rate = rate(refused, scored + refused)
    breached = (
        refused_rate >= limits["refused_rate"]
        or max(more_missing.values(), default=0) >= limits["missing_rate"]
        or max(excess.values(), default=0) >= limits["out_of_range_rate"]
    )
    return {
        "breached": bool(breached),
        "refused_rate": refused_rate,
        "refused_reasons": dict(window.refused.most_common()),
        "missing_rate": missing,
        "out_of_range_rate": outside,
        "corrupt_lines": window.corrupt_lines,
    }


def realized(
    metric: str, truth: np.ndarray, probability: np.ndarray, answered: np.ndarray
) -> float | None:
    """The metric on labelled rows; None when it is undefined (ROC AUC of one class)."""
    if not len(truth) or (metric == "roc_auc" and len(set(truth.tolist())) < 2):
        return None
    if metric == "roc_auc":
        return round(float(roc_auc_score(truth, probability)), 6)
    return round(float(accuracy_score(truth, answered)), 6)


def estimated(
    metric: str, probability: np.ndarray, threshold: float, binary: bool = True
) -> float | None:
    """The metric expected if the probabilities are calibrated (CBPE).

    Binary: each record counts as a positive with weight p and a negative with
    weight 1 - p: the metric of that weighted set is its expectation.
    Multiclass: the answered class is right with its probability, so the
    expected accuracy is the mean of those probabilities.
    """
    if not len(probability):
        return None
    if not binary:
        return round(float(np.mean(probability)), 6)
    truth = np.r_[np.ones(len(probability)), np.zeros(len(probability))]
    weights = np.r_[probability, 1 - probability]
    scores = np.r_[probability, probability]
    if metric == "roc_auc":
        return round(float(roc_auc_score(truth, scores, sample_weight=weights)), 6)
    hits = accuracy_score(truth, scores >= threshold, sample_weight=weights)
    return round(float(hits), 6)


def drop(before: float | None, now: float | None) -> float | None:
    return None if before is None or now is None else round(before - now, 6)


def answers_by_id(rows: Window, labels: pd.Series) -> pd.DataFrame:
    """The last answer logged for each labelled id: its probability and the answered class.

    Only the labelled ids are grouped: a big window with few labels (or none
    yet) costs a hash lookup per row, not a sort of every id.
    """
    frame = pd.DataFrame({"probability": rows.probability, "answered": rows.label}, index=rows.ids)
    return frame[frame.index.isin(labels.index)].groupby(level=0).last()


def model_quality(
    reference: dict[str, Any],
    window: Window,
    labels: pd.Series,
    metric: str,
    limits: dict[str, float],
    labelled: Window | None = None,
) -> dict[str, Any]:
    """Estimated quality now vs on the reference rows; realized (joined labels) vs offline.

    Realized quality is judged on `labelled`, the predictions of the label
    horizon (the window's own when none): labels arrive days late, so each
    window judges the predictions whose labels have arrived by now.
    """
    threshold = reference["prediction"]["threshold"]
    binary = reference["prediction"].get("classes", 2) == 2
    metric = metric if binary else "accuracy"  # all the log supports (see the top)
    offline = reference["metrics"].get(metric)
    before = estimated(metric, np.asarray(reference["prediction"]["sample"]), threshold, binary)
    now = estimated(metric, window.probability, threshold, binary)
    answers = answers_by_id(labelled or window, labels)
    truth = labels.reindex(answers.index).dropna()
    with_labels = answers.loc[truth.index]
    actual = realized(metric, truth.to_numpy(int), with_labels["probability"].to_numpy(),
                      with_labels["answered"].to_numpy(int))  # fmt: skip
    estimated_drop, realized_drop = drop(before, now), drop(offline, actual)
    judged = len(truth) >= limits["min_labelled_rows"]
    breached = (estimated_drop or 0) >= limits["quality_drop"] or (
        judged and (realized_drop or 0) >= limits["quality_drop"]
    )
    return {
        "breached": bool(breached),
        "metric": metric,
        "offline": offline,
        "estimated": {"reference": before, "current": now, "drop": estimated_drop},
        "realized": {"labelled_rows": len(truth), "current": actual, "drop": realized_drop},
    }
