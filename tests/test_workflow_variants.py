"""The workflows of the other variants under act: the high risk tier on the S3 remote.

test_workflows.py runs every workflow of the default bake. What the other
answers change in the workflows, or in what the workflows run, is run here
once, on one bake that has both (risk_tier=high, dvc_remote=s3), from a copy
of the session's trained high risk project (nothing trains):

- a pull request that moves the decision threshold and loosens the fairness
  gate: the gates job takes its AWS keys from the configure-aws-credentials
  step (its stand-in exports the test's keys, as the real one exports STS's),
  pulls the pinned data and the trained outputs from an S3-compatible server
  on 127.0.0.1 named by the repository variable DVC_S3_ENDPOINT_URL, reruns
  what the pull request changed (evaluation and the gates, fairness included;
  not training), pushes the new outputs and run cache there, and the comment's
  gate table lists fairness and tells the approvers of the gate setting;
- that pull request merged: release.yml takes the same credentials step,
  pulls from the bucket, trains nothing (the pull request's run cache),
  pushes, builds the image (the engine recorded: the real build is
  test_image.py's, on the default bake) and opens the staging promotion of
  the high-risk model, pinned by the digest the push reported;
- a high-risk production manifest deploys in `production-high-risk`, through
  the same credentials step, and its failure proposes the revert.

The `test` job of this variant runs in test_own_data.py: there the variant is
switched to a user's own data, and its own fast tests must follow the tier, the
remote and the data the project was made with, not the default's sample.
"""

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from act.harness import HERE as ACT_HOME
from act.harness import ActRun, GitHubRepo, git, read_jsonl, run_act
from conftest import (
    MARKER,
    PR_NUMBER,
    REPO,
    Project,
    bake,
    bare_seed,
    copy_project,
    pinned_md5,
)
from test_s3_remote import (  # noqa: F401 (s3_endpoint: the module's S3 server)
    BUCKET,
    PREFIX,
    bucket_keys,
    holds,
    s3_endpoint,
    s3_project,
)
from test_workflows_deploy import assert_the_revert_was_proposed, change_manifest

pytestmark = pytest.mark.slow

# A recording buildah: the real image is built once, by test_image.py on the default bake.
ENGINES = ACT_HOME / "engines"
ROLE = "arn:aws:iam::123456789012:role/sample-classifier-dvc"
ANSWERS = {"risk_tier": "high", "dvc_remote": "s3", "s3_remote_url": f"s3://{BUCKET}/{PREFIX}"}


def s3_variant_of(trained_high_risk: Project, root: Path, endpoint: str) -> Project:
    """A copy of the trained high risk project made the S3 variant, its remote the
    bucket on `endpoint` (empty of this project until something pushes).

    The remotes differ in files no DVC stage depends on (workflows,
    bootstrap.py, docs) and in bentofile.yaml (the S3 variant's bento also packs
    s3fs, for the pods' log shipper): the S3 bake laid over the copy is that
    variant trained, once the gate stage, which builds the bento, runs again.
    """
    copy = copy_project(trained_high_risk, root)
    shutil.copytree(bake(root / "s3-bake", **ANSWERS), copy.path, dirs_exist_ok=True)
    project = s3_project(copy.path, copy.venv, root / "unused", endpoint)
    project.dvc("remote", "modify", "storage", "url", ANSWERS["s3_remote_url"])
    project.dvc("remote", "modify", "--local", "storage", "endpointurl", endpoint)
    return project


@pytest.fixture(scope="module")
def seed(tmp_path_factory, trained_high_risk: Project, s3_endpoint: str) -> Path:
    """The trained high risk project as the S3 variant, its data and outputs in the bucket.
    Only the gate stage is out of date (`dvc status` confirms); it runs, and the run
    cache stays behind, for the workflow's `make push` to send."""
    root = tmp_path_factory.mktemp("s3-high-risk-seed")
    project = s3_variant_of(trained_high_risk, root, s3_endpoint)
    status = project.dvc("status").stdout
    assert status.split() == ["gate:", "changed", "deps:", "modified:", "bentofile.yaml"], status
    project.dvc("repro", "gate")
    status = project.dvc("status").stdout
    assert "Data and pipelines are up to date" in status, status
    return bare_seed(project, root)


