"""The governed retrain: ONE pull request on retrain/<env> that re-pins the training data.

Due when the model-quality family of the environment alerts (its state issue
says so: N windows of realized quality, or estimated quality with drift, past
the tier's threshold). The branch holds one commit: the new `data/raw/*.dvc`
pin, the data itself pushed to the DVC remote. CI then trains, gates and
comments as on any pull request; nothing here merges, promotes or deploys.
"""

from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.contract import check_table, load_contract, read_table
from {{ cookiecutter.package }}.files import dvc_md5, write_frame
from {{ cookiecutter.package }}.github import open_issues, with_marker
from {{ cookiecutter.package }}.monitor.alert_state import parse_state, state_marker
from {{ cookiecutter.package }}.monitor.alerts import family_marker
from {{ cookiecutter.package }}.monitor.log_reader import logged_inputs
from {{ cookiecutter.package }}.monitor.retrain_data import (
    labeled_rows,
    read_labels,
    refreshed_snapshot,
    same_rows,
)
from {{ cookiecutter.package }}.release.proposal import commit_files, propose, start_branch
from {{ cookiecutter.package }}.remote import pinned_md5
from {{ cookiecutter.package }}.shell import dvc, run


def retrain_branch(environment: str) -> str:
    return f"retrain/{environment}"


def settings(p: Paths) -> dict[str, Any]:
    section = (load_params(p.params).get("monitor") or {}).get("retrain")
    if not isinstance(section, dict) or "mode" not in section or "min_rows" not in section:
        raise ValueError("params.yaml has no monitor.retrain with mode and min_rows")
    if section.get("source") != "labeled-logs":
        raise ValueError(
            f"monitor.retrain.source {section.get('source')!r} is not known; "
            "the one source is labeled-logs (logged inputs joined to late labels)"
        )
    return section


def quality_alert(root: Path, repo: str, environment: str) -> dict[str, Any] | None:
    """The open model-quality issue of `environment`, if its state says quality alerts."""
    issues = open_issues(root, repo)
    found = with_marker(issues, state_marker(environment))
    state = parse_state(found[0]["body"] if found else "", environment)
    if not state.families["quality"].alerting:
        return None
    alerts = with_marker(issues, family_marker(environment, "quality"))
    return alerts[0] if alerts else {"number": None, "body": "_The quality issue is missing._"}


def refresh_snapshot(p: Paths, environment: str, logs: Path, labels: Path) -> tuple[int, bool]:
    """Write the refreshed data/raw/ table if it differs from the pinned one; the number
    of labeled rows, and whether the table changed."""
    config, contract = settings(p), load_contract()
    labeled = labeled_rows(
        logged_inputs(str(logs), contract.dtypes(), environment),
        read_labels(labels, contract),
        contract,
    )
    if len(labeled) < int(config["min_rows"]):
        raise ValueError(
            f"only {len(labeled)} logged predictions of {environment} have labels; "
            f"monitor.retrain.min_rows asks for {config['min_rows']}: nothing proposed"
        )
    # Replace mode compares with the pinned table too, where there is one. Read with
    # the contract's types, as the logs are: a code like `01` stays text.
    keeps_nothing = config["mode"] == "replace" and not p.raw_data.exists()
    current = labeled.iloc[:0] if keeps_nothing else read_table(p.raw_data)
    snapshot = refreshed_snapshot(current, labeled, config["mode"])
    if same_rows(snapshot, current) and matches_its_pin(p):
        return len(labeled), False
    problems = check_table(snapshot, contract)
    if problems:
        raise ValueError(f"the refreshed data breaks the contract: {'; '.join(problems)}")
    write_frame(snapshot, p.raw_data)
    return len(labeled), True


def matches_its_pin(p: Paths) -> bool:
    """Whether the data on disk is the pinned one: a run that rewrote it and failed
    before pinning must not find its own rewrite and call it nothing new."""
    return not dvc_file(p).exists() or pinned_md5(dvc_file(p)) == dvc_md5(p.raw_data)


def pin_data(p: Paths) -> str:
    """`dvc add` the snapshot and push it: the pin in git, the data in the remote."""
    dvc(p.root, "add", "--quiet", str(p.raw_data.relative_to(p.root)))
    dvc(p.root, "push", "--quiet", str(dvc_file(p).relative_to(p.root)))
    return str(dvc_file(p).relative_to(p.root))


def dvc_file(p: Paths) -> Path:
    return p.raw_data.with_name(p.raw_data.name + ".dvc")


def pull_request_body(environment: str, issue: dict[str, Any], rows: int) -> str:
    where = f"#{issue['number']}" if issue.get("number") else "the model-quality alert"
    return "\n\n".join(
        [
            f"Model quality in **{environment}** alerts ({where}). This pull request re-pins "
            f"the training data with {rows} recent labeled rows (logged inputs joined by id "
            "to the labels that arrived). CI trains, gates and comments as on any pull "
            "request; merging it releases nothing until a promotion is approved.",
            # The issue's marker stays in the issue: this pull request must never be found as it.
            issue["body"].replace(family_marker(environment, "quality"), "").strip(),
        ]
    )


def propose_retrain(p: Paths, repo: str, environment: str, logs: Path, labels: Path) -> str:
    """Open or update the one retrain pull request of `environment`, if quality alerts."""
    issue = quality_alert(p.root, repo, environment)
    if issue is None:
        return f"model quality of {environment} does not alert: no retrain proposed"
    # The data is git-ignored: the table is rewritten before any branch exists.
    rows, changed = refresh_snapshot(p, environment, logs, labels)
    if not changed:
        return f"the {rows} labeled rows are in the pinned data already: nothing to propose"
    branch = retrain_branch(environment)
    start_branch(p.root, branch)
    pinned = pin_data(p)
    commit_files(
        p.root, f"Retrain {environment}: re-pin the data with {rows} labeled rows", [pinned]
    )
    body = pull_request_body(environment, issue, rows)
    done = propose(p.root, branch, f"Retrain on recent labeled data ({environment})", body)
    if done.startswith("updated "):
        run(p.root, "gh", "pr", "edit", branch, "--body", body)
    return done
