"""monitor.yml under act, on its `schedule` and `workflow_dispatch` events, offline.

What runs is the workflow's wiring: the matrix of environments, `make alert`
with `issues: write` against the recording `gh`, and the separate retrain job
that pulls the pinned data and proposes the retrain pull request. The monitor's
computation is the project's own (tested in its tests): here `make monitor` is
pointed at prepared reports, one window per run, so no run serves or trains.

One story, three runs, with hysteresis set to open after 1 breaching window
and clear after 1 clean one (how many windows open and clear an alert is the
monitor's own logic, tested in the project; what only a run of the workflow
shows is that the count survives from one run to the next, in the state
issues):
1. schedule, both environments: production breaches -> one issue per breached
   family, and model quality alerting -> ONE retrain pull request, holding
   only a data pin; staging, clean, is watched too;
2. dispatch production: breaches again -> the same issues updated, counting 2
   windows in a row, the same pull request updated (no second one);
3. dispatch production: clean -> the issues closed, each with a comment.
"""

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from act.harness import GitHubRepo, git, run_act
from conftest import REPO, Project, bake

WORKFLOW = "monitor.yml"
LABELED = 60
# The prepared report replaces the monitor's computation; the rest is the product's.
MONITOR_STUB = (
    'monitor: install\n\tmkdir -p "reports/monitor/$$ENV"\n'
    '\tcp "$$MONITOR_FIXTURES/$$ENV"/* "reports/monitor/$$ENV/"\n'
)


@pytest.fixture(scope="module")
def seed(tmp_path_factory, project_venv: Path) -> tuple[Path, Path]:
    """A set-up (untrained) default project, its data in the remote, hysteresis 2/1:
    the bare repository, and the sample data file."""
    root = tmp_path_factory.mktemp("monitor-seed")
    project = Project(bake(root / "bake"), project_venv, root / "remote")
    project.make("setup")
    makefile = project.path / "Makefile"
    text = makefile.read_text()
    recipe = text[text.index("monitor: install"):text.index("\nalert: install")]
    makefile.write_text(text.replace(recipe, MONITOR_STUB))
    params = project.path / "params.yaml"
    text, low = params.read_text(), "low: {alert_after: 2, clear_after: 2}"
    assert low in text, f"params.yaml no longer holds {low!r}"
    params.write_text(text.replace(low, "low: {alert_after: 1, clear_after: 1}"))
    project.commit_all("Monitor from prepared reports; open after 1 window, clear after 1")
    git(root, "clone", "--quiet", "--bare", str(project.path), str(root / "seed.git"))
    return root / "seed.git", project.path / "data" / "raw" / "breast_cancer.csv"


def prepared_reports(folder: Path, window: str, production_breaches: bool) -> Path:
    """This window's reports of both environments (staging always clean)."""
    for environment in ("staging", "production"):
        breached = production_breaches and environment == "production"
        report: dict[str, Any] = {
            "environment": environment, "window": window,
            "status": "alert" if breached else "ok",
            "input_drift": {"breached": breached}, "prediction_drift": {"breached": False},
            "data_quality": {"breached": False},
            "quality": {"breached": breached, "basis": "realized"},
        }
        target = folder / window / environment
        target.mkdir(parents=True)
        (target / f"{window}.json").write_text(json.dumps(report))
        (target / f"{window}.md").write_text(f"# {environment} {window}\n\nroc_auc fell\n")
    return folder / window


def logs_with_labels(folder: Path, sample: Path) -> Path:
    """LABELED logged production predictions (new rows: inputs x 1.01) and their late labels."""
    with sample.open() as handle:
        rows = [row for _, row in zip(range(LABELED), csv.DictReader(handle))]
    folder.mkdir(parents=True)
    (folder / "labels").mkdir()
    # The service's log format (docs/monitoring.md): an hour's CSV file per process.
    features = [name for name in rows[0] if name != "malignant"]
    log = folder / f"predictions-20261129T10-{'a' * 16}-host-1.csv"
    labels = ["id,label"]
    with log.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "time", "lineage_id", "environment", "status", "reason",
                         *features, "probability", "label"])
        for n, row in enumerate(rows):
            inputs = [round(float(row[name]) * 1.01, 6) for name in features]
            writer.writerow([f"p{n}", "2026-11-29T10:00:00.000000Z", "a" * 16, "production",
                             "ok", "", *inputs, 0.5, 1])
            labels.append(f"p{n},{row['malignant']}")
    (folder / "labels" / "batch-1.csv").write_text("\n".join(labels) + "\n")
    return folder


def alert_issues(run) -> list[dict[str, Any]]:
    return [i for i in run.gh_state().get("issues", []) if i["title"].startswith("Monitor alert")]


@pytest.mark.slow
def test_monitor_workflow_opens_updates_and_closes_issues_and_proposes_one_retrain(
        seed, tmp_path, act_venv):
    bare, sample = seed
    repo = GitHubRepo.from_bare(bare, tmp_path / "github", REPO)
    fixtures, standins = tmp_path / "reports", tmp_path / "standins"
    logs = logs_with_labels(tmp_path / "logs", sample)

    def monitor(event: str, window: str, breaches: bool):
        payload = (repo.dispatch_event({"environment": "production"})
                   if event == "workflow_dispatch" else
                   {"schedule": "23 6 * * *", "repository": repo.repository()})
        # act runs a matrix's jobs at once (it honours max-parallel, not --concurrent-jobs)
        # in the test's one environment: neither may re-install it under the other. The
        # setup-python stand-in sees it holds their lock, so neither runs `make install`,
        # and each imports its own checkout's code first (PYTHONPATH).
        env = {"MONITOR_FIXTURES": str(prepared_reports(fixtures, window, breaches))}
        result = run_act(repo, event, payload, WORKFLOW, act_venv, standins,
                         "--var", f"PREDICTION_LOGS={logs}", extra_env=env)
        assert result.returncode == 0, result.explain()
        return result

    first = monitor("schedule", "2026-11-01", True)
    state_issues = [i for i in first.gh_state()["issues"] if i["title"].startswith("Monitor state")]
    assert sorted(i["title"].split(":")[1].split()[0] for i in state_issues) == [
        "production", "staging"]  # the schedule watched both
    opened = {i["title"]: i for i in alert_issues(first)}
    assert sorted(opened) == ["Monitor alert: input drift in production",
                              "Monitor alert: model quality in production"]
    assert all("docs/runbooks/drift-alert.md" in i["body"] for i in opened.values())
    [pull] = first.gh_state()["pulls"]
    assert pull["head"] == "retrain/production" and pull["base"] == "main"
    assert "# production 2026-11-01" in pull["body"]
    changed = git(repo.origin, "diff", "--name-only", "main", "retrain/production").splitlines()
    assert changed == ["data/raw/breast_cancer.csv.dvc"]  # a new data pin; nothing deploys

    second = monitor("workflow_dispatch", "2026-11-02", True)
    assert {i["number"] for i in alert_issues(second)} == {i["number"] for i in opened.values()}
    assert all("2 window(s) in a row" in i["body"] for i in alert_issues(second))
    [pull] = second.gh_state()["pulls"]  # updated, not duplicated
    assert "# production 2026-11-02" in pull["body"]

    third = monitor("workflow_dispatch", "2026-11-03", False)
    assert {i["state"] for i in alert_issues(third)} == {"closed"}
    for issue in alert_issues(third):
        [comment] = third.gh_state()["comments"][str(issue["number"])]
        assert comment["body"].startswith("Cleared: ")
    assert len(third.gh_state()["pulls"]) == 1
