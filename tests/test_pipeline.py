"""The generated project's pipeline, lineage and setup, driven like a user would.

Every test bakes the template and runs the generated project's own Makefile,
DVC and CLI, then asserts on what they print and write: DVC's stage lines,
dvc.lock, the .dvc pin, models/lineage.json and the BentoML model store.
"""

import hashlib
import itertools
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    DEFAULTS,
    RAW,
    Clone,
    FirstRun,
    Project,
    cached_venv,
    clone_and_reproduce,
    copy_project,
    lineage,
    output,
    pinned_md5,
    run,
)

# Every test here trains, or runs a generated project's own lint and tests.
pytestmark = pytest.mark.slow

TRAIN = "data/features/train.parquet"
EVAL = "data/features/eval.parquet"
# The stage whose deps record each data file in dvc.lock (the first that reads it).
DATA_STAGES = {RAW: "validate", TRAIN: "train", EVAL: "evaluate"}

RUNNING = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)
SKIPPED = re.compile(r"^Stage '([^']+)' didn't change, skipping", re.MULTILINE)


# --- reading what DVC and the project say -------------------------------------------


def ran(result: subprocess.CompletedProcess) -> list[str]:
    """Stages DVC ran, in order, from its "Running stage '<name>'" lines."""
    return RUNNING.findall(output(result))


def skipped(result: subprocess.CompletedProcess) -> set[str]:
    return set(SKIPPED.findall(output(result)))


def pipeline(project: Project) -> dict[str, Any]:
    return yaml.safe_load((project.path / "dvc.yaml").read_text())["stages"]


def outputs_of(stage: dict[str, Any]) -> list[str]:
    entries = stage.get("outs", []) + stage.get("metrics", []) + stage.get("plots", [])
    return [entry if isinstance(entry, str) else next(iter(entry)) for entry in entries]


def overlaps(deps: list[str], outs: list[str]) -> bool:
    """A dep reads an output if the paths are equal or one holds the other."""
    return any(
        dep == out or dep.startswith(out.rstrip("/") + "/") or out.startswith(dep.rstrip("/") + "/")
        for dep in deps
        for out in outs
    )


def downstream(project: Project, start: str) -> list[str]:
    """`start` and every stage that reads its outputs, directly or not, in dvc.yaml order.

    Computed from dvc.yaml rather than hard-coded, so a stage added after
    `evaluate` (the gates) is expected to rerun too, and nothing upstream is.
    """
    stages = pipeline(project)
    affected, produced = [start], outputs_of(stages[start])
    for name, stage in stages.items():  # dvc.yaml lists stages in pipeline order
        if name not in affected and overlaps(stage.get("deps", []), produced):
            affected.append(name)
            produced += outputs_of(stage)
    return affected


def dvc_lock(project: Project) -> dict[str, Any]:
    return yaml.safe_load((project.path / "dvc.lock").read_text())


def locked_md5(project: Project, stage: str, path: str) -> str:
    """The md5 dvc.lock records for `path` as a dependency of `stage`."""
    deps = dvc_lock(project)["stages"][stage]["deps"]
    matches = [dep["md5"] for dep in deps if dep["path"] == path]
    assert matches, f"dvc.lock has no dep {path} in stage {stage}"
    return matches[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- one project's life: the session's first run, then a copy that goes on -------------


def commit_and_push(project: Project) -> None:
    """What a user does after training: commit dvc.lock and metrics, push the data."""
    project.commit_all("Train the first model")
    project.dvc("push")


@dataclass
class Story:
    project: Project
    clone: Clone


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, trained_project: Project) -> Story:
    """A copy of the session's trained project, committed and pushed, reproduced in a
    clone. (What a param change reruns is read from the pull request's run under act,
    test_workflows.py, which changes one.)
    """
    root = tmp_path_factory.mktemp("pipeline")
    project = copy_project(trained_project, root / "copy")
    commit_and_push(project)
    return Story(project, clone_and_reproduce(project, root / "clone"))


def test_setup_twice_changes_nothing(first_run: FirstRun) -> None:
    """Second `make setup`: no new commit, clean git status, the same pin and DVC config."""
    assert first_run.state_after_setup_again == first_run.state_after_setup
    assert first_run.state_after_setup_again["status"] == ""
    assert "made the first commit" not in output(first_run.setup_again)


def test_first_repro_runs_every_stage_in_order(first_run: FirstRun) -> None:
    assert ran(first_run.first) == list(pipeline(first_run.project))
    assert {"validate", "featurize", "train", "evaluate"} <= set(ran(first_run.first))


