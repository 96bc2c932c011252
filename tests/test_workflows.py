"""The generated workflows, run by act on their real trigger events, offline.

One default project is trained on `main` and pushed to a bare repository that
plays GitHub (see act/harness.py). Each scenario clones it, makes the change a
person would make, and runs the workflow GitHub would start, on the event it
would start it with: a `pull_request` for ci.yml, a `push` for release.yml and
deploy.yml, a `workflow_dispatch` with inputs for rollback.yml. The tests then
assert on what the workflow sent to "GitHub": the comment (one, updated), the
promotion pull request and its manifest diff, the revert commit, and the
outputs of deploy.yml's plan job (act ignores `environment:`, so the plan's
output is where the GitHub environment is decided and checked).

The trigger tests at the top are fast: act ignores `paths` filters, so which
workflow a push starts is decided here the way GitHub decides it.
"""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from act.harness import GitHubRepo, git, glob_regex, run_act, triggered
from conftest import DEFAULTS, REGISTRY, Project, bake, copy_project, run

REPO = f"{DEFAULTS['github_owner']}/{DEFAULTS['project']}"
PR_NUMBER = 7
MARKER = f"<!-- {DEFAULTS['project']}:ci-report -->"


# --- which workflow an event starts (fast) --------------------------------------------


@pytest.fixture(scope="module")
def workflows(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("triggers")) / ".github" / "workflows"


def started(workflows: Path, event: str, changed: list[str], branch: str = "main") -> set[str]:
    return {path.stem for path in workflows.glob("*.yml")
            if triggered(path, event, branch, changed)}


def test_github_path_patterns():
    assert glob_regex("deploy/*.yaml").match("deploy/staging.yaml")
    assert not glob_regex("deploy/*.yaml").match("deploy/k8s/staging.yaml")
    assert glob_regex("src/**").match("src/pkg/train.py")
    assert not glob_regex("src/**").match("tests/src/x.py")


def test_push_touching_only_deploy_starts_deploy_not_release(workflows):
    for changed in (["deploy/staging.yaml"], ["deploy/staging.yaml", "deploy/production.yaml"]):
        assert started(workflows, "push", changed) >= {"deploy"}
        assert "release" not in started(workflows, "push", changed)


def test_push_changing_the_model_starts_release_not_deploy(workflows):
    for changed in (["params.yaml"], ["src/sample_classifier/pipeline/train.py"],
                    ["data/raw/breast_cancer.csv.dvc"], ["dvc.lock", "metrics/metrics.json"]):
        assert "release" in started(workflows, "push", changed)
        assert "deploy" not in started(workflows, "push", changed)


def test_other_branches_and_docs_start_neither(workflows):
    assert not started(workflows, "push", ["params.yaml"], branch="feature") & {
        "release", "deploy"}
    assert not started(workflows, "push", ["README.md"]) & {"release", "deploy"}
    assert "ci" in started(workflows, "pull_request", ["README.md"])
    assert "rollback" in started(workflows, "workflow_dispatch", [])


# --- the trained repository every scenario starts from (slow) --------------------------


@pytest.fixture(scope="module")
def seed(tmp_path_factory, trained_project: Project) -> Path:
    """A bare repository holding a project trained on main, its data in the remote:
    a copy of the session's trained project (baked with REGISTRY), committed and pushed."""
    root = tmp_path_factory.mktemp("seed")
    project = copy_project(trained_project, root)
    project.commit_all("Train the first model")
    project.dvc("push", "--run-cache")
    git(root, "clone", "--quiet", "--bare", str(project.path), str(root / "seed.git"))
    return root / "seed.git"


@pytest.fixture
def repo(seed: Path, tmp_path: Path) -> GitHubRepo:
    return GitHubRepo.from_bare(seed, tmp_path, REPO)


def act(repo: GitHubRepo, event: str, payload: dict, workflow: str, venv: Path, *args: str):
    return run_act(repo, event, payload, workflow, venv, repo.work.parent / "standins", *args)


def edit(repo: GitHubRepo, relative: str, old: str, new: str) -> None:
    path = repo.work / relative
    text = path.read_text()
    assert text.count(old) == 1, f"expected one {old!r} in {relative}"
    path.write_text(text.replace(old, new))


