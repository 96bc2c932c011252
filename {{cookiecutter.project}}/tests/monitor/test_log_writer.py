"""The prediction log's files: hourly CSV with a header, refusals, retention, the switch."""

import csv
from datetime import UTC, datetime, timedelta

from monitor_traffic import VERSION, around_now

from {{ cookiecutter.package }}.monitor.log_reader import logged_ids, read_window
from {{ cookiecutter.package }}.monitor.log_writer import (
    HOUR_FORMAT,
    NoLog,
    PredictionLog,
    file_name,
    from_environment,
)

FEATURES = ["width", "colour"]


def written(folder) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_rows_and_refusals_share_one_file_whose_header_names_the_columns(tmp_path):
    log = PredictionLog(tmp_path, VERSION, "staging", FEATURES)
    log.predictions(["a", "b"], [{"width": 1.5, "colour": "red, dark"}] * 2, [0.25, 0.75], [0, 1])
    log.refused("r1", "float_type at width,\nsecond line")
    log.close()
    (path,) = tmp_path.glob("*.csv")
    hour = datetime.now(UTC).strftime(HOUR_FORMAT)
    assert path.name.startswith(f"predictions-{hour}-{VERSION}-")
    header = path.read_text().splitlines()[0]
    assert header == "id,time,lineage_id,environment,status,reason,width,colour,probability,label"
    rows = written(tmp_path)
    assert [r["colour"] for r in rows] == ["red, dark", "red, dark", ""]
    assert rows[2]["reason"] == "float_type at width, second line"  # one line per row


def test_refusals_are_counted_by_reason_in_the_window(tmp_path):
    log = PredictionLog(tmp_path, VERSION, "staging", ["width"])
    log.predictions(["a"], [{"width": 2.0}], [0.5], [1])
    for _ in range(3):
        log.refused("r", "missing at width")
    log.close()
    window = read_window(str(tmp_path), {"width": "float64"}, VERSION, *around_now())
    assert window.refused == {"missing at width": 3}
    assert window.ids == ["a"] and window.label.tolist() == [1]
    assert logged_ids([str(tmp_path)]) == {"a", "r"}


def test_files_of_hours_outside_the_window_are_not_opened(tmp_path):
    old = datetime.now(UTC) - timedelta(hours=5)
    (tmp_path / file_name(old.strftime(HOUR_FORMAT), VERSION)).write_text("not,a\nlog,file\n")
    log = PredictionLog(tmp_path, VERSION, "staging", ["width"])
    log.predictions(["a"], [{"width": 1}], [0.1], [0])
    log.close()
    window = read_window(str(tmp_path), {"width": "float64"}, VERSION, *around_now())
    assert (window.files, len(window.inputs), window.corrupt_lines) == (1, 1, 0)


def test_files_older_than_a_week_are_deleted_when_an_hour_begins(tmp_path):
    now = datetime.now(UTC)
    stale = tmp_path / file_name((now - timedelta(days=8)).strftime(HOUR_FORMAT), VERSION)
    recent = tmp_path / file_name((now - timedelta(days=6)).strftime(HOUR_FORMAT), VERSION)
    stale.write_text("id\n")
    recent.write_text("id\n")
    log = PredictionLog(tmp_path, VERSION, "staging", ["width"])
    log.predictions(["a"], [{"width": 1}], [0.1], [0])
    log.close()
    assert not stale.exists() and recent.exists()


def test_the_switch_turns_the_log_off_and_only_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PREDICTION_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("PREDICTION_LOG", "off")
    log = from_environment(VERSION, ["width"])
    log.predictions(["a"], [{"width": 1}], [0.1], [0])
    assert isinstance(log, NoLog) and not list(tmp_path.iterdir())
    monkeypatch.setenv("PREDICTION_LOG", "on")
    log = from_environment(VERSION, ["width"])
    log.predictions(["a"], [{"width": 1}], [0.1], [0])
    log.close()
    assert isinstance(log, PredictionLog) and len(written(tmp_path)) == 1