def act_with_aws(repo: GitHubRepo, event: str, payload: dict, workflow: str, venv: Path,
                 endpoint: str, scratch: Path, *args: str, tools: Path | None = None,
                 **env: str) -> ActRun:
    """act with the repository variables the S3 variant reads; the keys reach the jobs
    only through the credentials step's stand-in. `env`: more for the jobs' environment."""
    nowhere = str(scratch / "no-aws-config")
    variables = {"AWS_ROLE_ARN": ROLE, "AWS_REGION": "us-east-1",
                 "DVC_S3_ENDPOINT_URL": endpoint}
    return run_act(
        repo, event, payload, workflow, venv, scratch / "standins", *args,
        *[arg for key, value in variables.items() for arg in ("--var", f"{key}={value}")],
        extra_env={
            "ACT_AWS_ACCESS_KEY_ID": "testing", "ACT_AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere,
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **env},
        tools=tools)


@dataclass
class ThresholdPullRequest:
    repo: GitHubRepo
    run: ActRun  # ci.yml's gates job on the pull request
    bucket_before: set[str]  # the bucket's keys before it ran


@pytest.fixture(scope="module")
def threshold_pr(seed, s3_endpoint, act_venv, tmp_path_factory) -> ThresholdPullRequest:
    """A pull request that lowers the threshold and loosens the fairness gap, its gates
    job run once for the module (the release test merges it)."""
    root = tmp_path_factory.mktemp("threshold-pr")
    repo = GitHubRepo.from_bare(seed, root, REPO)
    git(repo.work, "switch", "--quiet", "-c", "threshold")
    # Evaluate and gate rerun; evaluate's outputs and run cache entry are new, for `make
    # push` to send (the gate stage's outputs are not cached, so it has no run cache entry).
    repo.edit("params.yaml", "  threshold: 0.5\n", "  threshold: 0.45\n")
    repo.edit("params.yaml", "    max_gap: 0.10\n", "    max_gap: 0.12\n")
    repo.commit("Lower the threshold; loosen the fairness gap", "params.yaml")
    repo.push("threshold")
    before = set(bucket_keys(s3_endpoint))
    assert holds(list(before), pinned_md5(Project(repo.work, act_venv, root)))
    run = act_with_aws(repo, "pull_request", repo.pull_request_event(PR_NUMBER, "threshold"),
                       "ci.yml", act_venv, s3_endpoint, root, "-j", "gates")
    return ThresholdPullRequest(repo, run, before)


def test_pr_pulls_from_s3_through_the_oidc_step_and_runs_the_fairness_gate(
        threshold_pr, s3_endpoint):
    result = threshold_pr.run
    assert result.result("gates") == "succeeded", result.explain()
    [aws] = [c for c in result.action_calls() if c["action"] == "configure-aws-credentials"]
    assert (aws["job"], aws["role"], aws["region"]) == ("gates", ROLE, "us-east-1")
    log = result.log("gates")
    assert "configure-aws-credentials stand-in: exported short-lived keys" in log
    assert f"from 'storage' (s3://{BUCKET}/{PREFIX})" in log  # make pull, from the bucket
    assert "Running stage 'evaluate'" in log and "Running stage 'gate'" in log
    assert "Running stage 'train'" not in log  # the model came from the bucket
    assert "Success - Main Push outputs and run cache" in log
    pushed = set(bucket_keys(s3_endpoint)) - threshold_pr.bucket_before
    assert any(key.startswith(f"{PREFIX}/runs/") for key in pushed), sorted(pushed)
    [comment] = result.comments(PR_NUMBER)
    body = comment["body"]
    assert body.startswith(MARKER) and "**Gates passed**" in body
    assert "| fairness | pass |" in body  # the high tier's extra gate
    assert "`gate.fairness.max_gap` 0.1 → 0.12" in body  # the approvers are told


