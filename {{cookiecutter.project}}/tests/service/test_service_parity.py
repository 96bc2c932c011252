"""The training-serving parity gate against the served bento: what the gate stage
of `make repro` runs, on the bento the session built and serves."""

import pytest

from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.gates.base import GateInputs
from {{ cookiecutter.package }}.gates.parity import parity

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gate_settings(project) -> dict:
    return load_params(project.params)["gate"]


def test_the_served_bento_reproduces_the_offline_predictions(
    project, gate_settings, bento_tag, service_url
):
    result = parity(GateInputs(project, gate_settings, bento_tag, service_url))
    assert result.passed, result.message
    assert result.message == "the service reproduces the offline predictions"


def test_a_gap_over_the_tolerance_fails_the_gate(project, gate_settings, bento_tag, service_url):
    """A tolerance below zero: no gap, not even none, is within it."""
    strict = {**gate_settings, "parity_tolerance": -1.0}
    result = parity(GateInputs(project, strict, bento_tag, service_url))
    assert not result.passed
    assert "does not reproduce training" in result.message


def test_a_bento_that_was_not_served_fails_closed(project, gate_settings):
    result = parity(GateInputs(project, gate_settings))
    assert not result.passed
    assert "the bento was not served" in result.message
