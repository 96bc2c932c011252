"""Stage `validate`: the raw data must hold its contract before anything trains."""

import sys
from typing import Any

from {{ cookiecutter.package }}.config import load_params, paths
from {{ cookiecutter.package }}.contract import Contract, check_table, load_contract, read_table
from {{ cookiecutter.package }}.files import write_json


def settings_problem(params: dict[str, Any], contract: Contract) -> str | None:
    """A setting of params.yaml that cannot work with this contract, before any data is read.

    The estimator and its arguments, and the fairness group column, are checked
    here so a typo stops the pipeline in seconds, not after featurizing.
    """
    from {{ cookiecutter.package }}.pipeline.train import TrainSettingsError, make_estimator

    try:
        make_estimator(params.get("train") or {})
    except TrainSettingsError as error:
        return str(error)
    fairness = (params.get("gate") or {}).get("fairness") or {}
    column = fairness.get("group_column")
    if column is not None and column not in contract.features:
        return (
            f"params.yaml gate.fairness.group_column {column!r} is not a column of contract.yaml; "
            "name one of its features (docs/gates.md)"
        )
    return None


def run() -> list[str]:
    p = paths()
    contract = load_contract()
    frame = read_table(p.raw_data)
    violations = check_table(frame, contract)
    write_json(
        {
            "data": str(p.raw_data.relative_to(p.root)),
            "rows": len(frame),
            "columns": len(frame.columns),
            "passed": not violations,
            "violations": violations,
        },
        p.validation_report,
    )
    return violations


def main() -> None:
    problem = settings_problem(load_params(), load_contract())
    if problem:
        sys.exit(f"ERROR: {problem}")
    violations = run()
    if violations:
        print("ERROR: the raw data breaks its contract (src/.../contract.yaml):", file=sys.stderr)
        for line in violations:
            print(f"  - {line}", file=sys.stderr)
        sys.exit(1)
    print("validate: the raw data holds its contract")
