"""One issue per environment and signal family, with hysteresis, against a fake GitHub.

The reports here are of a low-tier model, whatever tier this project was made
with: params.yaml's low tier opens an alert after 2 breaching windows in a row
and clears it after 2 clean ones. The high tier's own count has its own test.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.monitor.alert_state import parse_state, state_marker
from {{ cookiecutter.package }}.monitor.alerts import family_marker, publish_alerts
from {{ cookiecutter.package }}.monitor.report_reader import load_report

REPO = "owner/repo"  # the repository of the `gh` fixture (conftest.py)
ALERT_AFTER, CLEAR_AFTER = 2, 2  # params.yaml, low tier


def write_report(
    p: Paths, name: str, breached: tuple[str, ...] = (), status: str | None = None, **extra: Any
) -> Path:
    families = ("input_drift", "prediction_drift", "data_quality", "quality")
    report: dict[str, Any] = {
        "environment": "production",
        "window": name,
        "status": status or ("alert" if breached else "ok"),
        "model": {"risk_tier": "low"},  # the serving model's tier, as the monitor writes it
        **{family: {"breached": family in breached} for family in families},
        **extra,
    }
    folder = p.reports_dir / "monitor" / "production"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(report))
    (folder / f"{name}.md").write_text(f"# Monitor report {name}\n\nfeature `radius` drifted\n")
    return folder / f"{name}.json"


def run_window(p: Paths, window: str, *breached: str, **extra: Any) -> list[str]:
    lines, _ = publish_alerts(
        p, REPO, load_report(write_report(p, window, breached, **extra), "production")
    )
    return lines


def windows(p: Paths, first: int, count: int, *breached: str) -> None:
    for day in range(first, first + count):
        run_window(p, f"2026-11-{day:02d}", *breached)


def test_fewer_than_n_breaching_windows_open_no_issue(repo, gh):
    windows(repo, 1, ALERT_AFTER - 1, "input_drift")
    assert gh.alert_issues() == []
    [state_issue] = [i for i in gh.issues if state_marker("production") in i.get("body", "")]
    state = parse_state(state_issue["body"], "production")
    assert state.families["input_drift"].breaching == ALERT_AFTER - 1


def test_n_breaching_windows_open_one_issue_then_update_it_in_place(repo, gh):
    windows(repo, 1, ALERT_AFTER, "input_drift")
    [issue] = gh.alert_issues()
    assert issue["title"] == "Monitor alert: input drift in production"
    assert issue["body"].startswith(family_marker("production", "input_drift"))
    assert "feature `radius` drifted" in issue["body"]
    assert "docs/runbooks/drift-alert.md" in issue["body"]
    windows(repo, 1 + ALERT_AFTER, 2, "input_drift")
    assert [i["number"] for i in gh.alert_issues()] == [issue["number"]]
    assert f"{ALERT_AFTER + 2} window(s) in a row" in gh.issue(issue["number"])["body"]


def test_m_clean_windows_close_the_issue_with_a_comment(repo, gh):
    windows(repo, 1, ALERT_AFTER, "input_drift")
    [issue] = gh.alert_issues()
    windows(repo, 10, CLEAR_AFTER - 1)
    assert gh.issue(issue["number"])["state"] == "open"
    assert "clean for 1 of 2 windows" in gh.issue(issue["number"])["body"]
    windows(repo, 11, 1)
    assert gh.issue(issue["number"])["state"] == "closed"
    [comment] = gh.comments[issue["number"]]
    assert comment.startswith("Cleared: **input drift** in **production** was clean for 2 of 2")


def test_a_clean_window_resets_the_count_to_an_alert(repo, gh):
    windows(repo, 1, ALERT_AFTER - 1, "input_drift")
    windows(repo, 5, 1)
    windows(repo, 6, ALERT_AFTER - 1, "input_drift")
    assert gh.alert_issues() == []


def test_each_family_has_its_own_issue(repo, gh):
    windows(repo, 1, ALERT_AFTER, "input_drift", "data_quality")
    titles = sorted(i["title"] for i in gh.alert_issues())
    assert titles == [
        "Monitor alert: data quality in production",
        "Monitor alert: input drift in production",
    ]


def test_the_same_window_twice_counts_once(repo, gh):
    for _ in range(ALERT_AFTER):
        lines = run_window(repo, "2026-11-01", "input_drift")
    assert "seen before: nothing counted" in lines[0]
    assert gh.alert_issues() == []


def test_a_window_without_traffic_neither_breaches_nor_clears(repo, gh):
    windows(repo, 1, ALERT_AFTER - 1, "input_drift")
    run_window(repo, "2026-11-05", status="no_traffic")
    windows(repo, 6, 1, "input_drift")
    assert len(gh.alert_issues("open")) == 1


def test_an_alert_closed_by_hand_while_still_breaching_comes_back(repo, gh):
    windows(repo, 1, ALERT_AFTER, "input_drift")
    [issue] = gh.alert_issues()
    issue["state"] = "closed"
    windows(repo, 10, 1, "input_drift")
    assert len(gh.alert_issues("open")) == 1


def test_estimated_quality_alone_is_not_a_breach_but_with_drift_it_is(repo, gh):
    estimated = {"breached": True, "basis": "estimated"}
    for day in range(1, 1 + ALERT_AFTER):
        run_window(repo, f"2026-11-{day:02d}", quality=estimated)
    assert gh.alert_issues() == []
    for day in range(10, 10 + ALERT_AFTER):
        run_window(repo, f"2026-11-{day:02d}", "input_drift", quality=estimated)
    assert "Monitor alert: model quality in production" in [i["title"] for i in gh.alert_issues()]


def test_quality_as_the_monitor_reports_it_realized_alone_or_estimated_with_drift(repo, gh):
    """Schema 1: `quality.realized.drop` past `thresholds.quality_drop` on enough labels."""
    limits = {"quality_drop": 0.05, "min_labelled_rows": 30}

    def quality(realized_drop, rows):
        realized = {"labelled_rows": rows, "current": 0.9, "drop": realized_drop}
        return {"breached": True, "estimated": {"drop": 0.08}, "realized": realized}

    for day, (drop, rows) in enumerate([(0.01, 500), (0.2, 10), (None, 0)], start=1):
        run_window(repo, f"2026-11-{day:02d}", quality=quality(drop, rows), thresholds=limits)
    assert gh.alert_issues() == []  # estimated drops only, no drift: no evidence enough
    for day in range(10, 10 + ALERT_AFTER):
        run_window(repo, f"2026-11-{day}", quality=quality(0.2, 500), thresholds=limits)
    assert [i["title"] for i in gh.alert_issues()] == ["Monitor alert: model quality in production"]


def test_the_report_names_the_window_and_the_tier(repo):
    window = {
        "start": "2026-11-28T22:00:00Z",
        "end": "2026-11-29T22:00:00Z",
        "name": "20261129T220000Z",
    }
    path = write_report(repo, "20261129T220000Z", window=window, model={"risk_tier": "high"})
    report = load_report(path, "production")
    assert (report.window, report.risk_tier) == ("20261129T220000Z", "high")


def test_a_high_risk_model_alerts_after_its_own_count(repo, gh):
    # The high tier opens after 1 window, the low after 2.
    run_window(repo, "2026-11-01", "input_drift", model={"risk_tier": "high"})
    assert len(gh.alert_issues()) == 1


def test_missing_hysteresis_settings_are_named(repo, gh):
    repo.params.write_text("gate: {risk_tier: low}\n")
    with pytest.raises(ValueError, match=r"no monitor\.hysteresis\.low: add alert_after"):
        run_window(repo, "2026-11-01", "input_drift")
    assert gh.issues[1:] == []


def test_a_report_of_another_environment_is_refused(repo):
    path = write_report(repo, "2026-11-01", ("input_drift",))
    with pytest.raises(ValueError, match="a report of production, not of staging"):
        load_report(path, "staging")


def test_a_breached_flag_that_is_not_a_boolean_is_refused(repo):
    path = write_report(repo, "2026-11-01", input_drift={"breached": "yes"})
    with pytest.raises(ValueError, match=r"`input_drift\.breached` must be true or false"):
        load_report(path, "production")


def test_an_unreadable_state_says_how_to_start_afresh():
    with pytest.raises(ValueError, match="delete the block"):
        parse_state("<!-- monitor-state\n{not json\n-->", "production")


def test_the_command_publishes_the_newest_report_and_says_whether_to_retrain(
    repo, gh, monkeypatch, tmp_path
):
    monkeypatch.chdir(repo.root)
    outputs = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    for day in range(1, 1 + ALERT_AFTER):
        write_report(repo, f"2026-11-{day:02d}", ("quality", "input_drift"))
        result = CliRunner().invoke(cli, ["alert", "production", "--repo", REPO])
        assert result.exit_code == 0, result.output
    assert f"window 2026-11-0{ALERT_AFTER} (counted)" in result.output
    assert "quality: opened #" in result.output
    assert outputs.read_text().splitlines()[-1] == "retrain=true"


def test_the_command_without_any_report_fails_in_one_line(repo, gh, monkeypatch):
    monkeypatch.chdir(repo.root)
    result = CliRunner().invoke(cli, ["alert", "production", "--repo", REPO])
    assert result.exit_code == 1
    assert "no monitor report in" in result.output
    assert gh.calls == []
