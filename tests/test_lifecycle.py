"""The whole lifecycle, end to end, on the local deploy target.

Bake -> set up -> train v1 through the gates (the session's trained project,
copied) -> promote and deploy v1 ->
train v2 -> promote and deploy v2 (v1 kept warm; high risk: a canary first)
-> `git revert` of the promotion -> deploy -> v1 answers again, timed. Then
the same revert, pushed, runs deploy.yml under act and ends with v1 serving.
Then the faults: each leaves the serving version untouched and says why.
"""

import fcntl
import re
import threading
import time

import httpx
import pytest
import yaml
from act.harness import GitHubRepo, git, run_act
from conftest import DEFAULTS, RAW, Project, copy_project, free_port

from scripts.demo import Stopwatch

pytestmark = pytest.mark.slow

CANARY_WINDOW_SECONDS = "6"


class Production:
    """The production environment of a baked project, seen from outside."""

    def __init__(self, project: Project, port: int) -> None:
        self.project, self.port = project, port
        self.url = f"http://127.0.0.1:{port}"

    def serving(self) -> str:
        return httpx.get(f"{self.url}/readyz", timeout=5).headers["x-bento-tag"]

    def predict(self) -> tuple[str, float]:
        record = sample_record(self.project)
        response = httpx.post(f"{self.url}/predict", json={"records": [record]}, timeout=30)
        response.raise_for_status()
        return response.headers["x-bento-tag"], response.json()[0]["probability"]

    def state(self) -> dict:
        return self.project.read_json(".deploy/production/state.json")

    def deploy(self, *args: str, check: bool = True):
        return self.project.cli("deploy", "production", *args, check=check)


def sample_record(project: Project) -> dict[str, float]:
    """The first row of the pinned data, without its label: a record the model accepts."""
    import csv

    contract = project.path / "src" / project.package / "contract.yaml"
    label = yaml.safe_load(contract.read_text())["label"]
    with (project.path / RAW).open() as handle:
        row = next(csv.DictReader(handle))
    return {name: float(value) for name, value in row.items() if name != label}


class Load(threading.Thread):
    """Steady requests to the router while a canary is watched."""

    def __init__(self, production: Production) -> None:
        super().__init__(daemon=True)
        self.production, self.stop, self.sent = production, threading.Event(), 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.production.predict()
                self.sent += 1
            except httpx.HTTPError:
                time.sleep(0.05)


def train(project: Project, message: str) -> None:
    project.make("repro")
    project.commit_all(message)


def promote(project: Project) -> str:
    project.cli("promote", "production")
    return project.git("rev-parse", "HEAD").stdout.strip()


