"""The version a promotion names: the release `make image` recorded, of this lineage."""

import json

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.deploy.manifest import load_manifest
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.promotion import load_release, released_version
from {{ cookiecutter.package }}.shell import git


def release_record(lineage_id: str) -> dict:
    seed = lineage_id[0]
    return {
        "bento_tag": f"svc:{seed * 16}",
        "model_tag": f"model:{seed * 16}",
        "lineage_id": lineage_id,
        "image": f"registry.example.com/team/model@sha256:{seed * 64}",
    }


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
    lineage, version = released_version(repo)
    assert version.image is not None and version.image.endswith("a" * 64)
    assert lineage["lineage_id"] == version.lineage_id


def test_the_promote_command_commits_the_release_to_the_environment(repo, monkeypatch):
    lineage = {
        "lineage_id": "a" * 16,
        "risk_tier": "low",
        "model": {"tag": "model:" + "a" * 16, "digest": "sha256:" + "a" * 64},
        "metrics": {"model": {"roc_auc": 0.97}},
    }
    write_json(lineage, repo.lineage)
    monkeypatch.setenv("RELEASE_JSON", json.dumps(release_record("a" * 16)))
    monkeypatch.chdir(repo.root)
    result = CliRunner().invoke(cli, ["promote", "staging"])
    assert result.exit_code == 0, result.output
    current = load_manifest(repo.manifest("staging")).current
    assert (current.image, current.lineage_id) == (release_record("a" * 16)["image"], "a" * 16)
    changed = git(repo.root, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert "deploy/staging.yaml" in changed