def test_first_repro_trains_on_the_pinned_data(first_run: FirstRun) -> None:
    pin = pinned_md5(first_run.project)
    assert locked_md5(first_run.project, "validate", RAW) == pin
    assert locked_md5(first_run.project, "featurize", RAW) == pin
    assert first_run.first_lineage["data"][RAW] == pin


def test_second_repro_runs_no_stage(first_run: FirstRun) -> None:
    assert "Running stage" not in output(first_run.second)
    assert skipped(first_run.second) == set(pipeline(first_run.project))


def test_status_is_clean_after_repro(trained_project: Project) -> None:
    assert json.loads(trained_project.dvc("status", "--json").stdout) == {}


def test_fresh_clone_pulls_the_pinned_data(story: Story) -> None:
    assert "pulled the pinned data" in output(story.clone.setup)
    assert "wrote the bundled sample data" not in output(story.clone.setup)


def test_fresh_clone_restores_the_model_without_training(first_run: FirstRun, story: Story) -> None:
    clone = story.clone.project
    assert ran(story.clone.repro) == [], "the clone retrained instead of using the pulled outputs"
    assert skipped(story.clone.repro) == set(pipeline(clone))
    digest = first_run.first_lineage["model"]["digest"]
    assert lineage(clone)["model"]["digest"] == digest
    assert "sha256:" + sha256(clone.path / "models" / "model.joblib") == digest


def bump_a_pin(project: Project) -> None:
    """What `make lock` does when scikit-learn moves: one version line of the lock changes."""
    lock = project.path / "requirements.lock"
    text = lock.read_text()
    pin = re.search(r"^scikit-learn==(\S+)", text, re.MULTILINE)
    assert pin, "no scikit-learn pin in requirements.lock"
    lock.write_text(text.replace(pin.group(0), pin.group(0) + ".post1", 1))


def test_a_dependency_bump_retrains_and_the_lineage_names_the_new_lock(
    trained_project: Project, tmp_path: Path
) -> None:
    project = copy_project(trained_project, tmp_path)
    before = lineage(project)["dependencies"]["lock_hash"]
    bump_a_pin(project)
    # Up to the lineage; the gate stage is shown stale by the same dependency.
    after = project.dvc("repro", "evaluate", check=False)
    assert after.returncode == 0, f"dvc repro failed after the lock changed:\n{output(after)}"
    assert ran(after) == ["validate", "featurize", "train", "evaluate"], output(after)
    status = project.dvc("status", "gate").stdout
    assert "requirements.lock" in status, status
    new_hash = lineage(project)["dependencies"]["lock_hash"]
    assert new_hash != before
    assert new_hash == "sha256:" + sha256(project.path / "requirements.lock")


def test_the_gate_reruns_for_the_production_manifest_alone(
    trained_project: Project, tmp_path: Path
) -> None:
    """The gate compares with production: an Argo CD file or a staging promotion
    must not rebuild and re-serve the bento (.dvcignore)."""
    project = copy_project(trained_project, tmp_path)
    argocd = project.path / "deploy/k8s/argocd/application-production.yaml"
    argocd.write_text(argocd.read_text() + "# edited by hand\n")
    (project.path / "deploy/staging.yaml").write_text("environment: staging\n")
    assert json.loads(project.dvc("status", "--json").stdout) == {}
    (project.path / "deploy/production.yaml").write_text("environment: production\n")
    assert "deploy" in project.dvc("status", "gate").stdout


# --- lineage of the shared trained project (read only) --------------------------------


def test_lineage_data_hashes_equal_dvc_lock(trained_project: Project) -> None:
    data = lineage(trained_project)["data"]
    assert set(data) == set(DATA_STAGES)
    for path, stage in DATA_STAGES.items():
        assert data[path] == locked_md5(trained_project, stage, path), path


def test_lineage_raw_data_hash_equals_the_pin(trained_project: Project) -> None:
    assert lineage(trained_project)["data"][RAW] == pinned_md5(trained_project)


def test_lineage_is_the_same_from_file_cli_and_model_store(trained_project: Project) -> None:
    from_file = lineage(trained_project)
    from_cli = json.loads(trained_project.cli("lineage", "--json").stdout)
    tag = from_file["model"]["tag"]
    from_store = json.loads(trained_project.cli("lineage", tag, "--json").stdout)
    assert from_cli == from_file
    assert from_store == from_file


