"""Drift of inputs and predictions: PSI against the reference's bins, and a test.

PSI (population stability index) measures how far a distribution moved,
whatever the number of rows; a two-sample test says whether the move is more
than chance: KS for a numeric column, chi-square over the category counts for
a categorical one. A feature drifts when both agree: with a million rows the
test alone flags shifts too small to matter, and with fifty PSI alone flags
noise.
"""

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp

from {{ cookiecutter.package }}.monitor.reference import (
    OTHER,
    category_shares,
    is_categorical,
    proportions,
)

# An empty bin would make PSI infinite: count it as this share instead.
EMPTY_BIN = 1e-4


def psi(reference: list[float], current: list[float]) -> float:
    expected = np.clip(np.asarray(reference, float), EMPTY_BIN, None)
    actual = np.clip(np.asarray(current, float), EMPTY_BIN, None)
    return round(float(np.sum((actual - expected) * np.log(actual / expected))), 6)


# The KS test compares the reference's sample (at most a few thousand values)
# with at most this many of the window's, drawn with a fixed seed: sorting a
# million values per feature is most of a big window's cost, and past the
# reference sample's size more current values barely change the p-value.
KS_MAX_CURRENT = 20_000


def ks_pvalue(reference_sample: list[float], current: np.ndarray) -> float:
    current = current[~np.isnan(current)]
    if not len(current) or not reference_sample:
        return 1.0
    if len(current) > KS_MAX_CURRENT:
        current = np.random.default_rng(0).choice(current, KS_MAX_CURRENT, replace=False)
    # asymptotic: the exact method is quadratic in the rows of a window
    return round(float(ks_2samp(reference_sample, current, method="asymp").pvalue), 8)


def chi2_pvalue(
    reference: list[float], reference_rows: int, current: list[float], current_rows: int
) -> float:
    """Chi-square test of homogeneity of the two samples' category counts."""
    counts = np.array([reference, current]) * [[reference_rows], [current_rows]]
    counts = counts[:, counts.sum(axis=0) > 0]  # a category neither sample holds says nothing
    if counts.shape[1] < 2 or not reference_rows or not current_rows:
        return 1.0
    return round(float(chi2_contingency(counts.round()).pvalue), 8)


def numeric_drift(
    profile: dict[str, Any], values: pd.Series, limits: dict[str, float]
) -> dict[str, Any]:
    numbers = values.to_numpy(float)
    current = proportions(numbers, profile["edges"])
    index = psi(profile["proportions"], current)
    pvalue = ks_pvalue(profile["sample"], numbers)
    return {
        "psi": index,
        "ks_pvalue": pvalue,
        "drifted": index >= limits["psi"] and pvalue < limits["ks_pvalue"],
        "edges": profile["edges"],
        "reference": profile["proportions"],
        "current": current,
    }


def categorical_drift(
    profile: dict[str, Any], values: pd.Series, limits: dict[str, float]
) -> dict[str, Any]:
    current = category_shares(values, profile["categories"])
    index = psi(profile["proportions"], current)
    present = int(values.notna().sum())
    pvalue = chi2_pvalue(profile["proportions"], profile["present"], current, present)
    significance = limits.get("chi2_pvalue", limits["ks_pvalue"])  # params.yaml of before
    return {
        "psi": index,
        "chi2_pvalue": pvalue,
        "drifted": index >= limits["psi"] and pvalue < significance,
        "categories": [*profile["categories"], OTHER],
        "reference": profile["proportions"],
        "current": current,
    }


def feature_drift(
    profile: dict[str, Any], values: pd.Series, limits: dict[str, float]
) -> dict[str, Any]:
    judge = categorical_drift if is_categorical(profile) else numeric_drift
    return judge(profile, values, limits)


def input_drift(
    reference: dict[str, Any], inputs: pd.DataFrame, limits: dict[str, float]
) -> dict[str, Any]:
    features = {
        name: feature_drift(profile, inputs[name], limits)
        for name, profile in reference["features"].items()
    }
    drifted = [name for name, result in features.items() if result["drifted"]]
    return {"breached": bool(drifted), "drifted": drifted, "features": features}


def prediction_drift(
    reference: dict[str, Any], probability: np.ndarray, limits: dict[str, float]
) -> dict[str, Any]:
    expected = reference["prediction"]
    current = proportions(probability, expected["edges"])
    index = psi(expected["proportions"], current)
    if not len(probability):  # no traffic: no rate to compare
        rate, shift = None, None
    else:
        rate = round(float(np.mean(probability >= expected["threshold"])), 6)
        shift = round(rate - expected["positive_rate"], 6)
    moved = shift is not None and abs(shift) >= limits["positive_rate_shift"]
    breached = index >= limits["prediction_psi"] or moved
    return {
        "breached": bool(breached),
        "psi": index,
        "positive_rate": {"reference": expected["positive_rate"], "current": rate, "shift": shift},
        "edges": expected["edges"],
        "reference": expected["proportions"],
        "current": current,
    }
