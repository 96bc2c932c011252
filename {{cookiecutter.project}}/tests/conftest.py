"""Fixtures shared by the code, data and model tests.

They build everything from the bundled sample, so the tests need neither a
DVC pull nor a trained pipeline.
"""

import pandas as pd
import pytest

from {{ cookiecutter.package }}.contract import Contract, load_contract
from {{ cookiecutter.package }}.pipeline.featurize import split, with_features
from {{ cookiecutter.package }}.pipeline.train import fit
from {{ cookiecutter.package }}.sample_data import sample_frame

TRAIN_PARAMS = {"C": 1.0, "max_iter": 1000, "class_weight": None, "seed": 42}


@pytest.fixture(scope="session")
def contract() -> Contract:
    return load_contract()


@pytest.fixture
def sample() -> pd.DataFrame:
    return sample_frame()


@pytest.fixture(scope="session")
def split_sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(sample_frame(), test_size=0.25, seed=42)


@pytest.fixture(scope="session")
def model(split_sample):
    train, _ = split_sample
    return fit(with_features(train), TRAIN_PARAMS)
