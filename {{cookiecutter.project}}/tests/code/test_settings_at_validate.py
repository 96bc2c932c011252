"""validate refuses params.yaml settings that cannot work, before reading any data."""

from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.pipeline.validate import settings_problem

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


@pytest.fixture
def params():
    return load_params(PARAMS)  # this project's, whatever another test left as the root


def test_the_projects_own_settings_hold(params, contract):
    assert settings_problem(params, contract) is None


def test_an_unknown_estimator_is_named(params, contract):
    params["train"]["estimator"] = "xgboost"
    assert "train.estimator 'xgboost' is not one of" in settings_problem(params, contract)


def test_an_argument_the_estimator_does_not_take_is_named(params, contract):
    params["train"]["params"]["max_depth"] = 3
    problem = settings_problem(params, contract)
    assert "logistic_regression takes no max_depth" in problem


def test_a_fairness_group_outside_the_contract_is_named(params, contract):
    params["gate"]["fairness"]["group_column"] = "postcode"
    problem = settings_problem(params, contract)
    assert "gate.fairness.group_column 'postcode' is not a column of contract.yaml" in problem


def test_a_risk_tier_that_is_not_one_of_the_tiers_is_named(params, contract):
    params["gate"]["risk_tier"] = "medium"
    problem = settings_problem(params, contract)
    assert "gate.risk_tier must be one of ('low', 'high'), got 'medium'" in problem
