"""Stage `evaluate`: score the model, record its lineage, save it to the store."""

from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from {{ cookiecutter.package }}.config import load_params, paths
from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.features import feature_names
from {{ cookiecutter.package }}.files import write_csv, write_json
from {{ cookiecutter.package }}.lineage import build_lineage
from {{ cookiecutter.package }}.model_store import register


def score(y_true: pd.Series, probability: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = (probability >= threshold).astype(int)
    return {
        "roc_auc": round(float(roc_auc_score(y_true, probability)), 6),
        "accuracy": round(float(accuracy_score(y_true, predicted)), 6),
        "f1": round(float(f1_score(y_true, predicted, zero_division=0)), 6),
        "precision": round(float(precision_score(y_true, predicted, zero_division=0)), 6),
        "recall": round(float(recall_score(y_true, predicted, zero_division=0)), 6),
    }


def baseline_probability(train: pd.DataFrame, evaluation: pd.DataFrame) -> np.ndarray:
    """A trivial model that always predicts the training prior: the bar to clear."""
    label = load_contract().label
    dummy = DummyClassifier(strategy="prior").fit(train[feature_names()], train[label])
    probability: np.ndarray = dummy.predict_proba(evaluation[feature_names()])[:, 1]
    return probability


def predictions_frame(
    evaluation: pd.DataFrame, probability: np.ndarray, threshold: float
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": evaluation["row_id"],
            "probability": probability,
            "prediction": (probability >= threshold).astype(int),
        }
    )


def evaluate(params: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    p = paths()
    label, threshold = load_contract().label, params["evaluate"]["threshold"]
    train, evaluation = read_table(p.train_features), read_table(p.eval_features)
    model = joblib.load(p.model)
    probability = model.predict_proba(evaluation[feature_names()])[:, 1]
    metrics = {
        "model": score(evaluation[label], probability, threshold),
        "baseline": score(evaluation[label], baseline_probability(train, evaluation), threshold),
        "rows": {"train": len(train), "eval": len(evaluation)},
    }
    return metrics, predictions_frame(evaluation, probability, threshold)


def main() -> None:
    p = paths()
    params = load_params()
    metrics, predictions = evaluate(params)
    write_json(metrics, p.metrics)
    write_csv(predictions, p.predictions)
    lineage = build_lineage(p, params, metrics)
    write_json(lineage, p.lineage)
    tag = register(p.model, lineage)
    auc = metrics["model"]["roc_auc"]
    print(f"evaluate: roc_auc {auc:.4f}; model {tag}, lineage {lineage['lineage_id']}")
