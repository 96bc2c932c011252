"""The DVC remote: the pinned data, with an error that names what is missing and where."""

from pathlib import Path

from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.shell import dvc, git


def pinned_data_files(root: Path) -> list[str]:
    """The .dvc files git tracks: the pins of the raw data."""
    listed = git(root, "ls-files", "--", "*.dvc").splitlines()
    return [name for name in listed if not name.startswith(".dvc/")]


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
            f"{', '.join(files)}. Push it from a machine that has it (`dvc push`), or check "
            "the remote's credentials.\nDVC said:\n" + "\n".join(said)
        )
    return f"pull: pinned data {', '.join(files)} from {remote_description(root)}"
