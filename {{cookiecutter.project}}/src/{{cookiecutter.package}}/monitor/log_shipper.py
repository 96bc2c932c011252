"""Copies closed prediction log files to an object store, so a pod's log outlives the pod.

On Kubernetes the log folder is an emptyDir: it goes with the pod. With
PREDICTION_LOG_SHIP_TO set to a URL (`s3://<bucket>/predictions/<project>/<env>`,
rendered from the DVC remote's bucket), each closed file is copied to
`<that URL>/<day>/<file name>`; names carry host and pid, so pods and
workers never overwrite each other, and `monitor --logs <that URL>` reads
them. fsspec does the copying (s3fs for s3://), imported only when a round runs.

A file is copied once closed: when a new hour starts (in a background
thread, a few seconds later, so that no request waits and the last rows of
the hour before are in), and this process's own file when the server stops.
Each round copies every closed file the store lacks, so an upload that
failed is tried again at the next hour. Only the day folders of the files
still on disk are listed: the cost of a round does not grow with the store.
"""

import sys
import threading
import time
from pathlib import Path

from {{ cookiecutter.package }}.monitor.log_writer import FILE_PREFIX, SUFFIX, name_parts

SHIP_VARIABLE = "PREDICTION_LOG_SHIP_TO"
# A request that began before the hour turned may write its rows a moment after.
GRACE_SECONDS = 5.0


class Shipper:
    """Copies the closed log files of `directory` that `target` lacks."""

    def __init__(self, directory: Path, target: str, grace: float = GRACE_SECONDS) -> None:
        self.directory, self.target, self.grace = directory, target.rstrip("/"), grace
        self.lock = threading.Lock()  # one round at a time in a process

    def closed_files(self, current_hour: str | None, own: Path | None = None) -> list[Path]:
        """Files of hours before `current_hour` (all, when None), and `own`."""
        found = []
        for path in sorted(self.directory.glob(f"{FILE_PREFIX}-*{SUFFIX}")):
            parts = name_parts(path.name)
            earlier = parts is not None and (current_hour is None or parts[0] < current_hour)
            if earlier or path == own:
                found.append(path)
        return found

    def ship(self, current_hour: str | None, own: Path | None = None) -> list[str]:
        """Copy the closed files the target lacks; the names of those copied."""
        from fsspec.core import url_to_fs

        with self.lock:
            fs, root = url_to_fs(self.target)
            by_day: dict[str, list[Path]] = {}
            for path in self.closed_files(current_hour, own):
                hour, _ = name_parts(path.name) or ("unnamed", "")
                by_day.setdefault(hour[:8], []).append(path)
            copied = []
            for day, paths in by_day.items():
                folder = f"{root}/{day}"
                fs.makedirs(folder, exist_ok=True)  # a folder on disk; nothing on S3
                present = {name.rsplit("/", 1)[-1] for name in fs.find(folder)}
                for path in paths:
                    if path.name not in present:
                        fs.put_file(str(path), f"{folder}/{path.name}")
                        copied.append(path.name)
            return copied

    def ship_or_warn(self, current_hour: str | None, own: Path | None = None) -> None:
        """A round that never stops the server: a failure is reported and retried later."""
        try:
            self.ship(current_hour, own)
        except Exception as error:  # the store or its credentials; the files stay on disk
            print(
                f"prediction log: could not copy to {self.target}: {error}; "
                "trying again when the next hour starts",
                file=sys.stderr,
            )

    def ship_soon(self, current_hour: str) -> threading.Thread:
        """A round in the background, `grace` seconds from now."""

        def round_later() -> None:
            time.sleep(self.grace)
            self.ship_or_warn(current_hour)

        thread = threading.Thread(target=round_later, name="prediction-log-shipper", daemon=True)
        thread.start()
        return thread