def test_model_store_holds_the_bytes_the_lineage_names(trained_project: Project) -> None:
    record = lineage(trained_project)
    name, version = record["model"]["tag"].split(":")
    stored = trained_project.path / ".bentoml" / "models" / name / version / "model.joblib"
    trained = trained_project.path / record["model"]["file"]
    assert record["model"]["digest"] == "sha256:" + sha256(stored)
    assert record["model"]["digest"] == "sha256:" + sha256(trained)
    assert version == record["model"]["digest"].removeprefix("sha256:")[:16]


def test_lineage_names_the_commit_and_the_lock(trained_project: Project) -> None:
    record = lineage(trained_project)
    head = trained_project.git("rev-parse", "HEAD").stdout.strip()
    assert record["code"]["commit"] == head
    lock_hash = sha256(trained_project.path / "requirements.lock")
    assert record["dependencies"]["lock_hash"] == f"sha256:{lock_hash}"


def test_lineage_table_prints_the_model_tag(trained_project: Project) -> None:
    table = trained_project.cli("lineage").stdout
    tag = lineage(trained_project)["model"]["tag"]
    assert tag in table
    assert "data.data/raw/breast_cancer.csv" in table


def test_a_missing_model_tag_is_an_error_not_a_record(trained_project: Project) -> None:
    missing = f"{trained_project.package}:0000000000000000"
    result = trained_project.cli("lineage", missing, "--json", check=False)
    assert result.returncode != 0
    assert "not in the model store" in output(result)


# --- reproducibility ------------------------------------------------------------------


def test_two_bakes_train_the_same_model(
    trained_project: Project, trained_high_risk: Project
) -> None:
    """Separate bakes, directories and remotes, the same pinned data: the same bytes.

    The risk tier only decides the gates, so the high risk bake trains the same model.
    """
    assert trained_project.path.parent != trained_high_risk.path.parent
    assert trained_project.remote != trained_high_risk.remote
    one, other = lineage(trained_project), lineage(trained_high_risk)
    assert one["data"] == other["data"]
    assert one["model"]["digest"] == other["model"]["digest"]
    assert one["model"]["tag"] == other["model"]["tag"]


# --- the generated project's own checks, per variant ------------------------------------

CHOICES = {
    key: value
    for key, value in DEFAULTS.items()
    if isinstance(value, list) and not key.startswith("_")
}


def variant_id(answers: dict[str, str]) -> str:
    return "-".join(f"{key}={value}" for key, value in answers.items())


def variants() -> list:
    """Every combination of cookiecutter.json's choices, all exhaustive: the default
    variant's lint and tests run in the default selection too, as the `lint` and `test`
    jobs of ci.yml under act (test_workflows.py), so they are not run twice."""
    return [
        pytest.param(answers, id=variant_id(answers), marks=[pytest.mark.exhaustive])
        for answers in (
            dict(zip(CHOICES, combination, strict=True))
            for combination in itertools.product(*CHOICES.values())
        )
    ]


def python_version_of(venv: Path) -> str:
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    return run([str(venv / "bin" / "python"), "-c", code], venv).stdout.strip()


def find_python(version: str) -> str | None:
    """An interpreter for `version` that really runs.

    A pyenv shim exists for every installed version but fails unless that
    version is selected, so the pyenv versions folder is tried as well.
    """
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(map(str, Path.home().glob(f".pyenv/versions/{version}.*/bin/python3")))
    for candidate in filter(None, candidates):
        if run([candidate, "--version"], Path.home(), check=False).returncode == 0:
            return candidate
    return None


def venv_for(project: Project, version: str) -> Path:
    """The shared venv if it has this Python; else one for this version, cached the same way."""
    if python_version_of(project.venv) == version:
        return project.venv
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} interpreter on this machine")
    return cached_venv(f"project-venv-py{version}", project.path, f"PYTHON={python}")


@pytest.mark.parametrize("answers", variants())
def test_generated_project_lint_and_tests_pass(new_project, answers: dict[str, str]) -> None:
    project = new_project(**answers)
    project.venv = venv_for(project, answers["python_version"])
    if answers["dvc_remote"] == "local":
        project.make("setup")
    else:
        # Setup would need an S3 server (test_s3_remote.py covers that); pre-commit
        # only needs the files tracked by git.
        project.git("init", "--quiet", "--initial-branch=main")
        project.git("add", "--all")
    lint = project.make("lint")
    assert "Passed" in lint.stdout and "Failed" not in lint.stdout
    tests = project.make("test")
    assert re.search(r"\b\d+ passed\b", tests.stdout), tests.stdout[-2000:]
    assert not re.search(r"\b\d+ (failed|errors?)\b", tests.stdout)
