"""The deploy plan: which manifests a push changed, and the GitHub environment of each."""

import json

from {{ cookiecutter.package }}.deploy.plan import NO_COMMIT, plan_outputs
from {{ cookiecutter.package }}.shell import git


def head(repo) -> str:
    return git(repo.root, "rev-parse", "HEAD")


def test_a_push_that_changed_one_manifest_deploys_that_environment_only(repo, promote_seed):
    promote_seed("production", "a")
    before = head(repo)
    promote_seed("staging", "b")
    outputs = plan_outputs(repo.root, before, head(repo))
    assert outputs["staging"] == "true" and outputs["production"] == "false"
    assert outputs["staging_environment"] == "staging"
    assert outputs["production_environment"] == ""
    (plan,) = json.loads(outputs["plan"])
    assert plan["bento_tag"].endswith("b" * 16)


def test_high_risk_production_deploys_in_the_reviewed_environment(repo, promote_seed):
    before = head(repo)
    promote_seed("production", "a", risk_tier="high")
    outputs = plan_outputs(repo.root, before, head(repo))
    assert outputs["production_environment"] == "production-high-risk"


def test_lowering_the_tier_still_needs_the_approvers(repo, promote_seed):
    promote_seed("production", "a", risk_tier="high")
    before = head(repo)
    promote_seed("production", "b", risk_tier="low")
    outputs = plan_outputs(repo.root, before, head(repo))
    assert outputs["production_environment"] == "production-high-risk"


def test_a_first_push_plans_from_the_last_commit(repo, promote_seed):
    promote_seed("staging", "a")
    outputs = plan_outputs(repo.root, NO_COMMIT, head(repo))
    assert outputs["staging"] == "true" and outputs["production"] == "false"


def test_a_deleted_manifest_deploys_nothing(repo, promote_seed):
    promote_seed("staging", "a")
    before = head(repo)
    git(repo.root, "rm", "--quiet", "deploy/staging.yaml")
    git(repo.root, "commit", "--quiet", "-m", "Stop serving staging")
    outputs = plan_outputs(repo.root, before, head(repo))
    assert outputs["staging"] == "false"
    assert json.loads(outputs["plan"])[0]["reason"] == "deploy/staging.yaml deleted"


def test_a_push_that_changed_no_manifest_deploys_nothing(repo, promote_seed):
    promote_seed("staging", "a")
    before = head(repo)
    (repo.root / "README.md").write_text("docs\n")
    git(repo.root, "add", "README.md")
    git(repo.root, "commit", "--quiet", "-m", "Docs")
    outputs = plan_outputs(repo.root, before, head(repo))
    assert outputs == {
        "plan": "[]",
        "staging": "false",
        "staging_environment": "",
        "production": "false",
        "production_environment": "",
    }
