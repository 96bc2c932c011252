"""How a table breaks the contract, as lines a person reads: one per column and check.

The cases pandera finds are tallied per part of a table (the whole table, or
each chunk `validate` reads), so a file larger than memory gets the same
lines as a table read whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa


def tally_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame | None:
    """One row per column and check the frame breaks: how many cases, the first value,
    and whether they are rows (a missing column or a dtype is one case per part read)."""
    import pandera.pandas as pa

    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.fillna({"column": "table"})
        tally = cases.assign(per_row=cases["index"].notna()).groupby(["column", "check"])
        tallied: pd.DataFrame = tally.agg(
            cases=("failure_case", "size"),
            example=("failure_case", lambda values: values.iloc[0]),
            per_row=("per_row", "any"),
        ).reset_index()
        return tallied
    return None


def failure_lines(tallies: pd.DataFrame | None) -> list[str]:
    """One line per column and check, with a count and an example value.

    A unit change upstream breaks every row of a column: that is one problem,
    not five hundred. Tallies of several parts of a table add up their rows.
    """
    if tallies is None:
        return []
    lines = []
    for (column, check), rows in tallies.groupby(["column", "check"], sort=True):
        example = rows["example"].iloc[0]
        example = example.item() if hasattr(example, "item") else example
        if column == "table" and isinstance(example, bool | int | float):
            lines.append(f"table: {check}")  # a whole-table check: no value to show
            continue
        cases = int(rows["cases"].sum() if rows["per_row"].any() else rows["cases"].max())
        count = f"{cases} rows" if cases > 1 else "1 row"
        lines.append(f"{column}: {check} ({count}, e.g. {example!r})")
    return lines
