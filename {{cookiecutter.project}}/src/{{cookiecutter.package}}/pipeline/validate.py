"""Stage `validate`: the raw data must hold its contract before anything trains.

The file is checked part by part (CHUNK_ROWS rows at a time): its columns on
each part, the row count and the label's shares on running counts, so memory
stays flat however large the data is. The verdict is check_table's on the
table held whole, and so are the lines, but where one part reads a column as
text (a word among numbers): that part's rows are counted under another check.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from {{ cookiecutter.package }}.config import RISK_TIERS, load_params, paths
from {{ cookiecutter.package }}.contract import (
    Contract,
    label_share_error,
    load_contract,
    row_count_error,
    rows_within,
    shares_within,
    table_schema,
)
from {{ cookiecutter.package }}.contract_failures import failure_lines, tally_failures
from {{ cookiecutter.package }}.files import read_frame_chunks, write_json

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa


def settings_problem(params: dict[str, Any], contract: Contract) -> str | None:
    """A setting of params.yaml that cannot work with this contract, before any data is read.

    The estimator and its arguments, the risk tier and the fairness group column
    are checked here so a typo stops the pipeline in seconds, not after training
    (evaluate records the tier in the lineage, which promotion carries to the manifest).
    """
    from {{ cookiecutter.package }}.pipeline.train import TrainSettingsError, make_estimator

    try:
        make_estimator(params.get("train") or {})
    except TrainSettingsError as error:
        return str(error)
    gate = params.get("gate") or {}
    if gate.get("risk_tier") not in RISK_TIERS:
        return (
            f"params.yaml gate.risk_tier must be one of {RISK_TIERS}, "
            f"got {gate.get('risk_tier')!r} (docs/gates.md)"
        )
    fairness = gate.get("fairness") or {}
    column = fairness.get("group_column")
    if column is not None and column not in contract.features:
        return (
            f"params.yaml gate.fairness.group_column {column!r} is not a column of contract.yaml; "
            "name one of its features (docs/gates.md)"
        )
    return None


# 100,000 rows of 30 numbers are about 25 MB as read: memory stays flat (a few
# hundred MB) for a file of any size, and a million rows take ten parts.
CHUNK_ROWS = 100_000


@dataclass
class Streamed:
    """What checking a table part by part has found so far."""

    rows: int = 0
    columns: int = 0
    label_counts: pd.Series | None = None
    tallies: list[pd.DataFrame] = field(default_factory=list)

    def add(self, chunk: pd.DataFrame, columns: pa.DataFrameSchema, contract: Contract) -> None:
        """One part: its columns checked against `columns`, its rows and labels counted."""
        self.rows += len(chunk)
        self.columns = len(chunk.columns)
        tally = tally_failures(chunk, columns)
        if tally is not None:
            self.tallies.append(tally)
        if contract.label in chunk.columns:
            counts = chunk[contract.label].value_counts()
            before = self.label_counts
            self.label_counts = counts if before is None else before.add(counts, fill_value=0)

    def violations(self, contract: Contract) -> list[str]:
        """The lines check_table gives the same table held whole."""
        import pandas as pd

        counts = self.label_counts if self.label_counts is not None else pd.Series(dtype=int)
        broken = [
            error
            for error, holds in (
                (row_count_error(contract), rows_within(contract, self.rows)),
                (label_share_error(contract), shares_within(contract, counts)),
            )
            if not holds
        ]
        # A whole-table check fails as one case with no value, as pandera reports it.
        table = pd.DataFrame(
            {"column": "table", "check": broken, "cases": 1, "example": False, "per_row": False}
        )
        tallies = [*self.tallies, table] if broken else self.tallies
        return failure_lines(pd.concat(tallies) if tallies else None)


def check_file(path: Path, contract: Contract, chunk_rows: int = CHUNK_ROWS) -> Streamed:
    """Check the table at `path` part by part, never holding it whole."""
    streamed, columns = Streamed(), table_schema(contract, whole_table=False)
    for chunk in read_frame_chunks(path, list(contract.csv_dtypes()), chunk_rows):
        streamed.add(chunk, columns, contract)
    return streamed


def run() -> list[str]:
    p = paths()
    contract = load_contract()
    if not p.raw_data.exists():
        raise FileNotFoundError(f"{p.raw_data} is missing: run `dvc pull` (or `make setup`)")
    streamed = check_file(p.raw_data, contract)
    violations = streamed.violations(contract)
    write_json(
        {
            "data": str(p.raw_data.relative_to(p.root)),
            "rows": streamed.rows,
            "columns": streamed.columns,
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
