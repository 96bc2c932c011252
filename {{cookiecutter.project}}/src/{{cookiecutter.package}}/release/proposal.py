"""Commits on a branch, pushed and proposed as one pull request (updated, never duplicated)."""

import json
import os
from pathlib import Path

from {{ cookiecutter.package }}.shell import git, output, run

BASE_BRANCH = "main"


def ensure_push_credentials(root: Path) -> None:
    """In Actions the checkout keeps no token; gh lends GH_TOKEN to git for this push."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        run(root, "gh", "auth", "setup-git")


def start_branch(root: Path, branch: str) -> None:
    git(root, "switch", "--force-create", branch)


def commit_files(root: Path, message: str, files: list[str]) -> None:
    """One commit of exactly these files (added, changed or deleted)."""
    git(root, "add", "--all", "--", *files)
    git(root, "commit", "--quiet", "--no-verify", "-m", message, "--", *files)


def propose(root: Path, branch: str, title: str, body: str, direct: bool = False) -> str:
    """Push the commit just made on `branch`: as a pull request, or straight to main."""
    ensure_push_credentials(root)
    if direct:
        git(root, "push", "origin", f"HEAD:refs/heads/{BASE_BRANCH}")
        return f"pushed to {BASE_BRANCH}"
    git(root, "push", "--force", "origin", f"HEAD:refs/heads/{branch}")
    listed = output(
        root, "gh", "pr", "list", "--head", branch, "--state", "open", "--json", "number,url"
    )
    found = json.loads(listed or "[]")
    if found:
        return f"updated {found[0]['url']}"
    created = output(
        root,
        "gh",
        "pr",
        "create",
        "--base",
        BASE_BRANCH,
        "--head",
        branch,
        "--title",
        title,
        "--body",
        body,
    )
    return created.strip()
