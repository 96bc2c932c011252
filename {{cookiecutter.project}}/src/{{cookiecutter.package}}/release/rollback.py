"""Rollback: `git revert` of the last commit that changed deploy/<env>.yaml.

One owner: `<package> rollback`, `make rollback` and rollback.yml all call
`rollback` here, so every path refuses what a revert cannot undo safely:
- a revert of a revert (it would re-promote the version just removed);
- the commit that created the manifest (there is nothing to go back to);
- a commit that also changed files other than the manifest, its rendered
  Kubernetes objects and its lineage (reverting it would undo more than a deploy).
`--force` reverts anyway, only when a person asks, and says what it re-promotes.
"""

from dataclasses import dataclass
from pathlib import Path

from {{ cookiecutter.package }}.config import (
    deployed_lineage_relative,
    manifest_relative,
    rendered_relative,
)
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.proposal import propose, start_branch
from {{ cookiecutter.package }}.shell import git


@dataclass(frozen=True)
class Rollback:
    reverted: str
    subject: str
    warning: str | None = None


def last_manifest_commit(root: Path, environment: str) -> str:
    """The last commit that changed deploy/<env>.yaml."""
    relative = manifest_relative(environment)
    commit = git(root, "log", "-n", "1", "--format=%H", "--", relative)
    if not commit:
        raise ReleaseError(f"nothing to roll back: no commit has changed {relative} yet")
    return commit


def changed_in(root: Path, sha: str) -> list[tuple[str, str]]:
    """(status, path) of every file the commit changed."""
    lines = git(root, "show", "--format=", "--name-status", "--no-renames", sha).splitlines()
    return [(line.split("\t")[0], line.split("\t")[-1]) for line in lines if line]


def belongs_to_deploy(path: str, environment: str) -> bool:
    """The files one promotion commit of `environment` writes (promotion.write_manifest)."""
    rendered = rendered_relative(environment) + "/"
    own = {manifest_relative(environment), deployed_lineage_relative(environment)}
    return path in own or path.startswith(rendered)


def refusal(root: Path, sha: str, environment: str) -> str | None:
    """Why reverting `sha` would not be a safe rollback of `environment`; None if it is."""
    relative = manifest_relative(environment)
    changed = changed_in(root, sha)
    if ("A", relative) in changed:
        return (
            f"{sha[:12]} created {relative}: there is no earlier version to go back to "
            "(delete the manifest in a reviewed pull request to stop serving)"
        )
    others = sorted(path for _, path in changed if not belongs_to_deploy(path, environment))
    if others:
        return f"{sha[:12]} also changes {', '.join(others)}; revert it by hand in a pull request"
    if "This reverts commit" in git(root, "show", "--format=%B", "--no-patch", sha):
        return (
            f"the last change to {relative} ({sha[:12]}) is already a rollback; reverting it "
            "would re-promote the version it removed (promote it again in a pull request, "
            "or pass --force)"
        )
    return None


def revertable_commit(root: Path, environment: str, force: bool) -> tuple[str, str | None]:
    """The commit a rollback reverts, and why that is unsafe (only returned with `force`)."""
    sha = last_manifest_commit(root, environment)
    problem = refusal(root, sha, environment)
    if problem and not force:
        raise ReleaseError(f"rollback of {environment} refused: {problem}")
    return sha, problem


def rollback(root: Path, environment: str, force: bool = False) -> Rollback:
    """Revert the last manifest commit of `environment` on the current branch."""
    sha, problem = revertable_commit(root, environment, force)
    subject = git(root, "show", "--format=%s", "--no-patch", sha)
    git(root, "revert", "--no-edit", sha)
    warning = f"--force: reverted although {problem}" if problem else None
    return Rollback(sha, subject, warning)


def propose_rollback(root: Path, environment: str, force: bool, direct: bool) -> str:
    """The rollback on its own branch, proposed as a pull request (or pushed to main)."""
    sha, _ = revertable_commit(root, environment, force)  # refuse before leaving the branch
    branch = f"rollback/{environment}-{sha[:12]}"
    start_branch(root, branch)
    done = rollback(root, environment, force)
    title = f"Roll back {environment}: revert {sha[:12]}"
    body = (
        f'Reverts {sha} ("{done.subject}"), the last change to `{manifest_relative(environment)}`.'
        "\n\nThe previous version is kept warm, so traffic moves as soon as deploy.yml runs."
    )
    return propose(root, branch, title, body, direct)
