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
not what is measured). On a shared machine compare the CPU seconds.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.config import find_root
from {{ cookiecutter.package }}.monitor import drift, report
from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.log_writer import PredictionLog
from {{ cookiecutter.package }}.monitor.reference import build_reference, logged_dtypes
from {{ cookiecutter.package }}.monitor.run import signals

FEATURES = [f"feature_{i:02d}" for i in range(30)]
SHIFTED = ["feature_03", "feature_11", "feature_27"]
VERSION = "b" * 16
LIMITS = {"psi": 0.2, "ks_pvalue": 0.01, "chi2_pvalue": 0.01, "prediction_psi": 0.2,
          "positive_rate_shift": 0.1, "refused_rate": 0.05, "missing_rate": 0.01,
          "out_of_range_rate": 0.01, "quality_drop": 0.05, "min_labelled_rows": 30}  # fmt: skip
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
    log = PredictionLog(folder, VERSION, "bench", FEATURES)
    p = probability(data)
    records = data.to_dict(orient="records")
    for start in range(0, len(data), WRITE_BATCH):
        stop = start + WRITE_BATCH
        ids = [f"r{i}" for i in range(start, min(stop, len(data)))]
        chunk = p[start:stop].tolist()
        log.predictions(ids, records[start:stop], chunk, [int(x >= 0.5) for x in chunk])
    log.close()


def parse_only(folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of pandas' C parser alone over the same files: the floor."""
    began, cpu = time.perf_counter(), time.process_time()
    for path in sorted(folder.glob("*.csv")):
        pd.read_csv(path, engine="c")
    return time.perf_counter() - began, time.process_time() - cpu


def monitor_once(folder: Path, reference: dict) -> tuple[float, dict]:
    """Wall seconds of a whole `monitor` window; CPU seconds too, as the
    machine may be shared (wall time then counts other processes' turns)."""
    began, cpu = time.perf_counter(), time.process_time()
    now = datetime.now(UTC)
    day = now - timedelta(days=1)
    window = read_window(str(folder), logged_dtypes(reference), VERSION, day, now)
    read, read_cpu = time.perf_counter() - began, time.process_time() - cpu
    cfg = {"metric": "roc_auc", "limits": LIMITS}
    result = report.finish({"rows": {"scored": len(window.inputs)},
                            **signals(reference, window, pd.Series(dtype=int), cfg)})  # fmt: skip
    seconds = {"read_seconds": round(read, 2), "read_cpu_seconds": round(read_cpu, 2),
               "cpu_seconds": round(time.process_time() - cpu, 2)}  # fmt: skip
    return time.perf_counter() - began, {**seconds, **result}


EVIDENTLY_SCRIPT = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference, current = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
began = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "snapshot": snapshot.dict()}, default=str))
"""


def evidently_python(cache: Path) -> Path:
    """A venv with Evidently and pandas < 3, made once with uv."""
    venv = cache / "evidently-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        uv = shutil.which("uv")
        if uv is None:
            sys.exit("--evidently needs uv on PATH (pip install uv)")
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(python), *EVIDENTLY], check=True
        )
    return python


def evidently_drifted(snapshot: dict) -> list[str]:
    """Columns whose ValueDrift metric passed its threshold (Evidently 0.7's snapshot)."""
    drifted = []
    for metric in snapshot["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            value, threshold = float(metric["value"]), float(config["threshold"])
            # p-value methods drift below the threshold, distances at or above it
            is_pvalue = config.get("method", "").endswith("p_value")
            if (value < threshold) if is_pvalue else (value >= threshold):
                drifted.append(config["column"])
    return sorted(drifted)


def side_by_side(cache: Path, reference: pd.DataFrame, current: pd.DataFrame, ours: dict) -> dict:
    python = evidently_python(cache)
    reference.to_csv(cache / "reference.csv", index=False)
    current.to_csv(cache / "current.csv", index=False)
    run = [
        str(python),
        "-c",
        EVIDENTLY_SCRIPT,
        str(cache / "reference.csv"),
        str(cache / "current.csv"),
    ]
    answer = json.loads(subprocess.run(run, check=True, capture_output=True, text=True).stdout)
    theirs = evidently_drifted(answer["snapshot"])
    began = time.perf_counter()
    drifted = drift.input_drift(ours, current, LIMITS)["drifted"]
    seconds = time.perf_counter() - began
    return {"rows": len(current), "evidently_seconds": round(answer["seconds"], 2),
            "monitor_seconds": round(seconds, 3), "ratio": round(answer["seconds"] / seconds, 1),
            "evidently_drifted": theirs, "monitor_drifted": sorted(drifted),
            "same_columns": theirs == sorted(drifted)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--evidently", action="store_true", help="run Evidently side by side")
    parser.add_argument("--evidently-rows", type=int, default=100_000)
    args = parser.parse_args()
    cache = find_root() / ".cache" / "bench-monitor"
    cache.mkdir(parents=True, exist_ok=True)
    evaluation, train = frame(2000, seed=1, shifted=False), frame(6000, seed=2, shifted=False)
    reference = build_reference(evaluation, train, probability(evaluation), 0.5, {"roc_auc": 0.9})
    logs = cache / f"logs-{args.rows}"
    if not logs.exists():
        began = time.perf_counter()
        write_logs(logs, frame(args.rows, seed=3, shifted=True))
        print(f"wrote {args.rows} rows in {time.perf_counter() - began:.1f}s (not measured)")
    seconds, result = monitor_once(logs, reference)
    size = sum(f.stat().st_size for f in logs.rglob("*")) / 1e6
    parse, parse_cpu = parse_only(logs)
    print(f"monitor: {result['rows']['scored']} rows x {len(FEATURES)} features ({size:.0f} MB) "
          f"in {seconds:.2f}s, {result['cpu_seconds']}s CPU (reading {result['read_seconds']}s, "
          f"{result['read_cpu_seconds']}s CPU); drifted {result['input_drift']['drifted']}; "
          f"pandas.read_csv alone {parse:.2f}s, {parse_cpu:.2f}s CPU; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    if args.evidently:
        current = frame(args.evidently_rows, seed=3, shifted=True)
        print(json.dumps(side_by_side(cache, evaluation, current, reference), indent=2))


if __name__ == "__main__":
    main()
