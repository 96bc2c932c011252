"""How long the monitor takes over a million logged rows, beside Evidently.

Writes ROWS x 30 synthetic features as prediction-log files (the service's
own format, four decimals per value as measurements usually have), three
features shifted, then times what `monitor <env>` does with a window:
read the files, PSI and KS per feature, prediction drift, data quality,
estimated quality. With --evidently it also runs Evidently's DataDriftPreset
(0.7) on the first --evidently-rows rows of the same data, in its own
environment under .cache/ (Evidently does not import with pandas 3; it is
never part of this project's lock), and this monitor's drift on the same
rows, and reports both times, the ratio and the drifted columns of each.

    python benchmarks/bench_monitor.py                      # 1,000,000 rows
    python benchmarks/bench_monitor.py --rows 200000
    python benchmarks/bench_monitor.py --evidently          # needs uv and the package index once

The log files are kept in .cache/bench-monitor/ and reused (writing them is
not what is measured).
"""

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.monitor import report
from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.log_writer import PredictionLog
from {{ cookiecutter.package }}.monitor.run import signals

FEATURES = [f"feature_{i:02d}" for i in range(30)]
SHIFTED = ["feature_03", "feature_11", "feature_27"]
VERSION = "b" * 16
LIMITS = {"psi": 0.2, "ks_pvalue": 0.01, "prediction_psi": 0.2, "positive_rate_shift": 0.1,
          "refused_rate": 0.05, "missing_rate": 0.01, "out_of_range_rate": 0.01,
          "quality_drop": 0.05, "min_labelled_rows": 30}  # fmt: skip
EVIDENTLY = ["evidently==0.7.23", "pandas<3"]
WRITE_BATCH = 1000


def frame(rows: int, seed: int, shifted: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(10.0, 2.0, size=(rows, len(FEATURES)))
    data = pd.DataFrame(values, columns=FEATURES)
    if shifted:
        for name in SHIFTED:
            data[name] += 1.5  # three quarters of a standard deviation
    return data.round(4)


def probability(data: pd.DataFrame) -> np.ndarray:
    """A stand-in model: a logistic score of a few features."""
    score = (data["feature_00"] - 10) + (data["feature_03"] - 10) * 0.5
    return 1 / (1 + np.exp(-score.to_numpy()))


def write_logs(folder: Path, data: pd.DataFrame) -> None:
    """Through the service's own writer, a batch at a time, as the service writes."""
    shutil.rmtree(folder, ignore_errors=True)
    log = PredictionLog(folder, VERSION, "bench")
    p = probability(data)
    records = data.to_dict(orient="records")
    for start in range(0, len(data), WRITE_BATCH):
        stop = start + WRITE_BATCH
        ids = [f"r{i}" for i in range(start, min(stop, len(data)))]
        chunk = p[start:stop].tolist()
        log.predictions(ids, records[start:stop], chunk, [int(x >= 0.5) for x in chunk])
    log.close()


def monitor_once(folder: Path, reference: dict) -> tuple[float, dict]:
    began = time.perf_counter()
    now = datetime.now(UTC)
    window = read_window(str(folder), FEATURES, VERSION, now - timedelta(days=1), now)
    read = time.perf_counter() - began
    cfg = {"metric": "roc_auc", "limits": LIMITS}
    result = report.finish({"rows": {"scored": len(window.inputs)},
                            **signals(reference, window, pd.Series(dtype=int), cfg)})  # fmt: skip
    return time.perf_counter() - began, {"read_seconds": round(read, 2), **result}
