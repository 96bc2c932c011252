"""Rows of one time window of the prediction log, from a folder or an S3 prefix.

A file holds one hour of one process serving one model version (see
log_writer.py), so a window opens only the files of its hours, and reads the
features only from files of the version it judges. Each file is parsed by
pandas' C engine with fixed dtypes; damage costs a slower pass over that file
only. A corrupt, truncated or unreadable line is counted and skipped: the
count is the file's lines minus the rows that parsed into valid values.
"""

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.monitor.log_writer import (
    FILE_PREFIX,
    HOUR_FORMAT,
    SUFFIX,
    name_parts,
    safe_version,
)

LOG_PATTERN = f"{FILE_PREFIX}-*{SUFFIX}"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
STATUSES = ("ok", "refused")
# Every file has these, whatever its model's contract. A few distinct values
# each (the rows of a request share their time): categories are parsed and
# compared once per value, not once per row.
COMMON = {"id": "str", "time": "category", "lineage_id": "category", "status": "category",
          "reason": "category"}  # fmt: skip
SCORED_FILE_EXTRA = {"environment": "category"}
# Every hour a log file can be named for: ids and retrain rows are wanted whatever their time.
ALL_TIME = (datetime(1970, 1, 1), datetime(9999, 1, 1) - timedelta(hours=1))


@dataclass
class Window:
    """What a window of the log held for one model version."""

    inputs: pd.DataFrame
    ids: list[str]
    probability: np.ndarray
    label: np.ndarray
    refused: Counter[str] = field(default_factory=Counter)
    other_versions: Counter[str] = field(default_factory=Counter)
    corrupt_lines: int = 0
    files: int = 0


def utc(moment: datetime) -> datetime:
    """A moment in UTC, the log's time zone (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def log_files(source: str, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """(path, version in its name) of the log files under `source` whose hour
    overlaps [start, end): the others cannot hold a row of the window."""
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(source)
    if not fs.exists(root):
        return []
    first, last = (utc(moment).strftime(HOUR_FORMAT) for moment in (start, end))
    found = []
    for path in sorted(fs.glob(f"{root.rstrip('/')}/**/{LOG_PATTERN}")):
        parts = name_parts(path.rsplit("/", 1)[-1])
        if parts and first <= parts[0] <= last:
            found.append((fs.unstrip_protocol(path), parts[1]))
    return found


def complete_lines(path: str) -> tuple[bytes, int]:
    """The file's complete lines and how many rows they hold (header aside).

    A last line without its newline (being written, or cut short by a crash)
    is left out and counted with the rows, so it counts as corrupt.
    """
    import fsspec

    with fsspec.open(path, "rb") as handle:
        data: bytes = handle.read()
    end = data.rfind(b"\n") + 1
    lines = data.count(b"\n", 0, end) - 1 + (end < len(data))
    return (data if end == len(data) else data[:end]), max(lines, 0)


def parse(data: bytes, dtypes: dict[str, str], every_column: bool = False) -> pd.DataFrame:
    """The columns of `dtypes`, C engine first; damaged files again as text.

    With `every_column` (`dtypes` names all the file's columns) lines with too
    many fields are skipped by the parser (with `usecols` pandas would accept
    them); too few leave empty values that `valid` rejects. A value that is
    not a number fails the fast pass: the file is read again as text and such
    values become missing.
    """
    columns = None if every_column else list(dtypes)
    options: dict[str, Any] = {"usecols": columns, "on_bad_lines": "skip", "engine": "c"}
    try:
        fast: pd.DataFrame = pd.read_csv(io.BytesIO(data), dtype=dtypes, **options)
        return fast
    except pd.errors.EmptyDataError:
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in dtypes.items()})
    except ValueError:  # a non-number among numbers, an unclosed quote, a broken header
        pass
    try:
        text: pd.DataFrame = pd.read_csv(io.BytesIO(data), dtype="str", **options)
    except ValueError:
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in dtypes.items()})
    numeric = [name for name, kind in dtypes.items() if kind == "float64"]
    text[numeric] = text[numeric].apply(pd.to_numeric, errors="coerce")
    return text


def valid(frame: pd.DataFrame) -> pd.Series:
    """Rows whose fields the writer could have written (a cut or garbled line
    is not): a time, a known status, an id, and a prediction when scored."""
    # as categories even when read as text: one conversion per distinct time
    time = frame["time"].astype("category")
    frame["time"] = pd.to_datetime(time, format=TIME_FORMAT, errors="coerce", utc=True)
    status = frame["status"]
    good = frame["time"].notna() & status.isin(STATUSES) & frame["lineage_id"].notna()
    if "label" in frame:
        label = frame["label"]  # a class of the contract: binary or multiclass
        scored = frame["probability"].notna() & (label >= 0) & (label % 1 == 0)
        good &= frame["id"].notna() & ((status != "ok") | scored)
    return good


def counts(values: pd.Series, missing: str = "unknown") -> dict[str, int]:
    """How often each value occurs (as text: a category's unused values do not)."""
    found = values.astype("str").fillna(missing).value_counts()
    return {str(value): int(n) for value, n in found.items()}


class Collector:
    """Sorts each file's rows into the window's columns and counters."""

    def __init__(
        self, features: dict[str, str], version: str, start: datetime, end: datetime
    ) -> None:
        self.types, self.features, self.version = features, list(features), version
        self.start, self.end = pd.Timestamp(utc(start)), pd.Timestamp(utc(end))
        self.scored: list[pd.DataFrame] = []
        self.refused: Counter[str] = Counter()
        self.other_versions: Counter[str] = Counter()
        self.corrupt_lines = 0

    def dtypes(self, file_version: str) -> dict[str, str]:
        if file_version != safe_version(self.version):
            return {name: COMMON[name] for name in ("time", "lineage_id", "status")}
        scored = {"probability": "float64", "label": "float64"}
        return {**COMMON, **SCORED_FILE_EXTRA, **self.types, **scored}

    def add(self, path: str, file_version: str) -> None:
        """One file's rows; masks are combined so the big frame is copied once."""
        data, lines = complete_lines(path)
        dtypes = self.dtypes(file_version)
        frame = parse(data, dtypes, every_column="label" in dtypes)
        good = valid(frame)
        self.corrupt_lines += lines - int(good.sum())
        inside = good & (frame["time"] >= self.start) & (frame["time"] < self.end)
        mine = frame["lineage_id"] == self.version
        self.other_versions.update(counts(frame.loc[inside & ~mine, "lineage_id"]))
        if "reason" in frame:
            refused = frame["status"] == "refused"
            self.refused.update(counts(frame.loc[inside & mine & refused, "reason"]))
            kept = [*self.features, "probability", "label", "id"]
            self.scored.append(frame.loc[inside & mine & ~refused, kept])

    def result(self, files: int) -> Window:
        types = {**self.types, "probability": "float64", "label": "float64", "id": "str"}
        empty = pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in types.items()})
        rows = pd.concat(self.scored, ignore_index=True) if self.scored else empty
        return Window(
            inputs=rows[self.features].astype(self.types),
            ids=rows["id"].astype(str).tolist(),
            probability=rows["probability"].to_numpy(dtype=float),
            label=rows["label"].to_numpy(dtype=float).astype(int),
            refused=self.refused,
            other_versions=self.other_versions,
            corrupt_lines=self.corrupt_lines,
            files=files,
        )


