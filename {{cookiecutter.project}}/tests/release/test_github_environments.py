"""GitHub environments set-up through `gh api`: the exact calls, idempotent, clear refusals.

A stand-in `gh` on PATH plays GitHub: it records every call (argv, and the
JSON sent on stdin), keeps the branch policies it was asked to add, and
answers a missing team with gh's own 404, so the tests see what the project
sends and what a second run changes.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click import ClickException
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.github import (
    GitHubError,
    github_environment,
    setup_environments,
)

REPO, TEAM, TEAM_ID = "octo/model", "ml-approvers", 42
NAMES = ["staging", "production", "production-high-risk"]
BRANCH_POLICY = {"protected_branches": False, "custom_branch_policies": True}

GH = """
import json, re, sys
from pathlib import Path

home = Path(HOME)
state = json.loads((home / "state.json").read_text())
argv = sys.argv[1:]
payload = json.loads(sys.stdin.read()) if argv[-2:] == ["--input", "-"] else None
with (home / "calls.jsonl").open("a") as log:
    log.write(json.dumps({"argv": argv, "payload": payload}) + "\\n")


def answer(body, status=200):
    (home / "state.json").write_text(json.dumps(state))
    print(json.dumps(body))
    if status >= 400:
        sys.exit(f"gh: {body['message']} (HTTP {status})")
    sys.exit(0)


if argv[:2] == ["auth", "token"]:
    if not state["logged_in"]:
        sys.exit("no oauth token found for github.com")
    print("gho_not_a_secret")
    sys.exit(0)
words = [a for a in argv[1:] if a not in ("--method", "--input", "-")]
method = argv[argv.index("--method") + 1] if "--method" in argv else "GET"
path = words[-1]
if path == "orgs/octo/teams/" + state["team"]:
    answer({"id": TEAM_ID, "slug": state["team"]})
if path == "repos/" + REPO:
    answer({"full_name": REPO, "private": state["private"]})
found = re.fullmatch("repos/" + REPO + "/environments/([^/]+)(/deployment-branch-policies)?", path)
if found and found.group(2) and method == "POST":
    state["policies"].setdefault(found.group(1), []).append(payload)
    answer(payload)
if found and found.group(2):
    answer({"branch_policies": state["policies"].get(found.group(1), [])})
if found and method == "PUT":
    answer({"name": found.group(1), **payload})
answer({"message": "Not Found"}, 404)
"""


class FakeGh:
    """The stand-in's folder: its state (what GitHub holds) and the calls it recorded."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def set(self, **values: Any) -> None:
        path = self.home / "state.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **values}))

    def policies(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = json.loads((self.home / "state.json").read_text())[
            "policies"
        ]
        return found

    def calls(self) -> list[tuple[list[str], Any]]:
        log = self.home / "calls.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        return [(call["argv"], call["payload"]) for call in map(json.loads, lines)]

    def forget_calls(self) -> None:
        (self.home / "calls.jsonl").unlink(missing_ok=True)


@pytest.fixture
def gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in_shebang: str) -> FakeGh:
    home = tmp_path / "gh"
    home.mkdir()
    state = {"logged_in": True, "team": TEAM, "private": False, "policies": {}}
    (home / "state.json").write_text(json.dumps(state))
    constants = f"HOME, REPO, TEAM_ID = {str(home)!r}, {REPO!r}, {TEAM_ID}\n"
    script = home / "gh"
    script.write_text(f"{stand_in_shebang}{constants}{GH}")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(home), prepend=os.pathsep)
    return FakeGh(home)


def expected_calls(posts: bool = True) -> list[tuple[list[str], Any]]:
    """Every call of one run, in order: login, team, then per environment PUT, GET, POST."""
    calls: list[tuple[list[str], Any]] = [
        (["auth", "token"], None),
        (["api", f"orgs/octo/teams/{TEAM}"], None),
    ]
    for name in NAMES:
        reviewed = name == "production-high-risk"
        environment = {
            "wait_timer": 0,
            "prevent_self_review": reviewed,
            "reviewers": [{"type": "Team", "id": TEAM_ID}] if reviewed else [],
            "deployment_branch_policy": BRANCH_POLICY,
        }
        base = f"repos/{REPO}/environments/{name}"
        put = ["api", "--method", "PUT", base, "--input", "-"]
        calls += [(put, environment), (["api", f"{base}/deployment-branch-policies"], None)]
        post = ["api", "--method", "POST", f"{base}/deployment-branch-policies", "--input", "-"]
        calls += [(post, {"name": "main", "type": "branch"})] if posts else []
    return [*calls, (["api", f"repos/{REPO}"], None)]


def test_the_exact_gh_api_calls_in_order(gh, tmp_path):
    report = setup_environments(tmp_path, REPO, TEAM)
    assert gh.calls() == expected_calls()
    assert report[:3] == [
        "github-setup: staging: no reviewers; branch policy main added",
        "github-setup: production: no reviewers; branch policy main added",
        "github-setup: production-high-risk: reviewers: team ml-approvers, no self-review; "
        "branch policy main added",
    ]


def test_running_it_again_changes_nothing_more(gh, tmp_path):
    setup_environments(tmp_path, REPO, TEAM)
    gh.forget_calls()
    report = setup_environments(tmp_path, REPO, TEAM)
    assert gh.calls() == expected_calls(posts=False)
    assert gh.policies() == {name: [{"name": "main", "type": "branch"}] for name in NAMES}
    assert all("branch policy main kept" in line for line in report[:3])


def test_the_command_prints_what_it_did_and_warns_on_a_private_repository(gh):
    gh.set(private=True)
    result = CliRunner().invoke(cli, ["github-setup", "--repo", REPO, "--team", TEAM])
    assert result.exit_code == 0, result.output
    assert "production-high-risk: reviewers: team ml-approvers" in result.stdout
    assert f"WARNING: {REPO} is private." in result.stderr
    assert "on Free, Pro and Team plans they work on public repositories only" in result.stderr


def test_a_public_repository_gets_the_caveat_as_a_note_not_a_warning(gh, tmp_path, capsys):
    report = setup_environments(tmp_path, REPO, TEAM)
    assert report[-1].startswith("github-setup: note: Required reviewers on a private")
    assert "WARNING" not in capsys.readouterr().err


def test_an_unknown_team_is_a_one_line_error_and_nothing_is_written(gh, tmp_path):
    with pytest.raises(GitHubError) as failure:
        setup_environments(tmp_path, REPO, "nobody")
    message = failure.value.format_message()
    assert message == (
        "team octo/nobody not found (`gh api orgs/octo/teams/nobody` failed: "
        "Not Found (HTTP 404)); create it, or pass --team with an existing team slug"
    )
    assert [argv[:3] for argv, _ in gh.calls()] == [
        ["auth", "token"],
        ["api", "orgs/octo/teams/nobody"],
    ]


def test_without_a_token_no_api_call_is_made(gh, tmp_path):
    gh.set(logged_in=False)
    result = CliRunner().invoke(cli, ["github-setup", "--repo", REPO])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: gh has no GitHub token: run `gh auth login` as a repository admin, "
        "or set GH_TOKEN to an admin's token"
    ]
    assert gh.calls() == [(["auth", "token"], None)]


def test_without_gh_the_error_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ClickException, match=r"^`gh` is not installed \(not found on PATH\)$"):
        setup_environments(tmp_path, REPO, TEAM)


def test_the_deploy_environment_follows_the_risk_tier():
    assert github_environment("production", "high") == "production-high-risk"
    assert github_environment("production", "low") == "production"
    assert github_environment("staging", "high") == "staging"
