"""The data contract: one YAML file, two enforcers.

pandera checks whole tables (training data, the data gate), here; pydantic
checks each request the service receives (serving/records.py). Both are
built from `contract.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from {{ cookiecutter.package }}.config import PACKAGE_DIR, ProjectFileError, yaml_problem

if TYPE_CHECKING:  # pandas and pandera load only where tables are checked,
    import pandas as pd  # so the service and `deploy` start fast.
    import pandera.pandas as pa

CONTRACT_FILE = PACKAGE_DIR / "contract.yaml"


class ContractError(ProjectFileError):
    """The contract file itself is missing or malformed."""


@dataclass(frozen=True)
class Bounds:
    min: float
    max: float


KINDS = ("numeric", "categorical")
# `values: any` on a categorical column: any string is accepted, and a value
# training never saw is encoded as none of the known ones (features.py).
ANY_VALUE = "any"


@dataclass(frozen=True)
class Feature:
    """One input column: a numeric range, or a categorical value list (None: any string)."""

    kind: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None

    @property
    def numeric(self) -> bool:
        return self.kind == "numeric"

    def example(self) -> float | str:
        """A value the contract accepts: the middle of the range, or the first listed value."""
        if self.numeric:
            return (float(self.min) + float(self.max)) / 2  # type: ignore[arg-type]
        return self.values[0] if self.values else "example"


@dataclass(frozen=True)
class Contract:
    label: str
    label_values: tuple[int, ...]
    min_rows: int
    max_rows: int
    label_share: Bounds
    features: dict[str, Feature]

    @property
    def binary(self) -> bool:
        return len(self.label_values) == 2

    @property
    def feature_names(self) -> list[str]:
        return list(self.features)

    def names_of(self, kind: str) -> list[str]:
        return [name for name, feature in self.features.items() if feature.kind == kind]

    def required_names_of(self, kind: str) -> list[str]:
        """The columns of `kind` that may not be missing."""
        return [name for name in self.names_of(kind) if not self.features[name].nullable]

    def example_record(self) -> dict[str, float | str]:
        return {name: feature.example() for name, feature in self.features.items()}

    def dtypes(self) -> dict[str, str]:
        """Each feature's pandas type: numbers as floats, categories as text."""
        return {name: "float64" if f.numeric else "str" for name, f in self.features.items()}

    def csv_dtypes(self) -> dict[str, str]:
        """Categorical columns are read as text, so a code like `01` stays `01`."""
        return {name: "str" for name in self.names_of("categorical")}


def _bounds(raw: Any, where: str) -> Bounds:
    try:
        low, high = float(raw["min"]), float(raw["max"])
    except (TypeError, KeyError, ValueError):
        raise ContractError(f"{where} needs numeric 'min' and 'max'") from None
    if not low <= high:
        raise ContractError(f"{where}: min {low} is above max {high}")
    return Bounds(low, high)


def _values(raw: Any, where: str) -> tuple[str, ...] | None:
    if raw == ANY_VALUE:
        return None
    if not isinstance(raw, list) or not raw or len(set(map(str, raw))) != len(raw):
        raise ContractError(
            f"{where}: 'values' must be a list of distinct values, or {ANY_VALUE!r} for any string"
        )
    return tuple(str(value) for value in raw)


def _feature(raw: Any, where: str) -> Feature:
    if not isinstance(raw, dict):
        raise ContractError(f"{where} must be a mapping of settings, such as min and max")
    kind, nullable = raw.get("type", "numeric"), raw.get("nullable", False)
    if kind not in KINDS:
        raise ContractError(f"{where}: type must be one of {', '.join(KINDS)}, not {kind!r}")
    if not isinstance(nullable, bool):
        raise ContractError(f"{where}: nullable must be true or false, not {nullable!r}")
    allowed = {"type", "nullable"} | ({"min", "max"} if kind == "numeric" else {"values"})
    if set(raw) - allowed:
        raise ContractError(
            f"{where}: unknown keys {sorted(set(raw) - allowed)} for a {kind} column"
        )
    if kind == "numeric":
        bounds = _bounds(raw, where)
        return Feature(kind, nullable, min=bounds.min, max=bounds.max)
    return Feature(kind, nullable, values=_values(raw.get("values"), where))


def _label_values(raw: Any, where: str) -> tuple[int, ...]:
    if not isinstance(raw, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in raw):
        raise ContractError(f"{where}: label_values must be a list of integers such as [0, 1]")
    if len(set(raw)) != len(raw) or len(raw) < 2:
        raise ContractError(f"{where}: label_values must list at least two distinct classes")
    if len(raw) == 2 and sorted(raw) != [0, 1]:
        # Binary: 1 is the positive class the threshold and the metrics refer to.
        raise ContractError(f"{where}: a binary label_values must be [0, 1], not {raw}")
    return tuple(sorted(raw))


