"""The refreshed training snapshot: logged inputs joined by id to the labels that arrived.

`labeled_rows` is the one place the join happens; the retrain proposal calls
it with the logged inputs that `log_reader.logged_inputs` reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from {{ cookiecutter.package }}.contract import Contract

if TYPE_CHECKING:
    import pandas as pd

Mode = Literal["append", "replace"]


def read_labels(folder: Path, contract: Contract) -> pd.DataFrame:
    """Every `id,label[,time]` file under `folder`; a later file's label for an id wins."""
    import pandas as pd

    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no labels in {folder}: add some with `labels add FILE` first")
    frames = [pd.read_csv(path, dtype={"id": str}) for path in files]
    labels = pd.concat(frames, ignore_index=True)
    missing = {"id", "label"} - set(labels.columns)
    if missing:
        raise ValueError(f"labels in {folder} lack the column(s) {', '.join(sorted(missing))}")
    labels = labels.drop_duplicates("id", keep="last")[["id", "label"]]
    return labels.rename(columns={"label": contract.label})


def labeled_rows(inputs: pd.DataFrame, labels: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Rows of the training table's shape: the contract's features and its label, joined by id."""
    joined = inputs.merge(labels, on="id", how="inner", validate="one_to_one")
    columns = [*contract.feature_names, contract.label]
    absent = [column for column in columns if column not in joined.columns]
    if absent:
        raise ValueError(f"the logged inputs lack the contract's column(s) {', '.join(absent)}")
    table = joined[columns].copy()
    table[contract.label] = table[contract.label].astype("int64")
    return table


def typed_like(rows: pd.DataFrame, pinned: pd.DataFrame) -> pd.DataFrame:
    """The logs hold every number as a float: a column of whole numbers in the pinned
    data stays whole where every new value is one, so the rewritten file keeps `17`,
    not `17.0`, and a row the data holds compares equal to it."""
    import pandas as pd

    typed = rows.copy()
    for name, dtype in pinned.dtypes.items():
        if name in typed and pd.api.types.is_integer_dtype(dtype):
            column = typed[name]
            if not pd.api.types.is_numeric_dtype(column):
                continue  # text in the logs: the contract says what it is, not this guess
            if column.notna().all() and bool((column % 1 == 0).all()):
                typed[name] = column.astype(dtype)
    return typed


def rows_not_in(rows: pd.DataFrame, held: pd.DataFrame) -> pd.DataFrame:
    """The rows `held` has no equal of (missing values compare equal), in their order."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype
    # A column whole in one frame and fractional in the other is compared as floats.
    as_floats = {
        name: "float64"
        for name in rows.columns
        if rows[name].dtype != held[name].dtype and numeric(rows[name]) and numeric(held[name])
    }
    marked = rows.astype(as_floats).merge(
        held.drop_duplicates().astype(as_floats), how="left", indicator=True
    )
    return rows.loc[(marked["_merge"] == "left_only").to_numpy()]


def refreshed_snapshot(current: pd.DataFrame, labeled: pd.DataFrame, mode: Mode) -> pd.DataFrame:
    """append: the pinned rows as they are, then the labeled rows they do not hold yet.

    The pinned rows are never deduplicated: two examples may look alike, and
    dropping one would change the data behind the model without anyone asking.
    """
    import pandas as pd

    labeled = typed_like(labeled, current)
    if mode == "replace":
        return labeled.reset_index(drop=True)
    if mode != "append":
        raise ValueError(f"monitor.retrain.mode must be append or replace, not {mode!r}")
    return pd.concat([current, rows_not_in(labeled, current)], ignore_index=True)


def same_rows(snapshot: pd.DataFrame, current: pd.DataFrame) -> bool:
    """Whether the refreshed table holds exactly the pinned rows (so nothing to propose)."""
    return snapshot.reset_index(drop=True).equals(current.reset_index(drop=True))
