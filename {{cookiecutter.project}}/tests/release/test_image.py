"""The image's engine and digest: Docker where its daemon answers, buildah otherwise,
and the digest the push reports (the registry's), never a local listing's."""

from pathlib import Path

import pytest

from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.image import (
    choose_backend,
    engine_env,
    push_by_digest,
    registry_login,
)

DIGEST = "sha256:" + "ab" * 32


def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **scripts: str) -> None:
    """Only these commands on PATH, each a shell script body."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in scripts.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_docker_builds_where_its_daemon_answers(repo, tmp_path, monkeypatch):
    tools(tmp_path, monkeypatch, docker="exit 0", buildah="exit 0")
    assert choose_backend(repo.root, None) == "docker"


def test_a_docker_client_without_its_daemon_leaves_the_build_to_buildah(
    repo, tmp_path, monkeypatch
):
    no_daemon = "echo 'Cannot connect to the Docker daemon' >&2; exit 1"
    tools(tmp_path, monkeypatch, docker=no_daemon, buildah="exit 0")
    assert choose_backend(repo.root, "") == "buildah"


def test_without_any_engine_the_error_says_what_to_install(repo, tmp_path, monkeypatch):
    tools(tmp_path, monkeypatch)
    with pytest.raises(ReleaseError, match="no container engine: start Docker, or install buildah"):
        choose_backend(repo.root, None)


def test_a_named_engine_wins_and_an_unknown_one_is_refused(repo, tmp_path, monkeypatch):
    tools(tmp_path, monkeypatch, docker="exit 0")
    assert choose_backend(repo.root, "podman") == "podman"
    with pytest.raises(ReleaseError, match="CONTAINER_BACKEND=kaniko: expected one of"):
        choose_backend(repo.root, "kaniko")


def test_buildah_isolates_with_chroot_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("BUILDAH_ISOLATION", raising=False)
    assert engine_env("buildah")["BUILDAH_ISOLATION"] == "chroot"
    assert "BUILDAH_ISOLATION" not in engine_env("docker")
    monkeypatch.setenv("BUILDAH_ISOLATION", "oci")
    assert engine_env("buildah")["BUILDAH_ISOLATION"] == "oci"


def test_buildah_pushes_and_the_digest_is_the_one_it_wrote(repo, tmp_path, monkeypatch):
    # `push --digestfile FILE REF`: the registry's digest, written by the push itself.
    tools(tmp_path, monkeypatch, buildah=f'echo "$*" > "{tmp_path}/argv"; echo {DIGEST} > "$3"')
    assert push_by_digest(repo.root, "buildah", "registry.example.com/m:1") == DIGEST
    assert (tmp_path / "argv").read_text().split()[-1] == "registry.example.com/m:1"


def test_a_push_that_reports_no_digest_fails_and_names_the_reference(repo, tmp_path, monkeypatch):
    # A digest file left by an earlier push must never be taken for this one's.
    stale = repo.root / "build" / "image.digest"
    stale.parent.mkdir()
    stale.write_text(DIGEST)
    tools(tmp_path, monkeypatch, buildah="exit 0")
    with pytest.raises(ReleaseError, match=r"`buildah push registry.example.com/m:2` reported no"):
        push_by_digest(repo.root, "buildah", "registry.example.com/m:2")


def test_docker_push_digest_is_read_from_what_the_registry_answered(repo, tmp_path, monkeypatch):
    tools(tmp_path, monkeypatch, docker=f'echo "2: digest: {DIGEST} size: 1573"')
    assert push_by_digest(repo.root, "docker", "registry.example.com/m:2") == DIGEST
    tools(tmp_path / "again", monkeypatch, docker="echo 'pushed'")
    with pytest.raises(ReleaseError, match="printed no digest"):
        push_by_digest(repo.root, "docker", "registry.example.com/m:2")


def test_the_login_puts_the_registry_last_as_buildah_requires(repo, tmp_path, monkeypatch):
    # buildah 1.28 refuses `login HOST --username ...` ("too many arguments").
    check = '[ "$1 $2 $3 $4 $5" = "login --username bot --password-stdin registry.example.com" ]'
    save = f'read -r password; printf %s "$password" > "{tmp_path}/password"'
    tools(tmp_path, monkeypatch, buildah=f"{check} && {save}")
    monkeypatch.setenv("REGISTRY_USER", "bot")
    monkeypatch.setenv("REGISTRY_PASSWORD", "token")
    registry_login(repo.root, "buildah", "registry.example.com/team/model")
    assert (tmp_path / "password").read_text() == "token"
