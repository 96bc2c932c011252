"""The generated workflows, run by act on their real trigger events, offline.

One default project is trained on `main` and pushed to a bare repository that
plays GitHub (see act/harness.py). Each scenario clones it, makes the change a
person would make, and runs the workflow GitHub would start, on the event it
would start it with: a `pull_request` for ci.yml, a `push` for release.yml and
deploy.yml, a `workflow_dispatch` with inputs for rollback.yml. The tests then
assert on what the workflow sent to "GitHub": the comment, the promotion pull
request and its manifest diff. Other modules run the rest, so other test
workers run them meanwhile: ci.yml's lint job (test_workflow_checks.py),
a pull request the gates stop (test_workflow_gate_failure.py), release.yml with
the real image build (test_image.py), deploy.yml and rollback.yml
(test_workflows_deploy.py).

The trigger tests at the top are fast: act ignores `paths` filters, so which
workflow a push starts is decided here the way GitHub decides it.
"""

import re
from pathlib import Path

import pytest
from act.harness import ActRun, GitHubRepo, git, glob_regex, run_act, triggered
from conftest import MARKER, PR_NUMBER, PYTEST_SUMMARY, REPO, FirstRun, bake
from test_pipeline import downstream

# DVC's line for each stage it runs, as the job's log shows it.
RAN_STAGE = re.compile(r"\| Running stage '([^']+)'")

# What the project's service tests print (its tests/service/conftest.py): the fuzz count.
FUZZ_LINE = re.compile(r"fuzz: (\d+) requests, (\d+) server errors")
# What the project's `make coverage` prints when every module meets the floor.
COVERAGE_FLOOR = re.compile(r"coverage: (\d+) modules at or over the floor of 80%, (\d+) known gap")


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


# --- running a workflow of the trained seed (conftest.py: seed, repo) -----------------


def act(repo: GitHubRepo, event: str, payload: dict, workflow: str, venv: Path, *args: str):
    return run_act(repo, event, payload, workflow, venv, repo.work.parent / "standins", *args)


def lineage_row(body: str, name: str) -> str:
    """A value of the comment's lineage table (`| name | `value` |`)."""
    return body.split(f"| {name} | `")[1].split("`")[0]


def param_row(body: str, name: str) -> list[str]:
    """The cells of a param's row in the comment's `dvc params diff` table."""
    [row] = [line for line in body.splitlines() if line.startswith("| params.yaml")
             and f"| {name} " in line]
    return [cell.strip() for cell in row.strip("|").split("|")]


# --- ci.yml ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pull_request(seed: Path, tmp_path_factory, act_venv) -> ActRun:
    """A pull request that passes, under ci.yml: its `service` job, and the `gates` and
    `test` jobs it needs. (`lint` runs in test_workflow_checks.py, a failing pull request
    in test_workflow_gate_failure.py, each beside this module.)"""
    repo = GitHubRepo.from_bare(seed, tmp_path_factory.mktemp("pull-request"), REPO)
    git(repo.work, "switch", "--quiet", "-c", "feature")
    repo.edit("params.yaml", "  C: 1.0\n", "  C: 0.5\n")
    repo.commit("Regularise more", "params.yaml")
    repo.push("feature")
    return act(repo, "pull_request", repo.pull_request_event(PR_NUMBER, "feature"),
               "ci.yml", act_venv, "-j", "service")


