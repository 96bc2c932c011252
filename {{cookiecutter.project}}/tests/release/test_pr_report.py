"""The one pull request comment: what it says, and that it is posted once then updated."""

import json

import pytest

from {{ cookiecutter.package }}.config import PACKAGE, SERVICE_NAME
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.release import pr_report
from {{ cookiecutter.package }}.release.pr_report import MARKER, publish, render_comment, verdict

LINEAGE = {
    "lineage_id": "a" * 16,
    "risk_tier": "low",
    "model": {"tag": f"{PACKAGE}:{'a' * 16}", "digest": "sha256:" + "a" * 64},
    "code": {"commit": "c" * 40, "dirty": True},
}


def gate_report(passed: bool, mode: str = "enforce") -> dict:
    return {
        "passed": passed,
        "mode": mode,
        "risk_tier": "low",
        "bento_tag": f"{SERVICE_NAME}:{'b' * 16}",
        "lineage_id": LINEAGE["lineage_id"],
        "gates": [
            {"name": "baseline", "passed": passed, "message": "roc_auc 0.51 < 0.6"},
            {"name": "data contract", "passed": True, "message": "ok"},
        ],
    }


@pytest.fixture
def reported(repo, monkeypatch):
    """A repository whose pipeline wrote a lineage and a gate report (dvc diff left out)."""
    monkeypatch.setattr(pr_report, "diff_markdown", lambda root, kind, base: f"{kind} table")
    write_json(LINEAGE, repo.lineage)
    repo.reports_dir.mkdir()
    (repo.reports_dir / "gate.md").write_text("### Gates\n\n| baseline | FAILED |\n")
    return repo


def test_the_comment_carries_the_verdict_bento_diffs_gates_and_lineage(reported):
    write_json(gate_report(passed=False), reported.reports_dir / "gate.json")
    body = publish(reported, "f" * 40, None, None, "failure")
    assert body.startswith(MARKER)
    assert "**Gates FAILED** (the check fails): baseline: roc_auc 0.51 < 0.6" in body
    assert f"Bento: `{SERVICE_NAME}:{'b' * 16}`" in body
    assert "metrics table" in body and "params table" in body
    assert "| baseline | FAILED |" in body
    assert f"`{'c' * 40} (dirty)`" in body
    assert "printed, not posted" in body
    assert (reported.reports_dir / "pr-comment.md").read_text() in body


def test_a_gate_report_of_another_model_is_not_shown(reported):
    stale = gate_report(passed=True) | {"lineage_id": "b" * 16}
    write_json(stale, reported.reports_dir / "gate.json")
    body = render_comment(reported, "f" * 40, "failure")
    assert "**No gate report** for this commit: `dvc repro` ended with `failure`" in body
    assert "Bento: `not built`" in body and "| baseline | FAILED |" not in body


def test_warn_mode_says_the_failure_is_not_blocking():
    assert "warn mode: not blocking" in verdict(gate_report(False, mode="warn"), "success")
    assert verdict(gate_report(True), "success").startswith("**Gates passed**")


def test_the_first_comment_is_posted_then_updated_never_duplicated(reported, stand_in):
    write_json(gate_report(passed=True), reported.reports_dir / "gate.json")
    gh = stand_in("gh", {"api --paginate": "[[]]"})
    assert publish(reported, "f" * 40, "12", "o/r", "success") == "pr-comment: created on o/r#12"
    posted = gh.calls()[-1]
    assert posted[:4] == ["api", "--method", "POST", "repos/o/r/issues/12/comments"]

    ours = [[{"id": 5, "body": "someone else"}, {"id": 9, "body": f"{MARKER}\nold"}]]
    gh = stand_in("gh", {"api --paginate": json.dumps(ours)})
    message = publish(reported, "f" * 40, "12", "o/r", "success")
    assert message == "pr-comment: updated comment 9 on o/r#12"
    assert gh.calls()[-1][:4] == ["api", "--method", "PATCH", "repos/o/r/issues/comments/9"]
    assert sum("POST" in call for call in gh.calls()) == 1  # the first run's, only
