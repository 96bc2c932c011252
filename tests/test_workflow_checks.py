"""ci.yml's `lint` job under act, on a pull request, offline.

It needs no trained model, so the project here is only set up (`make setup`:
git, DVC, the pinned sample), as a repository is before its first training;
this module starts beside the one that trains. The pull request's `test`,
`gates` and `service` jobs run in test_workflows.py, on a trained project.

This run is where every pre-commit hook of the default project runs on every
file in `make test` (the other variants: `make test PYTEST_ARGS='-m exhaustive'`).
"""

from pathlib import Path

import pytest
from act.harness import ActRun, GitHubRepo, git, run_act
from conftest import PR_NUMBER, REPO, Project, bake


@pytest.fixture(scope="module")
def lint(tmp_path_factory, project_venv: Path) -> ActRun:
    """The `lint` job of one pull request, run by act."""
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
    return run_act(repo, "pull_request", event, "ci.yml", project_venv, root / "standins",
                   "-j", "lint")


@pytest.mark.slow
def test_every_hook_passes_on_every_file(lint):
    assert lint.result("lint") == "succeeded", f"lint failed:\n{lint.log('lint')[-4000:]}"
    log = lint.log("lint")
    assert "Success - Main Every pre-commit hook on every file" in log
    assert "Passed" in log and "Failed" not in log
    [checkout] = [call for call in lint.action_calls() if call["action"] == "checkout"]
    assert checkout["persist_credentials"] == "false"
