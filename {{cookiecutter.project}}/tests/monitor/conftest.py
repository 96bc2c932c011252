"""A fake GitHub for the alert and retrain tests: the issues API as `gh api` reaches it."""

import re
from typing import Any

import pytest

from {{ cookiecutter.package }} import github


class FakeGitHub:
    """Answers `gh_api(root, *args, payload=...)` like GitHub; refuses any other call."""

    def __init__(self, repo: str) -> None:
        self.repo = repo
        # A pull request: the issues endpoint lists them too, and the alerts must skip it.
        self.issues: list[dict[str, Any]] = [
            {"number": 1, "title": "a PR", "body": "", "state": "open", "pull_request": {}}
        ]
        self.comments: dict[int, list[str]] = {}
        self.calls: list[tuple[str, str]] = []

    def __call__(self, root, *args: str, payload: dict[str, Any] | None = None) -> Any:
        method = args[args.index("--method") + 1] if "--method" in args else "GET"
        path = next(a for a in args if a.startswith("repos/"))
        self.calls.append((method, path))
        base = f"repos/{self.repo}/issues"
        if method == "GET" and path.startswith(f"{base}?state=open"):
            return [[dict(i) for i in self.issues if i["state"] == "open"]]
        if method == "POST" and path == base:
            issue = {"number": len(self.issues) + 1, "state": "open", **(payload or {})}
            self.issues.append(issue)
            return issue
        number = re.fullmatch(rf"{base}/(\d+)(/comments)?", path)
        if number and method == "PATCH" and not number[2]:
            self.issue(int(number[1])).update(payload or {})
            return self.issue(int(number[1]))
        if number and method == "POST" and number[2]:
            self.comments.setdefault(int(number[1]), []).append((payload or {})["body"])
            return {"id": 1}
        raise AssertionError(f"unexpected call: {method} {path}")

    def issue(self, number: int) -> dict[str, Any]:
        return next(i for i in self.issues if i["number"] == number)

    def alert_issues(self, state: str | None = None) -> list[dict[str, Any]]:
        return [
            i
            for i in self.issues
            if i.get("title", "").startswith("Monitor alert:") and state in (None, i["state"])
        ]


REPO = "owner/repo"


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    """Every `gh api` call of the package goes to an in-memory GitHub."""
    fake = FakeGitHub(REPO)
    monkeypatch.setattr(github, "gh_api", fake)
    return fake
