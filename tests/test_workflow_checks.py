"""ci.yml's `lint` and `test` jobs under act, on a pull request, offline.

Neither job needs a trained model, so the project here is only set up (`make
setup`: git, DVC, the pinned sample), as a repository is before its first
training; this module starts beside the one that trains. The pull request's
`gates` and `service` jobs run in test_workflows.py, on a trained project.

These two runs are where the default project's own checks run in `make test`:
every pre-commit hook on every file, and the project's fast tests with their
coverage floor (the other variants: `make test PYTEST_ARGS='-m exhaustive'`).
"""

from pathlib import Path

import pytest
from act.harness import GitHubRepo, git, run_act
from conftest import PR_NUMBER, PYTEST_SUMMARY, REPO, Project, bake


@pytest.fixture(scope="module")
def checked(tmp_path_factory, project_venv: Path) -> dict[str, object]:
    """The `lint` and `test` jobs of one pull request, each run by act."""
    root = tmp_path_factory.mktemp("checks")
    project = Project(bake(root / "bake"), project_venv, root / "remote")
    project.make("setup")
    git(root, "clone", "--quiet", "--bare", str(project.path), str(root / "seed.git"))
    repo = GitHubRepo.from_bare(root / "seed.git", root / "github", REPO)
    git(repo.work, "switch", "--quiet", "-c", "feature")
    readme = repo.work / "README.md"
    readme.write_text(readme.read_text() + "\nA line a pull request adds.\n")
    repo.commit("Say more in the README", "README.md")
    repo.push("feature")
    event = repo.pull_request_event(PR_NUMBER, "feature")
    return {job: run_act(repo, "pull_request", event, "ci.yml", project_venv,
                         root / f"standins-{job}", "-j", job)
            for job in ("lint", "test")}


@pytest.mark.slow
def test_every_hook_passes_on_every_file(checked):
    run = checked["lint"]
    assert run.result("lint") == "succeeded", f"lint failed:\n{run.log('lint')[-4000:]}"
    log = run.log("lint")
    assert "Success - Main Every pre-commit hook on every file" in log
    assert "Passed" in log and "Failed" not in log


@pytest.mark.slow
def test_the_fast_tests_pass_with_their_coverage_floor(checked):
    run = checked["test"]
    assert run.result("test") == "succeeded", f"test failed:\n{run.log('test')[-4000:]}"
    log = run.log("test")
    summary = PYTEST_SUMMARY.findall(log)
    assert summary and "passed" in summary[-1] and "failed" not in summary[-1], log[-3000:]
    assert "Required test coverage of" in log and "reached" in log


@pytest.mark.slow
def test_both_jobs_check_out_without_keeping_the_token(checked):
    checkouts = [call for run in checked.values() for call in run.action_calls()
                 if call["action"] == "checkout"]
    assert sorted(c["job"] for c in checkouts) == ["lint", "test"]
    assert {c["persist_credentials"] for c in checkouts} == {"false"}
