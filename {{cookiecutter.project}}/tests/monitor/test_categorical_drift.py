"""A categorical column, whatever this project's own contract holds: its
profile, its drift (PSI and chi-square), values training never saw, and its
way through the log and the report."""

import numpy as np
import pandas as pd
import pytest
from monitor_traffic import VERSION, around_now

from {{ cookiecutter.package }}.monitor import report
from {{ cookiecutter.package }}.monitor.drift import input_drift
from {{ cookiecutter.package }}.monitor.log_reader import Window, read_window
from {{ cookiecutter.package }}.monitor.log_writer import PredictionLog
from {{ cookiecutter.package }}.monitor.quality import data_quality
from {{ cookiecutter.package }}.monitor.reference import OTHER, build_reference, logged_dtypes

COLOURS = ["red", "green", "blue, dark"]  # a comma: the log must quote it
USUAL = [0.5, 0.3, 0.2]


def rows(count: int, shares=USUAL, seed: int = 0, colours=COLOURS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "width": rng.normal(10, 2, count).round(3),
        "colour": pd.Series(rng.choice(colours, count, p=shares), dtype="str"),
    })  # fmt: skip


@pytest.fixture(scope="module")
def reference() -> dict:
    evaluation, train = rows(600, seed=1), rows(2000, seed=2)
    evaluation.loc[:5, "colour"] = None  # a nullable column: missing at evaluation too
    probability = np.full(len(evaluation), 0.5)
    return build_reference(evaluation, train, probability, 0.5, {"roc_auc": 0.9})


def window_of(inputs: pd.DataFrame) -> Window:
    probability = np.full(len(inputs), 0.5)
    ids = [str(i) for i in range(len(inputs))]
    return Window(inputs, ids, probability, np.zeros(len(inputs), dtype=int))


def test_the_profile_holds_the_shares_of_the_training_values(reference):
    profile = reference["features"]["colour"]
    assert profile["kind"] == "categorical"
    assert profile["categories"] == sorted(COLOURS)
    assert profile["missing"] == 6
    assert sum(profile["proportions"]) == pytest.approx(1)
    assert profile["proportions"][-1] == 0  # the share of other values: none at evaluation
    assert reference["features"]["width"]["kind"] == "numeric"


def test_a_shifted_category_drifts_and_only_it(reference, limits):
    result = input_drift(reference, rows(3000, shares=[0.2, 0.3, 0.5], seed=3), limits["limits"])
    assert result["drifted"] == ["colour"]
    colour = result["features"]["colour"]
    assert colour["chi2_pvalue"] < 0.01
    assert colour["categories"] == [*sorted(COLOURS), OTHER]


def test_the_same_shares_do_not_drift(reference, limits):
    result = input_drift(reference, rows(3000, seed=4), limits["limits"])
    assert result["drifted"] == []
    assert result["features"]["colour"]["psi"] < 0.05


def test_a_few_rows_that_look_shifted_are_not_called_drift(reference, limits):
    """PSI alone would flag them; the chi-square test says it may be chance."""
    few = rows(12, shares=[0.2, 0.3, 0.5], seed=5)
    colour = input_drift(reference, few, limits["limits"])["features"]["colour"]
    assert colour["psi"] >= limits["limits"]["psi"]
    assert colour["chi2_pvalue"] >= 0.01
    assert not colour["drifted"]


def test_values_training_never_saw_breach_data_quality(reference, limits):
    usual = data_quality(reference, window_of(rows(1000, seed=6)), limits["limits"])
    assert usual["out_of_range_rate"]["colour"] == 0
    odd = rows(1000, seed=6)
    odd.loc[:99, "colour"] = "purple"
    odd.loc[100:149, "colour"] = None
    found = data_quality(reference, window_of(odd), limits["limits"])
    assert found["out_of_range_rate"]["colour"] == pytest.approx(0.1)
    assert found["missing_rate"]["colour"] == pytest.approx(0.05)
    assert found["breached"]
    drifted = input_drift(reference, odd, limits["limits"])["features"]["colour"]
    assert drifted["current"][-1] == pytest.approx(100 / 950, abs=1e-6)  # the other values' bin


def test_categories_come_back_from_the_log_as_sent(reference, tmp_path):
    sent = rows(50, seed=7).astype({"colour": object})
    sent.loc[0, "colour"] = None
    log = PredictionLog(tmp_path, VERSION, "staging", ["width", "colour"])
    ids = [f"r{i}" for i in range(len(sent))]
    log.predictions(ids, sent.to_dict(orient="records"), [0.5] * len(sent), [0] * len(sent))
    log.close()
    window = read_window(str(tmp_path), logged_dtypes(reference), VERSION, *around_now())
    assert window.inputs["colour"].tolist()[1:] == sent["colour"].tolist()[1:]
    assert window.inputs["colour"].isna().tolist()[0]
    assert window.inputs["width"].dtype == float


def test_the_report_draws_a_drifted_category_by_value(reference, limits):
    drifted = input_drift(reference, rows(3000, shares=[0.2, 0.3, 0.5], seed=3), limits["limits"])
    page = "\n".join(report.drift_charts({"input_drift": drifted}))
    assert "## colour: PSI" in page and "chi-square p-value" in page
    assert '"blue, dark", "green", "red", "(other)"' in page
