"""The validate stage reads the data part by part, so memory stays flat: the lines
it gives must be those a table held whole gets, whatever the size of the parts."""

import numpy as np
import pytest

from {{ cookiecutter.package }}.contract import check_table
from {{ cookiecutter.package }}.files import write_frame
from {{ cookiecutter.package }}.pipeline.validate import check_file


@pytest.fixture
def broken(sample, contract, numeric_column):
    """The project's data broken three ways: values out of range, a missing value where
    none is allowed, and one class only (the label's shares)."""
    low = contract.features[numeric_column].min - 1
    sample.loc[sample.index[[3, 40, 400 % len(sample)]], numeric_column] = low
    required = contract.required_names_of("numeric")
    sample.loc[sample.index[7], required[-1]] = np.nan
    sample[contract.label] = contract.label_values[0]
    return sample


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("chunk_rows", [150, 1_000_000])
def test_the_parts_give_the_lines_of_the_whole(broken, contract, tmp_path, suffix, chunk_rows):
    path = tmp_path / f"data{suffix}"
    write_frame(broken, path)
    whole = check_table(broken, contract)
    assert len(whole) == 3, whole  # the three breaks, each one line
    streamed = check_file(path, contract, chunk_rows)
    assert streamed.violations(contract) == whole
    assert (streamed.rows, streamed.columns) == broken.shape


def test_data_that_holds_the_contract_passes_in_parts(sample, contract, tmp_path):
    path = tmp_path / "data.csv"
    write_frame(sample, path)
    assert check_file(path, contract, 50).violations(contract) == []


def test_a_missing_and_an_unknown_column_are_named_once(sample, contract, numeric_column, tmp_path):
    path = tmp_path / "data.csv"
    write_frame(sample.drop(columns=numeric_column).assign(surprise=1), path)
    lines = check_file(path, contract, 50).violations(contract)
    assert f"table: column_in_dataframe (1 row, e.g. {numeric_column!r})" in lines
    assert "table: column_in_schema (1 row, e.g. 'surprise')" in lines


def test_a_parquet_file_with_no_rows_still_has_its_columns_checked(
    sample, contract, numeric_column, tmp_path
):
    empty = sample.iloc[:0].drop(columns=numeric_column)
    path = tmp_path / "data.parquet"
    write_frame(empty, path)
    lines = check_file(path, contract, 50).violations(contract)
    assert lines == check_table(empty, contract)
    assert f"table: column_in_dataframe (1 row, e.g. {numeric_column!r})" in lines
