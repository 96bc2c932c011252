"""Helpers of the monitor tests (fixtures are in conftest.py)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.monitor import report
from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.reference import logged_dtypes
from {{ cookiecutter.package }}.monitor.run import signals

VERSION = "a" * 16
THRESHOLD = 0.5


def around_now() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def flipped(labels: pd.Series, share: float, seed: int = 0) -> pd.Series:
    """`share` of the labels changed to another class (the next one, in order)."""
    rng = np.random.default_rng(seed)
    classes = sorted(labels.unique())
    other = labels.map(lambda label: classes[(classes.index(label) + 1) % len(classes)])
    return labels.where(rng.random(len(labels)) >= share, other)


def shifted(raw: pd.DataFrame, column: str) -> pd.DataFrame:
    """Callers now send `column` two standard deviations higher than before."""
    raw[column] = raw[column] + 2 * raw[column].std()
    return raw


def judge(reference, limits, folder, labels=None) -> dict:
    start, end = around_now()
    window = read_window(str(folder), logged_dtypes(reference), VERSION, start, end)
    body = {"rows": {"scored": len(window.inputs)}}
    known = labels if labels is not None else pd.Series(dtype=int)
    found = signals(reference, window, known, limits)
    return report.finish({**body, **found})
