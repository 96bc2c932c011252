"""GitHub through `gh api`, the one client: the release's calls and the deploy environments.

Three environments, each deployable from `main` only:

- `staging`: every model, no reviewers;
- `production`: low-risk models, no reviewers;
- `production-high-risk`: high-risk models; the approvers' team must approve
  each deployment, and whoever triggered it cannot approve it.

deploy.yml picks one per deploy from the manifest's risk tier
(`github_environment` below). `setup_environments` writes them with
`PUT repos/{owner}/{repo}/environments/{name}` and adds the `main` branch
policy only when it is missing, so running it again changes nothing.
Required reviewers on a *private* repository need a GitHub plan that offers
them (Enterprise); on Free, Pro and Team plans they work on public
repositories only.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from {{ cookiecutter.package }}.shell import run

DEFAULT_REPO = "{{ cookiecutter.github_owner }}/{{ cookiecutter.project }}"
DEFAULT_TEAM = "{{ cookiecutter.approvers_team }}"
DEPLOY_BRANCH = "main"
PLAN_CAVEAT = (
    "Required reviewers on a private repository need a GitHub plan that offers them "
    "(Enterprise); on Free, Pro and Team plans they work on public repositories only."
)


@dataclass(frozen=True)
class EnvironmentSpec:
    name: str
    reviewed: bool
    purpose: str


ENVIRONMENTS = (
    EnvironmentSpec("staging", False, "staging deploys of every model"),
    EnvironmentSpec("production", False, "production deploys of low-risk models"),
    EnvironmentSpec(
        "production-high-risk",
        True,
        "production deploys of high-risk models: the approvers approve each one",
    ),
)


def github_environment(environment: str, risk_tier: str) -> str:
    """The GitHub environment a deploy of `environment` runs in, by risk tier."""
    if environment == "production" and risk_tier == "high":
        return "production-high-risk"
    return environment


def environment_payload(spec: EnvironmentSpec, team_id: int | None) -> dict[str, Any]:
    reviewers = [{"type": "Team", "id": team_id}] if spec.reviewed else []
    return {
        "wait_timer": 0,
        "prevent_self_review": spec.reviewed,
        "reviewers": reviewers,
        # Custom policies, then one policy naming `main`: deployable from main only.
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }


class GitHubError(click.ClickException):
    pass


def gh_api(root: Path, *args: str, payload: dict[str, Any] | None = None) -> Any:
    """`gh api ...`; a payload goes as JSON on stdin. Returns the parsed answer.

    A refusal is one line: the call and gh's own reason (e.g. "Not Found (HTTP 404)").
    """
    command = ["gh", "api", *args]
    if payload is not None:
        command += ["--input", "-"]
    stdin = json.dumps(payload) if payload is not None else None
    result = run(root, *command, check=False, stdin=stdin)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"exited {result.returncode}"])[-1]
        raise GitHubError(f"`gh api {' '.join(args)}` failed: {reason.removeprefix('gh: ')}")
    return json.loads(result.stdout) if result.stdout.strip() else None


def with_marker(items: list[dict[str, Any]], marker: str) -> list[dict[str, Any]]:
    """The comments or issues a job wrote before: their body carries its hidden marker."""
    return [item for item in items if marker in (item.get("body") or "")]


def open_issues(root: Path, repo: str) -> list[dict[str, Any]]:
    """Every open issue of `repo` (pull requests, which the same endpoint lists, left out)."""
    pages = gh_api(root, "--paginate", "--slurp", f"repos/{repo}/issues?state=open&per_page=100")
    return [i for page in pages or [] for i in page if "pull_request" not in i]


def create_issue(root: Path, repo: str, title: str, body: str) -> dict[str, Any]:
    created: dict[str, Any] = gh_api(
        root, "--method", "POST", f"repos/{repo}/issues", payload={"title": title, "body": body}
    )
    return created


def edit_issue(root: Path, repo: str, number: int, fields: dict[str, Any]) -> None:
    """Change an issue in place: its title, body, or state (`closed`, with a reason)."""
    gh_api(root, "--method", "PATCH", f"repos/{repo}/issues/{number}", payload=fields)


def comment_on_issue(root: Path, repo: str, number: int | str, body: str) -> None:
    gh_api(
        root, "--method", "POST", f"repos/{repo}/issues/{number}/comments", payload={"body": body}
    )


def write_github_output(values: dict[str, str]) -> None:
    """Step outputs for the workflow (nothing outside Actions)."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            for key, value in values.items():
                handle.write(f"{key}={value}\n")


def require_login(root: Path) -> None:
    """gh must hold a token (its login, or GH_TOKEN/GITHUB_TOKEN) before any call is made."""
    if run(root, "gh", "auth", "token", check=False).returncode != 0:
        raise GitHubError(
            "gh has no GitHub token: run `gh auth login` as a repository admin, "
            "or set GH_TOKEN to an admin's token"
        )


def team_id(root: Path, owner: str, team: str) -> int:
    try:
        found: int = gh_api(root, f"orgs/{owner}/teams/{team}")["id"]
        return found
    except GitHubError as error:
        raise GitHubError(
            f"team {owner}/{team} not found ({error.message}); create it, or "
            "pass --team with an existing team slug"
        ) from None


def ensure_branch_policy(root: Path, repo: str, name: str) -> str:
    path = f"repos/{repo}/environments/{name}/deployment-branch-policies"
    policies = gh_api(root, path).get("branch_policies", [])
    if any(
        p.get("name") == DEPLOY_BRANCH and p.get("type", "branch") == "branch" for p in policies
    ):
        return "kept"
    gh_api(root, "--method", "POST", path, payload={"name": DEPLOY_BRANCH, "type": "branch"})
    return "added"


def ensure_environments(root: Path, repo: str, team: str) -> list[str]:
    owner = repo.split("/")[0]
    reviewers = team_id(root, owner, team) if any(s.reviewed for s in ENVIRONMENTS) else None
    report = []
    for spec in ENVIRONMENTS:
        payload = environment_payload(spec, reviewers)
        gh_api(root, "--method", "PUT", f"repos/{repo}/environments/{spec.name}", payload=payload)
        policy = ensure_branch_policy(root, repo, spec.name)
        who = f"reviewers: team {team}, no self-review" if spec.reviewed else "no reviewers"
        report.append(f"{spec.name}: {who}; branch policy {DEPLOY_BRANCH} {policy}")
    return report


def warn_if_private(root: Path, repo: str) -> None:
    if gh_api(root, f"repos/{repo}").get("private"):
        click.echo(f"WARNING: {repo} is private. {PLAN_CAVEAT}", err=True)


def setup_environments(root: Path, repo: str, team: str) -> list[str]:
    """Create or update the deploy environments and their reviewers; what was done."""
    require_login(root)
    lines = [f"github-setup: {line}" for line in ensure_environments(root, repo, team)]
    warn_if_private(root, repo)
    return [*lines, f"github-setup: note: {PLAN_CAVEAT}"]
