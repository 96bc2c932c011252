"""`init-repo` (`make setup`) on a fresh bake: a repository of its own, DVC with its
remote, the bundled sample written, pinned and pushed, a first commit; and run
again, nothing more."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.bootstrap import DVC_REMOTE, SAMPLE_MD5
from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import Paths, paths
from {{ cookiecutter.package }}.shell import git

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# A dozen DVC commands, a second or so each.
pytestmark = [pytest.mark.slow, pytest.mark.about_the_sample]


@pytest.fixture
def fresh_bake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Paths]:
    """This project's settings and data pin, with no git, no DVC and no data."""
    if DVC_REMOTE != "local":
        pytest.skip("the S3 remote's set-up is tested against an S3 server by the template")
    root = tmp_path / "bake"
    root.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copyfile(PROJECT_ROOT / name, root / name)
    raw = Paths(PROJECT_ROOT).raw_data.relative_to(PROJECT_ROOT)
    pin = raw.with_name(raw.name + ".dvc")
    (root / pin).parent.mkdir(parents=True)
    shutil.copyfile(PROJECT_ROOT / pin, root / pin)
    monkeypatch.setenv("DVC_REMOTE_DIR", str(tmp_path / "remote"))
    monkeypatch.chdir(root)
    paths.cache_clear()
    yield Paths(root)
    paths.cache_clear()


def init_repo() -> str:
    result = CliRunner().invoke(cli, ["init-repo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_repo_pins_and_pushes_the_sample_then_changes_nothing(fresh_bake: Paths):
    first = init_repo()
    for step in ("created a git repository", "initialised DVC", "DVC remote 'storage'",
                 f"wrote the bundled sample data (md5 {SAMPLE_MD5}", "data pushed",
                 "made the first commit"):  # fmt: skip
        assert f"setup: {step}" in first, first
    remote = fresh_bake.root.parent / "remote"
    assert (remote / "files" / "md5" / SAMPLE_MD5[:2] / SAMPLE_MD5[2:]).exists()
    head = git(fresh_bake.root, "rev-parse", "HEAD")

    again = init_repo()
    assert "created" not in again and "wrote" not in again and "first commit" not in again
    assert git(fresh_bake.root, "rev-parse", "HEAD") == head
    assert git(fresh_bake.root, "status", "--porcelain") == ""
