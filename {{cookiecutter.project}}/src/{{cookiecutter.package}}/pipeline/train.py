"""Stage `train`: fit the estimator named in params.yaml on the training features."""

from typing import Any

import joblib
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package }}.config import load_params, paths
from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.features import feature_names, preprocessor

# The estimators `train.estimator` may name. Each is a scikit-learn classifier
# with predict_proba and a random_state, so training is reproducible.
ESTIMATORS: dict[str, type[ClassifierMixin]] = {
    "logistic_regression": LogisticRegression,
    "hist_gradient_boosting": HistGradientBoostingClassifier,
    "random_forest": RandomForestClassifier,
}


class TrainSettingsError(ValueError):
    """params.yaml `train` names an estimator or a parameter that does not exist."""


def make_estimator(settings: dict[str, Any]) -> ClassifierMixin:
    """The estimator of `train.estimator` with `train.params`, or a one-line refusal."""
    name = settings.get("estimator")
    if name not in ESTIMATORS:
        raise TrainSettingsError(
            f"params.yaml train.estimator {name!r} is not one of {', '.join(ESTIMATORS)}"
        )
    given = settings.get("params") or {}
    if not isinstance(given, dict):
        raise TrainSettingsError("params.yaml train.params must be a mapping of argument: value")
    estimator = ESTIMATORS[name]()
    accepted = set(estimator.get_params()) - {"random_state"}  # train.seed sets it
    unknown = sorted(set(given) - accepted)
    if unknown:
        raise TrainSettingsError(
            f"params.yaml train.params: {name} takes no {', '.join(unknown)} "
            "(random_state comes from train.seed)"
        )
    return estimator.set_params(**given, random_state=settings.get("seed"))


def make_model(settings: dict[str, Any]) -> Pipeline:
    """Preparation (imputation, scaling, encoding) and the estimator, fitted as one."""
    return Pipeline([("prepare", preprocessor()), ("classify", make_estimator(settings))])


def fit(train: pd.DataFrame, params: dict[str, Any]) -> Pipeline:
    label = load_contract().label
    model = make_model(params)
    model.fit(train[feature_names()], train[label])
    return model


def main() -> None:
    p = paths()
    settings = load_params()["train"]
    try:
        make_estimator(settings)  # refuse bad settings before reading any data
    except TrainSettingsError as error:
        raise SystemExit(f"ERROR: {error}") from None
    model = fit(read_table(p.train_features), settings)
    p.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, p.model)
    print(f"train: {settings['estimator']} written to {p.model.relative_to(p.root)}")
