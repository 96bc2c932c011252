"""The version a promotion names: the release `make image` recorded, of this lineage,
and only if its gates passed (or only warned) on that lineage."""

import json

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import ProjectFileError
from {{ cookiecutter.package }}.deploy.manifest import load_manifest
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.promotion import load_release, released_version
from {{ cookiecutter.package }}.shell import git

PASSED = {"passed": True, "mode": "enforce", "failed": []}
FAILED = {"passed": False, "mode": "enforce", "failed": ["baseline"]}


def release_record(lineage_id: str, gates: dict | None = PASSED) -> dict:
    seed = lineage_id[0]
    return {
        "bento_tag": f"svc:{seed * 16}",
        "model_tag": f"model:{seed * 16}",
        "lineage_id": lineage_id,
        "image": f"registry.example.com/team/model@sha256:{seed * 64}",
        "gates": gates,
    }


LINEAGE = {
    "lineage_id": "a" * 16,
    "risk_tier": "low",
    "model": {"tag": "model:" + "a" * 16, "digest": "sha256:" + "a" * 64},
    "metrics": {"model": {"roc_auc": 0.97}},
}


def gate_report(lineage_id: str, passed: bool, mode: str = "enforce") -> dict:
    """reports/gate.json as the gate stage writes it."""
    gates = [{"name": "baseline", "passed": passed}, {"name": "parity", "passed": True}]
    return {"lineage_id": lineage_id, "passed": passed, "mode": mode, "gates": gates}


@pytest.fixture
def promote(repo, monkeypatch):
    """`promote(env)`: the promote command in the repository, which has LINEAGE trained."""
    write_json(LINEAGE, repo.lineage)
    repo.reports_dir.mkdir()
    monkeypatch.chdir(repo.root)

    def run(environment: str = "staging"):
        return CliRunner().invoke(cli, ["promote", environment])

    return run


def test_without_a_release_the_error_says_to_run_make_image(repo):
    with pytest.raises(ReleaseError, match=r"release\.json is missing: run `make image` first"):
        load_release(repo)


def test_the_release_comes_from_the_environment_in_ci(repo, monkeypatch):
    monkeypatch.setenv("RELEASE_JSON", json.dumps(release_record("a" * 16)))
    assert load_release(repo)["lineage_id"] == "a" * 16


def test_a_release_of_another_lineage_is_refused(repo):
    write_json({"lineage_id": "b" * 16}, repo.lineage)
    repo.reports_dir.mkdir()
    write_json(release_record("a" * 16), repo.reports_dir / "release.json")
    with pytest.raises(ReleaseError, match="run `make repro` and `make image` on the same commit"):
        released_version(repo)


def test_the_release_of_this_lineage_is_the_version_to_promote(repo):
    write_json({"lineage_id": "a" * 16}, repo.lineage)
    repo.reports_dir.mkdir()
    write_json(release_record("a" * 16), repo.reports_dir / "release.json")
    lineage, version, gates = released_version(repo)
    assert gates == PASSED
    assert version.image is not None and version.image.endswith("a" * 64)
    assert lineage["lineage_id"] == version.lineage_id


def test_the_promote_command_commits_the_release_to_the_environment(repo, promote, monkeypatch):
    monkeypatch.setenv("RELEASE_JSON", json.dumps(release_record("a" * 16)))
    result = promote()
    assert result.exit_code == 0, result.output
    current = load_manifest(repo.manifest("staging")).current
    assert (current.image, current.lineage_id) == (release_record("a" * 16)["image"], "a" * 16)
    changed = git(repo.root, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert "deploy/staging.yaml" in changed


def assert_refused(result, repo, reason: str) -> None:
    """Exit 1, one line saying why, and nothing written or committed."""
    assert result.exit_code == 1, result.output
    assert reason in result.output
    assert "Traceback" not in result.output
    assert not repo.manifest("staging").exists()
    assert git(repo.root, "rev-list", "--count", "HEAD") == "1"


def test_a_release_whose_gates_failed_in_enforce_mode_is_not_promoted(repo, promote, monkeypatch):
    monkeypatch.setenv("RELEASE_JSON", json.dumps(release_record("a" * 16, gates=FAILED)))
    reason = f"lineage {'a' * 16} failed its gates in enforce mode (baseline)"
    assert_refused(promote(), repo, reason)


def test_a_release_that_carries_no_gate_verdict_is_not_promoted(repo, promote, monkeypatch):
    monkeypatch.setenv("RELEASE_JSON", json.dumps(release_record("a" * 16, gates=None)))
    assert_refused(promote(), repo, f"the gates have not run on lineage {'a' * 16}")


def test_gates_that_failed_in_warn_mode_promote_with_a_warning(repo, promote, monkeypatch):
    warned = {"passed": False, "mode": "warn", "failed": ["baseline"]}
    monkeypatch.setenv("RELEASE_JSON", json.dumps(release_record("a" * 16, gates=warned)))
    result = promote()
    assert result.exit_code == 0, result.output
    assert "warning: gates failed in warn mode, not blocking: baseline" in result.output
    assert load_manifest(repo.manifest("staging")).current.lineage_id == "a" * 16


# Without a release, the last trained model: its gate report must be of its lineage and pass.


def test_a_trained_model_the_gates_never_judged_is_not_promoted(repo, promote):
    assert_refused(promote(), repo, f"the gates have not run on lineage {'a' * 16}")


def test_a_gate_report_of_another_model_does_not_clear_this_one(repo, promote):
    write_json(gate_report("b" * 16, passed=True), repo.reports_dir / "gate.json")
    assert_refused(promote(), repo, "reports/gate.json is missing or names another model")


def test_a_trained_model_whose_gates_failed_is_not_promoted(repo, promote):
    write_json(gate_report("a" * 16, passed=False), repo.reports_dir / "gate.json")
    reason = f"lineage {'a' * 16} failed its gates in enforce mode (baseline)"
    assert_refused(promote(), repo, reason)


def test_a_broken_manifest_stops_the_promotion_before_it_writes(repo, promote, monkeypatch):
    """A project file error: the installed command prints it as one line (test_commands.py)."""
    monkeypatch.setenv("RELEASE_JSON", json.dumps(release_record("a" * 16)))
    repo.manifest("staging").parent.mkdir(exist_ok=True)
    repo.manifest("staging").write_text("current: [unclosed\n")
    result = promote()
    assert isinstance(result.exception, ProjectFileError), result.output
    assert "staging.yaml is not valid YAML" in str(result.exception)
    assert repo.manifest("staging").read_text() == "current: [unclosed\n"
    assert git(repo.root, "rev-list", "--count", "HEAD") == "1"
