"""ONE open issue per environment and signal family, with hysteresis.

Each run reads the state issue of the environment (monitor/alert_state.py),
moves every family's counters by the new window (monitor/hysteresis.py),
writes the state back, then brings each family's issue in line: opened after
N breaching windows, updated in place while it alerts, closed with a comment
after M clean ones. An issue is found by the hidden marker in its body, never
by its title, so a person may retitle it.

The state is written before the issues: a run that dies half-way leaves the
window counted, and the next run brings the issues to what the state says
(a missing issue of an alerting family is opened again).
"""

import os
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import PROJECT, Paths, load_params
from {{ cookiecutter.package }}.files import read_json
from {{ cookiecutter.package }}.github import (
    comment_on_issue,
    create_issue,
    edit_issue,
    open_issues,
    with_marker,
)
from {{ cookiecutter.package }}.monitor.alert_state import (
    EnvironmentState,
    parse_state,
    render_state,
    state_marker,
)
from {{ cookiecutter.package }}.monitor.hysteresis import FAMILIES, Action, FamilyState, Thresholds, advance
from {{ cookiecutter.package }}.monitor.report_reader import MonitorReport

RUNBOOK = "docs/runbooks/drift-alert.md"
ISSUE_BODY_LIMIT = 60_000  # GitHub refuses bodies over 65,536 characters
TITLES = {
    "input_drift": "input drift",
    "prediction_drift": "prediction drift",
    "data_quality": "data quality",
    "quality": "model quality",
}


def family_marker(environment: str, family: str) -> str:
    return f"<!-- {PROJECT}:monitor:{environment}:{family} -->"


def risk_tier(p: Paths, report: MonitorReport) -> str:
    """The serving model's tier: the report's (from its lineage), the deployed lineage's,
    else the project's."""
    if report.risk_tier:
        return report.risk_tier
    environment = report.environment
    deployed = p.deployed_lineage(environment)
    if deployed.exists():
        return str(read_json(deployed)["risk_tier"])
    return str(load_params(p.params)["gate"]["risk_tier"])


def thresholds(p: Paths, tier: str) -> Thresholds:
    section = (load_params(p.params).get("monitor") or {}).get("hysteresis") or {}
    limits = section.get(tier)
    if not isinstance(limits, dict):
        raise ValueError(
            f"params.yaml has no monitor.hysteresis.{tier}: add alert_after and clear_after"
        )
    return Thresholds(int(limits["alert_after"]), int(limits["clear_after"]))


def link(repo: str, target: str) -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{repo}/{target}"


def run_link(repo: str) -> str | None:
    run_id = os.environ.get("GITHUB_RUN_ID")
    return link(repo, f"actions/runs/{run_id}") if run_id else None


def headline(family: str, state: FamilyState, limits: Thresholds, environment: str) -> str:
    name = f"**{TITLES[family]}** in **{environment}**"
    rule = f"(opens after {limits.alert_after}, clears after {limits.clear_after} clean windows)"
    if state.breaching:
        return f"{name} has breached its thresholds {state.breaching} window(s) in a row {rule}."
    return f"{name} was clean for {state.clean} of {limits.clear_after} windows needed {rule}."


def issue_body(
    report: MonitorReport, family: str, state: FamilyState, limits: Thresholds, repo: str
) -> str:
    where = [f"window `{report.window}`", f"status `{report.status}`"]
    if run_link(repo):
        where.append(f"[workflow run]({run_link(repo)})")
    where.append(f"what to do: [the drift-alert runbook]({link(repo, 'blob/main/' + RUNBOOK)})")
    text = report.markdown.strip() or f"_No Markdown report beside `{report.path.name}`._"
    if len(text) > ISSUE_BODY_LIMIT:
        text = text[:ISSUE_BODY_LIMIT] + "\n\n_(cut: the whole report is in the workflow run)_"
    return "\n\n".join(
        [
            family_marker(report.environment, family),
            headline(family, state, limits, report.environment),
            " · ".join(where),
            f"<details open><summary>Monitor report</summary>\n\n{text}\n\n</details>",
        ]
    )


def sync_issue(
    root: Path,
    repo: str,
    issues: list[dict[str, Any]],
    key: tuple[str, str],
    act: Action,
    body: str,
) -> str:
    """Bring the issue of one (environment, family) in line with what the state asks for."""
    environment, family = key
    found = with_marker(issues, family_marker(environment, family))
    if act in ("open", "update"):
        if found:
            edit_issue(root, repo, found[0]["number"], {"body": body})
            return f"updated #{found[0]['number']}"
        title = f"Monitor alert: {TITLES[family]} in {environment}"
        return f"opened #{create_issue(root, repo, title, body)['number']}"
    if act == "close" and found:
        number = found[0]["number"]
        # The body's second paragraph is the headline: "... clean for M of M windows ...".
        comment_on_issue(root, repo, number, f"Cleared: {body.split(chr(10) * 2)[1]}")
        edit_issue(root, repo, number, {"state": "closed", "state_reason": "completed"})
        return f"closed #{number}"
    return "quiet"


def save_state(root: Path, repo: str, issues: list[dict[str, Any]], state: EnvironmentState) -> str:
    found = with_marker(issues, state_marker(state.environment))
    body = render_state(state)
    if found:
        edit_issue(root, repo, found[0]["number"], {"body": body})
        return f"#{found[0]['number']}"
    title = f"Monitor state: {state.environment} (kept by the monitor workflow)"
    return f"#{create_issue(root, repo, title, body)['number']}"


def publish_alerts(p: Paths, repo: str, report: MonitorReport) -> tuple[list[str], bool]:
    """Count the window, keep the issues in line; what was done, and whether to retrain."""
    limits = thresholds(p, risk_tier(p, report))
    issues = open_issues(p.root, repo)
    found = with_marker(issues, state_marker(report.environment))
    state = parse_state(found[0]["body"] if found else "", report.environment)
    new_window = not state.seen(report.window)
    actions: dict[str, Action] = {}
    for family in FAMILIES:
        after, actions[family] = advance(
            state.families[family], report.breached(family), limits, new_window
        )
        state.families[family] = after
    state.remember(report.window)
    counted = "counted" if new_window else "seen before: nothing counted"
    lines = [
        f"window {report.window} ({counted}); state in {save_state(p.root, repo, issues, state)}"
    ]
    for family in FAMILIES:
        body = issue_body(report, family, state.families[family], limits, repo)
        key = (report.environment, family)
        lines.append(f"{family}: {sync_issue(p.root, repo, issues, key, actions[family], body)}")
    return lines, state.families["quality"].alerting