def set_params(project: Project, edit) -> None:
    path = project.path / "params.yaml"
    params = yaml.safe_load(path.read_text())
    edit(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def deploy_with_load(production: Production, *args: str, check: bool = True):
    loads = [Load(production) for _ in range(3)]
    for load in loads:
        load.start()
    try:
        return production.deploy(*args, check=check)
    finally:
        for load in loads:
            load.stop.set()
            load.join()


@pytest.fixture(scope="module")
def story(trained_high_risk, tmp_path_factory):
    """Run the lifecycle once, on the high risk tier; the tests read what happened.

    High risk, because it is the low tier's path plus a canary: what the low tier
    does differently (no canary share, no approvers) is decided by the manifest and
    the deploy plan, and the project's own tests prove it there.

    It starts from a copy of the session's trained project (baked, set up, trained
    through the gates): v1 is that model, so `make repro` trains nothing.
    """
    tier = "high"
    project = copy_project(trained_high_risk, tmp_path_factory.mktemp(f"lifecycle-{tier}"))
    port = free_port()
    project.extra_env = {"DEPLOY_PORT": str(port), "CANARY_WINDOW_SECONDS": CANARY_WINDOW_SECONDS}
    production = Production(project, port)
    record = {"tier": tier, "production": production}
    # A short test window on a busy machine sees few requests and noisy latency: the
    # canary takes half the traffic, and a mean latency up to 3x stable's passes.
    # The rules stay (no evidence, no promotion; judged on errors and latency);
    # the project's own canary tests hold each threshold.
    canary = {"min_requests": 3, "share": 50, "max_latency_ratio": 3.0}
    set_params(project, lambda p: p["deploy"]["canary"].update(canary))
    train(project, "Train v1")
    record["v1_promotion"] = promote(project)
    record["v1_deploy"] = production.deploy().stdout
    record["v1"] = production.serving()
    record["v1_answer"] = production.predict()
    record["v1_redeploy"] = production.deploy().stdout

    set_params(project, lambda p: p["train"]["params"].update(C=0.3))
    train(project, "Train v2 with C=0.3")
    # No traffic during the window: no evidence, so the canary must fail
    # closed, send everything back to v1 and revert its promotion.
    failed_promotion = promote(project)
    record["canary_failure"] = production.deploy("--commit", check=False)
    record["canary_failure_promotion"] = failed_promotion
    record["after_canary_failure"] = production.serving()
    record["canary_revert_message"] = project.git("log", "-1", "--format=%B").stdout
    record["v2_promotion"] = promote(project)
    record["v2_deploy"] = deploy_with_load(production, "--commit").stdout
    record["v2"] = production.serving()
    record["v2_answer"] = production.predict()
    record["state_after_v2"] = production.state()
    warm_v1 = record["state_after_v2"]["versions"][record["v1"]]
    record["v1_warm_answer"] = httpx.get(f"http://127.0.0.1:{warm_v1['port']}/readyz").status_code

    stopwatch = Stopwatch(production.serving, record["v1"], errors=(httpx.HTTPError,))
    stopwatch.start()
    project.cli("rollback", "production")
    record["rollback_deploy"] = production.deploy().stdout
    stopwatch.join()
    record["rollback_seconds"] = stopwatch.seconds
    record["revert_message"] = project.git("log", "-1", "--format=%B").stdout
    record["after_rollback"] = production.serving()
    record["state_after_rollback"] = production.state()
    print(f"\nlifecycle[{tier}]: rollback {stopwatch.seconds:.2f}s from revert to v1 answering")
    yield record
    project.cli("stop", "production", check=False)


def test_v1_serves_after_its_first_deploy(story):
    tag, probability = story["v1_answer"]
    assert tag == story["v1"]
    assert 0.0 <= probability <= 1.0
    assert "switched traffic" in story["v1_deploy"]


def test_deploying_again_changes_nothing(story):
    assert "nothing changed" in story["v1_redeploy"]


def test_v2_serves_with_v1_kept_warm(story):
    assert story["v2"] != story["v1"]
    assert story["v2_answer"][0] == story["v2"]
    assert set(story["state_after_v2"]["versions"]) == {story["v1"], story["v2"]}
    assert story["v1_warm_answer"] == 200


def test_v1_and_v2_predict_differently(story):
    assert story["v1_answer"][1] != story["v2_answer"][1]


def test_revert_of_the_promotion_brings_v1_back(story):
    assert story["after_rollback"] == story["v1"]
    assert f"This reverts commit {story['v2_promotion']}" in story["revert_message"]
    assert story["rollback_seconds"] is not None


def test_rollback_switch_is_immediate(story):
    """The warm v1 takes traffic without a start-up: the same process, only the route moves.
    (How long the switch takes is measured by `make bench-rollback`, not asserted here.)"""
    before = story["state_after_v2"]["versions"][story["v1"]]["pid"]
    assert story["state_after_rollback"]["versions"][story["v1"]]["pid"] == before
    assert re.search(r"switched traffic in [0-9.]+s", story["rollback_deploy"]), story[
        "rollback_deploy"]


def test_high_risk_canary_without_traffic_fails_closed_and_reverts(story):
    failure = story["canary_failure"]
    assert failure.returncode != 0
    assert "canary requests" in failure.stderr and "reverted the manifest commit" in failure.stderr
    assert story["after_canary_failure"] == story["v1"]
    assert f"This reverts commit {story['canary_failure_promotion']}" in story[
        "canary_revert_message"
    ]


def test_high_risk_canary_with_healthy_traffic_is_promoted(story):
    assert "canary: 50% of traffic" in story["v2_deploy"]
    assert "promoted to all traffic" in story["v2_deploy"]


# --- the same revert, pushed: deploy.yml runs the deploy (under act) ---------


@pytest.fixture
def pushed_revert(story, act_venv, tmp_path):
    """GitHub's view: main at the v2 promotion, v2 serving; then the revert is pushed.

    The act job deploys from its own fresh checkout, as a self-hosted runner on
    the serving machine would: the deploy state and the bento store are the
    project's, named by the repository variables deploy.yml passes on.
    """
    production = story["production"]
    project = production.project
    revert, promotion = project.git("rev-parse", "HEAD").stdout.strip(), story["v2_promotion"]
    assert project.git("rev-parse", "HEAD^").stdout.strip() == promotion
    # Before the revert reached main, v2 served (v1 warm): put that back.
    manifest = project.path / "deploy/production.yaml"
    manifest.write_text(project.git("show", f"{promotion}:deploy/production.yaml").stdout)
    production.deploy()
    project.git("checkout", "--", "deploy/production.yaml")
    assert production.serving() == story["v2"]

    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(project.path), str(origin))
    git(origin, "update-ref", "refs/heads/main", promotion)
    repo = GitHubRepo(origin, project.path, f"{DEFAULTS['github_owner']}/{DEFAULTS['project']}")
    project.git("remote", "add", "origin", f"https://github.com/{repo.full_name}.git")
    try:
        repo.push("main")
        variables = {"DEPLOY_STATE_DIR": project.path / ".deploy",
                     "BENTOML_HOME": project.path / ".bentoml", "SERVICE_URL": production.url}
        args = [arg for key, value in variables.items() for arg in ("--var", f"{key}={value}")]
        result = run_act(repo, "push", repo.push_event(promotion, revert), "deploy.yml", act_venv,
                         tmp_path / "standins", *args,
                         extra_env={"DEPLOY_PORT": str(production.port)})
        yield result
    finally:
        project.git("remote", "remove", "origin")