def comments(run) -> list[dict[str, Any]]:
    return run.gh_state()["comments"].get(str(PR_NUMBER), [])


def param_row(body: str, name: str) -> list[str]:
    """The cells of a param's row in the comment's `dvc params diff` table."""
    [row] = [line for line in body.splitlines() if line.startswith("| params.yaml")
             and f"| {name} " in line]
    return [cell.strip() for cell in row.strip("|").split("|")]


def api_calls(run, method: str) -> list[dict[str, Any]]:
    return [c for c in run.gh_calls() if c["argv"][:1] == ["api"]
            and (c["argv"][c["argv"].index("--method") + 1] if "--method" in c["argv"]
                 else "GET") == method]


# --- ci.yml ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pull_request(seed: Path, tmp_path_factory, act_venv) -> dict[str, Any]:
    """One pull request's life under ci.yml: a change that passes (every job), then a
    commit that breaks training pushed to the same pull request (the gates job again).
    The tests read what each run did and sent."""
    repo = GitHubRepo.from_bare(seed, tmp_path_factory.mktemp("pull-request"), REPO)
    git(repo.work, "switch", "--quiet", "-c", "feature")
    edit(repo, "params.yaml", "  C: 1.0\n", "  C: 0.5\n")
    repo.commit("Regularise more", "params.yaml")
    repo.push("feature")
    passing = act(repo, "pull_request", repo.pull_request_event(PR_NUMBER, "feature"),
                  "ci.yml", act_venv)
    # The stand-ins' records grow with every run: keep what the first one left.
    passed_comments, passed_posts = comments(passing), len(api_calls(passing, "POST"))
    passed_patches = len(api_calls(passing, "PATCH"))
    passed_actions = passing.action_calls()
    # A bug that shuffles the labels: the model learns nothing.
    edit(repo, "src/sample_classifier/pipeline/train.py",
         "model.fit(train[feature_names()], train[label])",
         "model.fit(train[feature_names()], train[label].sample(frac=1.0, random_state=0))")
    repo.commit("Refactor training", "src/sample_classifier/pipeline/train.py")
    repo.push("feature")
    failing = act(repo, "pull_request", repo.pull_request_event(PR_NUMBER, "feature"),
                  "ci.yml", act_venv, "-j", "gates")
    return {"passing": passing, "passed_comments": passed_comments, "failing": failing,
            "passed_api_calls": {"POST": passed_posts, "PATCH": passed_patches},
            "passed_actions": passed_actions}


@pytest.mark.slow
def test_pr_that_passes_the_gates_is_green_and_comments_once(pull_request):
    first = pull_request["passing"]
    assert first.result("gates") == "succeeded", first.explain()
    [comment] = pull_request["passed_comments"]
    body = comment["body"]
    assert body.startswith(MARKER)
    assert "**Gates passed**" in body
    assert param_row(body, "train.params.C") == ["params.yaml", "train.params.C", "1.0", "0.5"]
    lineage = body.split("| lineage id | `")[1][:16]
    assert f"lineage `{lineage}`" in body  # the gate table and the lineage agree
    assert "Bento: `sample-classifier:" in body
    roc = body.split('title "ROC: true positive rate by false positive rate')[1].split("```")[0]
    assert roc.startswith(" (base then candidate)") and roc.count("    line [") == 2
    actions = pull_request["passed_actions"]
    [plots] = [c for c in actions if c["action"] == "upload-artifact"]
    assert (plots["job"], plots["name"], plots["path"]) == ("gates", "plots", "reports/plots-diff")
    assert plots["files"] >= 1
    checkouts = [c for c in actions if c["action"] == "checkout"]
    assert {c["job"] for c in checkouts} == {"lint", "test", "gates"}
    assert {c["persist_credentials"] for c in checkouts} == {"false"}
    assert pull_request["passed_api_calls"] == {"POST": 1, "PATCH": 0}
    # Last, so the rest is checked even while the project's own code breaks a hook or a test.
    for job in ("lint", "test"):
        assert first.result(job) == "succeeded", f"make {job} failed:\n{first.log(job)[-4000:]}"
    assert first.returncode == 0, first.explain()


