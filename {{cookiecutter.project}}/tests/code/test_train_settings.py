"""params.yaml `train`: the estimator by name, its own arguments, nothing else."""

import pytest

from {{ cookiecutter.package }}.pipeline.train import ESTIMATORS, TrainSettingsError, make_estimator


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_each_allowed_estimator_is_built_with_the_seed(name):
    estimator = make_estimator({"estimator": name, "params": {}, "seed": 7})
    assert isinstance(estimator, ESTIMATORS[name])
    assert estimator.get_params()["random_state"] == 7


def test_params_reach_the_estimator():
    settings = {"estimator": "random_forest", "params": {"n_estimators": 5}, "seed": 1}
    assert make_estimator(settings).get_params()["n_estimators"] == 5


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"estimator": "svm", "seed": 1},
            "train.estimator 'svm' is not one of logistic_regression",
        ),
        ({"seed": 1}, "train.estimator None is not one of"),
        (
            {"estimator": "logistic_regression", "params": {"n_estimators": 5}, "seed": 1},
            "logistic_regression takes no n_estimators",
        ),
        (
            {"estimator": "random_forest", "params": {"random_state": 3}, "seed": 1},
            "random_forest takes no random_state \\(random_state comes from train.seed\\)",
        ),
        ({"estimator": "random_forest", "params": [1], "seed": 1}, "must be a mapping"),
    ],
)
def test_an_unknown_estimator_or_argument_is_refused_in_one_line(settings, message):
    with pytest.raises(TrainSettingsError, match=message) as caught:
        make_estimator(settings)
    assert "\n" not in str(caught.value)
