"""The data contract gate: the evaluation data still meets the contract."""

import pandas as pd

from {{ cookiecutter.package }}.contract import check_table, load_contract, read_table
from {{ cookiecutter.package }}.gates.base import (
    KEPT_VIOLATIONS,
    SHOWN_PROBLEMS,
    GateInputs,
    GateResult,
    fail_closed,
)


def summarise(violations: list[str]) -> str:
    """The first problems (one per column and check, see contract_failures.failure_lines)."""
    summary = "; ".join(violations[:SHOWN_PROBLEMS])
    if len(violations) > SHOWN_PROBLEMS:
        summary += f"; and {len(violations) - SHOWN_PROBLEMS} more problems (reports/gate.json)"
    return summary


def label_share(frame: pd.DataFrame, label: str) -> float | None:
    if label not in frame or not pd.api.types.is_numeric_dtype(frame[label]):
        return None
    share = frame[label].mean()
    return round(float(share), 4) if pd.notna(share) else None


@fail_closed("data contract")
def data_contract(inputs: GateInputs) -> GateResult:
    """The raw data holds contract.yaml: columns, types, ranges, no nulls, rows, label share."""
    contract = load_contract()
    frame = read_table(inputs.paths.raw_data)
    violations = check_table(frame, contract)
    evidence = {
        "rows": len(frame),
        "row_bounds": [contract.min_rows, contract.max_rows],
        "label_share": label_share(frame, contract.label),
        "label_share_bounds": [contract.label_share.min, contract.label_share.max],
        "violation_count": len(violations),
        "violations": violations[:KEPT_VIOLATIONS],
    }
    if not violations:
        return GateResult("data contract", True, "data holds its contract", evidence)
    message = f"{summarise(violations)}. Fix the data, or contract.yaml if the data is right"
    return GateResult("data contract", False, message, evidence)
