"""`init-repo` (`make setup`) on a fresh bake: a repository of its own, DVC with its
remote, the bundled sample written, pinned and pushed, a first commit; and run
again, nothing more.

The bake here pins the bundled sample on a local remote, whatever this
project's data and remote are: what `init-repo` does with the sample is the
same in every project, and an S3 remote is set up against an S3 server by the
template's own tests.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }} import bootstrap
from {{ cookiecutter.package }}.bootstrap import SAMPLE_MD5
from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import Paths, paths
from {{ cookiecutter.package }}.shell import git

# A dozen DVC commands, a second or so each.
pytestmark = pytest.mark.slow

SAMPLE = "data/raw/breast_cancer.csv"


@pytest.fixture
def fresh_bake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Paths]:
    """A project folder with no git, no DVC and no data: only the sample's pin."""
    root = tmp_path / "bake"
    (root / "data" / "raw").mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n")
    (root / "params.yaml").write_text(f"data:\n  raw: {SAMPLE}\n")
    pin = f"outs:\n- md5: {SAMPLE_MD5}\n  hash: md5\n  path: {Path(SAMPLE).name}\n"
    (root / f"{SAMPLE}.dvc").write_text(pin)
    monkeypatch.setattr(bootstrap, "DVC_REMOTE", "local")
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
