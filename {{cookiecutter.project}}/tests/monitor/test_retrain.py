"""The governed retrain: one pull request on retrain/<env> holding a new data pin, nothing else.

A repository with DVC, a local remote and a bare origin; prediction logs and
late labels on disk; GitHub's issues in memory (the `gh` fixture) and
`gh pr ...` played by a recording stand-in.
"""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import Paths, load_params, raw_data_relative
from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.files import write_frame
from {{ cookiecutter.package }}.monitor.alerts import publish_alerts
from {{ cookiecutter.package }}.monitor.log_writer import PredictionLog
from {{ cookiecutter.package }}.monitor.report_reader import load_report
from {{ cookiecutter.package }}.monitor.retrain import propose_retrain, refresh_snapshot
from {{ cookiecutter.package }}.monitor.retrain_data import refreshed_snapshot, same_rows
from {{ cookiecutter.package }}.shell import dvc, git

REPO = "owner/repo"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV = "production"
LABELED = 60
# The project's data file (params.yaml data.raw) and its pin, relative to the repository.
RAW = raw_data_relative(load_params(PROJECT_ROOT / "params.yaml"))
PIN = f"{RAW}.dvc"
LABEL = load_contract().label


@pytest.fixture(scope="module")
def pinned(
    tmp_path_factory: pytest.TempPathFactory, project_data: pd.DataFrame, pin_with_dvc
) -> Path:
    """Built once: `repo/` with its data pinned by DVC, `remote/` (reached by a relative
    path, so a copy of the folder works as it is) and the bare `origin.git/`."""
    root = tmp_path_factory.mktemp("pinned")
    repo, origin = root / "repo", root / "origin.git"
    repo.mkdir()
    (repo / "dvc.yaml").write_text("stages: {}\n")
    shutil.copyfile(PROJECT_ROOT / "params.yaml", repo / "params.yaml")
    write_frame(project_data, Paths(repo).raw_data)
    pin_with_dvc(repo, "../../remote", RAW)  # root/remote, read from repo/.dvc/
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    git(repo, "add", "--all")
    git(repo, *identity, "commit", "--quiet", "-m", "Pin the data")
    git(root, "init", "--quiet", "--bare", str(origin))
    git(repo, "push", "--quiet", str(origin), "main")
    return root


@pytest.fixture
def project(repo: Paths, pinned: Path, tmp_path: Path) -> Paths:
    """A fresh copy of the pinned repository, in place of the plain `repo`."""
    shutil.rmtree(repo.root)
    for name in ("repo", "remote", "origin.git"):
        shutil.copytree(pinned / name, tmp_path / name)
    git(repo.root, "remote", "add", "origin", str(tmp_path / "origin.git"))
    return repo


def logs_and_labels(
    data: pd.DataFrame, root: Path, labels: list[int] | None = None, scale: float = 1.01
) -> tuple[Path, Path]:
    """LABELED logged predictions of ENV (and one of staging), with their late labels.

    The inputs are the data's first rows, every numeric value scaled by `scale`: new
    rows (1.0: rows the pinned data holds already).
    """
    rows = data.head(LABELED)
    logs, late = root / "monitoring" / "predictions", root / "monitoring" / "labels"
    logs.mkdir(parents=True)
    late.mkdir(parents=True)
    features = rows.drop(columns=[LABEL])
    numeric = features.select_dtypes("number").columns
    features[numeric] = features[numeric] * scale
    records = features.astype(object).where(features.notna(), None).to_dict("records")
    for environment, ids, inputs in ((ENV, [f"p{n}" for n in range(LABELED)], records),
                                     ("staging", ["s0"], records[-1:])):  # fmt: skip
        log = PredictionLog(logs, "a" * 16, environment, list(features.columns))
        log.predictions(ids, inputs, [0.5] * len(ids), [1] * len(ids))
        log.close()
    values = labels or rows[LABEL].tolist()
    pd.DataFrame({"id": [f"p{n}" for n in range(LABELED)], "label": values}).to_csv(
        late / "batch-1.csv", index=False
    )
    return logs, late


