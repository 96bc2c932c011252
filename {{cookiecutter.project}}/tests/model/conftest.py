"""The project's own data and estimator, for the behaviour tests.

The data is params.yaml `data.raw` (`project_data` in tests/conftest.py); the
model is the estimator params.yaml names, fitted on the same split the
pipeline makes.
"""

import pytest

from {{ cookiecutter.package }}.pipeline.featurize import with_features
from {{ cookiecutter.package }}.pipeline.train import fit


@pytest.fixture(scope="session")
def project_split(split_sample):
    return split_sample


@pytest.fixture(scope="session")
def project_model(project_split, params):
    train, _ = project_split
    return fit(with_features(train), params["train"])
