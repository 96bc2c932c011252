"""Create the GitHub environments deploys run in, with their reviewers (idempotent).

Three environments, each deployable from `main` only:

- `staging`: every model, no reviewers;
- `production`: low-risk models, no reviewers;
- `production-high-risk`: high-risk models; the approvers' team must approve
  each deployment, and whoever triggered it cannot approve it.

deploy.yml picks one per deploy from the manifest's risk tier
(`github_environment` below). Everything goes through the REST API
(`PUT /repos/{owner}/{repo}/environments/{name}`), so running it again
changes nothing. Required reviewers on a *private* repository need a GitHub
plan that offers them (Enterprise); on Free, Pro and Team plans they work on
public repositories only.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx

from {{ cookiecutter.package }}.shell import output

DEFAULT_REPO = "{{ cookiecutter.github_owner }}/{{ cookiecutter.project }}"
DEFAULT_TEAM = "{{ cookiecutter.approvers_team }}"
DEPLOY_BRANCH = "main"
API_VERSION = "2022-11-28"
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
    """`gh api ...`; a payload goes as JSON on stdin. Returns the parsed answer."""
    command = ["gh", "api", *args]
    if payload is not None:
        command += ["--input", "-"]
    out = output(root, *command, stdin=json.dumps(payload) if payload is not None else None)
    return json.loads(out) if out.strip() else None


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


class GitHub:
    """The few REST calls this needs, against GITHUB_API_URL (a test server, in tests)."""

    def __init__(self, token: str, base_url: str) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=30,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
        )

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = self.client.request(method, path, json=payload)
        if response.status_code >= 400:
            raise GitHubError(
                f"{method} {path} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None


def team_id(github: GitHub, owner: str, team: str) -> int:
    try:
        found: int = github.call("GET", f"/orgs/{owner}/teams/{team}")["id"]
        return found
    except GitHubError as error:
        raise GitHubError(
            f"team {owner}/{team} not found ({error.message}); create it, or "
            "pass --team with an existing team slug"
        ) from None


def ensure_branch_policy(github: GitHub, repo: str, name: str) -> str:
    path = f"/repos/{repo}/environments/{name}/deployment-branch-policies"
    policies = github.call("GET", path).get("branch_policies", [])
    if any(
        p.get("name") == DEPLOY_BRANCH and p.get("type", "branch") == "branch" for p in policies
    ):
        return "kept"
    github.call("POST", path, {"name": DEPLOY_BRANCH, "type": "branch"})
    return "added"


def ensure_environments(github: GitHub, repo: str, team: str) -> list[str]:
    owner = repo.split("/")[0]
    reviewers = team_id(github, owner, team) if any(s.reviewed for s in ENVIRONMENTS) else None
    report = []
    for spec in ENVIRONMENTS:
        github.call(
            "PUT", f"/repos/{repo}/environments/{spec.name}", environment_payload(spec, reviewers)
        )
        policy = ensure_branch_policy(github, repo, spec.name)
        who = f"reviewers: team {team}, no self-review" if spec.reviewed else "no reviewers"
        report.append(f"{spec.name}: {who}; branch policy {DEPLOY_BRANCH} {policy}")
    return report


def warn_if_private(github: GitHub, repo: str) -> None:
    if github.call("GET", f"/repos/{repo}").get("private"):
        click.echo(f"WARNING: {repo} is private. {PLAN_CAVEAT}", err=True)


def setup_environments(repo: str, team: str) -> list[str]:
    """Create or update the deploy environments and their reviewers; what was done."""
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise GitHubError(
            "set GITHUB_TOKEN to a token of a repository admin (e.g. GITHUB_TOKEN=$(gh auth token))"
        )
    github = GitHub(token, os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    lines = [f"github-setup: {line}" for line in ensure_environments(github, repo, team)]
    warn_if_private(github, repo)
    return [*lines, f"github-setup: note: {PLAN_CAVEAT}"]
