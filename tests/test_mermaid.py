"""The charts the generated project writes parse with Mermaid's own parser.

GitHub draws a ```mermaid block, or shows it as broken text when Mermaid
cannot read it; nothing warns the author. The pull request comment's curves
(plots.py) and the monitor report's charts (monitor/report.py) are generated
here by the project's own code, from values chosen to be awkward (tiny
shares, labels with quotes, commas and accents), and checked by Mermaid 11
under Node (tests/mermaid/validate.mjs; `make test` installs it).
"""

import re
import subprocess
from pathlib import Path

import pytest
from conftest import TEMPLATE, bake, run

VALIDATOR = TEMPLATE / "tests" / "mermaid" / "validate.mjs"
BLOCK = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)

# Run in the project's environment: the comment's curves for a base and a candidate,
# and the report of a window where a numeric and a categorical feature drifted.
CHARTS = """
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from {package} import plots
from {package}.monitor import report
from {package}.monitor.log_reader import Window
from {package}.monitor.reference import build_reference
from {package}.monitor.run import signals

rng = np.random.default_rng(0)
COLOURS = ["red", "blue, dark", '12" screen', "café"]


def frame(rows, shifted):
    shares = [0.1, 0.3, 0.3, 0.3] if shifted else [0.5, 0.3, 0.15, 0.05]
    return pd.DataFrame({{
        "width": rng.normal(10 + 3 * shifted, 1e-4, rows),  # bin edges with many digits
        "tiny": rng.random(rows) * 1e-6 + shifted * 1e-6,  # edges like 1e-07
        "colour": pd.Series(rng.choice(COLOURS, rows, p=shares), dtype="str"),
    }})


truth = rng.integers(0, 2, 400)
matrix = np.column_stack([1 - (p := rng.random(400)), p])
candidate = plots.curves(truth, matrix, np.array([0, 1]), (p > 0.5).astype(int))
base = plots.curves(truth, np.fliplr(matrix), np.array([0, 1]), (p <= 0.5).astype(int))
pages = [plots.comment_charts(candidate, base)]

reference = build_reference(frame(2000, 0), frame(2000, 0), rng.random(2000), 0.5, {{"roc_auc": 0.9}})
limits = yaml.safe_load(Path("params.yaml").read_text())["monitor"]["thresholds"]["low"]
history = []
for day, shifted in enumerate([0, 1, 1]):
    rows = frame(3000, shifted)
    ids = [f"{{day}}-{{i}}" for i in range(len(rows))]
    window = Window(rows, ids, rng.random(len(rows)), rng.integers(0, 2, len(rows)))
    labels = pd.Series(rng.integers(0, 2, len(rows)), index=ids)
    found = signals(reference, window, labels, {{"metric": "roc_auc", "limits": limits}})
    history.append(report.finish({{
        "environment": "production", "thresholds": limits,
        "window": {{"start": "a", "end": "b", "length": "1d", "name": f"2026113{{day}}T000000Z"}},
        "model": {{"lineage_id": "l", "model_tag": "m:1", "bento_tag": "b:1", "risk_tier": "low"}},
        "rows": {{"scored": len(rows), "refused": 0, "corrupt_lines": 0, "other_versions": {{}},
                 "files": 1}},
        **found,
    }}))
pages.append(report.markdown(history[-1], history))
print(history[-1]["input_drift"]["drifted"], file=sys.stderr)
sys.stdout.write("\\n".join(pages))
"""


def validate(files: list[Path]) -> subprocess.CompletedProcess:
    if not (VALIDATOR.parent / "node_modules" / ".installed").exists():
        pytest.fail("Mermaid is not installed: run `make tests/mermaid/node_modules/.installed`")
    command = ["node", str(VALIDATOR), *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def written(folder: Path, blocks: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"chart-{n}.mmd" for n in range(len(blocks))]
    for path, block in zip(files, blocks, strict=True):
        path.write_text(block)
    return files


def test_the_validator_refuses_what_mermaid_cannot_read(tmp_path: Path):
    """Guards the check itself: each of these breaks a chart on GitHub."""
    broken = [
        'xychart-beta\n    x-axis ["a", "b"]\n    line [1, 1e-05]\n',  # an exponent
        'xychart-beta\n    x-axis ["a", "b"]\n    line [1, nan]\n',
        'xychart-beta\n    title "12" screen"\n    line [1, 2]\n',  # a quote in a quote
        'xychart-beta\n    x-axis ["a\\" b"]\n    line [1]\n',  # JSON's escape for it
    ]
    result = validate(written(tmp_path, broken))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count(": FAIL ") == len(broken), result.stdout


def test_the_comment_and_monitor_charts_parse(tmp_path: Path, project_venv: Path):
    project = bake(tmp_path / "bake")
    script = tmp_path / "charts.py"
    package = project.name.replace("-", "_")
    script.write_text(CHARTS.format(package=package))
    env = {"PYTHONPATH": str(project / "src")}
    result = run([str(project_venv / "bin" / "python"), str(script)], project, env)
    assert "'width'" in result.stderr and "'colour'" in result.stderr, result.stderr  # drifted
    blocks = BLOCK.findall(result.stdout)
    # Two curves in the comment; a drifted numeric and categorical feature and the
    # metric over time in the report.
    assert len(blocks) >= 5, result.stdout
    checked = validate(written(tmp_path / "charts", blocks))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": PASS xychart") == len(blocks)
