"""Pinned data missing from the DVC remote: `pull` (CI) and `init-repo` (a fresh
clone) stop with the file, its hash and the remote, not DVC's stack of lines."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package }}.bootstrap import SetupError, ensure_sample_data
from {{ cookiecutter.package }}.config import PACKAGE, Paths
from {{ cookiecutter.package }}.remote import pinned_md5
from {{ cookiecutter.package }}.shell import git

PIN = "data/raw/breast_cancer.csv.dvc"


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory, pin_with_dvc) -> tuple[Path, Path]:
    """A repository whose pinned data was pushed, then lost from the remote."""
    root = tmp_path_factory.mktemp("remote-lost")
    origin, remote = root / "origin", root / "remote"
    p = Paths(origin)
    origin.mkdir()
    p.params.write_text("data:\n  raw: " + PIN.removesuffix(".dvc") + "\n")
    (origin / "dvc.yaml").write_text("stages: {}\n")
    p.raw_data.parent.mkdir(parents=True)
    p.raw_data.write_text("mean_radius,malignant\n1.5,0\n")  # not the bundled sample
    pin_with_dvc(origin, str(remote), PIN.removesuffix(".dvc"))
    git(origin, "add", ".")
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    git(origin, *identity, "commit", "--quiet", "-m", "pin the data")
    shutil.rmtree(remote / "files")  # the object is gone from the remote
    return origin, remote


@pytest.fixture
def clone_without_remote_data(origin, tmp_path: Path) -> tuple[Paths, Path]:
    """A fresh clone (no data, no DVC cache) of `origin`; its paths and the remote."""
    source, remote = origin
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(source), str(clone))
    return Paths(clone), remote


def assert_names_file_hash_and_remote(message: str, clone: Paths, remote: Path) -> None:
    assert PIN in message
    assert pinned_md5(clone.root / PIN) in message
    assert f"'storage' ({remote})" in message
    assert "`dvc push`" in message


def test_pull_in_ci_names_the_missing_file_its_hash_and_the_remote(clone_without_remote_data):
    clone, remote = clone_without_remote_data
    pulled = subprocess.run(
        [sys.executable, "-m", PACKAGE, "pull"],
        cwd=clone.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert pulled.returncode != 0
    first_line = pulled.stderr.strip().splitlines()[0]
    assert first_line.startswith("Error: the pinned data is not in the DVC remote")
    assert_names_file_hash_and_remote(first_line, clone, remote)
    assert not clone.raw_data.exists()


def test_setup_of_a_fresh_clone_names_the_missing_file_its_hash_and_the_remote(
    clone_without_remote_data,
):
    clone, remote = clone_without_remote_data
    with pytest.raises(SetupError) as error:
        ensure_sample_data(clone)
    first_line = str(error.value).splitlines()[0]
    assert_names_file_hash_and_remote(first_line, clone, remote)
    assert not clone.raw_data.exists()