def test_the_pushed_revert_runs_deploy_yml_and_ends_with_v1_serving(pushed_revert, story,
                                                                   act_venv):
    production = story["production"]
    v1_pid = story["state_after_rollback"]["versions"][story["v1"]]["pid"]
    assert pushed_revert.outputs("plan")["production"] == "true", pushed_revert.explain()
    assert pushed_revert.result("production") == "succeeded", pushed_revert.explain()
    assert pushed_revert.result("production-revert") is None  # nothing failed
    log = pushed_revert.log("production")
    assert f"{act_venv}/bin/" in log, log  # DEPLOY_VENV reached the job
    assert re.search(r"switched traffic in [0-9.]+s", log), log
    assert "Success - Main Smoke test" in log, log
    assert production.serving() == story["v1"]
    assert production.predict()[0] == story["v1"]
    # The warm v1 took the traffic: the same process, not a new start.
    assert production.state()["versions"][story["v1"]]["pid"] == v1_pid


# --- faults: each leaves the serving version untouched and says why ----------


@pytest.fixture
def faulty(story):
    """The story's production after the rollback; manifests restored after."""
    production = story["production"]
    yield production
    production.project.git("checkout", "--", "deploy", "src")
    assert production.serving() == story["v1"]


def rewrite_manifest(production: Production, edit) -> None:
    path = production.project.path / "deploy/production.yaml"
    manifest = yaml.safe_load(path.read_text())
    edit(manifest)
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))


