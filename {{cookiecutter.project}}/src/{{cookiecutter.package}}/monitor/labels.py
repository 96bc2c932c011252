"""Late labels: `id,label[,time]` rows, checked, stored, joined to predictions by id.

Each accepted file is stored once under monitoring/labels/, named by the
time it was added and its content hash: the folder only grows, so DVC versions it (`dvc add`)
and a re-run of the same file changes nothing. Where ids repeat, the label
added last wins.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package }}.contract import Contract
from {{ cookiecutter.package }}.files import is_parquet

COLUMNS = ["id", "label"]
OPTIONAL = ["time"]


class LabelError(ValueError):
    """The labels file cannot be used; nothing was stored."""


@dataclass(frozen=True)
class Added:
    stored: Path | None
    rows: int
    unknown: int
    duplicated: int


def read_parquet_as_text(path: Path) -> pd.DataFrame:
    """Every value as text, as the CSV reader gives it; whole-number floats as integers
    (a label column with a gap is stored as floats)."""
    import pyarrow as pa

    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise LabelError(f"{path} is not a readable Parquet file: {error}") from None
    for name, column in frame.items():
        if pd.api.types.is_float_dtype(column) and (column.dropna() % 1 == 0).all():
            frame[name] = column.astype("Int64")
    return frame.astype(object).where(frame.notna(), "").astype(str)


def read_label_file(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise LabelError(f"{path} does not exist")
    if is_parquet(path):
        frame = read_parquet_as_text(path)
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise LabelError(f"{path} is not a readable CSV: {error}") from None
    missing = [name for name in COLUMNS if name not in frame.columns]
    extra = sorted(set(frame.columns) - set(COLUMNS + OPTIONAL))
    if missing or extra:
        raise LabelError(
            f"{path}: columns must be id,label[,time]; missing {missing}, unexpected {extra}"
        )
    return frame


def checked(frame: pd.DataFrame, contract: Contract, source: Path) -> pd.DataFrame:
    """The rows with integer labels; the first bad row is named by its line in the file."""
    allowed = {str(value): value for value in contract.label_values}
    for offset, row in enumerate(frame.itertuples(index=False)):
        # line 1 of a CSV file is its header
        line = f"row {offset + 1}" if is_parquet(source) else f"line {offset + 2}"
        if not str(row.id).strip():
            raise LabelError(f"{source}, {line}: empty id")
        if str(row.label).strip() not in allowed:
            raise LabelError(
                f"{source}, {line}: label {row.label!r} is not one of "
                f"{', '.join(allowed)} ({contract.label})"
            )
        when = pd.to_datetime(str(row.time), utc=True, errors="coerce") if "time" in frame else 0
        if pd.isna(when):
            raise LabelError(f"{source}, {line}: time {row.time!r} is not a date and time")
    result = frame.assign(label=frame["label"].str.strip().map(allowed).astype(int))
    return result.assign(id=result["id"].str.strip())


def store(frame: pd.DataFrame, folder: Path) -> Path:
    """Write the rows as labels-<UTC time>-<hash>.csv: names sort in the order added,
    also after a checkout resets file times; the same rows twice are stored once."""
    text = frame.to_csv(index=False, lineterminator="\n")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    for existing in folder.glob(f"labels-*-{digest}.csv"):
        return existing
    target = folder / f"labels-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{digest}.csv"
    scratch = target.with_suffix(".tmp")
    scratch.write_text(text)
    scratch.replace(target)
    return target


def add_labels(path: Path, contract: Contract, folder: Path, known_ids: set[str]) -> Added:
    """Check every row, then store the file; unknown ids are kept (their prediction
    may sit in logs not read here) but counted."""
    frame = checked(read_label_file(path), contract, path)
    duplicated = int(frame["id"].duplicated(keep="last").sum())
    frame = frame.drop_duplicates("id", keep="last")
    unknown = int((~frame["id"].isin(known_ids)).sum())
    stored = store(frame, folder) if len(frame) else None
    return Added(stored, len(frame), unknown, duplicated)


def load_labels(folder: Path) -> pd.Series:
    """Every stored label by id; the file written last wins for an id seen twice."""
    files = sorted(folder.glob("labels-*.csv"))
    if not files:
        return pd.Series(dtype=int)
    frames = [pd.read_csv(f, dtype={"id": str, "label": int}) for f in files]
    table = pd.concat(frames, ignore_index=True).drop_duplicates("id", keep="last")
    return table.set_index("id")["label"]