@pytest.mark.slow
def test_a_degraded_model_pushed_to_the_pr_fails_at_the_gate_and_says_why(pull_request):
    result = pull_request["failing"]
    assert result.result("gates") == "failed", result.explain()
    log = result.log("gates")
    assert "Failure - Main Train through the gates" in log
    assert "ERROR: a gate failed" in log
    [comment] = comments(result)
    body = comment["body"]
    assert "**Gates FAILED** (the check fails): baseline: " in body
    assert "| baseline | **FAIL** |" in body
    assert "model.roc_auc" in body  # the metrics diff says how much worse


@pytest.mark.slow
def test_the_second_run_updates_the_same_comment(pull_request):
    [first] = pull_request["passed_comments"]
    [updated] = comments(pull_request["failing"])
    assert updated["id"] == first["id"]
    [patch] = api_calls(pull_request["failing"], "PATCH")
    assert patch["argv"][-3].endswith(f"/issues/comments/{first['id']}")
    assert len(api_calls(pull_request["failing"], "POST")) == 1  # the first run's


# --- release.yml ----------------------------------------------------------------------


@pytest.mark.slow
def test_push_changing_params_releases_and_opens_a_staging_promotion(
        pull_request, repo, act_venv):
    before = repo.head()
    edit(repo, "params.yaml", "  C: 1.0\n", "  C: 0.5\n")
    # The pull request's CI trained this already and pushed its run cache to the remote.
    after = repo.commit("Merge: regularise more", "params.yaml")
    repo.push("main")
    assert triggered(repo.work / ".github/workflows/release.yml", "push", "main",
                     repo.changed(before, after))
    result = act(repo, "push", repo.push_event(before, after), "release.yml", act_venv)
    assert result.returncode == 0, result.explain()
    assert [result.result("build"), result.result("promote")] == ["succeeded"] * 2
    build = result.log("build")
    assert "Stage 'train' is cached - skipping run" in build  # nothing trains twice
    assert "Running stage 'train'" not in build
    assert "Success - Main Push DVC outputs and run cache" in build

    builds = [c["argv"] for c in result.docker_calls() if c["argv"][0] == "build"]
    [pushed] = [c["argv"][-1] for c in result.docker_calls() if c["argv"][0] == "push"]
    assert len(builds) == 1 and pushed in builds[0]  # bentoml containerize built what was pushed
    digest = "sha256:" + hashlib.sha256(pushed.encode()).hexdigest()

    [pr] = [p for p in result.gh_state()["pulls"]]
    assert pr["base"] == "main" and pr["head"].startswith("promote/staging-")
    assert repo.origin_head("main") == after  # nothing was written on main
    changed = git(repo.origin, "diff", "--name-only", "main", pr["head"]).splitlines()
    # The manifest, the lineage of what it deploys, its rendered Kubernetes objects: nothing else.
    assert {"deploy/staging.yaml", "deploy/lineage/staging.json"} <= set(changed)
    own = ("deploy/staging.yaml", "deploy/lineage/staging.json", "deploy/k8s/staging/")
    assert [path for path in changed if not path.startswith(own)] == []
    manifest = yaml.safe_load(git(repo.origin, "show", f"{pr['head']}:deploy/staging.yaml"))
    assert manifest["environment"] == "staging"
    assert manifest["current"]["image"] == f"{REGISTRY}@{digest}"
    assert pushed == f"{REGISTRY}:{manifest['current']['bento_tag'].split(':')[1]}"
    assert pr["head"] == f"promote/staging-{manifest['current']['lineage_id']}"
    assert manifest["current"]["lineage_id"] in pr["body"] and digest in pr["body"]


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
    assert result.result("staging") == "failed", result.explain()
    assert result.result("staging-revert") == "succeeded", result.explain()
    [pr] = result.gh_state()["pulls"]
    assert pr["head"] == f"rollback/staging-{after[:12]}"
    assert git(repo.origin, "show", f"{pr['head']}:deploy/staging.yaml") == git(
        repo.origin, "show", f"{first}:deploy/staging.yaml")


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
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run(["make", "smoke-deployed", "ENV=staging", f"VENV={project.venv}"],
                     project.path, {**project.env, "SERVICE_URL": url}, check=False)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) == passes, result.stdout + result.stderr
    if not passes:
        assert f"serves lineage {served}, not {'a' * 16}" in result.stderr
