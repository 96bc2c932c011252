import math

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package }}.config import ProjectFileError
from {{ cookiecutter.package }}.contract import ContractError, parse_contract
from {{ cookiecutter.package }}.serving.records import record_model


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
    with pytest.raises(ContractError, match=message) as refused:
        parse_contract(text)
    # A project file error: the installed command prints it as one line (test_commands.py).
    assert isinstance(refused.value, ProjectFileError)
    assert len(str(refused.value).splitlines()) == 1


def test_request_model_accepts_a_record_within_the_contract(contract):
    record = record_model(contract)(**valid_record(contract))
    assert record.model_dump() == valid_record(contract)


@pytest.mark.parametrize(
    "value",
    [
        "12.0",  # a string, not a number
        math.nan,
        math.inf,
        "below",  # below the contract's minimum
    ],
)
def test_request_model_refuses_a_numeric_value_the_contract_forbids(
    contract, numeric_column, value
):
    if value == "below":
        value = contract.features[numeric_column].min - 1
    with pytest.raises(ValidationError):
        record_model(contract)(**{**valid_record(contract), numeric_column: value})


def test_request_model_refuses_a_field_the_contract_does_not_know(contract):
    with pytest.raises(ValidationError):
        record_model(contract)(**valid_record(contract), surprise=1.0)


def test_request_model_refuses_a_missing_field(contract, numeric_column):
    record = valid_record(contract)
    record.pop(numeric_column)
    with pytest.raises(ValidationError):
        record_model(contract)(**record)


MIXED = """
label: y
label_values: [0, 1]
rows: {min: 1, max: 100}
label_share: {min: 0, max: 1}
features:
  income: {min: 0, max: 1000, nullable: true}
  colour: {type: categorical, values: [red, green]}
  city: {type: categorical, values: any, nullable: true}
"""


def test_a_contract_declares_numeric_and_categorical_columns():
    contract = parse_contract(MIXED)
    assert contract.names_of("numeric") == ["income"]
    assert contract.names_of("categorical") == ["colour", "city"]
    assert contract.features["colour"].values == ("red", "green")
    assert contract.features["city"].values is None  # any string
    assert contract.csv_dtypes() == {"colour": "str", "city": "str"}


@pytest.mark.parametrize(
    "feature, message",
    [
        ("{type: text}", "feature a: type must be one of numeric, categorical"),
        ("{type: categorical, values: []}", "feature a: 'values' must be a list"),
        ("{type: categorical, values: [x, x]}", "feature a: 'values' must be a list of distinct"),
        ("{min: 0, max: 1, nullable: maybe}", "feature a: nullable must be true or false"),
        ("{type: categorical, values: any, min: 0}", "feature a: unknown keys ['min']"),
        ("[0, 1]", "feature a must be a mapping"),
    ],
)
def test_a_bad_column_is_refused_naming_the_column(feature, message):
    text = MIXED.split("features:")[0] + f"features:\n  a: {feature}\n"
    with pytest.raises(ContractError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_contract(text)


@pytest.mark.parametrize(
    "change, message",
    [
        ("label_values: [1, 2]", "a binary label_values must be \\[0, 1\\]"),
        ("label_values: [0, 0, 1]", "at least two distinct classes"),
        ("label_values: [1]", "at least two distinct classes"),
        ("label_values: [no, yes]", "list of integers"),
        ("label: income", "label 'income' is also listed as a feature"),
    ],
)
def test_a_bad_label_is_refused_with_one_line(change, message):
    key = change.split(":")[0]
    lines = [line for line in MIXED.splitlines() if not line.startswith(f"{key}:")]
    with pytest.raises(ContractError, match=message):
        parse_contract("\n".join([change, *lines]))


def test_request_model_follows_categorical_and_nullable_columns():
    Record = record_model(parse_contract(MIXED))
    record = Record(income=None, colour="red", city="Lyon")
    assert record.model_dump() == {"income": None, "colour": "red", "city": "Lyon"}
    Record(income=1.0, colour="green", city=None)  # nullable: null is accepted


def test_a_value_outside_the_declared_list_is_refused_naming_field_and_values():
    Record = record_model(parse_contract(MIXED))
    with pytest.raises(ValidationError) as caught:
        Record(income=1.0, colour="blue", city="Lyon")
    error = caught.value.errors()[0]
    assert error["loc"] == ("colour",)
    assert "'red'" in error["msg"] and "'green'" in error["msg"]


def test_a_nullable_field_must_still_be_sent_and_a_required_one_not_null():
    Record = record_model(parse_contract(MIXED))
    with pytest.raises(ValidationError):
        Record(colour="red", city="Lyon")  # income omitted: null is explicit, never implied
    with pytest.raises(ValidationError):
        Record(income=1.0, colour=None, city="Lyon")


def test_three_or_more_label_values_make_a_multiclass_contract():
    text = MIXED.replace("label_values: [0, 1]", "label_values: [2, 0, 1]")
    contract = parse_contract(text)
    assert contract.label_values == (0, 1, 2) and not contract.binary
    assert parse_contract(MIXED).binary