def read_window(
    source: str, features: dict[str, str], version: str, start: datetime, end: datetime
) -> Window:
    """Rows of `version` logged in [start, end) under `source` (a folder or s3://bucket/prefix).

    `features` maps each feature to its type: "float64", or "str" for a category
    (`reference.logged_dtypes`).
    """
    collector = Collector(features, version, start, end)
    files = log_files(source, start, end)
    for path, file_version in files:
        collector.add(path, file_version)
    return collector.result(len(files))


def logged_ids(sources: list[str]) -> set[str]:
    """Every prediction id logged under `sources`, whatever its time or version."""
    ids: set[str] = set()
    for source in sources:
        for path, _ in log_files(source, *ALL_TIME):
            frame = parse(complete_lines(path)[0], {"id": "str"})
            ids.update(frame["id"].dropna().astype(str))
    return ids


def logged_inputs(source: str, features: dict[str, str], environment: str) -> pd.DataFrame:
    """The id and inputs of every answered prediction of `environment` under `source`,
    whatever its time or version (the latest row of an id): what late labels join to.

    `features` maps each feature to its type (`Contract.dtypes`): a category is
    read as text, as it was sent.
    """
    dtypes = {**COMMON, **SCORED_FILE_EXTRA, **features}
    dtypes |= {"probability": "float64", "label": "float64"}
    frames = []
    for path, _ in log_files(source, *ALL_TIME):
        frame = parse(complete_lines(path)[0], dtypes, every_column=True)
        answered = valid(frame) & (frame["status"] == "ok")
        mine = answered & (frame["environment"] == environment)
        frames.append(frame.loc[mine].reindex(columns=["id", *features]))
    if not frames:
        raise FileNotFoundError(f"no prediction logs ({LOG_PATTERN}) under {source}")
    rows = pd.concat(frames, ignore_index=True)
    return rows.drop_duplicates("id", keep="last").reset_index(drop=True)
