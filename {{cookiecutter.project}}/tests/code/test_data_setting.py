"""params.yaml `data.raw`: the one setting that names the data."""

from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import Paths, raw_data_relative


def test_the_raw_data_path_is_read_from_params(tmp_path: Path):
    (tmp_path / "params.yaml").write_text("data:\n  raw: data/raw/churn.csv\n")
    assert Paths(tmp_path).raw_data == tmp_path / "data" / "raw" / "churn.csv"


@pytest.mark.about_the_sample
def test_the_project_names_the_bundled_sample_by_default():
    root = Path(__file__).resolve().parents[2]
    assert Paths(root).raw_data == root / "data" / "raw" / "breast_cancer.csv"


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "params.yaml data.raw must name the raw data file"),
        ({"data": "x.csv"}, "params.yaml data.raw must name the raw data file"),
        ({"data": {"raw": " "}}, "params.yaml data.raw must name the raw data file"),
        ({"data": {"raw": "/etc/passwd"}}, "must be a path inside the repository"),
        ({"data": {"raw": "../elsewhere.csv"}}, "must be a path inside the repository"),
    ],
)
def test_a_missing_or_outside_data_setting_is_refused(params, message):
    with pytest.raises(ValueError, match=message):
        raw_data_relative(params)
