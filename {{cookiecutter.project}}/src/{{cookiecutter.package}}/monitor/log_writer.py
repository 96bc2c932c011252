"""The prediction log: one JSON line per answered (or refused) record.

It runs inside the server, so it uses the standard library only. Rows:

    {"id": ..., "time": "2026-11-29T10:00:00.123456Z", "model_version": <lineage id>,
     "environment": ..., "status": "ok", "inputs": {...}, "probability": ..., "label": ...}
    {"id": ..., "time": ..., "model_version": ..., "environment": ..., "status": "refused",
     "reason": "float_type at records.0.mean_radius"}

docs/monitoring.md describes the fields; log_reader.py reads them back.
"""

import json
import logging
import os
import socket
from datetime import UTC, datetime
from logging.handlers import TimedRotatingFileHandler
from pathlib import Path
from typing import Any

# The optional field of a request record naming its prediction (the row's id).
RECORD_ID = "id"
LOG_DIR_VARIABLE = "PREDICTION_LOG_DIR"
ENVIRONMENT_VARIABLE = "SERVING_ENVIRONMENT"
FILE_PREFIX = "predictions"
# Hourly files, a week kept on the server: the monitor reads a window by
# skipping whole files that end before it, and a sync to S3 ships closed files.
ROTATE_WHEN, KEEP_FILES = "H", 24 * 7


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def log_file(directory: Path) -> Path:
    """One file per process: BentoML may run several workers, and the stdlib
    handler rotates safely only when a single process writes the file (two
    would rename it under each other). Host and pid keep pods apart on S3."""
    return directory / f"{FILE_PREFIX}-{socket.gethostname()}-{os.getpid()}.jsonl"


class PredictionLog:
    """Appends rows to a rotating JSON-lines file.

    The stdlib's TimedRotatingFileHandler does the rotation and retention;
    one `emit` per batch keeps logging to one write call per request.
    """

    def __init__(self, directory: Path, model_version: str, environment: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        handler = TimedRotatingFileHandler(
            log_file(directory), when=ROTATE_WHEN, backupCount=KEEP_FILES, utc=True
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.logger = logging.Logger(f"predictions:{directory}")  # not in the global tree
        self.logger.addHandler(handler)
        self.common = {"model_version": model_version, "environment": environment}

    def predictions(
        self,
        ids: list[str],
        inputs: list[dict[str, Any]],
        probability: list[float],
        labels: list[int],
    ) -> None:
        time = now_iso()
        lines = [
            json.dumps(
                {
                    "id": i,
                    "time": time,
                    **self.common,
                    "status": "ok",
                    "inputs": x,
                    "probability": p,
                    "label": y,
                }
            )
            for i, x, p, y in zip(ids, inputs, probability, labels, strict=True)
        ]
        self.logger.info("\n".join(lines))

    def refused(self, request_id: str, reason: str) -> None:
        row = {"id": request_id, "time": now_iso(), **self.common, "status": "refused"}
        self.logger.info(json.dumps({**row, "reason": reason}))

    def close(self) -> None:
        for handler in self.logger.handlers:
            handler.close()


def from_environment(model_version: str) -> PredictionLog:
    """The log under PREDICTION_LOG_DIR (default `monitoring/`), of SERVING_ENVIRONMENT."""
    directory = Path(os.environ.get(LOG_DIR_VARIABLE) or "monitoring")
    return PredictionLog(directory, model_version, os.environ.get(ENVIRONMENT_VARIABLE, "unknown"))
