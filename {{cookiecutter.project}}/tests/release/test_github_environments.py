"""GitHub environments set-up: three environments, reviewers on high risk, idempotent."""

import json

import httpx
import pytest

from {{ cookiecutter.package }}.github import (
    GitHub,
    GitHubError,
    ensure_environments,
    github_environment,
    setup_environments,
)

REPO = "octo/model"


class FakeGitHub:
    """Just enough of the REST API, in memory: environments, branch policies, one team."""

    def __init__(self) -> None:
        self.environments: dict[str, dict] = {}
        self.policies: dict[str, list[dict]] = {}
        self.requests: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        self.requests.append((method, path))
        body = json.loads(request.content) if request.content else None
        if path == "/orgs/octo/teams/ml-approvers":
            return httpx.Response(200, json={"id": 42})
        if path.startswith("/orgs/"):
            return httpx.Response(404, json={"message": "Not Found"})
        if path == f"/repos/{REPO}":
            return httpx.Response(200, json={"private": False})
        name = path.split("/environments/")[1].split("/")[0]
        if path.endswith("/deployment-branch-policies"):
            if method == "POST":
                self.policies.setdefault(name, []).append(body)
            return httpx.Response(200, json={"branch_policies": self.policies.get(name, [])})
        self.environments[name] = body
        return httpx.Response(200, json={})


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def github(fake) -> GitHub:
    client = GitHub("token", "https://api.github.example")
    client.client = httpx.Client(
        base_url="https://api.github.example", transport=httpx.MockTransport(fake)
    )
    return client


def test_three_environments_and_only_high_risk_production_is_reviewed(github, fake):
    report = ensure_environments(github, REPO, "ml-approvers")
    assert sorted(fake.environments) == ["production", "production-high-risk", "staging"]
    high = fake.environments["production-high-risk"]
    assert high["reviewers"] == [{"type": "Team", "id": 42}] and high["prevent_self_review"]
    assert fake.environments["staging"]["reviewers"] == []
    assert all(p == [{"name": "main", "type": "branch"}] for p in fake.policies.values())
    assert all("branch policy main added" in line for line in report)


def test_running_it_again_changes_nothing(github, fake):
    ensure_environments(github, REPO, "ml-approvers")
    report = ensure_environments(github, REPO, "ml-approvers")
    assert all("branch policy main kept" in line for line in report)
    assert all(len(p) == 1 for p in fake.policies.values())


def test_an_unknown_team_is_a_clear_error(github, fake):
    with pytest.raises(GitHubError, match=r"team octo/nobody not found .* pass --team"):
        ensure_environments(github, REPO, "nobody")
    assert fake.environments == {}


def test_without_a_token_nothing_is_called(monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    with pytest.raises(GitHubError, match="set GITHUB_TOKEN"):
        setup_environments(REPO, "ml-approvers")


def test_the_deploy_environment_follows_the_risk_tier():
    assert github_environment("production", "high") == "production-high-risk"
    assert github_environment("production", "low") == "production"
    assert github_environment("staging", "high") == "staging"
