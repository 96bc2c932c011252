"""The data contract: one YAML file, two enforcers.

pandera checks whole tables (training data, the data gate); pydantic checks
each request the service receives. Both are built from `contract.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model

from {{ cookiecutter.package }}.config import PACKAGE_DIR

if TYPE_CHECKING:  # pandas and pandera load only where tables are checked,
    import pandas as pd  # so the service and `deploy` start fast.
    import pandera.pandas as pa

CONTRACT_FILE = PACKAGE_DIR / "contract.yaml"


class ContractError(ValueError):
    """The contract file itself is missing or malformed."""


@dataclass(frozen=True)
class Bounds:
    min: float
    max: float


@dataclass(frozen=True)
class Contract:
    label: str
    label_values: tuple[int, ...]
    min_rows: int
    max_rows: int
    label_share: Bounds
    features: dict[str, Bounds]

    @property
    def feature_names(self) -> list[str]:
        return list(self.features)


def _bounds(raw: Any, where: str) -> Bounds:
    try:
        low, high = float(raw["min"]), float(raw["max"])
    except (TypeError, KeyError, ValueError):
        raise ContractError(f"{where} needs numeric 'min' and 'max'") from None
    if not low <= high:
        raise ContractError(f"{where}: min {low} is above max {high}")
    return Bounds(low, high)


def parse_contract(text: str, source: str = "contract") -> Contract:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ContractError(f"{source} is not valid YAML: {error}") from None
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("features"), dict)
        or not raw["features"]
    ):
        raise ContractError(f"{source} needs a non-empty 'features' mapping")
    try:
        rows = raw["rows"]
        return Contract(
            label=str(raw["label"]),
            label_values=tuple(int(v) for v in raw["label_values"]),
            min_rows=int(rows["min"]),
            max_rows=int(rows["max"]),
            label_share=_bounds(raw["label_share"], f"{source}: label_share"),
            features={
                str(name): _bounds(spec, f"{source}: feature {name}")
                for name, spec in raw["features"].items()
            },
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ContractError(f"{source} is incomplete or malformed: {error!r}") from None


@cache
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    if not path.exists():
        raise ContractError(f"{path} is missing; restore it from git")
    return parse_contract(path.read_text(), str(path))


def _row_count_check(contract: Contract) -> pa.Check:
    import pandera.pandas as pa

    return pa.Check(
        lambda df: contract.min_rows <= len(df) <= contract.max_rows,
        error=f"row count must be within [{contract.min_rows}, {contract.max_rows}]",
    )


def _label_share_check(contract: Contract) -> pa.Check:
    import pandera.pandas as pa

    share = contract.label_share
    return pa.Check(
        lambda df: share.min <= df[contract.label].mean() <= share.max,
        error=f"share of positive {contract.label} must be within [{share.min}, {share.max}]",
    )


def table_schema(contract: Contract) -> pa.DataFrameSchema:
    """The pandera schema for a table of labelled records."""
    import pandera.pandas as pa

    columns = {
        name: pa.Column("float64", pa.Check.in_range(b.min, b.max), nullable=False)
        for name, b in contract.features.items()
    }
    columns[contract.label] = pa.Column(
        "int64", pa.Check.isin(list(contract.label_values)), nullable=False
    )
    checks = [_row_count_check(contract), _label_share_check(contract)]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=False)


def check_table(frame: pd.DataFrame, contract: Contract) -> list[str]:
    """Every way the table breaks the contract, as readable lines (empty: it holds)."""
    import pandera.pandas as pa

    try:
        table_schema(contract).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return summarise_failures(errors.failure_cases)
    return []


def summarise_failures(cases: pd.DataFrame) -> list[str]:
    """One line per column and check, with a count and an example value.

    A unit change upstream breaks every row of a column: that is one problem,
    not five hundred.
    """
    lines = []
    grouped = cases.fillna({"column": "table"}).groupby(["column", "check"], sort=True)
    for (column, check), rows in grouped:
        example = rows["failure_case"].iloc[0]
        example = example.item() if hasattr(example, "item") else example
        if column == "table" and isinstance(example, bool | int | float):
            lines.append(f"table: {check}")  # a whole-table check: no value to show
            continue
        count = f"{len(rows)} rows" if len(rows) > 1 else "1 row"
        lines.append(f"{column}: {check} ({count}, e.g. {example!r})")
    return lines


def record_model(contract: Contract) -> type[BaseModel]:
    """The pydantic model of one request record: the same names and ranges.

    Extra fields are refused and NaN/inf rejected, so nothing outside the
    contract reaches the model.
    """
    fields: dict[str, Any] = {
        name: (float, Field(ge=b.min, le=b.max)) for name, b in contract.features.items()
    }
    config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    return create_model("Record", __config__=config, **fields)
