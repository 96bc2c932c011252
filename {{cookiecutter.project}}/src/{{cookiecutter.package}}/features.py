"""The feature definitions: the one place raw records become model inputs.

Training (featurize stage) and serving (service.py) both call
`build_features`, so the two can only disagree if this file changed after the
model was trained, which the parity gate catches. Its hash is in the lineage.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.files import file_digest

# Derived features: name -> how it is computed from the raw columns.
DERIVED_FEATURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "log_mean_area": lambda raw: np.log1p(raw["mean_area"]),
    "log_worst_area": lambda raw: np.log1p(raw["worst_area"]),
    "radius_growth": lambda raw: raw["worst_radius"] - raw["mean_radius"],
    "concavity_burden": lambda raw: raw["mean_concavity"] * raw["mean_concave_points"],
}


def raw_feature_names() -> list[str]:
    return load_contract().feature_names


def feature_names() -> list[str]:
    return raw_feature_names() + list(DERIVED_FEATURES)


def build_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Model inputs, in a fixed column order, from raw records."""
    base = raw[raw_feature_names()].astype("float64")
    derived = pd.DataFrame(
        {name: compute(base) for name, compute in DERIVED_FEATURES.items()}, index=base.index
    )
    return pd.concat([base, derived], axis=1)[feature_names()]


def definition_hash() -> str:
    """sha256 of this module's source: changes whenever a definition does."""
    return "sha256:" + file_digest(Path(__file__))
