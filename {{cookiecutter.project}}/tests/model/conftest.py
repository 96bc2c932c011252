"""The project's own data and estimator, for the behaviour tests.

The data is params.yaml `data.raw` (the bundled sample until you bring your
own; then `dvc pull` fetches it); the model is the estimator params.yaml
names, fitted on the same split the pipeline makes.
"""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.contract import read_table
from {{ cookiecutter.package }}.pipeline.featurize import split, with_features
from {{ cookiecutter.package }}.pipeline.train import fit
from {{ cookiecutter.package }}.sample_data import write_sample

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "data/raw/breast_cancer.csv"


@pytest.fixture(scope="session")
def params() -> dict[str, Any]:
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def project_data(params, tmp_path_factory) -> pd.DataFrame:
    raw = Paths(ROOT).raw_data
    if not raw.exists() and raw == ROOT / SAMPLE:
        raw = tmp_path_factory.mktemp("sample") / "sample.csv"  # no setup needed for the sample
        write_sample(raw)
    if not raw.exists():
        pytest.fail(f"{raw.relative_to(ROOT)} is missing: run `dvc pull` (or `make setup`)")
    return read_table(raw)


@pytest.fixture(scope="session")
def project_split(project_data, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    settings = params["featurize"]
    return split(project_data, settings["test_size"], settings["seed"])


@pytest.fixture(scope="session")
def project_model(project_split, params):
    train, _ = project_split
    return fit(with_features(train), params["train"])
