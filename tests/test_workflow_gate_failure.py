"""A pull request whose model the gates stop, under ci.yml's `gates` job, offline.

A change that breaks training (it shuffles the labels: the model learns
nothing) is pushed to a pull request whose CI commented before: the check fails
at the gate, and the comment it left is updated to say why, not posted again.
The earlier comment is one the gh stand-in already holds, as GitHub would, so
this module needs no earlier run and runs beside test_workflows.py.
"""

from pathlib import Path

import pytest
from act.harness import ActRun, GitHubRepo, gh_holds_comment, git, run_act
from conftest import MARKER, PR_NUMBER, REPO

EARLIER_COMMENT = {"id": 4242, "body": f"{MARKER}\n**Gates passed** (an earlier push)",
                   "user": {"login": "github-actions[bot]"}}


@pytest.fixture(scope="module")
def degraded(seed: Path, tmp_path_factory, act_venv) -> ActRun:
    root = tmp_path_factory.mktemp("gate-failure")
    repo = GitHubRepo.from_bare(seed, root, REPO)
    git(repo.work, "switch", "--quiet", "-c", "feature")
    repo.edit("src/sample_classifier/pipeline/train.py",
              "model.fit(train[feature_names()], train[label])",
              "model.fit(train[feature_names()], train[label].sample(frac=1.0, random_state=0))")
    repo.commit("Refactor training", "src/sample_classifier/pipeline/train.py")
    repo.push("feature")
    standins = root / "standins"
    gh_holds_comment(standins, PR_NUMBER, EARLIER_COMMENT)
    return run_act(repo, "pull_request", repo.pull_request_event(PR_NUMBER, "feature"),
                   "ci.yml", act_venv, standins, "-j", "gates")


@pytest.mark.slow
def test_a_degraded_model_pushed_to_the_pr_fails_at_the_gate_and_says_why(degraded):
    assert degraded.result("gates") == "failed", degraded.explain()
    assert degraded.returncode != 0
    log = degraded.log("gates")
    assert "Failure - Main Train through the gates" in log
    assert "ERROR: a gate failed" in log
    [comment] = degraded.comments(PR_NUMBER)
    body = comment["body"]
    assert "**Gates FAILED** (the check fails): baseline: " in body
    assert "| baseline | **FAIL** |" in body
    assert "model.roc_auc" in body  # the metrics diff says how much worse


@pytest.mark.slow
def test_the_comment_of_the_earlier_run_is_updated_not_posted_again(degraded):
    [updated] = degraded.comments(PR_NUMBER)
    assert updated["id"] == EARLIER_COMMENT["id"]
    [patch] = degraded.api_calls("PATCH")
    assert patch["argv"][-3].endswith(f"/issues/comments/{EARLIER_COMMENT['id']}")
    assert degraded.api_calls("POST") == []
