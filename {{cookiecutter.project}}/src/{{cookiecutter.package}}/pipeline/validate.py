"""Stage `validate`: the raw data must hold its contract before anything trains."""

import sys

from {{ cookiecutter.package }}.config import paths
from {{ cookiecutter.package }}.contract import check_table, load_contract, read_table
from {{ cookiecutter.package }}.files import write_json


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
    violations = run()
    if violations:
        print("ERROR: the raw data breaks its contract (src/.../contract.yaml):", file=sys.stderr)
        for line in violations:
            print(f"  - {line}", file=sys.stderr)
        sys.exit(1)
    print("validate: the raw data holds its contract")
