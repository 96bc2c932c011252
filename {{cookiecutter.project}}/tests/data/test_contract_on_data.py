"""The data contract holds on the project's data and stops each kind of bad data.

The data is params.yaml `data.raw`; the columns broken here are picked from
contract.yaml, so the tests hold for any data set that follows its contract.
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

from {{ cookiecutter.package }}.contract import check_table
from {{ cookiecutter.package }}.files import dvc_md5
from {{ cookiecutter.package }}.sample_data import write_sample

PIN = Path(__file__).resolve().parents[2] / "data" / "raw" / "breast_cancer.csv.dvc"


def test_the_data_holds_the_contract(sample, contract):
    assert check_table(sample, contract) == []


@pytest.mark.about_the_sample
def test_the_sample_is_written_byte_for_byte_as_pinned(tmp_path):
    write_sample(tmp_path / "sample.csv")
    assert dvc_md5(tmp_path / "sample.csv") == yaml.safe_load(PIN.read_text())["outs"][0]["md5"]


def test_missing_column_is_caught(sample, contract, numeric_column):
    problems = check_table(sample.drop(columns=numeric_column), contract)
    assert any(numeric_column in line for line in problems)


def test_unexpected_column_is_caught(sample, contract):
    assert check_table(sample.assign(patient_name="x"), contract)


def test_wrong_dtype_is_caught(sample, contract, numeric_column):
    broken = sample.assign(**{numeric_column: sample[numeric_column].astype(str) + "mm"})
    assert any(numeric_column in line for line in check_table(broken, contract))


def test_missing_values_are_caught(sample, contract, numeric_column):
    broken = sample.copy()
    broken.loc[broken.index[:5], numeric_column] = np.nan
    assert any(numeric_column in line for line in check_table(broken, contract))


def test_shifted_distribution_out_of_range_is_caught(sample, contract, numeric_column):
    # A unit change upstream (say mm -> µm) shifts every value past the contract's maximum.
    top = contract.features[numeric_column].max
    broken = sample.assign(**{numeric_column: sample[numeric_column] + top + 1})
    assert any(numeric_column in line for line in check_table(broken, contract))


def test_too_few_rows_are_caught(sample, contract):
    few = sample.head(contract.min_rows - 1)
    assert any("row count" in line for line in check_table(few, contract))


def test_label_imbalance_is_caught(sample, contract):
    only_one_class = sample[sample[contract.label] == contract.label_values[0]]
    assert any("share" in line for line in check_table(only_one_class, contract))


@pytest.mark.parametrize("outside", ["above", "below"])
def test_unknown_label_is_caught(sample, contract, outside):
    value = max(contract.label_values) + 1 if outside == "above" else min(contract.label_values) - 1
    broken = sample.copy()
    broken.loc[broken.index[0], contract.label] = value
    assert any(contract.label in line for line in check_table(broken, contract))
