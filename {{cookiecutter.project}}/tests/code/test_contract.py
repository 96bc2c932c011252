import math

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package }}.contract import ContractError, parse_contract, record_model


def valid_record(contract):
    return contract.example_record()


@pytest.mark.parametrize(
    "text, message",
    [
        ("features: [unclosed", "not valid YAML"),
        ("label: y\n", "non-empty 'features'"),
        ("label: y\nfeatures: {a: {min: 0, max: 1}}\n", "incomplete or malformed"),
        (
            "label: y\nlabel_values: [0, 1]\nrows: {min: 1, max: 2}\n"
            "label_share: {min: 0, max: 1}\nfeatures: {a: {min: 2, max: 1}}\n",
            "above max",
        ),
    ],
)
def test_a_broken_contract_file_is_refused_with_a_reason(text, message):
    with pytest.raises(ContractError, match=message):
        parse_contract(text)


def test_request_model_accepts_a_record_within_the_contract(contract):
    record = record_model(contract)(**valid_record(contract))
    assert record.model_dump() == valid_record(contract)


@pytest.mark.parametrize(
    "change",
    [
        {"mean_radius": "12.0"},  # a string, not a number
        {"mean_radius": math.nan},
        {"mean_radius": math.inf},
        {"mean_radius": -1.0},  # below the contract's minimum
        {"surprise": 1.0},  # a field the contract does not know
    ],
)
def test_request_model_refuses_what_the_contract_forbids(contract, change):
    with pytest.raises(ValidationError):
        record_model(contract)(**{**valid_record(contract), **change})


def test_request_model_refuses_a_missing_field(contract):
    record = valid_record(contract)
    record.pop("mean_radius")
    with pytest.raises(ValidationError):
        record_model(contract)(**record)
