"""Rows of one time window of the prediction log, from a folder or an S3 prefix.

Files are read one line at a time and kept as float columns in chunks, so a
window of a million rows never holds a million dicts. Each line is parsed on
its own: a corrupt or truncated line is counted and skipped, never fatal.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.monitor.log_writer import FILE_PREFIX

CHUNK_ROWS = 100_000
LOG_PATTERN = f"{FILE_PREFIX}-*.jsonl*"


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


def iso(moment: datetime) -> str:
    """The writer's format: row times compare as strings, with no parsing per row."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def modified(info: dict[str, Any]) -> float:
    """A file's last write as a Unix time, locally (`mtime`) and on S3 (`LastModified`)."""
    when = info.get("mtime", info.get("LastModified", info.get("last_modified")))
    return when.timestamp() if isinstance(when, datetime) else float(when or 0)


def log_files(source: str, start: datetime) -> list[str]:
    """The log files under `source` written to at or after `start`.

    A row is written right after its prediction, so a file last modified
    before the window starts cannot hold a row of it.
    """
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(source)
    if not fs.exists(root):
        return []
    found = fs.glob(f"{root.rstrip('/')}/**/{LOG_PATTERN}", detail=True)
    fresh = [path for path, info in found.items() if modified(info) >= start.timestamp()]
    return [fs.unstrip_protocol(path) for path in sorted(fresh)]


class Collector:
    """Sorts parsed rows into the window's columns and counters."""

    def __init__(self, features: list[str], version: str, start: str, end: str) -> None:
        self.features, self.version, self.start, self.end = features, version, start, end
        self.window = Window(
            pd.DataFrame(columns=features, dtype=float), [], np.array([]), np.array([])
        )
        self.rows: list[dict[str, Any]] = []
        self.frames: list[pd.DataFrame] = []
        self.outputs: list[tuple[float, int]] = []

    def add(self, line: str) -> None:
        try:
            row = json.loads(line)
            if not self.start <= row["time"] < self.end:
                return
            if row["model_version"] != self.version:
                self.window.other_versions[str(row["model_version"])] += 1
            elif row["status"] == "refused":
                self.window.refused[str(row.get("reason", "unknown"))] += 1
            else:
                inputs = row["inputs"]
                if not isinstance(inputs, dict):
                    raise TypeError("inputs is not an object")
                self.outputs.append((float(row["probability"]), int(row["label"])))
                self.rows.append(inputs)
                self.window.ids.append(str(row["id"]))
        except (ValueError, KeyError, TypeError):  # not JSON, not a row, a field of the wrong type
            self.window.corrupt_lines += 1
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            frame = pd.DataFrame.from_records(self.rows, columns=self.features)
            self.frames.append(frame.apply(pd.to_numeric, errors="coerce"))
            self.rows = []

    def result(self) -> Window:
        self.flush()
        if self.frames:
            self.window.inputs = pd.concat(self.frames, ignore_index=True)
        outputs = np.array(self.outputs, dtype=float).reshape(-1, 2)
        self.window.probability, self.window.label = outputs[:, 0], outputs[:, 1].astype(int)
        return self.window


def read_window(
    source: str, features: list[str], version: str, start: datetime, end: datetime
) -> Window:
    """Rows of `version` logged in [start, end) under `source` (a folder or s3://bucket/prefix)."""
    import fsspec

    collector = Collector(features, version, iso(start), iso(end))
    files = log_files(source, start)
    for path in files:
        with fsspec.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    collector.add(line)
    window = collector.result()
    window.files = len(files)
    return window


def logged_ids(sources: list[str]) -> set[str]:
    """Every prediction id logged under `sources`, whatever its time or version."""
    import fsspec

    ids: set[str] = set()
    for source in sources:
        for path in log_files(source, datetime.fromtimestamp(0)):
            with fsspec.open(path, "rt", encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    try:
                        ids.add(str(json.loads(line)["id"]))
                    except (ValueError, KeyError, TypeError):
                        continue
    return ids
