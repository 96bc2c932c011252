"""The PR comment tells the approvers when a pull request changes a gate setting."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.release.pr_report import gate_setting_changes, gate_settings_notice
from {{ cookiecutter.package }}.shell import git

PROJECT = Path(__file__).resolve().parents[2]
PARAMS = {
    "train": {"C": 1.0},
    "gate": {"mode": "enforce", "thresholds": {"low": {"min_metric": 0.9}}},
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Paths:
    """A repository whose base commit holds PARAMS."""
    for key in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{key}_NAME", "test")
        monkeypatch.setenv(f"GIT_{key}_EMAIL", "test@example.com")
    git(tmp_path, "init", "--quiet")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    git(tmp_path, "add", "params.yaml")
    git(tmp_path, "commit", "--quiet", "-m", "base")
    return Paths(tmp_path)


def change(repo: Paths, section: str, key: str, value) -> None:
    params = yaml.safe_load(repo.params.read_text())
    params[section][key] = value
    repo.params.write_text(yaml.safe_dump(params))


def test_weakening_a_gate_is_said_in_bold_with_old_and_new_values(repo):
    change(repo, "gate", "mode", "warn")
    change(repo, "gate", "thresholds", {"low": {"min_metric": 0.5}})
    notice = gate_settings_notice(gate_setting_changes(repo, "HEAD"))
    assert notice is not None
    assert notice.startswith("**This pull request changes gate settings**")
    assert "`gate.mode` enforce → warn" in notice
    assert "`gate.thresholds.low.min_metric` 0.9 → 0.5" in notice


def test_a_gate_setting_added_or_removed_counts_as_a_change(repo):
    change(repo, "gate", "parity_tolerance", 0.1)
    assert gate_setting_changes(repo, "HEAD") == ["`gate.parity_tolerance` unset → 0.1"]


def test_changing_only_model_params_says_nothing_about_gates(repo):
    change(repo, "train", "C", 0.5)
    assert gate_setting_changes(repo, "HEAD") == []
    assert gate_settings_notice([]) is None


def test_a_base_without_a_gate_section_counts_every_gate_setting_as_new(repo):
    repo.params.write_text(yaml.safe_dump({"train": PARAMS["train"]}))
    git(repo.root, "commit", "--quiet", "-am", "no gate section")
    repo.params.write_text(yaml.safe_dump(PARAMS))
    assert "`gate.mode` unset → enforce" in gate_setting_changes(repo, "HEAD")


def test_a_base_that_cannot_be_read_is_flagged_not_taken_as_unchanged(repo):
    changes = gate_setting_changes(repo, "no-such-branch")
    assert len(changes) == 1
    assert "params.yaml at `no-such-bran` could not be read" in changes[0]
    assert gate_settings_notice(changes).startswith("**This pull request changes gate settings**")


def test_the_approvers_own_params_yaml_and_the_manifests():
    owners = (PROJECT / ".github" / "CODEOWNERS").read_text().splitlines()
    owned = {line.split()[0] for line in owners if line.strip() and not line.startswith("#")}
    assert {"/deploy/", "/params.yaml"} <= owned
