"""Helpers of the monitor tests (fixtures are in conftest.py)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.monitor import report
from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.run import signals

VERSION = "a" * 16
THRESHOLD = 0.5


def around_now() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def flipped(labels: pd.Series, share: float, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return labels.where(rng.random(len(labels)) >= share, 1 - labels)


def judge(reference, limits, folder, labels=None) -> dict:
    start, end = around_now()
    window = read_window(str(folder), list(reference["features"]), VERSION, start, end)
    body = {"rows": {"scored": len(window.inputs)}}
    known = labels if labels is not None else pd.Series(dtype=int)
    found = signals(reference, window, known, limits)
    return report.finish({**body, **found})
