"""The monitor on traffic the served bento logged itself: a quiet window, one with
a single feature shifted, and one whose late labels no longer match (concept drift).

The session's service logs every test's requests; tests run one at a time, so
a window bounded by the times around a test's own requests holds only them,
as the monitor tells windows apart by the time of their rows. (One server
for every service test: starting another costs its start-up.)
"""

import time
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pandas as pd
import pytest

from monitor.monitor_traffic import flipped  # the monitor tests' helpers
from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.files import read_json
from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.reference import logged_dtypes
from {{ cookiecutter.package }}.monitor.run import signals

pytestmark = pytest.mark.slow

ROWS, BATCH = 1500, 250


@pytest.fixture
def monitored(service_url, prediction_log_dir):
    """The session's service and its log folder: (url, folder)."""
    return service_url, prediction_log_dir


def send(url: str, rows: pd.DataFrame) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        for start in range(0, len(rows), BATCH):
            records = rows.iloc[start : start + BATCH]
            cleaned = records.astype(object).where(records.notna(), None)
            answer = client.post("/predict", json={"records": cleaned.to_dict("records")})
            assert answer.status_code == 200, answer.text[:300]


def shifted_column() -> str:
    """A numeric column that may not be missing, with room above its values."""
    return load_contract().required_names_of("numeric")[0]


def shifted(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """`column` two standard deviations higher, within the contract's range."""
    top = float(load_contract().features[column].max)  # type: ignore[arg-type]
    moved = rows.copy()
    moved[column] = np.minimum(rows[column] + 2 * rows[column].std(), top)
    return moved


def limits(project) -> dict:
    return load_params(project.params)["monitor"]["thresholds"]["low"]


def judge(project, folder, start: datetime, end: datetime, labels=None) -> dict:
    reference = read_json(project.reference)
    lineage_id = read_json(project.lineage)["lineage_id"]
    window = read_window(str(folder), logged_dtypes(reference), lineage_id, start, end)
    cfg = {"metric": load_params(project.params)["monitor"]["metric"], "limits": limits(project)}
    known = labels if labels is not None else pd.Series(dtype=int)
    return {"rows": len(window.inputs), **signals(reference, window, known, cfg)}


def test_served_traffic_drifts_on_the_shifted_feature_only(monitored, eval_rows, project):
    url, folder = monitored
    usual = eval_rows.sample(ROWS, replace=True, random_state=1).reset_index(drop=True)
    began = datetime.now(UTC)
    send(url, usual)
    time.sleep(0.01)  # the rows of the two windows never share a microsecond
    turned = datetime.now(UTC)
    column = shifted_column()
    send(url, shifted(usual.sample(frac=1, random_state=2), column))
    ended = datetime.now(UTC) + timedelta(seconds=1)

    quiet = judge(project, folder, began, turned)
    assert quiet["rows"] == ROWS
    assert quiet["input_drift"]["drifted"] == []
    moved = judge(project, folder, turned, ended)
    assert moved["rows"] == ROWS
    assert moved["input_drift"]["drifted"] == [column]


def test_late_labels_that_no_longer_match_drop_realized_quality_only(monitored, eval_rows, project):
    url, folder = monitored
    truth = read_table(project.eval_features)[load_contract().label]
    drawn = eval_rows.sample(ROWS, replace=True, random_state=3)
    ids = [f"concept-{n}" for n in range(ROWS)]
    began = datetime.now(UTC)
    send(url, drawn.reset_index(drop=True).assign(id=ids))
    ended = datetime.now(UTC) + timedelta(seconds=1)
    labels = flipped(pd.Series(truth.iloc[drawn.index].to_numpy(), index=ids), 0.4, seed=4)

    found = judge(project, folder, began, ended, labels)
    assert found["rows"] == ROWS
    assert found["input_drift"]["drifted"] == []  # the callers send what they always sent
    realized = found["quality"]["realized"]
    assert realized["labelled_rows"] == ROWS
    assert realized["drop"] >= limits(project)["quality_drop"]
    assert found["quality"]["breached"]
