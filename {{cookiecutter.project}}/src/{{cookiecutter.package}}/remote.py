"""The DVC remote: the pinned data, with an error that names what is missing and where."""

from pathlib import Path

import yaml

from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.shell import dvc, git


def pinned_data_files(root: Path) -> list[str]:
    """The .dvc files git tracks: the pins of the raw data."""
    listed = git(root, "ls-files", "--", "*.dvc").splitlines()
    return [name for name in listed if not name.startswith(".dvc/")]


def pinned_md5(dvc_file: Path) -> str:
    """The content hash a .dvc file pins (what the remote must hold)."""
    md5: str = yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"]
    return md5


def describe_pins(root: Path, files: list[str]) -> str:
    """`data/raw/x.csv.dvc (md5 ab76...)`, for each pin: the file and the object to look for."""
    return ", ".join(f"{name} (md5 {pinned_md5(root / name)})" for name in files)


def remote_description(root: Path) -> str:
    name = dvc(root, "remote", "default", check=False).stdout.strip() or "(no default remote)"
    url = dvc(root, "config", f"remote.{name}.url", check=False).stdout.strip() or "(no url)"
    return f"'{name}' ({url})"


def pull_pinned_data(root: Path) -> str:
    """Fetch the pinned raw data; an error naming the files and the remote if it is not there.

    Outputs and the run cache are not fetched here: `dvc repro --pull` (make
    repro) pulls whatever a stage it can skip needs.
    """
    files = pinned_data_files(root)
    result = dvc(root, "pull", *files, check=False)
    if result.returncode != 0:
        said = (result.stdout + result.stderr).strip().splitlines()[-6:]
        raise ReleaseError(
            f"the pinned data is not in the DVC remote {remote_description(root)}: "
            f"{describe_pins(root, files)}. Push it from a machine that has it (`dvc push`), "
            "or check the remote's credentials.\nDVC said:\n" + "\n".join(said)
        )
    return f"pull: pinned data {', '.join(files)} from {remote_description(root)}"
