"""Synthetic traffic for the monitor: a reference built from the sample, logs
written by the service's own log writer, no training beyond the shared model.
And a fake GitHub for the alert and retrain tests: the issues API as `gh api`
reaches it."""

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from monitor_traffic import THRESHOLD, VERSION

from {{ cookiecutter.package }} import github
from {{ cookiecutter.package }}.config import load_params
from {{ cookiecutter.package }}.decision import decide
from {{ cookiecutter.package }}.features import build_features, raw_feature_names
from {{ cookiecutter.package }}.monitor.log_writer import PredictionLog
from {{ cookiecutter.package }}.monitor.reference import build_reference

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


@pytest.fixture(scope="session")
def reference(split_sample, model) -> dict[str, Any]:
    train, evaluation = split_sample
    raw = raw_feature_names()
    probability, _ = answers(model, evaluation)
    metrics = {"roc_auc": 0.99, "accuracy": 0.95}
    classes = len(model.classes_)
    return build_reference(evaluation[raw], train[raw], probability, THRESHOLD, metrics, classes)


def answers(model, rows: pd.DataFrame):
    """(probability, label) per row, as the service answers them (binary or multiclass)."""
    return decide(model.predict_proba(build_features(rows)), model.classes_, THRESHOLD)


@pytest.fixture(scope="session")
def limits() -> dict[str, Any]:
    section = load_params(PARAMS)["monitor"]
    return {"window": "1h", "metric": "roc_auc", "limits": section["thresholds"]["low"]}


@pytest.fixture
def traffic(split_sample, model, tmp_path):
    """Write `rows` records drawn from the evaluation rows (changed by `shift`) to a log."""
    _, evaluation = split_sample
    folder = tmp_path / "logs"

    def write(rows: int = 1500, shift=None, version: str = VERSION, seed: int = 1) -> pd.DataFrame:
        drawn = evaluation.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
        raw = drawn[raw_feature_names()]
        raw = shift(raw.copy()) if shift else raw
        probability, label = answers(model, raw)
        ids = [f"{version[:1]}{seed}-{i}" for i in range(rows)]
        log = PredictionLog(folder, version, "staging", raw_feature_names())
        log.predictions(ids, raw.to_dict(orient="records"), probability.tolist(),
                        label.astype(int).tolist())  # fmt: skip
        log.close()
        return drawn.assign(id=ids, probability=probability)

    write.folder = folder
    return write


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
