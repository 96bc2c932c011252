"""`init-repo`: make a fresh bake (or a fresh clone) ready to train.

Each step checks before it acts, so running it again changes nothing:
git repository, DVC, the DVC remote, the pinned sample data in cache and
remote, and a first commit so lineage can name a commit.
"""

import os
from pathlib import Path

from {{ cookiecutter.package }}.config import PROJECT, Paths
from {{ cookiecutter.package }}.files import dvc_md5
from {{ cookiecutter.package }}.remote import describe_pins, pinned_md5, remote_description
from {{ cookiecutter.package }}.sample_data import write_sample
from {{ cookiecutter.package }}.shell import dvc, run

DVC_REMOTE = "{{ cookiecutter.dvc_remote }}"
S3_REMOTE_URL = {{ cookiecutter.s3_remote_url | tojson }}
AUTHOR = {{ cookiecutter.author | tojson }}
AUTHOR_EMAIL = {{ cookiecutter.author_email | tojson }}
REMOTE_NAME = "storage"


class SetupError(RuntimeError):
    pass


def ensure_git(root: Path) -> None:
    """A repository whose top level is this project (DVC and lineage need that).

    A project baked inside another repository (a scratch folder of a monorepo,
    say) gets its own repository rather than silently joining the outer one.
    """
    top = run(root, "git", "rev-parse", "--show-toplevel", check=False)
    if top.returncode == 0 and Path(top.stdout.strip()).resolve() == root.resolve():
        return
    run(root, "git", "init", "--quiet", "--initial-branch=main")
    print("setup: created a git repository")


def ensure_dvc(root: Path) -> None:
    if not (root / ".dvc").is_dir():
        dvc(root, "init", "--quiet")
        dvc(root, "config", "core.autostage", "true")
        print("setup: initialised DVC")


def default_remote_url() -> str:
    if DVC_REMOTE == "s3":
        return S3_REMOTE_URL
    # Outside the work tree, so deleting the checkout never deletes the data.
    default = Path.home() / ".dvc-remotes" / PROJECT
    return str(Path(os.environ.get("DVC_REMOTE_DIR", default)).expanduser().resolve())


def ensure_remote(root: Path) -> None:
    # A clone keeps the remote committed in .dvc/config: add it only if missing.
    if not dvc(root, "remote", "list").stdout.strip():
        url = default_remote_url()
        dvc(root, "remote", "add", "--default", REMOTE_NAME, url)
        print(f"setup: DVC remote '{REMOTE_NAME}' -> {url}")
    ensure_s3_endpoint(root)


def ensure_s3_endpoint(root: Path) -> None:
    """S3-compatible servers (MinIO, Ceph, a test server): a machine-local setting.

    It lives in .dvc/config.local, which git ignores, so a fresh clone needs it
    set again even though the remote itself came with .dvc/config.
    """
    endpoint = os.environ.get("DVC_S3_ENDPOINT_URL")
    if DVC_REMOTE == "s3" and endpoint:
        dvc(root, "remote", "modify", "--local", REMOTE_NAME, "endpointurl", endpoint)


SAMPLE_MD5 = "ab761d6a12b5a92820951fdf2bd9a24c"  # what write_sample produces under the lock


def ensure_sample_data(p: Paths) -> None:
    """The pinned data: pulled from the remote, or, for the bundled sample, written."""
    dvc_file = p.raw_data.with_name(p.raw_data.name + ".dvc")
    if p.raw_data.exists():
        return
    pulled = dvc(p.root, "pull", "--quiet", str(dvc_file), check=False)
    if pulled.returncode == 0:
        print("setup: pulled the pinned data from the DVC remote")
        return
    expected = pinned_md5(dvc_file)
    if expected != SAMPLE_MD5:
        # Your own data is pinned: only the remote has it, so say why the pull failed.
        pin = describe_pins(p.root, [str(dvc_file.relative_to(p.root))])
        raise SetupError(
            f"the pinned data is not in the DVC remote {remote_description(p.root)}: {pin}. "
            "Push it from a machine that has it (`dvc push`), or check the remote's "
            f"credentials.\nDVC said:\n{pulled.stderr.strip()}"
        )
    write_sample(p.raw_data)
    actual = dvc_md5(p.raw_data)
    if expected != actual:
        p.raw_data.unlink()
        raise SetupError(
            f"the sample data written here has MD5 {actual}, but {dvc_file.name} pins "
            f"{expected}. The installed scikit-learn/pandas differ from requirements.lock; "
            "run `make clean setup` to reinstall from the lock."
        )
    dvc(p.root, "commit", "--force", "--quiet", str(dvc_file))
    print(f"setup: wrote the bundled sample data (md5 {actual}, as pinned)")


def push_data(root: Path) -> None:
    dvc(root, "push", "--quiet")
    print("setup: data pushed to the DVC remote")


def ensure_first_commit(root: Path) -> None:
    if run(root, "git", "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0:
        return
    identity = {
        "GIT_AUTHOR_NAME": AUTHOR,
        "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR,
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
    }
    configured = run(root, "git", "config", "user.email", check=False).returncode == 0
    env = os.environ if configured else {**os.environ, **identity}
    run(root, "git", "add", "--all")
    message = "Initial commit from cookiecutter-gitops-ml"
    command = ["git", "commit", "--quiet", "--no-verify", "-m", message]
    run(root, *command, env=env)
    print("setup: made the first commit")


def init_repo(p: Paths) -> None:
    ensure_git(p.root)
    ensure_dvc(p.root)
    ensure_remote(p.root)
    ensure_sample_data(p)
    push_data(p.root)
    ensure_first_commit(p.root)
