"""The prediction log: one CSV row per answered (or refused) record.

It runs inside the server, so it uses the standard library only. A file is
written by one process for one model version during one hour, so its columns
are fixed and named once, in its header line:

    id,time,lineage_id,environment,status,reason,<contract features...>,probability,label
    order-1,2026-11-29T10:00:00.123456Z,<lineage id>,staging,ok,,20.29,...,0.9999,1
    5f0c...,2026-11-29T10:00:01.000001Z,<lineage id>,staging,refused,float_type at x,,...,,

CSV, not JSON lines: the monitor reads a million rows with pandas' C parser
in seconds, where parsing as many JSON objects in Python takes minutes.
docs/monitoring.md describes the columns; log_reader.py reads them back.
"""

import csv
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The optional field of a request record naming its prediction (the row's id).
RECORD_ID = "id"
LOG_DIR_VARIABLE = "PREDICTION_LOG_DIR"
# PREDICTION_LOG=off serves without writing the log (a load test, a demo box).
SWITCH_VARIABLE = "PREDICTION_LOG"
ENVIRONMENT_VARIABLE = "SERVING_ENVIRONMENT"
FILE_PREFIX = "predictions"
SUFFIX = ".csv"
HOUR_FORMAT = "%Y%m%dT%H"
LEADING = ["id", "time", "lineage_id", "environment", "status", "reason"]
TRAILING = ["probability", "label"]
# Files older than a week are deleted by the process that opens a new hour.
KEEP = timedelta(days=7)


def now_iso(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def safe_version(version: str) -> str:
    """The version as a file name part: the name's fields are split at dashes."""
    return version.replace("-", "_").replace("/", "_")


def file_name(hour: str, version: str) -> str:
    """`predictions-<hour>-<version>-<host>-<pid>.csv`: the hour lets a window
    skip whole files, the version lets the monitor skip other models' files,
    and host and pid keep the processes (workers, pods on S3) apart."""
    process = f"{socket.gethostname()}-{os.getpid()}"
    return f"{FILE_PREFIX}-{hour}-{safe_version(version)}-{process}{SUFFIX}"


def name_parts(name: str) -> tuple[str, str] | None:
    """The hour and version a log file's name carries (None: not a log file)."""
    parts = name.split("-", 3)
    if len(parts) < 4 or parts[0] != FILE_PREFIX or not name.endswith(SUFFIX):
        return None
    return parts[1], parts[2]


def remove_old(directory: Path, now: datetime) -> None:
    oldest = (now - KEEP).strftime(HOUR_FORMAT)
    for path in directory.glob(f"{FILE_PREFIX}-*{SUFFIX}"):
        parts = name_parts(path.name)
        if parts and parts[0] < oldest:
            path.unlink(missing_ok=True)


class PredictionLog:
    """Appends rows to this hour's CSV file, one write per request.

    Rows are formatted by the csv module (quoting a reason or a categorical
    value that holds a comma) into a buffered file that is flushed once per
    request: a row reaches the file (and survives the process) as soon as its
    request is answered, at the cost of one write call per request, never one
    per row. A lock keeps the rows of concurrent requests whole.
    """

    def __init__(
        self,
        directory: Path,
        model_version: str,
        environment: str,
        features: list[str],
        shipper: Any = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.version, self.environment = directory, model_version, environment
        self.features = list(features)
        self.empty = [""] * (len(self.features) + len(TRAILING))
        self.lock = threading.Lock()
        self.hour = ""
        self.handle: Any = None
        self.shipper = shipper  # log_shipper.Shipper, or None: the files stay here

    def _writer(self, now: datetime) -> Any:
        hour = now.strftime(HOUR_FORMAT)
        if hour != self.hour:
            self._close_file()
            remove_old(self.directory, now)
            if self.shipper is not None:
                self.shipper.ship_soon(hour)  # the hours before this one are closed
            path = self.directory / file_name(hour, self.version)
            fresh = not path.exists()
            self.handle = path.open("a", newline="", encoding="utf-8")
            self.hour = hour
            if fresh:
                csv.writer(self.handle).writerow(LEADING + self.features + TRAILING)
        return csv.writer(self.handle)

    def _write(self, rows: list[list[Any]], now: datetime) -> None:
        with self.lock:
            self._writer(now).writerows(rows)
            self.handle.flush()

    def predictions(
        self,
        ids: list[str],
        inputs: list[dict[str, Any]],
        probability: list[float],
        labels: list[int],
    ) -> None:
        now = datetime.now(UTC)
        head = [now_iso(now), self.version, self.environment, "ok", ""]
        rows = [
            [i, *head, *(x.get(name) for name in self.features), p, y]
            for i, x, p, y in zip(ids, inputs, probability, labels, strict=True)
        ]
        self._write(rows, now)

    def refused(self, request_id: str, reason: str) -> None:
        now = datetime.now(UTC)
        head = [request_id, now_iso(now), self.version, self.environment, "refused"]
        self._write([[*head, " ".join(reason.split()), *self.empty]], now)

    def _close_file(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
            self.hour = ""

    def close(self) -> None:
        """Close this hour's file (the server stops): it is complete, so it is shipped too."""
        with self.lock:
            own = Path(self.handle.name) if self.handle is not None else None
            self._close_file()
            if self.shipper is not None:
                self.shipper.ship_or_warn(None, own)


class NoLog:
    """What the service logs to with PREDICTION_LOG=off: nothing."""

    def predictions(self, *args: Any) -> None:
        return None

    def refused(self, *args: Any) -> None:
        return None

    def close(self) -> None:
        return None


def from_environment(model_version: str, features: list[str]) -> PredictionLog | NoLog:
    """The log under PREDICTION_LOG_DIR (default `monitoring/`), of SERVING_ENVIRONMENT,
    its closed files copied to PREDICTION_LOG_SHIP_TO when that is set (log_shipper.py)."""
    if os.environ.get(SWITCH_VARIABLE, "on").strip().lower() in {"off", "0", "false", "no"}:
        return NoLog()
    directory = Path(os.environ.get(LOG_DIR_VARIABLE) or "monitoring")
    environment = os.environ.get(ENVIRONMENT_VARIABLE, "unknown")
    return PredictionLog(directory, model_version, environment, features, shipper(directory))


def shipper(directory: Path) -> Any:
    from {{ cookiecutter.package }}.monitor.log_shipper import SHIP_VARIABLE, Shipper

    target = os.environ.get(SHIP_VARIABLE, "").strip()
    return Shipper(directory, target) if target else None
