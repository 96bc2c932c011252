"""On the Kubernetes target: promote -> deploy -> rollback -> deploy, with no hand edits.

Each step is one commit, holding the manifest, its lineage and its rendered
objects; the rendered objects always match the manifest, and what `deploy`
applies runs the manifest's image. kubectl is a recording stand-in.
"""

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import Paths, manifest_relative, rendered_relative
from {{ cookiecutter.package }}.deploy.manifest import load_manifest
from {{ cookiecutter.package }}.deploy.targets.kubernetes import check_rendered, images_in
from {{ cookiecutter.package }}.deploy.targets.kubernetes_files import rendered_dir
from {{ cookiecutter.package }}.shell import git

ENVIRONMENT = "production"


def files_of_last_commit(p: Paths) -> set[str]:
    return set(git(p.root, "show", "--name-only", "--format=", "HEAD").split())


def deploy(p: Paths, monkeypatch: pytest.MonkeyPatch) -> str:
    """`<package> deploy production` with DEPLOY_TARGET=kubernetes, from the checkout."""
    monkeypatch.chdir(p.root)
    monkeypatch.setenv("DEPLOY_TARGET", "kubernetes")
    result = CliRunner().invoke(cli, ["deploy", ENVIRONMENT])
    assert result.exit_code == 0, result.output
    return result.output


def served_images(p: Paths) -> set[str]:
    folder = rendered_dir(p, ENVIRONMENT)
    return images_in({path.name: path.read_text() for path in folder.glob("*.yaml")})


def assert_one_commit_in_step(p: Paths, commits_before: int) -> None:
    assert commit_count(p) == commits_before + 1
    own = (manifest_relative(ENVIRONMENT), f"{rendered_relative(ENVIRONMENT)}/")
    changed = files_of_last_commit(p)
    assert manifest_relative(ENVIRONMENT) in changed
    assert any(path.startswith(own[1]) for path in changed), changed
    assert [path for path in changed if not path.startswith(own) and "lineage" not in path] == []


def deployed(p: Paths, monkeypatch: pytest.MonkeyPatch, kubectl) -> str:
    """Deploy; check what was applied is the manifest's rendering. Returns its image."""
    manifest = load_manifest(p.manifest(ENVIRONMENT))
    check_rendered(p, manifest)
    kept = {manifest.current.image, manifest.previous and manifest.previous.image}
    assert manifest.current.image in served_images(p) <= kept  # the previous stays warm
    before = len(kubectl.calls())
    deploy(p, monkeypatch)
    steps = kubectl.calls()[before:]
    assert [step[0] for step in steps] == ["apply", "rollout", "apply"]
    assert steps[0][steps[0].index("-k") + 1] == rendered_relative(ENVIRONMENT)
    assert manifest.current.image is not None
    return manifest.current.image


def commit_count(p: Paths) -> int:
    return int(git(p.root, "rev-list", "--count", "HEAD"))


def test_promote_deploy_rollback_deploy_on_kubernetes(repo, promote_seed, stand_in, monkeypatch):
    kubectl = stand_in("kubectl")
    promote_seed(ENVIRONMENT, "a")
    first = deployed(repo, monkeypatch, kubectl)

    before = commit_count(repo)
    promote_seed(ENVIRONMENT, "b")
    assert_one_commit_in_step(repo, before)
    assert deployed(repo, monkeypatch, kubectl) != first

    before = commit_count(repo)
    monkeypatch.chdir(repo.root)
    result = CliRunner().invoke(cli, ["rollback", ENVIRONMENT])
    assert result.exit_code == 0, result.output
    assert_one_commit_in_step(repo, before)
    assert "This reverts commit" in git(repo.root, "log", "-1", "--format=%B")
    assert deployed(repo, monkeypatch, kubectl) == first
