"""Closed prediction log files are copied to a store, once, and a failure is retried.

fsspec's in-memory filesystem stands in for S3: the shipper reaches both
through the same fsspec calls (the template's S3 tests copy to a real
S3-compatible server)."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import pytest
from monitor_traffic import VERSION

from {{ cookiecutter.package }}.monitor.log_reader import read_window
from {{ cookiecutter.package }}.monitor.log_shipper import SHIP_VARIABLE, Shipper
from {{ cookiecutter.package }}.monitor.log_writer import (
    HOUR_FORMAT,
    PredictionLog,
    file_name,
    from_environment,
)

FEATURES = ["width"]


@pytest.fixture
def store(tmp_path) -> str:
    """A fresh folder of the in-memory filesystem (it lives as long as the process)."""
    return f"memory://{tmp_path.name}/predictions/production"


def stored(store: str) -> list[str]:
    fs, root = fsspec.core.url_to_fs(store)
    return sorted(path.removeprefix(root).lstrip("/") for path in fs.find(root))


def earlier_file(folder: Path, hours_ago: int) -> Path:
    """A file left by an earlier hour (or an earlier process): closed."""
    hour = (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime(HOUR_FORMAT)
    path = folder / file_name(hour, VERSION).replace(".csv", "-old.csv")
    path.write_text("id,time,lineage_id,environment,status,reason,width,probability,label\n")
    return path


def until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def log_with_shipper(folder: Path, store: str) -> PredictionLog:
    return PredictionLog(folder, VERSION, "production", FEATURES, Shipper(folder, store, grace=0))


def test_a_new_hour_ships_the_closed_files_and_close_ships_its_own(tmp_path, store):
    folder = tmp_path / "logs"
    folder.mkdir()
    old = earlier_file(folder, hours_ago=2)
    log = log_with_shipper(folder, store)
    log.predictions(["a"], [{"width": 1.0}], [0.3], [0])  # opens this hour: a round starts
    assert until(lambda: len(stored(store)) == 1)
    assert stored(store) == [f"{old.name[12:20]}/{old.name}"]  # under its day
    log.close()
    current = next(path for path in folder.iterdir() if path != old)
    assert [name.split("/")[1] for name in stored(store)] == sorted([old.name, current.name])


def test_a_file_still_being_written_is_not_shipped(tmp_path, store):
    folder = tmp_path / "logs"
    log = PredictionLog(folder, VERSION, "production", FEATURES)
    log.predictions(["a"], [{"width": 1.0}], [0.3], [0])
    this_hour = datetime.now(UTC).strftime(HOUR_FORMAT)
    assert Shipper(folder, store, grace=0).ship(this_hour) == []
    log.close()


def test_each_file_is_copied_once(tmp_path, store):
    folder = tmp_path / "logs"
    folder.mkdir()
    earlier_file(folder, hours_ago=3)
    shipper = Shipper(folder, store, grace=0)
    assert len(shipper.ship(None)) == 1
    assert shipper.ship(None) == []


def test_a_failed_copy_is_reported_kept_and_retried(tmp_path, store, capsys, monkeypatch):
    folder = tmp_path / "logs"
    folder.mkdir()
    old = earlier_file(folder, hours_ago=1)
    shipper = Shipper(folder, store, grace=0)
    memory = fsspec.filesystem("memory")

    def refuse(*args, **kwargs):
        raise PermissionError("AccessDenied: s3:PutObject")

    with monkeypatch.context() as patched:
        patched.setattr(type(memory), "put_file", refuse)
        shipper.ship_or_warn(None)  # never raises: the server keeps answering
    warning = capsys.readouterr().err
    assert "could not copy to memory://" in warning and "AccessDenied" in warning
    assert old.exists() and stored(store) == []
    shipper.ship_or_warn(None)
    assert [name.split("/")[1] for name in stored(store)] == [old.name]


def test_the_monitor_reads_the_store_as_it_reads_the_folder(tmp_path, store):
    folder = tmp_path / "logs"
    log = log_with_shipper(folder, store)
    log.predictions(["a", "b"], [{"width": 1.0}, {"width": 2.0}], [0.3, 0.8], [0, 1])
    log.close()
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=1), now + timedelta(minutes=1)
    local = read_window(str(folder), {"width": "float64"}, VERSION, start, end)
    shipped = read_window(store, {"width": "float64"}, VERSION, start, end)
    assert shipped.ids == local.ids == ["a", "b"]
    assert shipped.inputs.equals(local.inputs)


def test_the_store_comes_from_the_environment(tmp_path, monkeypatch, store):
    monkeypatch.setenv("PREDICTION_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv(SHIP_VARIABLE, raising=False)
    assert from_environment(VERSION, FEATURES).shipper is None
    monkeypatch.setenv(SHIP_VARIABLE, store)
    shipper = from_environment(VERSION, FEATURES).shipper
    assert (shipper.directory, shipper.target) == (tmp_path / "logs", store)
