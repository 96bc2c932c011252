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


def refreshed_snapshot(current: pd.DataFrame, labeled: pd.DataFrame, mode: Mode) -> pd.DataFrame:
    """append: the pinned rows, then the new ones (a row already there is not added twice)."""
    import pandas as pd

    if mode == "replace":
        return labeled.reset_index(drop=True)
    if mode != "append":
        raise ValueError(f"monitor.retrain.mode must be append or replace, not {mode!r}")
    both = pd.concat([current, labeled], ignore_index=True)
    return both.drop_duplicates(ignore_index=True)
