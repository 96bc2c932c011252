"""Stage `evaluate`: score the model, record its lineage, save it to the store."""

from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from {{ cookiecutter.package }}.config import load_params, paths
from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.decision import decide
from {{ cookiecutter.package }}.features import feature_names, raw_feature_names
from {{ cookiecutter.package }}.files import write_frame, write_json
from {{ cookiecutter.package }}.lineage import build_lineage
from {{ cookiecutter.package }}.model_store import register
from {{ cookiecutter.package }}.monitor.reference import build_reference
from {{ cookiecutter.package }}.plots import curves, write_plots


def binary_scores(y_true: pd.Series, positive: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = (positive >= threshold).astype(int)
    return {
        "roc_auc": float(roc_auc_score(y_true, positive)),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "f1": float(f1_score(y_true, predicted, zero_division=0)),
        "precision": float(precision_score(y_true, predicted, zero_division=0)),
        "recall": float(recall_score(y_true, predicted, zero_division=0)),
    }


def multiclass_scores(y_true: pd.Series, matrix: np.ndarray) -> dict[str, float]:
    """One-vs-rest ROC AUC and macro averages: every class counts the same."""
    classes = np.asarray(load_contract().label_values)
    predicted = classes[matrix.argmax(axis=1)]
    macro = {"average": "macro", "zero_division": 0, "labels": classes}
    return {
        "roc_auc": float(roc_auc_score(y_true, matrix, multi_class="ovr", labels=classes)),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "f1": float(f1_score(y_true, predicted, **macro)),
        "precision": float(precision_score(y_true, predicted, **macro)),
        "recall": float(recall_score(y_true, predicted, **macro)),
    }


def score(y_true: pd.Series, probability: np.ndarray, threshold: float) -> dict[str, float]:
    """The metrics, from P(1) (binary) or from the class-probability matrix (either)."""
    matrix = np.asarray(probability, dtype=float)
    if matrix.ndim == 1 or matrix.shape[1] == 2:
        positive = matrix if matrix.ndim == 1 else matrix[:, 1]
        scores = binary_scores(y_true, positive, threshold)
    else:
        scores = multiclass_scores(y_true, matrix)
    return {name: round(value, 6) for name, value in scores.items()}


def baseline_probability(train: pd.DataFrame, evaluation: pd.DataFrame) -> np.ndarray:
    """A trivial model that always predicts the training prior: the bar to clear."""
    label = load_contract().label
    dummy = DummyClassifier(strategy="prior").fit(train[feature_names()], train[label])
    probability: np.ndarray = dummy.predict_proba(evaluation[feature_names()])
    return probability


def predictions_frame(
    evaluation: pd.DataFrame, matrix: np.ndarray, classes: np.ndarray, threshold: float
) -> pd.DataFrame:
    probability, prediction = decide(matrix, classes, threshold)
    frame = pd.DataFrame(
        {"row_id": evaluation["row_id"], "probability": probability, "prediction": prediction}
    )
    for index, name in enumerate(classes):  # every class's probability, for the plots
        frame[f"probability_{name}"] = matrix[:, index]
    return frame


def evaluate(params: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """The metrics, the predictions on the evaluation rows and the monitor's reference profile."""
    p = paths()
    label, threshold = load_contract().label, params["evaluate"]["threshold"]
    train, evaluation = read_table(p.train_features), read_table(p.eval_features)
    model = joblib.load(p.model)
    matrix = model.predict_proba(evaluation[feature_names()])
    predictions = predictions_frame(evaluation, matrix, model.classes_, threshold)
    write_plots(
        p.root, curves(evaluation[label], matrix, model.classes_, predictions["prediction"])
    )
    model_scores = score(evaluation[label], matrix, threshold)
    metrics = {
        "model": model_scores,
        "baseline": score(evaluation[label], baseline_probability(train, evaluation), threshold),
        "rows": {"train": len(train), "eval": len(evaluation)},
    }
    raw = raw_feature_names()
    probability = predictions["probability"].to_numpy(dtype=float)
    classes = len(load_contract().label_values)
    reference = build_reference(
        evaluation[raw], train[raw], probability, threshold, model_scores, classes
    )
    return metrics, predictions, reference


def main() -> None:
    p = paths()
    params = load_params()
    metrics, predictions, reference = evaluate(params)
    write_json(metrics, p.metrics)
    write_frame(predictions, p.predictions)
    write_json(reference, p.reference)
    lineage = build_lineage(p, params, metrics)
    write_json(lineage, p.lineage)
    tag = register(p.model, lineage)
    auc = metrics["model"]["roc_auc"]
    print(f"evaluate: roc_auc {auc:.4f}; model {tag}, lineage {lineage['lineage_id']}")
