"""How the pipeline grows with the data: `dvc repro` from scratch at several sizes.

For each size, a scratch clone of this repository (committed files only, in
the system's temporary folder, removed afterwards) gets the project's data (params.yaml `data.raw`)
resampled to that many rows, pins it (`dvc add`), and runs each stage on its
own (`dvc repro --single-item <stage>`, in order), timing it and taking the
peak RSS (the high-water mark of resident memory) of its process tree. Beside
`validate`, which reads the data part by part, the same check on the table
held whole is measured as its baseline. The clone has its own BentoML store,
so the project's own is left alone.

Run after `make repro` (the code and settings of the last commit are what runs):

    python benchmarks/bench_repro.py                             # 10,000 100,000 1,000,000 rows
    python benchmarks/bench_repro.py --rows 10000 100000 --json
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from {{ cookiecutter.package }}.config import PACKAGE, Paths, find_root
from {{ cookiecutter.package }}.contract import read_table

STAGES = ["validate", "featurize", "train", "evaluate", "gate"]
# The baseline beside `validate`, which reads the data part by part: the same
# check on the table held whole, as the stage did before.
VALIDATE_WHOLE = f"""
from pathlib import Path
from {PACKAGE}.config import Paths
from {PACKAGE}.contract import check_table, load_contract, read_table
check_table(read_table(Paths(Path.cwd()).raw_data), load_contract())
"""
WRITE_ROWS = 100_000
# Runs one command and reports its tree's peak RSS: resource usage of a
# process's children is only readable by their parent.
MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:] if done.returncode else "")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, done.returncode)
"""


def scratch_clone(root: Path, rows: int) -> Path:
    """A clone in the system's temporary folder: BentoML refuses to build a bento
    whose path holds a hidden folder, such as .cache/."""
    clone = Path(tempfile.mkdtemp(prefix=f"bench-repro-{rows}-")) / root.name
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    return clone


def write_resampled(source: Path, target: Path, rows: int) -> None:
    """`rows` records drawn with replacement from `source`, written in blocks."""
    data, rng = read_table(source), np.random.default_rng(0)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as handle:
        for start in range(0, rows, WRITE_ROWS):
            size = min(WRITE_ROWS, rows - start)
            block = data.iloc[rng.integers(0, len(data), size)]
            block.to_csv(handle, index=False, header=start == 0, lineterminator="\n")


def allow_rows(clone: Path, package: str, rows: int) -> None:
    """The contract's row bounds, widened to this size if need be."""
    path = clone / "src" / package / "contract.yaml"
    contract = yaml.safe_load(path.read_text())
    contract["rows"]["max"] = max(int(contract["rows"]["max"]), rows)
    path.write_text(yaml.safe_dump(contract, sort_keys=False))


def measured(command: list[str], clone: Path, env: dict[str, str]) -> dict[str, float]:
    """Wall seconds and the peak RSS (MB) of the command's process tree."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *command], cwd=clone, env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    peak, returncode = done.stdout.split()
    if returncode != "0":
        sys.exit(f"{' '.join(command)} failed in {clone}:\n{done.stderr}")
    return {"seconds": round(seconds, 2), "peak_mb": round(float(peak))}


def run_size(root: Path, rows: int) -> dict[str, Any]:
    clone = scratch_clone(root, rows)
    env = {
        **os.environ,
        "BENTOML_HOME": str(clone / ".bentoml"),
        "PYTHONPATH": str(clone / "src"),
        # The stages run `python`: this one, whatever the caller's PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    raw = Paths(clone).raw_data
    write_resampled(Paths(root).raw_data, raw, rows)
    allow_rows(clone, PACKAGE, rows)
    dvc = [sys.executable, "-m", "dvc"]
    figures: dict[str, Any] = {"rows": rows, "raw_mb": round(raw.stat().st_size / 1e6, 1)}
    figures["pin"] = measured([*dvc, "add", "--quiet", str(raw.relative_to(clone))], clone, env)
    figures["validate whole"] = measured([sys.executable, "-c", VALIDATE_WHOLE], clone, env)
    for stage in STAGES:
        figures[stage] = measured([*dvc, "repro", "--single-item", stage], clone, env)
    shutil.rmtree(clone.parent, ignore_errors=True)
    return figures


def table(results: list[dict[str, Any]]) -> str:
    steps = ["pin", *STAGES]
    header = " | ".join(steps)
    lines = [f"| rows | raw MB | {header} | total s | peak MB | baseline: validate whole |"]
    lines.append("|" + "---|" * (len(steps) + 5))
    for result in results:
        cells = [result[step] for step in steps]
        shown = " | ".join(f"{c['seconds']:.1f} s, {c['peak_mb']} MB" for c in cells)
        total = sum(c["seconds"] for c in cells)
        peak = max(c["peak_mb"] for c in cells)
        whole = result["validate whole"]
        size = f"{result['rows']:,} | {result['raw_mb']}"
        baseline = f"{whole['seconds']:.1f} s, {whole['peak_mb']} MB"
        lines.append(f"| {size} | {shown} | {total:.1f} | {peak} | {baseline} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    root = find_root(Path.cwd())
    results = [run_size(root, rows) for rows in args.rows]
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
