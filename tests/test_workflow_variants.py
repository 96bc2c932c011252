"""The workflows of the other variants under act: the high risk tier, the S3 remote.

test_workflows.py runs every workflow of the default bake. What the other
variants change in the workflows, or in what the workflows run, is run here
once each, from copies of the session's trained projects (nothing trains):

- high risk: a pull request that moves a gate threshold reruns only the gate
  stage, fairness included, and the comment's gate table lists fairness; a
  high-risk production manifest deploys in `production-high-risk`, and its
  failure proposes the revert.
- S3: the gates job takes its AWS keys from the configure-aws-credentials step
  (its stand-in exports the test's keys, as the real one exports STS's), pulls
  the pinned data and the trained outputs from an S3-compatible server on
  127.0.0.1 named by the repository variable DVC_S3_ENDPOINT_URL, reruns what
  the pull request changed (evaluation and gates, not training), and pushes
  the new outputs and run cache there.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from act.harness import GitHubRepo, git, run_act
from conftest import MARKER, PR_NUMBER, REGISTRY, REPO, Project, bake, copy_project, pinned_md5
from test_s3_remote import BUCKET, PREFIX, bucket_keys, holds, s3_project, s3_server
from test_workflows import act
from test_workflows_deploy import assert_the_revert_was_proposed, change_manifest

pytestmark = pytest.mark.slow

ROLE = "arn:aws:iam::123456789012:role/sample-classifier-dvc"


def bare_seed(project: Project, root: Path, *push_args: str) -> Path:
    """Commit the project, push its DVC data, and hold it in a bare repository."""
    project.commit_all("Train the first model")
    project.dvc("push", *push_args)
    git(root, "clone", "--quiet", "--bare", str(project.path), str(root / "seed.git"))
    return root / "seed.git"


def open_pull_request(repo: GitHubRepo, branch: str, old: str, new: str) -> dict:
    git(repo.work, "switch", "--quiet", "-c", branch)
    repo.edit("params.yaml", old, new)
    repo.commit(f"params.yaml: {new.strip()}", "params.yaml")
    repo.push(branch)
    return repo.pull_request_event(PR_NUMBER, branch)


# --- the high risk tier ---------------------------------------------------------------


@pytest.fixture(scope="module")
def high_risk_seed(tmp_path_factory, trained_high_risk: Project) -> Path:
    root = tmp_path_factory.mktemp("high-risk-seed")
    return bare_seed(copy_project(trained_high_risk, root), root, "--run-cache")


@pytest.fixture
def high_risk_repo(high_risk_seed: Path, tmp_path: Path) -> GitHubRepo:
    return GitHubRepo.from_bare(high_risk_seed, tmp_path, REPO)


def test_high_risk_pr_runs_the_fairness_gate_and_reports_it(high_risk_repo, act_venv):
    event = open_pull_request(high_risk_repo, "fairness", "    max_gap: 0.10\n",
                              "    max_gap: 0.12\n")
    result = act(high_risk_repo, "pull_request", event, "ci.yml", act_venv, "-j", "gates")
    assert result.result("gates") == "succeeded", result.explain()
    log = result.log("gates")
    assert "Running stage 'gate'" in log  # the gates ran on this runner...
    assert "Running stage 'train'" not in log  # ...on the model the remote already held
    [comment] = result.comments(PR_NUMBER)
    body = comment["body"]
    assert body.startswith(MARKER) and "**Gates passed**" in body
    assert "| fairness | pass |" in body  # the high tier's extra gate
    assert "`gate.fairness.max_gap` 0.1 → 0.12" in body  # the approvers are told


def test_high_risk_production_deploys_behind_the_approvers_and_a_failure_reverts(
        high_risk_repo, act_venv):
    repo = high_risk_repo
    first = change_manifest(repo, "production", "high", "a")
    repo.push("main")
    before = repo.head()
    after = change_manifest(repo, "production", "high", "b")
    repo.push("main")
    result = act(repo, "push", repo.push_event(before, after), "deploy.yml", act_venv)
    outputs = result.outputs("plan")
    assert outputs["production"] == "true", result.explain()
    assert outputs["production_environment"] == "production-high-risk"
    assert result.result("staging") is None
    log = result.log("production")
    assert "Run Main Deploy deploy/production.yaml" in log
    assert "is not in this machine's bento store" in log  # a fake bento: the deploy refuses
    assert_the_revert_was_proposed(result, repo, "production", first, after)


# --- the S3 remote --------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    with s3_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def s3_seed(tmp_path_factory, trained_project: Project, s3_endpoint: str) -> Path:
    """The trained default project as the s3 variant, its data and outputs in the bucket.

    The variants differ in files no DVC stage depends on (workflows,
    bootstrap.py, docs) and in bentofile.yaml (the s3 variant's bento also packs
    s3fs, for the pods' log shipper): the s3 bake laid over a copy of the
    trained project is that variant trained once the gate stage, which builds
    the bento, runs again; `dvc status` confirms. The run cache stays behind,
    for the workflow's `make push` to send.
    """
    root = tmp_path_factory.mktemp("s3-seed")
    copy = copy_project(trained_project, root)
    answers = {"dvc_remote": "s3", "s3_remote_url": f"s3://{BUCKET}/{PREFIX}"}
    shutil.copytree(bake(root / "s3-bake", image_registry=REGISTRY, **answers), copy.path,
                    dirs_exist_ok=True)
    project = s3_project(copy.path, copy.venv, root / "unused", s3_endpoint)
    project.dvc("remote", "modify", "storage", "url", answers["s3_remote_url"])
    project.dvc("remote", "modify", "--local", "storage", "endpointurl", s3_endpoint)
    status = project.dvc("status").stdout
    assert status.split() == ["gate:", "changed", "deps:", "modified:", "bentofile.yaml"], status
    project.dvc("repro", "gate")
    status = project.dvc("status").stdout
    assert "Data and pipelines are up to date" in status, status
    return bare_seed(project, root)


def test_s3_pr_pulls_and_pushes_through_the_oidc_step(s3_seed, s3_endpoint, act_venv, tmp_path):
    repo = GitHubRepo.from_bare(s3_seed, tmp_path, REPO)
    # Evaluate and gate rerun; evaluate's outputs and run cache entry are new, for `make
    # push` to send (the gate stage's outputs are not cached, so it has no run cache entry).
    event = open_pull_request(repo, "threshold", "  threshold: 0.5\n", "  threshold: 0.45\n")
    before = set(bucket_keys(s3_endpoint))
    assert holds(list(before), pinned_md5(Project(repo.work, act_venv, tmp_path)))
    nowhere = str(tmp_path / "no-aws-config")
    variables = {"AWS_ROLE_ARN": ROLE, "AWS_REGION": "us-east-1",
                 "DVC_S3_ENDPOINT_URL": s3_endpoint}
    result = run_act(
        repo, "pull_request", event, "ci.yml", act_venv, tmp_path / "standins", "-j", "gates",
        *[arg for key, value in variables.items() for arg in ("--var", f"{key}={value}")],
        extra_env={
            # The keys reach the jobs only through the stand-in's exports.
            "ACT_AWS_ACCESS_KEY_ID": "testing", "ACT_AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere,
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    assert result.result("gates") == "succeeded", result.explain()
    [aws] = [c for c in result.action_calls() if c["action"] == "configure-aws-credentials"]
    assert (aws["job"], aws["role"], aws["region"]) == ("gates", ROLE, "us-east-1")
    log = result.log("gates")
    assert "configure-aws-credentials stand-in: exported short-lived keys" in log
    assert f"from 'storage' (s3://{BUCKET}/{PREFIX})" in log  # make pull, from the bucket
    assert "Running stage 'evaluate'" in log
    assert "Running stage 'train'" not in log  # the model came from the bucket
    assert "Success - Main Push outputs and run cache" in log
    pushed = set(bucket_keys(s3_endpoint)) - before
    assert any(key.startswith(f"{PREFIX}/runs/") for key in pushed), sorted(pushed)
    [comment] = result.comments(PR_NUMBER)
    assert "**Gates passed**" in comment["body"]