@pytest.mark.slow
def test_pr_that_passes_the_gates_is_green_and_comments_once(pull_request):
    first = pull_request
    assert first.result("gates") == "succeeded", first.explain()
    [comment] = first.comments(PR_NUMBER)
    body = comment["body"]
    assert body.startswith(MARKER)
    assert "**Gates passed**" in body
    assert param_row(body, "train.params.C") == ["params.yaml", "train.params.C", "1.0", "0.5"]
    lineage = body.split("| lineage id | `")[1][:16]
    assert f"lineage `{lineage}`" in body  # the gate table and the lineage agree
    assert "Bento: `sample-classifier:" in body
    roc = body.split('title "ROC: true positive rate by false positive rate')[1].split("```")[0]
    assert roc.startswith(" (base then candidate)") and roc.count("    line [") == 2
    actions = first.action_calls()
    [plots] = [c for c in actions if c["action"] == "upload-artifact" and c["name"] == "plots"]
    assert (plots["job"], plots["path"]) == ("gates", "reports/plots-diff")
    assert plots["files"] >= 1
    checkouts = [c for c in actions if c["action"] == "checkout"]
    assert {c["job"] for c in checkouts} == {"test", "gates", "service"}
    assert {c["persist_credentials"] for c in checkouts} == {"false"}
    assert (len(first.api_calls("POST")), len(first.api_calls("PATCH"))) == (1, 0)
    # Last, so the rest is checked even while the project's own code breaks a test.
    assert first.result("service") == "succeeded", first.log("service")[-4000:]
    assert first.returncode == 0, first.explain()


@pytest.mark.slow
def test_the_fast_tests_pass_and_every_module_meets_the_coverage_floor(pull_request):
    """The project's `make test` (the `test` job) and `make coverage`, which the `service`
    job runs on both jobs' coverage data: the test job's, kept as an artifact, and its own."""
    assert pull_request.result("test") == "succeeded", pull_request.log("test")[-4000:]
    log = pull_request.log("test")
    summary = PYTEST_SUMMARY.findall(log)
    assert summary and "passed" in summary[-1] and "failed" not in summary[-1], log[-3000:]
    assert "Required test coverage of" in log and "reached" in log
    handed = [(c["action"], c["job"], c["files"]) for c in pull_request.action_calls()
              if c.get("name") == "coverage-fast-tests"]
    assert handed == [("upload-artifact", "test", 1), ("download-artifact", "service", 1)]
    floor = COVERAGE_FLOOR.search(pull_request.log("service"))
    assert floor, pull_request.log("service")[-3000:]
    assert int(floor[1]) > 50 and int(floor[2]) == 0, floor[0]  # the package's modules


@pytest.mark.slow
def test_the_service_job_runs_the_service_tests_after_the_gates(pull_request):
    """The project's `make test-service` (build, serve, bad input, fuzzing, metrics,
    logs, batching), run by ci.yml's `service` job from what the gates job pushed."""
    log = pull_request.log("service")
    assert "Stage 'train' is cached - skipping run" in log  # restored, not trained again
    # `make model`: evaluate registers the model; the gates job already gated it.
    ran = RAN_STAGE.findall(log)
    assert "evaluate" in ran and "gate" not in ran and "train" not in ran, ran
    fuzz = FUZZ_LINE.search(log)
    assert fuzz, f"no fuzz line in the service job's log:\n{log[-3000:]}"
    requests, server_errors = int(fuzz[1]), int(fuzz[2])
    assert requests > 0 and server_errors == 0, fuzz[0]
    summary = PYTEST_SUMMARY.findall(log)
    assert summary and re.search(r"\d+ passed", summary[-1]), log[-3000:]
    assert "failed" not in summary[-1], summary[-1]


@pytest.mark.slow
def test_the_param_change_reruns_train_and_what_follows_only(pull_request, first_run: FirstRun):
    """dvc.yaml's shape decides what follows `train`; the gates job reran exactly that."""
    expected = downstream(first_run.project, "train")
    assert expected[:2] == ["train", "evaluate"]  # the dvc.yaml shape this test relies on
    # validate checks the estimator's settings (train.params) before any data is read,
    # so it reruns too; its report is unchanged, so featurize does not.
    assert RAN_STAGE.findall(pull_request.log("gates")) == ["validate", *expected]


@pytest.mark.slow
def test_the_param_change_gives_a_new_model_with_its_params(pull_request, first_run: FirstRun):
    [comment] = pull_request.comments(PR_NUMBER)
    body, before = comment["body"], first_run.first_lineage
    assert before["params"]["train"]["params"]["C"] == 1.0
    assert "with `{'C': 0.5, " in body  # the model card's training section
    assert lineage_row(body, "model digest") != before["model"]["digest"]
    for path, md5 in before["data"].items():  # the same pinned data, the same split
        assert lineage_row(body, f"data `{path}`") == md5
