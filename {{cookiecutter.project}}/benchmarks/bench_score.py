"""How fast `score` scores a large file, in how much memory, beside predict_proba in memory.

Resamples the project's data (params.yaml `data.raw`) to ROWS records, with
an `id` column, into .cache/bench-score/ (reused: writing it is not what is
measured), then:

1. runs `score` on it as a command, in its own process: seconds, rows/s and
   peak RSS (the high-water mark of resident memory);
2. in another process, reads the same file whole and times `build_features`,
   `predict_proba` and `decide` on the frame in memory: rows/s of the model
   alone, and the peak RSS of holding the file in memory.

Run after `make repro` (the last trained model is scored):

    python benchmarks/bench_score.py                  # 1,000,000 rows
    python benchmarks/bench_score.py --rows 100000 --json
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from {{ cookiecutter.package }}.config import PACKAGE, Paths, find_root
from {{ cookiecutter.package }}.contract import read_table

WRITE_ROWS = 100_000
# Run in a child process so its peak RSS is its own, not this script's.
IN_MEMORY = """
import json, resource, sys, time
import joblib, pandas as pd
from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.decision import decide
from {{ cookiecutter.package }}.features import build_features
from {{ cookiecutter.package }}.files import read_json
from {{ cookiecutter.package }}.model_store import stored_model_file
from {{ cookiecutter.package }}.config import use_project_model_store
from pathlib import Path

root, source = Path(sys.argv[1]), sys.argv[2]
use_project_model_store(root)
lineage = read_json(root / "models" / "lineage.json")
model = joblib.load(stored_model_file(lineage["model"]["tag"]))
start = time.perf_counter()
frame = pd.read_csv(source, dtype={**load_contract().csv_dtypes(), "id": "str"})
read = time.perf_counter() - start
start = time.perf_counter()
matrix = model.predict_proba(build_features(frame))
decide(matrix, model.classes_, float(lineage["params"]["evaluate"]["threshold"]))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "read_seconds": read, "peak_rss_mb": peak}))
"""


def write_records(root: Path, rows: int) -> Path:
    """ROWS records drawn (with replacement) from the project's data, written in blocks."""
    path = root / ".cache" / "bench-score" / f"records-{rows}.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    data, rng = read_table(Paths(root).raw_data), np.random.default_rng(0)
    scratch = path.with_name(path.name + ".partial")
    with scratch.open("w", newline="") as handle:
        for start in range(0, rows, WRITE_ROWS):
            size = min(WRITE_ROWS, rows - start)
            block = data.iloc[rng.integers(0, len(data), size)].reset_index(drop=True)
            block.insert(0, "id", [f"r{n}" for n in range(start, start + size)])
            block.to_csv(handle, index=False, header=start == 0, lineterminator="\n")
    scratch.replace(path)
    return path


def run_score(root: Path, source: Path) -> dict[str, float]:
    """`score` as a user runs it; the peak RSS of this script's only child so far."""
    output = source.with_name("scores.csv")
    command = [sys.executable, "-m", PACKAGE, "score", str(source), "-o", str(output)]
    start = time.perf_counter()
    subprocess.run(command, cwd=root, check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": seconds, "peak_rss_mb": peak}


def run_in_memory(root: Path, source: Path) -> dict[str, float]:
    command = [sys.executable, "-c", IN_MEMORY, str(root), str(source)]
    result = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    root = find_root(Path.cwd())
    source = write_records(root, args.rows)
    score, memory = run_score(root, source), run_in_memory(root, source)
    figures = {
        "rows": args.rows,
        "file_mb": round(source.stat().st_size / 1e6, 1),
        "score_seconds": round(score["seconds"], 2),
        "score_rows_per_second": round(args.rows / score["seconds"]),
        "score_peak_rss_mb": round(score["peak_rss_mb"]),
        "in_memory_read_seconds": round(memory["read_seconds"], 2),
        "in_memory_seconds": round(memory["seconds"], 2),
        "in_memory_rows_per_second": round(args.rows / memory["seconds"]),
        "in_memory_peak_rss_mb": round(memory["peak_rss_mb"]),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for name, value in figures.items():
        print(f"{name:28} {value:>12,}")


if __name__ == "__main__":
    main()
