"""`make github-environments` against a GitHub API played by a server on 127.0.0.1.

The server keeps the environments' branch policies, answers the team lookup,
and records every request (method, path, headers, JSON body), so the tests
assert what the generated project sends: the three environments through
`PUT /repos/{owner}/{repo}/environments/{name}`, reviewers and self-review
prevention on the high-risk one only, `main` as the only deployment branch,
and nothing new the second time (idempotent).
"""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULTS, Project, bake, run

OWNER, TEAM = DEFAULTS["github_owner"], DEFAULTS["approvers_team"]
REPO = f"{OWNER}/{DEFAULTS['project']}"
TEAM_ID = 4242
TOKEN = "ghp_test_token_not_a_secret"
ENVIRONMENTS = ["staging", "production", "production-high-risk"]
BRANCH_POLICY = {"protected_branches": False, "custom_branch_policies": True}


@dataclass
class FakeGitHub:
    """What the API server remembers between requests."""

    private: bool = False
    team_exists: bool = True
    requests: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if method == "GET" and path == f"/orgs/{OWNER}/teams/{TEAM}":
            return (200, {"id": TEAM_ID, "slug": TEAM}) if self.team_exists else (404, {})
        if method == "GET" and path == f"/repos/{REPO}":
            return 200, {"full_name": REPO, "private": self.private}
        if parts[:3] == ["repos", *REPO.split("/")] and parts[3] == "environments":
            return self.environment(method, parts[4], parts[5:], body)
        return 404, {"message": "Not Found"}

    def environment(self, method: str, name: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if method == "PUT" and not rest:
            self.policies.setdefault(name, [])
            return 200, {"name": name, **(body or {})}
        if rest == ["deployment-branch-policies"] and method == "GET":
            found = self.policies.get(name, [])
            return 200, {"total_count": len(found), "branch_policies": found}
        if rest == ["deployment-branch-policies"] and method == "POST":
            policy = {"id": len(self.policies.get(name, [])) + 1, **body}
            self.policies.setdefault(name, []).append(policy)
            return 200, policy
        return 404, {"message": "Not Found"}


def serve(github: FakeGitHub) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            github.requests.append({"method": self.command, "path": self.path, "body": body,
                                    "headers": dict(self.headers)})
            status, answer = github.answer(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    state = FakeGitHub()
    server = serve(state)
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def project(tmp_path_factory, project_venv: Path) -> Project:
    """A baked project whose code the shared environment runs (no data needed)."""
    root = tmp_path_factory.mktemp("github-setup")
    return Project(bake(root / "bake"), project_venv, root / "remote")


def setup_environments(project: Project, url: str, check: bool = True, **env: str):
    variables = {**project.env, "GITHUB_API_URL": url, "GITHUB_TOKEN": TOKEN,
                 "GITHUB_REPOSITORY": REPO, **env}
    return run(["make", "github-environments", f"VENV={project.venv}"], project.path,
               variables, check=check, timeout=120)


def calls(github: FakeGitHub) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in github.requests]


def puts(github: FakeGitHub) -> dict[str, dict[str, Any]]:
    return {r["path"].rsplit("/", 1)[1]: r["body"] for r in github.requests
            if r["method"] == "PUT"}


def test_creates_the_three_environments_with_reviewers_where_risk_is_high(project, github):
    state, url = github
    setup_environments(project, url)
    bodies = puts(state)
    assert list(bodies) == ENVIRONMENTS
    assert bodies["production-high-risk"] == {
        "wait_timer": 0,
        "prevent_self_review": True,
        "reviewers": [{"type": "Team", "id": TEAM_ID}],
        "deployment_branch_policy": BRANCH_POLICY,
    }
    for name in ("staging", "production"):
        assert bodies[name] == {"wait_timer": 0, "prevent_self_review": False, "reviewers": [],
                                "deployment_branch_policy": BRANCH_POLICY}


def test_requests_in_order_with_token_and_api_version(project, github):
    state, url = github
    setup_environments(project, url)
    expected = [("GET", f"/orgs/{OWNER}/teams/{TEAM}")]
    for name in ENVIRONMENTS:
        base = f"/repos/{REPO}/environments/{name}"
        expected += [("PUT", base), ("GET", f"{base}/deployment-branch-policies"),
                     ("POST", f"{base}/deployment-branch-policies")]
    expected.append(("GET", f"/repos/{REPO}"))
    assert calls(state) == expected
    for request in state.requests:
        assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert request["headers"]["X-GitHub-Api-Version"] == "2022-11-28"
        assert request["headers"]["Accept"] == "application/vnd.github+json"
    posted = [r["body"] for r in state.requests if r["method"] == "POST"]
    assert posted == [{"name": "main", "type": "branch"}] * 3


def test_running_twice_changes_nothing_more(project, github):
    state, url = github
    setup_environments(project, url)
    first_puts = puts(state)
    state.requests.clear()
    second = setup_environments(project, url)
    assert puts(state) == first_puts
    assert "POST" not in {method for method, _ in calls(state)}
    assert {name: [p["name"] for p in found] for name, found in state.policies.items()} == {
        name: ["main"] for name in ENVIRONMENTS}
    assert "branch policy main kept" in second.stdout


def test_private_repository_gets_the_plan_caveat(project, github):
    state, url = github
    state.private = True
    result = setup_environments(project, url)
    assert f"WARNING: {REPO} is private" in result.stderr
    assert "Free, Pro and Team plans" in result.stderr


def test_missing_token_or_team_fails_with_a_clear_message(project, github):
    state, url = github
    result = setup_environments(project, url, check=False, GITHUB_TOKEN="", GH_TOKEN="")
    assert result.returncode != 0
    assert "set GITHUB_TOKEN" in result.stderr
    assert state.requests == []
    state.team_exists = False
    result = setup_environments(project, url, check=False)
    assert result.returncode != 0
    assert f"team {OWNER}/{TEAM} not found" in result.stderr
    assert "PUT" not in {method for method, _ in calls(state)}
