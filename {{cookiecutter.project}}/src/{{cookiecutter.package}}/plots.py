"""The evaluation curves: ROC, precision-recall, calibration and the confusion pairs.

The evaluate stage writes them as small JSON files (reports/plots/, in git like
the metrics) that dvc.yaml's `plots:` declares, so `dvc plots diff <base>` draws
base against candidate; the pull request comment draws the ROC and
precision-recall curves as Mermaid charts (release/pr_report.py). More than two
classes: the curves are micro-averaged over one-vs-rest.
"""

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve
from sklearn.preprocessing import label_binarize

PLOTS_DIR = Path("reports") / "plots"
# Enough points to draw a curve; bounded so a million rows give the same small file.
MAX_POINTS = 200
CALIBRATION_BINS = 10


def one_vs_rest(
    y_true: np.ndarray, matrix: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Binary: (truth, P(1)). Multiclass: every class against the rest, flattened."""
    if len(classes) == 2:
        return (np.asarray(y_true) == classes[1]).astype(int), matrix[:, 1]
    return label_binarize(y_true, classes=classes).ravel(), matrix.ravel()


def r(value: Any) -> float:
    return round(float(value), 6)


def thinned(rows: list[dict[str, float]]) -> list[dict[str, float]]:
    if len(rows) <= MAX_POINTS:
        return rows
    keep = np.unique(np.linspace(0, len(rows) - 1, MAX_POINTS).round().astype(int))
    return [rows[i] for i in keep]


def curves(y_true: Any, matrix: np.ndarray, classes: np.ndarray, prediction: Any) -> dict[str, Any]:
    """File name -> records, for reports/plots/."""
    truth, score = one_vs_rest(np.asarray(y_true), matrix, classes)
    fpr, tpr, _ = roc_curve(truth, score)
    precision, recall, _ = precision_recall_curve(truth, score)
    observed, predicted = calibration_curve(truth, score, n_bins=CALIBRATION_BINS)
    return {
        "roc.json": thinned([{"fpr": r(x), "tpr": r(y)} for x, y in zip(fpr, tpr, strict=True)]),
        "precision_recall.json": thinned(
            [{"recall": r(x), "precision": r(y)} for x, y in zip(recall, precision, strict=True)]
        ),
        "calibration.json": [
            {"mean_predicted": r(x), "fraction_positive": r(y)}
            for x, y in zip(predicted, observed, strict=True)
        ],
        "confusion.json": [
            {"actual": str(a), "predicted": str(b)}
            for a, b in zip(np.asarray(y_true), np.asarray(prediction), strict=True)
        ],
    }


def write_plots(root: Path, records: dict[str, Any]) -> None:
    from {{ cookiecutter.package }}.files import write_json

    for name, rows in records.items():
        write_json(rows, root / PLOTS_DIR / name)


def resampled(rows: list[dict[str, float]], x: str, y: str, grid: np.ndarray) -> list[float]:
    """y at each x of `grid` (linear between points): one Mermaid line per curve."""
    points = sorted((row[x], row[y]) for row in rows)
    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    return [round(float(v), 3) for v in np.interp(grid, xs, ys)]


# The curves the pull request comment draws: file, x, y, chart title.
CHARTED = [
    ("roc.json", "fpr", "tpr", "ROC: true positive rate by false positive rate"),
    ("precision_recall.json", "recall", "precision", "Precision by recall"),
]
GRID = np.linspace(0.0, 1.0, 11)


def mermaid_chart(title: str, x: str, y: str, lines: dict[str, list[float]]) -> str:
    """A Mermaid chart of curves: GitHub renders it in a comment, no image hosting.

    xychart-beta draws no legend, so the title says which line is which, in order.
    """
    from {{ cookiecutter.package }}.charts import xychart

    grid = [f"{v:.1f}" for v in GRID]
    return xychart(f"{title} ({' then '.join(lines)})", grid, lines, axes=(x, y))


def comment_charts(candidate: dict[str, Any], base: dict[str, Any]) -> str:
    """Base and candidate curves (file name -> records), one chart per charted curve."""
    charts = []
    for name, x, y, title in CHARTED:
        lines = {}
        if base.get(name):
            lines["base"] = resampled(base[name], x, y, GRID)
        if candidate.get(name):
            lines["candidate"] = resampled(candidate[name], x, y, GRID)
        if lines:
            charts.append(mermaid_chart(title, x, y, lines))
    return "\n\n".join(charts) or "_No curves: run `dvc repro` (reports/plots/)._"
