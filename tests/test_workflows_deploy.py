"""deploy.yml, rollback.yml and the smoke check deploy.yml runs, under act, offline.

The same trained seed as test_workflows.py (conftest.py); a module of its own
so that a test worker runs these while another runs the pull request's story.
Each scenario commits manifest changes as a promotion would and runs the
workflow GitHub would start, on the event it would start it with.
"""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from act.harness import GitHubRepo, git, triggered
from conftest import REGISTRY
from test_workflows import act


# --- deploy.yml -----------------------------------------------------------------------


def manifest(environment: str, risk_tier: str, version: str) -> str:
    digest = hashlib.sha256(version.encode()).hexdigest()
    return yaml.safe_dump({
        "environment": environment,
        "risk_tier": risk_tier,
        "current": {
            "bento_tag": f"sample-classifier:{version * 16}"[:34],
            "model_tag": f"sample_classifier:{version * 16}"[:34],
            "lineage_id": (version * 16)[:16],
            "image": f"{REGISTRY}@sha256:{digest}",
            "metrics": {"roc_auc": 0.99},
        },
        "traffic": {"stable": 100, "canary": 0},
    }, sort_keys=False)


def change_manifest(repo: GitHubRepo, environment: str, risk_tier: str, version: str) -> str:
    path = repo.work / "deploy" / f"{environment}.yaml"
    path.write_text(manifest(environment, risk_tier, version))
    return repo.commit(f"Promote {version} to {environment}", f"deploy/{environment}.yaml")


def plan(repo: GitHubRepo, venv: Path, before: str, after: str) -> dict[str, str]:
    repo.push("main")
    result = act(repo, "push", repo.push_event(before, after), "deploy.yml", venv, "-j", "plan")
    assert result.result("plan") == "succeeded", result.explain()
    return result.outputs("plan")


@pytest.mark.slow
@pytest.mark.parametrize(("old_tier", "new_tier", "expected"), [
    (None, "high", "production-high-risk"),
    (None, "low", "production"),
    ("high", "low", "production-high-risk"),  # lowering the tier needs the approvers too
])
def test_production_deploy_environment_follows_the_risk_tier(repo, act_venv, old_tier,
                                                             new_tier, expected):
    if old_tier:
        change_manifest(repo, "production", old_tier, "a")
    before = repo.head()
    after = change_manifest(repo, "production", new_tier, "b")
    outputs = plan(repo, act_venv, before, after)
    assert outputs["production"] == "true"
    assert outputs["production_environment"] == expected
    assert outputs["staging"] == "false"
    assert json.loads(outputs["plan"])[0]["risk_tier"] == ("high" if "high" in (
        old_tier, new_tier) else "low")


@pytest.mark.slow
def test_push_touching_only_deploy_runs_the_deploy_and_a_failure_proposes_the_revert(
        repo, act_venv):
    first = change_manifest(repo, "staging", "low", "a")
    repo.push("main")
    before = repo.head()
    after = change_manifest(repo, "staging", "low", "b")
    repo.push("main")
    changed = repo.changed(before, after)
    workflows = repo.work / ".github" / "workflows"
    assert triggered(workflows / "deploy.yml", "push", "main", changed)
    assert not triggered(workflows / "release.yml", "push", "main", changed)
    result = act(repo, "push", repo.push_event(before, after), "deploy.yml", act_venv)
    outputs = result.outputs("plan")
    assert (outputs["staging"], outputs["staging_environment"]) == ("true", "staging")
    assert outputs["production"] == "false"
    assert result.result("production") is None  # no job for an unchanged environment
    # The deploy step ran for staging; when it fails, the revert is proposed.
    assert "Run Main Deploy deploy/staging.yaml" in result.log("staging")
    assert "Failure - Main Deploy deploy/staging.yaml" in result.log("staging")
    # The job's checkout never trained: the deploy names the missing bento, not
    # a missing lineage file (nothing it runs imports the service module).
    assert "is not in this machine's bento store" in result.log("staging")
    assert "lineage.json" not in result.log("staging")
    assert_the_revert_was_proposed(result, repo, "staging", first, after)


def assert_the_revert_was_proposed(result, repo: GitHubRepo, environment: str, first: str,
                                   after: str) -> None:
    """The deploy job failed, and its revert job proposed the manifest of `first` back."""
    assert result.result(environment) == "failed", result.explain()
    assert result.result(f"{environment}-revert") == "succeeded", result.explain()
    [pr] = result.gh_state()["pulls"]
    assert pr["head"] == f"rollback/{environment}-{after[:12]}"
    manifest_file = f"deploy/{environment}.yaml"
    assert git(repo.origin, "show", f"{pr['head']}:{manifest_file}") == git(
        repo.origin, "show", f"{first}:{manifest_file}")


# --- rollback.yml ---------------------------------------------------------------------


@pytest.mark.slow
def test_rollback_reverts_exactly_the_last_manifest_change(repo, act_venv):
    change_manifest(repo, "staging", "low", "a")
    change_manifest(repo, "production", "low", "a")
    last = change_manifest(repo, "staging", "low", "b")
    change_manifest(repo, "production", "low", "b")
    (repo.work / "NOTES.md").write_text("Unrelated change after the promotion.\n")
    repo.commit("Notes", "NOTES.md")
    repo.push("main")
    main = repo.head()
    result = act(repo, "workflow_dispatch", repo.dispatch_event({"environment": "staging"}),
                 "rollback.yml", act_venv)
    assert result.result("rollback") == "succeeded", result.explain()
    [pr] = result.gh_state()["pulls"]
    assert pr["head"] == f"rollback/staging-{last[:12]}" and pr["base"] == "main"
    revert = git(repo.origin, "rev-parse", pr["head"])
    assert git(repo.origin, "rev-parse", f"{revert}^") == main
    assert f"This reverts commit {last}." in git(repo.origin, "show", "-s", "--format=%B", revert)
    # Exactly the inverse of the last staging change, nothing else.
    assert git(repo.origin, "diff", f"{revert}^", revert) == git(
        repo.origin, "diff", last, f"{last}^")
    assert repo.origin_head("main") == main  # proposed, not pushed to main


# --- the smoke test deploy.yml runs after a deploy (a service on 127.0.0.1) ------------


def serve_fake_service(lineage_id: str) -> ThreadingHTTPServer:
    class Service(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = {"/predict": [{"probability": 0.25, "label": 0}],
                      "/lineage": {"lineage_id": lineage_id}}.get(self.path)
            data = json.dumps(answer).encode()
            self.send_response(200 if answer is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(("served", "passes"), [("a" * 16, True), ("f" * 16, False)])
def test_smoke_deployed_checks_the_service_serves_the_manifest(new_project, served, passes):
    project = new_project()
    (project.path / "deploy" / "staging.yaml").write_text(manifest("staging", "low", "a"))
    server = serve_fake_service(served)
    try:
        project.extra_env["SERVICE_URL"] = f"http://127.0.0.1:{server.server_address[1]}"
        result = project.make("smoke-deployed", "ENV=staging", check=False)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) == passes, result.stdout + result.stderr
    if not passes:
        assert f"serves lineage {served}, not {'a' * 16}" in result.stderr
