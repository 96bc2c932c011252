"""Synthetic traffic for the monitor: a reference built from the sample, logs
written by the service's own log writer, no training beyond the shared model."""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from monitor_traffic import THRESHOLD, VERSION

from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.features import build_features, raw_feature_names
from {{ cookiecutter.package }}.monitor.log_writer import PredictionLog
from {{ cookiecutter.package }}.monitor.reference import build_reference

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


@pytest.fixture(scope="session")
def reference(split_sample, model) -> dict[str, Any]:
    train, evaluation = split_sample
    raw = raw_feature_names()
    probability = model.predict_proba(build_features(evaluation))[:, 1]
    metrics = {"roc_auc": 0.99, "accuracy": 0.95}
    return build_reference(evaluation[raw], train[raw], probability, THRESHOLD, metrics)


@pytest.fixture(scope="session")
def limits() -> dict[str, Any]:
    section = load_params(PARAMS)["monitor"]
    return {"window": "1h", "metric": "roc_auc", "limits": section["thresholds"]["low"]}


@pytest.fixture
def traffic(split_sample, model, tmp_path):
    """Write `rows` records drawn from the evaluation rows (changed by `shift`) to a log."""
    _, evaluation = split_sample
    folder = tmp_path / "logs"

    def write(rows: int = 1500, shift=None, version: str = VERSION, seed: int = 1) -> pd.DataFrame:
        drawn = evaluation.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
        raw = drawn[raw_feature_names()]
        raw = shift(raw.copy()) if shift else raw
        probability = model.predict_proba(build_features(raw))[:, 1]
        ids = [f"{version[:1]}{seed}-{i}" for i in range(rows)]
        log = PredictionLog(folder, version, "staging", raw_feature_names())
        log.predictions(ids, raw.to_dict(orient="records"), probability.tolist(),
                        (probability >= THRESHOLD).astype(int).tolist())  # fmt: skip
        log.close()
        return drawn.assign(id=ids, probability=probability)

    write.folder = folder
    return write