def parse_contract(text: str, source: str = "contract") -> Contract:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ContractError(f"{source} is not valid YAML: {yaml_problem(error)}") from None
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("features"), dict)
        or not raw["features"]
    ):
        raise ContractError(f"{source} needs a non-empty 'features' mapping")
    if str(raw.get("label")) in map(str, raw["features"]):
        raise ContractError(f"{source}: the label {raw['label']!r} is also listed as a feature")
    try:
        rows = raw["rows"]
        return Contract(
            label=str(raw["label"]),
            label_values=_label_values(raw["label_values"], source),
            min_rows=int(rows["min"]),
            max_rows=int(rows["max"]),
            label_share=_bounds(raw["label_share"], f"{source}: label_share"),
            features={
                str(name): _feature(spec, f"{source}: feature {name}")
                for name, spec in raw["features"].items()
            },
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ContractError):
            raise
        raise ContractError(f"{source} is incomplete or malformed: {error!r}") from None


@cache
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    if not path.exists():
        raise ContractError(f"{path} is missing; restore it from git")
    return parse_contract(path.read_text(), str(path))


def read_table(path: Path) -> pd.DataFrame:
    """A table of records (raw or featurized), with categorical columns read as text."""
    from {{ cookiecutter.package }}.files import read_frame

    return read_frame(path, dtype=load_contract().csv_dtypes())


def rows_within(contract: Contract, rows: int) -> bool:
    return contract.min_rows <= rows <= contract.max_rows


def shares_within(contract: Contract, label_counts: pd.Series) -> bool:
    """Binary: the share of 1s; multiclass: every class present, each within bounds."""
    share, total = contract.label_share, label_counts.sum()
    if contract.binary:
        return bool(total) and share.min <= label_counts.get(1, 0) / total <= share.max
    shares = label_counts / total
    return bool(shares.between(share.min, share.max).all()) and (
        int((label_counts > 0).sum()) == len(contract.label_values)
    )


def row_count_error(contract: Contract) -> str:
    return f"row count must be within [{contract.min_rows}, {contract.max_rows}]"


def label_share_error(contract: Contract) -> str:
    share, label = contract.label_share, contract.label
    which = f"positive {label}" if contract.binary else f"every {label} class"
    return f"share of {which} must be within [{share.min}, {share.max}]"


def _table_checks(contract: Contract) -> list[pa.Check]:
    """The checks of the table as a whole; a streamed check (pipeline/validate.py)
    applies the same rules to its running counts."""
    import pandera.pandas as pa

    return [
        pa.Check(lambda df: rows_within(contract, len(df)), error=row_count_error(contract)),
        pa.Check(
            lambda df: shares_within(contract, df[contract.label].value_counts()),
            error=label_share_error(contract),
        ),
    ]


def _is_number(column: pd.Series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(column) and not is_bool_dtype(column)


def column_schema(feature: Feature) -> pa.Column:
    import pandera.pandas as pa

    if feature.numeric:
        # Integers or floats, not coerced: numbers that arrive as text are a broken export.
        is_number = pa.Check(_is_number, error="must be numbers (int or float)")
        in_range = pa.Check.in_range(feature.min, feature.max)
        return pa.Column(None, [is_number, in_range], nullable=feature.nullable)
    checks = [pa.Check.isin(list(feature.values))] if feature.values else []
    # No dtype to coerce to: coercing text would turn a missing value into "nan".
    # read_table already reads the column as text.
    return pa.Column(None, checks, nullable=feature.nullable)


def table_schema(contract: Contract, whole_table: bool = True) -> pa.DataFrameSchema:
    """The pandera schema for a table of labelled records (`whole_table=False`: its
    columns only, for a part of the table)."""
    import pandera.pandas as pa

    columns = {name: column_schema(feature) for name, feature in contract.features.items()}
    columns[contract.label] = pa.Column(
        "int64", pa.Check.isin(list(contract.label_values)), nullable=False
    )
    checks = _table_checks(contract) if whole_table else []
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=False)


def check_table(frame: pd.DataFrame, contract: Contract) -> list[str]:
    """Every way the table breaks the contract, as readable lines (empty: it holds)."""
    from {{ cookiecutter.package }}.contract_failures import failure_lines, tally_failures

    return failure_lines(tally_failures(frame, table_schema(contract)))
