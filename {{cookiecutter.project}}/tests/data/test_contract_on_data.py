"""The data contract holds on the sample and stops each kind of bad data."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from {{ cookiecutter.package }}.contract import check_table
from {{ cookiecutter.package }}.files import dvc_md5
from {{ cookiecutter.package }}.sample_data import write_sample

PIN = Path(__file__).resolve().parents[2] / "data" / "raw" / "breast_cancer.csv.dvc"


def test_the_sample_holds_the_contract(sample, contract):
    assert check_table(sample, contract) == []


def test_the_sample_is_written_byte_for_byte_as_pinned(tmp_path):
    write_sample(tmp_path / "sample.csv")
    assert dvc_md5(tmp_path / "sample.csv") == yaml.safe_load(PIN.read_text())["outs"][0]["md5"]


def test_missing_column_is_caught(sample, contract):
    problems = check_table(sample.drop(columns="mean_radius"), contract)
    assert any("mean_radius" in line for line in problems)


def test_unexpected_column_is_caught(sample, contract):
    assert check_table(sample.assign(patient_name="x"), contract)


def test_wrong_dtype_is_caught(sample, contract):
    broken = sample.assign(mean_radius=sample["mean_radius"].astype(str))
    assert any("mean_radius" in line for line in check_table(broken, contract))


def test_missing_values_are_caught(sample, contract):
    broken = sample.copy()
    broken.loc[broken.index[:5], "mean_texture"] = np.nan
    assert any("mean_texture" in line for line in check_table(broken, contract))


def test_shifted_distribution_out_of_range_is_caught(sample, contract):
    # A unit change upstream (mm -> µm) multiplies every radius by 1000.
    broken = sample.assign(mean_radius=sample["mean_radius"] * 1000)
    assert any("mean_radius" in line for line in check_table(broken, contract))


def test_too_few_rows_are_caught(sample, contract):
    assert any("row count" in line for line in check_table(sample.head(10), contract))


def test_label_imbalance_is_caught(sample, contract):
    only_benign = sample[sample["malignant"] == 0]
    assert any("share" in line for line in check_table(only_benign, contract))


@pytest.mark.parametrize("value", [2, -1])
def test_unknown_label_is_caught(sample, contract, value):
    broken = sample.copy()
    broken.loc[broken.index[0], "malignant"] = value
    assert any("malignant" in line for line in check_table(broken, contract))
