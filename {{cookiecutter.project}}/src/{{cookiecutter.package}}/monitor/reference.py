"""The reference profile: what "normal" looked like when the model was evaluated.

Written by the evaluate stage to models/reference.json, packed into the
bento and named (path and sha256) in the lineage, so the monitor compares a
window of traffic with it without ever reading the training data.
"""

from typing import Any

import numpy as np
import pandas as pd

# Deciles: enough resolution for PSI, and every bin holds rows of a small
# evaluation set. The KS test needs values, not bins: a bounded sample of them.
BINS = 10
KS_SAMPLE_ROWS = 2000
PROBABILITY_EDGES = [round(i / BINS, 1) for i in range(BINS + 1)]
REFERENCE_VERSION = 2
# A categorical column's bins are its values most common in training, and one
# for every other value (rarer ones, and those training never saw).
MAX_CATEGORIES = 30
OTHER = "(other)"
# The training values kept to tell a value training never saw; past this many
# distinct values (an id-like column) that share is not judged.
MAX_TRAIN_VALUES = 1000


def quantile_edges(values: pd.Series) -> list[float]:
    """Inner bin edges at the reference's quantiles, duplicates removed (ties)."""
    inner = np.quantile(values.dropna(), np.linspace(0, 1, BINS + 1)[1:-1])
    return sorted({float(edge) for edge in inner})


def proportions(values: np.ndarray, edges: list[float]) -> list[float]:
    """Share of `values` in each bin of `edges` (open-ended at both sides)."""
    values = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    shares: list[float] = (counts / max(len(values), 1)).round(6).tolist()
    return shares


def category_shares(values: pd.Series, categories: list[str]) -> list[float]:
    """Share of the present `values` equal to each category, then of all the others."""
    present = values.dropna().astype(str)
    counts = present.value_counts()
    known = [int(counts.get(category, 0)) for category in categories]
    shares = np.array([*known, len(present) - sum(known)]) / max(len(present), 1)
    rounded: list[float] = shares.round(6).tolist()
    return rounded


def unseen(values: pd.Series, train_values: list[str] | None) -> pd.Series:
    """Present values that training never saw (none, when training had too many to keep)."""
    if train_values is None:
        return pd.Series(False, index=values.index)
    return values.notna() & ~values.astype(str).isin(train_values)


def categorical_profile(evaluation: pd.Series, train: pd.Series) -> dict[str, Any]:
    seen = train.dropna().astype(str).value_counts()
    categories = sorted(seen.index[:MAX_CATEGORIES])
    train_values = sorted(seen.index) if len(seen) <= MAX_TRAIN_VALUES else None
    return {
        "kind": "categorical",
        "categories": categories,
        "proportions": category_shares(evaluation, categories),
        "missing": int(evaluation.isna().sum()),
        "present": int(evaluation.notna().sum()),
        "train_values": train_values,
        # The baseline, as for a numeric range: held-out rows hold values training lacked.
        "out_of_range": round(float(unseen(evaluation, train_values).mean()), 6),
    }


def numeric_profile(
    evaluation: pd.Series, train: pd.Series, sample_index: np.ndarray
) -> dict[str, Any]:
    edges = quantile_edges(evaluation)
    outside = (evaluation < train.min()) | (evaluation > train.max())
    return {
        "kind": "numeric",
        "edges": edges,
        "proportions": proportions(evaluation.to_numpy(float), edges),
        "missing": int(evaluation.isna().sum()),
        "train_min": float(train.min()),
        "train_max": float(train.max()),
        # Held-out rows fall outside the training range too: the baseline rate.
        "out_of_range": round(float(outside.mean()), 6),
        # Missing values are counted above; the KS test compares the values present
        # (and JSON has no NaN).
        "sample": evaluation.iloc[sample_index].dropna().to_numpy(float).tolist(),
    }


def build_reference(
    evaluation: pd.DataFrame,
    train: pd.DataFrame,
    probability: np.ndarray,
    threshold: float,
    metrics: dict[str, float],
    classes: int = 2,
) -> dict[str, Any]:
    """The profile of the evaluation rows (raw features), their predictions and metrics.

    `probability` is what the service answers: of the positive class (binary), of
    the answered class (`classes` of three or more).
    """
    rows = len(evaluation)
    rng = np.random.default_rng(0)  # the same rows for the same data: a reproducible file
    sample = np.sort(rng.permutation(rows)[:KS_SAMPLE_ROWS])
    features = {
        name: numeric_profile(column, train[name], sample)
        if pd.api.types.is_numeric_dtype(column)
        else categorical_profile(column, train[name])
        for name, column in evaluation.items()
    }
    return {
        "version": REFERENCE_VERSION,
        "rows": rows,
        "features": features,
        "prediction": {
            "edges": PROBABILITY_EDGES[1:-1],
            "proportions": proportions(np.asarray(probability, float), PROBABILITY_EDGES[1:-1]),
            "positive_rate": round(float(np.mean(probability >= threshold)), 6),
            "threshold": threshold,
            "classes": classes,
            "sample": np.asarray(probability, float)[sample].tolist(),
        },
        "metrics": metrics,
    }


def is_categorical(profile: dict[str, Any]) -> bool:
    return bool(profile.get("kind") == "categorical")


def logged_dtypes(reference: dict[str, Any]) -> dict[str, str]:
    """How to read each profiled feature from the log: categories as text, the rest as floats."""
    return {
        name: "str" if is_categorical(profile) else "float64"
        for name, profile in reference["features"].items()
    }
