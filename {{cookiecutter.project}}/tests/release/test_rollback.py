"""Rollback, the one owner: revert the last manifest commit, refuse what a revert cannot undo.

The CLI, `make rollback` and rollback.yml (which runs `make rollback`) all end
in `release.rollback`; the runbook's command run twice must not undo the
first rollback.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.deploy.manifest import load_manifest
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.rollback import rollback
from {{ cookiecutter.package }}.shell import git

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def serving(p: Paths, environment: str = "production") -> str:
    return load_manifest(p.manifest(environment)).current.lineage_id[0]


@pytest.fixture
def two_promotions(repo, promote_seed) -> Paths:
    promote_seed("production", "a")
    promote_seed("production", "b")
    return repo


def test_rollback_reverts_the_last_promotion(two_promotions):
    done = rollback(two_promotions.root, "production")
    assert serving(two_promotions) == "a"
    assert "Promote" in done.subject and done.warning is None
    assert "This reverts commit" in git(two_promotions.root, "log", "-1", "--format=%B")


def test_a_revert_of_a_revert_is_refused_and_changes_nothing(two_promotions):
    rollback(two_promotions.root, "production")
    head = git(two_promotions.root, "rev-parse", "HEAD")
    with pytest.raises(ReleaseError, match="already a rollback; reverting it would re-promote"):
        rollback(two_promotions.root, "production")
    assert git(two_promotions.root, "rev-parse", "HEAD") == head
    assert serving(two_promotions) == "a"


def test_the_commit_that_created_the_manifest_is_refused(repo, promote_seed):
    promote_seed("production", "a")
    with pytest.raises(ReleaseError, match=r"created deploy/production\.yaml: there is no earlier"):
        rollback(repo.root, "production")


def test_a_commit_that_also_changes_other_files_is_refused(two_promotions):
    root = two_promotions.root
    manifest = two_promotions.manifest("production")
    manifest.write_text(manifest.read_text().replace("roc_auc: 0.97", "roc_auc: 0.96"))
    (root / "README.md").write_text("also changed\n")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "Edit the manifest and the README")
    with pytest.raises(ReleaseError, match=r"also changes README\.md; revert it by hand"):
        rollback(root, "production")


def test_an_environment_never_promoted_has_nothing_to_roll_back(repo):
    with pytest.raises(ReleaseError, match=r"no commit has changed deploy/staging\.yaml yet"):
        rollback(repo.root, "staging")


def test_force_reverts_a_revert_and_says_what_it_re_promotes(two_promotions):
    rollback(two_promotions.root, "production")
    done = rollback(two_promotions.root, "production", force=True)
    assert serving(two_promotions) == "b"
    assert done.warning is not None
    assert done.warning.startswith("--force: reverted although")
    assert "re-promote the version it removed" in done.warning


def test_the_cli_twice_leaves_the_first_rollbacks_choice(two_promotions, monkeypatch):
    monkeypatch.chdir(two_promotions.root)
    runner = CliRunner()
    first = runner.invoke(cli, ["rollback", "production"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["rollback", "production"])
    assert second.exit_code == 1
    error = second.output.strip().splitlines()
    assert len(error) == 1 and "refused" in error[0] and "already a rollback" in error[0]
    assert serving(two_promotions) == "a"


def make_rollback(root: Path) -> subprocess.CompletedProcess[str]:
    """`make rollback ENV=production`, as the runbook and rollback.yml run it.

    `-o install`: the environment running these tests is the project's; make
    must not re-install it into this scratch repository.
    """
    venv = Path(sys.executable).parent.parent
    makefile = str(PROJECT_ROOT / "Makefile")
    command = ["make", "-o", "install", "-f", makefile, "rollback", "ENV=production"]
    command.append(f"VENV={venv}")
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def test_make_rollback_twice_opens_one_pull_request_and_keeps_its_choice(
    two_promotions, stand_in, tmp_path
):
    root = two_promotions.root
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(root, "remote", "add", "origin", str(origin))
    gh = stand_in("gh", {"pr list": "[]", "pr create": "https://github.example/pull/7\n"})

    first = make_rollback(root)
    assert first.returncode == 0, first.stderr
    assert "https://github.example/pull/7" in first.stdout
    branch = git(root, "branch", "--show-current")
    assert branch.startswith("rollback/production-")
    assert git(origin, "rev-parse", branch) == git(root, "rev-parse", "HEAD")
    assert serving(two_promotions) == "a"

    second = make_rollback(root)
    assert second.returncode != 0
    assert "already a rollback" in second.stdout + second.stderr
    assert serving(two_promotions) == "a"
    created = [call for call in gh.calls() if call[:2] == ["pr", "create"]]
    assert len(created) == 1