def assert_refused(production: Production, story, expected: str) -> None:
    before = production.state()
    result = production.deploy(check=False)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
    assert production.serving() == story["v1"]
    assert production.predict()[0] == story["v1"]
    assert production.state()["versions"].keys() == before["versions"].keys()


def test_a_bento_that_does_not_exist_is_refused(faulty, story):
    rewrite_manifest(faulty, lambda m: m["current"].update(bento_tag="sample-classifier:0000000000000000"))
    assert_refused(faulty, story, "is not in this machine's bento store")


def test_a_lineage_that_does_not_match_the_model_is_refused(faulty, story):
    rewrite_manifest(faulty, lambda m: m["current"].update(lineage_id="0123456789abcdef"))
    assert_refused(faulty, story, "the manifest says 0123456789abcdef")


def test_a_manifest_naming_another_model_for_a_running_bento_is_refused(faulty, story):
    """v1's bento runs (it serves); a manifest claiming it packs v2's model must not pass as warm."""
    v2_manifest = faulty.project.git("show", f"{story['v2_promotion']}:deploy/production.yaml")
    v2_model = yaml.safe_load(v2_manifest.stdout)["current"]["model_tag"]
    rewrite_manifest(faulty, lambda m: m["current"].update(model_tag=v2_model))
    assert_refused(faulty, story, f"not {v2_model}")


def test_a_model_whose_bytes_do_not_match_its_lineage_is_refused(faulty, story, tmp_path):
    """The v2 model file in the store is swapped for other bytes; a cold start of it must stop.

    v2 itself is still warm after the rollback, serving the bytes verified when it
    started: a new bento of the same model (any source change gives a new tag)
    is what has to start, and so be verified, from the tampered store.
    """
    project = faulty.project
    v2_manifest = yaml.safe_load(
        project.git("show", f"{story['v2_promotion']}:deploy/production.yaml").stdout
    )
    model_tag = v2_manifest["current"]["model_tag"]
    smoke = project.path / "src" / project.package / "serving" / "smoke.py"
    smoke.write_text(smoke.read_text() + "# a source change: a new bento of the same model\n")
    rebuilt = project.cli("bento").stdout.strip()
    assert rebuilt != v2_manifest["current"]["bento_tag"]
    name, version = model_tag.split(":")
    stored = project.path / ".bentoml" / "models" / name / version / "model.joblib"
    original = stored.read_bytes()
    try:
        stored.write_bytes(original + b"tampered")
        rewrite_manifest(faulty, lambda m: m.update(current={**v2_manifest["current"],
                                                             "bento_tag": rebuilt}))
        assert_refused(faulty, story, "its lineage says")
    finally:
        stored.write_bytes(original)


def test_a_bento_that_fails_its_smoke_request_is_refused(faulty, story):
    project = faulty.project
    service = project.path / "src" / project.package / "serving" / "service.py"
    broken = service.read_text().replace(
        "        raw = pd.DataFrame(", '        raise RuntimeError("broken build")\n        raw = pd.DataFrame(', 1
    )
    assert broken != service.read_text()
    service.write_text(broken)
    broken_tag = project.cli("bento").stdout.strip()
    lineage = project.read_json("models/lineage.json")  # the model the broken bento packs
    version = {"bento_tag": broken_tag, "model_tag": lineage["model"]["tag"]}
    version["lineage_id"] = lineage["lineage_id"]
    rewrite_manifest(faulty, lambda m: m["current"].update(version))
    assert_refused(faulty, story, "smoke check")
    assert broken_tag not in faulty.state()["versions"]


def test_an_invalid_manifest_never_reaches_a_deploy(faulty, story):
    rewrite_manifest(faulty, lambda m: m["traffic"].update(stable=50))
    assert_refused(faulty, story, "is not a valid manifest")


def test_two_deploys_to_one_environment_never_run_at_once(faulty, story):
    lock = faulty.project.path / ".deploy/production/lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert_refused(faulty, story, "another deploy to production is in progress")