def quality_alerts(p: Paths) -> None:
    """Three windows of realized quality breached: the low tier's alert opens."""
    folder = p.reports_dir / "monitor" / ENV
    folder.mkdir(parents=True, exist_ok=True)
    for day in (1, 2, 3):
        report = {
            "environment": ENV,
            "window": f"2026-11-0{day}",
            "status": "alert",
            "quality": {"breached": True, "basis": "realized"},
        }
        (folder / f"2026-11-0{day}.json").write_text(json.dumps(report))
        (folder / f"2026-11-0{day}.md").write_text("roc_auc 0.71 against 0.97 offline\n")
        publish_alerts(p, REPO, load_report(folder / f"2026-11-0{day}.json", ENV))


def test_quality_alert_opens_one_pull_request_holding_only_a_new_data_pin(
    project, gh, stand_in, tmp_path, project_data
):
    quality_alerts(project)
    logs, labels = logs_and_labels(project_data, tmp_path)
    pinned_before = (project.root / PIN).read_text()
    recorder = stand_in(
        "gh", {"pr list": "[]", "pr create": "https://github.com/owner/repo/pull/9"}
    )
    done = propose_retrain(project, REPO, ENV, logs, labels)
    assert done == "https://github.com/owner/repo/pull/9"
    origin = tmp_path / "origin.git"
    changed = git(origin, "diff", "--name-only", "main", "retrain/production").splitlines()
    assert changed == [PIN]  # a data pin, nothing under deploy/
    assert git(origin, "rev-list", "--count", "main..retrain/production") == "1"
    assert (project.root / PIN).read_text() != pinned_before
    [create] = [c for c in recorder.calls() if c[:2] == ["pr", "create"]]
    assert create[create.index("--head") + 1] == "retrain/production"
    body = create[create.index("--body") + 1]
    assert "roc_auc 0.71 against 0.97 offline" in body and f"{LABELED} recent labeled rows" in body
    assert "<!--" not in body  # the marker stays on the issue
    assert len(pd.read_csv(project.raw_data)) == len(project_data) + LABELED
    assert dvc(project.root, "status", "--cloud", "--quiet", check=False).returncode == 0


def test_a_second_run_updates_the_same_pull_request(project, gh, stand_in, tmp_path, project_data):
    quality_alerts(project)
    logs, labels = logs_and_labels(project_data, tmp_path)
    opened = json.dumps([{"number": 9, "url": "https://github.com/owner/repo/pull/9"}])
    recorder = stand_in("gh", {"pr list": opened})
    assert propose_retrain(project, REPO, ENV, logs, labels).startswith("updated ")
    assert [c[:2] for c in recorder.calls() if c[0] == "pr"] == [["pr", "list"], ["pr", "edit"]]


def test_rows_the_pinned_data_holds_already_propose_nothing(
    project, gh, stand_in, tmp_path, project_data
):
    quality_alerts(project)
    logs, labels = logs_and_labels(project_data, tmp_path, scale=1.0)
    recorder = stand_in("gh")
    assert "in the pinned data already: nothing to propose" in propose_retrain(
        project, REPO, ENV, logs, labels
    )
    assert recorder.calls() == []
    assert git(project.root, "branch", "--show-current") == "main"


def test_a_rewrite_a_failed_run_left_behind_is_still_proposed(
    project, gh, stand_in, tmp_path, project_data
):
    # A run rewrote the data, then failed before pinning it: the rows on disk are
    # the refreshed ones, the pin is not. Running again must still propose them.
    quality_alerts(project)
    logs, labels = logs_and_labels(project_data, tmp_path)
    refresh_snapshot(project, ENV, logs, labels)
    url = "https://github.com/owner/repo/pull/9"
    stand_in("gh", {"pr list": "[]", "pr create": url})
    assert propose_retrain(project, REPO, ENV, logs, labels) == url


def test_no_quality_alert_proposes_nothing(project, gh, stand_in, tmp_path, project_data):
    logs, labels = logs_and_labels(project_data, tmp_path)
    recorder = stand_in("gh")
    assert "does not alert: no retrain proposed" in propose_retrain(
        project, REPO, ENV, logs, labels
    )
    assert recorder.calls() == []
    assert git(project.root, "branch", "--list", "retrain/*") == ""


def test_too_few_labeled_rows_propose_nothing_and_change_nothing(
    project, gh, stand_in, tmp_path, project_data
):
    quality_alerts(project)
    logs, labels = logs_and_labels(project_data, tmp_path)
    project.params.write_text(project.params.read_text().replace("min_rows: 50", "min_rows: 500"))
    before = project.raw_data.read_bytes()
    with pytest.raises(ValueError, match="only 60 logged predictions of production have labels"):
        propose_retrain(project, REPO, ENV, logs, labels)
    assert project.raw_data.read_bytes() == before
    assert git(project.root, "branch", "--show-current") == "main"


