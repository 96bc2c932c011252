"""`lineage --env` answers on a fresh clone: each promotion commits the lineage of
the version it deploys (deploy/lineage/<env>.json), and a rollback restores it."""

from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package }} import model_store
from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.lineage import find_lineage
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.promotion import candidate_version, promote
from {{ cookiecutter.package }}.release.rollback import rollback
from {{ cookiecutter.package }}.shell import git


def trained(n: int) -> dict[str, Any]:
    """The part of a lineage record promotion and lookup read; n (1-9) tells versions apart
    (in the first characters too: the rendered Kubernetes names use them)."""
    return {
        "lineage_id": str(n) * 16,
        "model": {"tag": f"model:{str(n) * 16}"},
        "metrics": {"model": {"roc_auc": 0.9 + n / 100}},
        "risk_tier": "low",
    }


def image(n: int) -> str:
    return f"registry.example/svc@sha256:{n:064x}"


@pytest.fixture
def origin(tmp_path: Path, monkeypatch) -> Paths:
    """A repository where version 1, then version 2 were promoted to production."""
    for key in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{key}_NAME", "test")
        monkeypatch.setenv(f"GIT_{key}_EMAIL", "test@example.com")
    root = tmp_path / "origin"
    root.mkdir()
    git(root, "init", "--quiet")
    (root / "dvc.yaml").write_text("stages: {}\n")
    (root / "params.yaml").write_text("gate: {risk_tier: low}\n")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "project")
    p = Paths(root)
    for n in (1, 2):
        version = candidate_version(trained(n), f"svc:{str(n) * 16}", image(n))
        promote(p, "production", trained(n), version, proposal=False)
    return p


@pytest.fixture
def empty_store(monkeypatch) -> None:
    """A fresh clone's model store: nothing trained here."""

    def stored_lineage(tag: str) -> dict[str, Any]:
        raise LookupError(f"model {tag} is not in the model store")

    monkeypatch.setattr(model_store, "stored_lineage", stored_lineage)


def fresh_clone(origin: Paths) -> Paths:
    clone = origin.root.parent / "clone"
    git(origin.root.parent, "clone", "--quiet", str(origin.root), str(clone))
    return Paths(clone)


def test_a_fresh_clone_answers_lineage_of_an_environment_from_git(origin, empty_store):
    clone = fresh_clone(origin)
    assert find_lineage(clone, None, "production") == trained(2)


def test_a_fresh_clone_finds_a_deployed_model_by_its_tag(origin, empty_store):
    assert find_lineage(fresh_clone(origin), "model:2222222222222222", None) == trained(2)


def test_the_promotion_commit_holds_the_lineage_and_a_rollback_restores_the_previous(
    origin, empty_store
):
    files = git(origin.root, "show", "--format=", "--name-only", "HEAD").splitlines()
    assert "deploy/lineage/production.json" in files
    rollback(origin.root, "production")  # refused if the lineage file were not a deploy file
    assert find_lineage(origin, None, "production") == trained(1)


def test_without_the_committed_lineage_the_error_says_what_is_missing_and_what_to_run(
    origin, empty_store
):
    clone = fresh_clone(origin)
    clone.deployed_lineage("production").unlink()
    with pytest.raises(LookupError) as error:
        find_lineage(clone, None, "production")
    message = str(error.value)
    assert "\n" not in message
    assert "production serves lineage 2222222222222222" in message
    assert "deploy/lineage/production.json is missing" in message
    assert "`git pull`" in message


def test_a_committed_lineage_of_another_version_is_not_taken_for_the_serving_one(
    origin, empty_store
):
    clone = fresh_clone(origin)
    clone.deployed_lineage("production").write_text('{"lineage_id": "00000000000000ff"}')
    with pytest.raises(LookupError, match="names another lineage"):
        find_lineage(clone, None, "production")


def test_promotion_refuses_a_lineage_that_is_not_the_version_it_deploys(origin):
    version = candidate_version(trained(3), "svc:3333333333333333", image(3))
    with pytest.raises(ReleaseError, match="promote the lineage of the version it names"):
        promote(origin, "production", trained(4), version, proposal=False)
