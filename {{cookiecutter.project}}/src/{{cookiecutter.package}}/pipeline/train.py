"""Stage `train`: fit the model on the training features."""

from typing import Any

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from {{ cookiecutter.package }}.config import load_params, paths
from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.features import feature_names
from {{ cookiecutter.package }}.files import read_csv


def make_model(params: dict[str, Any]) -> Pipeline:
    classifier = LogisticRegression(
        C=params["C"],
        max_iter=params["max_iter"],
        class_weight=params.get("class_weight"),
        random_state=params["seed"],
    )
    return Pipeline([("scale", StandardScaler()), ("classify", classifier)])


def fit(train: pd.DataFrame, params: dict[str, Any]) -> Pipeline:
    label = load_contract().label
    model = make_model(params)
    model.fit(train[feature_names()], train[label])
    return model


def main() -> None:
    p = paths()
    model = fit(read_csv(p.train_features), load_params()["train"])
    p.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, p.model)
    print(f"train: model written to {p.model.relative_to(p.root)}")
