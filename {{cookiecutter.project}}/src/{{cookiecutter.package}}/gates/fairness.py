"""The fairness gate (high risk): the metric gap between two groups stays small."""

from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.files import read_frame
from {{ cookiecutter.package }}.gates.base import (
    EPSILON,
    RERUN,
    GateInputs,
    GateResult,
    fail_closed,
    finite,
)


def group_metric(frame: pd.DataFrame, metric: str) -> float:
    from sklearn.metrics import precision_score, recall_score

    scorers = {"recall": recall_score, "precision": precision_score}
    if metric not in scorers:
        raise ValueError(f"gate.fairness.metric must be one of {sorted(scorers)}, not {metric!r}")
    average = "binary" if load_contract().binary else "macro"  # multiclass: every class counts
    return float(
        scorers[metric](frame["label"], frame["prediction"], average=average, zero_division=0)
    )


def fairness_groups(raw: pd.DataFrame, column: str, split_at: Any) -> np.ndarray:
    """Each row's group: the column's value, or which side of `split_at` it falls."""
    if column not in raw:
        raise ValueError(
            f"gate.fairness.group_column {column!r} is not a column of the evaluation rows; "
            "name a column of the raw data (docs/gates.md)"
        )
    if raw[column].isna().any():
        raise ValueError(f"{column} has missing values: every row needs a group")
    if split_at is None:
        return raw[column].astype(str).to_numpy()
    return np.where(raw[column] > split_at, f"{column} > {split_at}", f"{column} <= {split_at}")


def evaluation_frame(p: Paths, column: str, split_at: Any) -> pd.DataFrame:
    raw, offline = read_table(p.eval_raw), read_frame(p.predictions)
    truth = read_table(p.eval_features)[load_contract().label]
    if not len(raw) == len(offline) == len(truth):
        raise ValueError(
            f"evaluation files disagree: {len(raw)} raw rows, {len(offline)} predictions, "
            f"{len(truth)} labels; {RERUN}"
        )
    groups = fairness_groups(raw, column, split_at)
    return pd.DataFrame(
        {"group": groups, "label": truth.to_numpy(), "prediction": offline["prediction"].to_numpy()}
    )


def check_group_sizes(sizes: dict[str, int], minimum: int) -> None:
    if len(sizes) < 2:
        raise ValueError(f"every row is in one group {sizes}; nothing to compare: adjust split_at")
    small = {group: n for group, n in sizes.items() if n < minimum}
    if small:
        raise ValueError(
            f"groups too small to compare: {small} below min_group_size {minimum} "
            f"(all groups: {sizes}); adjust gate.fairness.split_at or evaluate on more rows"
        )


@fail_closed("fairness")
def fairness(inputs: GateInputs) -> GateResult:
    """The metric's gap between groups of a declared column stays under max_gap."""
    spec = inputs.params["fairness"]
    column, split_at = spec["group_column"], spec.get("split_at")
    frame = evaluation_frame(inputs.paths, column, split_at)
    sizes = {str(g): int(n) for g, n in frame["group"].value_counts().sort_index().items()}
    check_group_sizes(sizes, int(spec["min_group_size"]))
    by_group = {str(g): group_metric(part, spec["metric"]) for g, part in frame.groupby("group")}
    gap = max(by_group.values()) - min(by_group.values())
    max_gap = finite(spec.get("max_gap"), "gate.fairness.max_gap", "set it in params.yaml")
    passed = gap <= max_gap + EPSILON
    values = ", ".join(f"{g}: {v:.3f}" for g, v in by_group.items())
    message = f"{spec['metric']} gap {gap:.3f} {'<=' if passed else '>'} {max_gap} ({values})"
    evidence = {"group_column": column, "split_at": split_at, "metric": spec["metric"]}
    evidence |= {"by_group": by_group, "sizes": sizes, "gap": gap, "max_gap": max_gap}
    return GateResult("fairness", passed, message, evidence)
