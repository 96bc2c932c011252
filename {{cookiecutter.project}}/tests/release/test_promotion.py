"""Promotion: one commit moves deploy/<env>.yaml (and its Kubernetes objects) to a version."""

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.deploy.manifest import load_manifest
from {{ cookiecutter.package }}.release.promotion import canary_share
from {{ cookiecutter.package }}.shell import git


def committed_files(p: Paths, rev: str = "HEAD") -> list[str]:
    return git(p.root, "show", "--format=", "--name-only", rev).splitlines()


def test_a_promotion_is_one_commit_of_the_manifest_and_its_rendered_objects(repo, promote_seed):
    before = git(repo.root, "rev-parse", "HEAD")
    message = promote_seed("staging", "a")
    assert git(repo.root, "rev-list", "--count", f"{before}..HEAD") == "1"
    files = committed_files(repo)
    assert "deploy/staging.yaml" in files
    assert "deploy/lineage/staging.json" in files  # what `lineage --env` reads on a clone
    rendered = [f for f in files if f.startswith("deploy/k8s/staging/")]
    assert rendered and len(files) == 2 + len(rendered)
    assert "deploy/staging.yaml now names" in message
    assert git(repo.root, "status", "--porcelain") == ""


def test_promoting_the_serving_version_again_has_nothing_to_promote(repo, promote_seed):
    promote_seed("staging", "a")
    head = git(repo.root, "rev-parse", "HEAD")
    assert "nothing to promote" in promote_seed("staging", "a")
    assert git(repo.root, "rev-parse", "HEAD") == head


def test_the_tier_and_metrics_come_from_the_lineage_not_params(repo, promote_seed):
    in_params = load_params(repo.params)["gate"]["risk_tier"]
    in_lineage = "low" if in_params == "high" else "high"
    promote_seed("staging", "a", risk_tier=in_lineage)
    manifest = load_manifest(repo.manifest("staging"))
    assert manifest.risk_tier == in_lineage
    assert manifest.current.metrics == {"roc_auc": 0.97}
    assert manifest.current.lineage_id == "a" * 16


def test_the_next_promotion_keeps_the_one_before_warm(repo, promote_seed):
    promote_seed("production", "a")
    promote_seed("production", "b")
    manifest = load_manifest(repo.manifest("production"))
    assert manifest.current.lineage_id == "b" * 16
    assert manifest.previous is not None and manifest.previous.lineage_id == "a" * 16
    assert manifest.traffic.canary == 0


def test_a_high_risk_production_promotion_starts_as_a_canary(repo, promote_seed):
    promote_seed("production", "a", risk_tier="high")
    assert load_manifest(repo.manifest("production")).traffic.canary == 0  # nothing to compare
    message = promote_seed("production", "b", risk_tier="high")
    manifest = load_manifest(repo.manifest("production"))
    assert (manifest.traffic.stable, manifest.traffic.canary) == (90, 10)
    assert "(canary 10%)" in message


def test_only_high_risk_production_with_a_previous_version_gets_a_canary(repo):
    assert canary_share(repo, "production", "high", has_previous=True) == 10
    assert canary_share(repo, "production", "low", has_previous=True) == 0
    assert canary_share(repo, "staging", "high", has_previous=True) == 0
    assert canary_share(repo, "production", "high", has_previous=False) == 0
