"""The feature definitions: the one place raw records become model inputs.

Training (featurize stage) and serving (service.py) both call
`build_features`; what is learned from the training rows (imputation of
missing values, scaling, the categories of each categorical column) lives in
`preprocessor`, which is fitted inside the model's pipeline, so the service
applies exactly what training learned. The two can only disagree if this file
changed after the model was trained, which the parity gate catches. Its hash
is in the lineage.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from {{ cookiecutter.package }}.contract import Feature, load_contract
from {{ cookiecutter.package }}.files import file_digest

# Derived numeric features: name -> how it is computed from the raw columns.
# These fit the bundled sample; with your own data, write yours or leave it
# empty (docs/own-data.md). A missing value in an input gives a missing
# value here, which the preprocessor imputes.
DERIVED_FEATURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "log_mean_area": lambda raw: np.log1p(raw["mean_area"]),
    "log_worst_area": lambda raw: np.log1p(raw["worst_area"]),
    "radius_growth": lambda raw: raw["worst_radius"] - raw["mean_radius"],
    "concavity_burden": lambda raw: raw["mean_concavity"] * raw["mean_concave_points"],
}
# A missing categorical value is a category of its own: "not given" can carry signal.
MISSING_CATEGORY = "__missing__"


class FeatureDefinitionError(ValueError):
    """A derived feature reads a column the contract does not declare."""


def raw_feature_names() -> list[str]:
    return load_contract().feature_names


def feature_names() -> list[str]:
    return raw_feature_names() + list(DERIVED_FEATURES)


def as_text(column: pd.Series) -> pd.Series:
    """Categorical values as text, a missing one as MISSING_CATEGORY."""
    return column.astype(object).where(column.notna(), MISSING_CATEGORY).astype(str)


def derived(base: pd.DataFrame) -> pd.DataFrame:
    columns = {}
    for name, compute in DERIVED_FEATURES.items():
        try:
            columns[name] = compute(base)
        except KeyError as error:
            raise FeatureDefinitionError(
                f"features.py DERIVED_FEATURES[{name!r}] reads column {error.args[0]!r}, which "
                "contract.yaml does not declare: rewrite or remove it (docs/own-data.md)"
            ) from None
    return pd.DataFrame(columns, index=base.index)


def build_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Model inputs, in a fixed column order, from raw records."""
    contract = load_contract()
    base = raw[raw_feature_names()].copy()
    for name in contract.names_of("numeric"):
        base[name] = pd.to_numeric(base[name]).astype("float64")
    for name in contract.names_of("categorical"):
        base[name] = as_text(base[name])
    return pd.concat([base, derived(base)], axis=1)[feature_names()]


def encoder(feature: Feature) -> OneHotEncoder:
    """One-hot, over the declared values (plus "missing"), or over those seen in training.

    A value outside a declared list never gets here (the contract refuses it);
    with `values: any`, a value training never saw is encoded as none of the known ones.
    """
    if feature.values is None:
        return OneHotEncoder(handle_unknown="ignore")
    categories = [[*feature.values, MISSING_CATEGORY]]
    return OneHotEncoder(categories=categories, handle_unknown="ignore")


def preprocessor() -> ColumnTransformer:
    """What is learned from training rows: medians to impute, scales, categories."""
    contract = load_contract()
    numeric = contract.names_of("numeric") + list(DERIVED_FEATURES)
    numeric_steps = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    transformers = [("numeric", numeric_steps, numeric)]
    for name in contract.names_of("categorical"):
        transformers.append((f"encode_{name}", encoder(contract.features[name]), [name]))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


def definition_hash() -> str:
    """sha256 of this module's source: changes whenever a definition does."""
    return "sha256:" + file_digest(Path(__file__))