def test_the_merged_pull_request_releases_from_s3_and_proposes_staging(
        threshold_pr, s3_endpoint, act_venv, tmp_path):
    """release.yml on the merge: its credentials step, the pull from the bucket, the
    model the pull request trained restored from the run cache there (evaluation, a few
    seconds, reruns: its metrics and curves live in git, not in the remote), the push,
    `make image` (buildah recorded: tests/act/engines/buildah) and the staging promotion
    of the high-risk model, with the lineage the pull request's gates passed."""
    assert threshold_pr.run.result("gates") == "succeeded", threshold_pr.run.explain()
    repo = threshold_pr.repo
    before = repo.head("main")
    git(repo.work, "switch", "--quiet", "main")
    git(repo.work, "merge", "--quiet", "--ff-only", "threshold")
    repo.push("main")
    engine = tmp_path / "engine"
    engine.mkdir()
    registry = "registry.example.com/sample-classifier"
    result = act_with_aws(
        repo, "push", repo.push_event(before, repo.head()), "release.yml", act_venv,
        s3_endpoint, tmp_path, tools=ENGINES,
        CONTAINER_BACKEND="buildah", IMAGE_REGISTRY=registry, ENGINE_STANDIN_DIR=str(engine))
    assert result.returncode == 0, result.explain()
    [aws] = [c for c in result.action_calls() if c["action"] == "configure-aws-credentials"]
    assert (aws["job"], aws["role"]) == ("build", ROLE)
    log = result.log("build")
    assert f"from 'storage' (s3://{BUCKET}/{PREFIX})" in log
    assert "Running stage 'train'" not in log  # the pull request's model, from the bucket
    build, push = read_jsonl(engine / "calls.jsonl")
    reference = build["argv"][build["argv"].index("--tag") + 1]
    assert push["argv"][0] == "push" and push["argv"][-1] == reference
    [pull] = result.gh_state()["pulls"]
    git(repo.work, "fetch", "--quiet", str(repo.origin), pull["head"])
    manifest = yaml.safe_load(git(repo.work, "show", "FETCH_HEAD:deploy/staging.yaml"))
    pushed = "sha256:" + hashlib.sha256(reference.encode()).hexdigest()
    assert manifest["current"]["image"] == f"{registry}@{pushed}"
    assert manifest["risk_tier"] == "high"
    model, version = manifest["current"]["model_tag"].split(":")
    assert f"models/{model}/{version}/model.joblib" in build["context"]  # the model is inside
    # What ships is what the pull request's gates passed: the lineage its comment named.
    [comment] = threshold_pr.run.comments(PR_NUMBER)
    assert manifest["current"]["lineage_id"] in comment["body"]
    assert manifest["current"]["bento_tag"].split(":")[1] == reference.rsplit(":", 1)[1]


def test_high_risk_production_deploys_behind_the_approvers_and_a_failure_reverts(
        seed, s3_endpoint, act_venv, tmp_path):
    repo = GitHubRepo.from_bare(seed, tmp_path, REPO)
    first = change_manifest(repo, "production", "high", "a")
    repo.push("main")
    before = repo.head()
    after = change_manifest(repo, "production", "high", "b")
    repo.push("main")
    result = act_with_aws(repo, "push", repo.push_event(before, after), "deploy.yml", act_venv,
                          s3_endpoint, tmp_path)
    outputs = result.outputs("plan")
    assert outputs["production"] == "true", result.explain()
    assert outputs["production_environment"] == "production-high-risk"
    assert result.result("staging") is None
    [aws] = [c for c in result.action_calls() if c["action"] == "configure-aws-credentials"]
    assert aws["job"] == "production"
    log = result.log("production")
    assert "Run Main Deploy deploy/production.yaml" in log
    assert "is not in this machine's bento store" in log  # a fake bento: the deploy refuses
    assert_the_revert_was_proposed(result, repo, "production", first, after)