def test_labels_the_contract_refuses_are_named_and_not_pinned(
    project, gh, stand_in, tmp_path, project_data
):
    quality_alerts(project)
    logs, labels = logs_and_labels(project_data, tmp_path, labels=[7] * LABELED)
    before = project.raw_data.read_bytes()
    with pytest.raises(ValueError, match=f"the refreshed data breaks the contract: {LABEL}"):
        propose_retrain(project, REPO, ENV, logs, labels)
    assert project.raw_data.read_bytes() == before


def test_an_unknown_source_is_refused(project, gh, tmp_path, project_data):
    quality_alerts(project)
    logs, labels = logs_and_labels(project_data, tmp_path)
    text = project.params.read_text().replace("source: labeled-logs", "source: warehouse")
    project.params.write_text(text)
    with pytest.raises(ValueError, match="source 'warehouse' is not known"):
        propose_retrain(project, REPO, ENV, logs, labels)


def test_the_command_says_when_no_retrain_is_due(repo, gh, monkeypatch, tmp_path):
    monkeypatch.chdir(repo.root)
    result = CliRunner().invoke(cli, ["retrain", ENV, "--logs", str(tmp_path), "--repo", REPO])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "retrain production: model quality of production does not alert: no retrain proposed\n"
    )


def test_the_command_without_logs_fails_in_one_line_and_changes_nothing(
    repo, gh, monkeypatch, tmp_path
):
    quality_alerts(repo)
    monkeypatch.chdir(repo.root)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "batch-1.csv").write_text("id,label\np0,1\n")
    head = git(repo.root, "rev-parse", "HEAD")
    result = CliRunner().invoke(cli, ["retrain", ENV, "--logs", str(tmp_path), "--repo", REPO])
    assert result.exit_code == 1
    assert f"Error: no prediction logs (predictions-*.csv) under {tmp_path}" in result.output
    assert git(repo.root, "rev-parse", "HEAD") == head


PINNED = pd.DataFrame(
    {
        "plan": ["basic", "basic", "pro"],
        "tenure": [17, 17, 40],
        "spend": [float("nan"), float("nan"), 12.5],
        "churned": [1, 1, 0],
    }
)


def test_appending_keeps_every_pinned_row_even_two_alike():
    # Two customers may look alike: the pinned data is never deduplicated.
    logged = PINNED.head(1).astype({"tenure": "float64"})  # the logs hold numbers as floats
    snapshot = refreshed_snapshot(PINNED, logged, "append")
    assert len(snapshot) == 3 and same_rows(snapshot, PINNED)


def test_appending_adds_the_new_rows_once_and_keeps_whole_numbers_whole():
    logged = pd.DataFrame(
        {"plan": ["pro", "plus"], "tenure": [40.0, 5.0], "spend": [12.5, 3.0], "churned": [0, 1]}
    )
    snapshot = refreshed_snapshot(PINNED, logged, "append")
    assert snapshot.tail(1).to_dict("records") == [
        {"plan": "plus", "tenure": 5, "spend": 3.0, "churned": 1}
    ]
    assert len(snapshot) == 4 and snapshot["tenure"].dtype == "int64"
    fractional = logged.assign(tenure=[40.0, 5.5])  # a whole-number column gets a fraction
    assert refreshed_snapshot(PINNED, fractional, "append")["tenure"].tolist()[-1] == 5.5


def test_replacing_with_the_same_rows_changes_nothing_and_an_unknown_mode_is_refused():
    logged = PINNED.astype({"tenure": "float64"})
    assert same_rows(refreshed_snapshot(PINNED, logged, "replace"), PINNED)
    with pytest.raises(ValueError, match="must be append or replace, not 'merge'"):
        refreshed_snapshot(PINNED, logged, "merge")


def test_logged_text_is_never_taken_for_a_whole_number():
    # A pinned column pandas guessed as numbers (codes like 01) beside logged text.
    pinned = pd.DataFrame({"code": [1, 2], "churned": [0, 1]})
    logged = pd.DataFrame({"code": pd.Series(["01", "03"], dtype="str"), "churned": [0, 1]})
    assert refreshed_snapshot(pinned, logged, "replace")["code"].tolist() == ["01", "03"]
