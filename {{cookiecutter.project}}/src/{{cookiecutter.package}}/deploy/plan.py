"""Which environments a push changed, and the GitHub environment of each deploy."""

import json
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import ENVIRONMENTS, manifest_relative
from {{ cookiecutter.package }}.deploy.manifest import Manifest, parse_manifest
from {{ cookiecutter.package }}.github import github_environment
from {{ cookiecutter.package }}.shell import git, succeeds

NO_COMMIT = "0" * 40


def is_commit(root: Path, rev: str | None) -> bool:
    return (
        bool(rev)
        and rev != NO_COMMIT
        and succeeds(root, "git", "cat-file", "-e", f"{rev}^" + "{commit}")
    )


def changed_files(root: Path, before: str | None, after: str) -> list[str]:
    """Files the push changed; for a first push (no known `before`), the last commit's."""
    if is_commit(root, before):
        return git(root, "diff", "--name-only", str(before), after).splitlines()
    return git(
        root, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", after
    ).splitlines()


def manifest_at(root: Path, rev: str | None, relative: str) -> Manifest | None:
    if rev is None or not is_commit(root, rev):
        return None
    if not succeeds(root, "git", "cat-file", "-e", f"{rev}:{relative}"):
        return None
    return parse_manifest(git(root, "show", f"{rev}:{relative}"), f"{relative}@{rev[:12]}")


def plan_environment(
    root: Path, environment: str, before: str | None, after: str
) -> dict[str, Any]:
    relative = manifest_relative(environment)
    new, old = manifest_at(root, after, relative), manifest_at(root, before, relative)
    if new is None:
        return {"environment": environment, "deploy": False, "reason": f"{relative} deleted"}
    # The stricter of the old and new tier: lowering the tier needs the approvers too.
    tier = "high" if "high" in (new.risk_tier, old.risk_tier if old else "low") else "low"
    return {
        "environment": environment,
        "deploy": True,
        "risk_tier": tier,
        "github_environment": github_environment(environment, tier),
        "bento_tag": new.current.bento_tag,
    }


def plan_outputs(root: Path, before: str | None, after: str) -> dict[str, str]:
    """The workflow's outputs: the plan as JSON, and per environment whether and where to deploy."""
    changed = set(changed_files(root, before, after))
    plans = [
        plan_environment(root, env, before, after)
        for env in ENVIRONMENTS
        if manifest_relative(env) in changed
    ]
    outputs = {"plan": json.dumps(plans, sort_keys=True)}
    for env in ENVIRONMENTS:
        chosen = next((x for x in plans if x["environment"] == env and x["deploy"]), None)
        outputs[env] = "true" if chosen else "false"
        outputs[f"{env}_environment"] = chosen["github_environment"] if chosen else ""
    return outputs
