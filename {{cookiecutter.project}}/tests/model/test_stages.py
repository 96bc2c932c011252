"""The pipeline's stages, in the order dvc.yaml runs them, on a copy of the
project's data in a folder shaped like the project: what each one writes, and
what stops it. `make repro` runs the same commands through DVC; here a change
to a stage is tested without DVC or a trained model.

validate, featurize and train run in this process, through the commands
dvc.yaml names (`python -m <package> <stage>`). evaluate runs as
`python -m <package> evaluate`, as its DVC stage does: it saves the model to a
BentoML store, and BentoML fixes its store's folder when it is first imported,
so only a process of its own keeps the test's model out of the project's store.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import PACKAGE, Paths, paths
from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.files import write_frame
from {{ cookiecutter.package }}.shell import git

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What the stages read from the project, besides the data.
PROJECT_FILES = ("dvc.yaml", "params.yaml", "requirements.lock")


def stage_folder(root: Path, data: pd.DataFrame) -> Paths:
    """A git repository holding this project's settings and `data` as its raw data."""
    root.mkdir(exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copyfile(PROJECT_ROOT / name, root / name)
    project = Paths(root)
    project.raw_data.parent.mkdir(parents=True)
    write_frame(data, project.raw_data)
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", "--all")
    git(root, *identity, "commit", "--quiet", "-m", "Start")
    return project


@contextmanager
def working_in(project: Paths) -> Iterator[None]:
    """Run the block with `project` as the working folder (what the stages act on)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project.root)
        paths.cache_clear()  # paths() is found once per folder and cached
        try:
            yield
        finally:
            paths.cache_clear()


def run_stage(project: Paths, stage: str) -> Result:
    with working_in(project):
        return CliRunner().invoke(cli, [stage])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, project_data) -> Paths:
    """validate, featurize and train, in dvc.yaml's order."""
    project = stage_folder(tmp_path_factory.mktemp("stages") / "project", project_data)
    for stage in ("validate", "featurize", "train"):
        result = run_stage(project, stage)
        assert result.exit_code == 0, result.output
    return project


def test_validate_writes_its_report_of_the_data(trained: Paths, project_data):
    report = json.loads(trained.validation_report.read_text())
    assert report["passed"] and report["violations"] == []
    assert (report["rows"], report["columns"]) == project_data.shape


def test_featurize_splits_every_row_once(trained: Paths, project_data):
    train_rows, eval_rows = read_table(trained.train_features), read_table(trained.eval_features)
    row_ids = pd.concat([train_rows["row_id"], eval_rows["row_id"]])
    assert sorted(row_ids) == sorted(project_data.index)
    label = load_contract().label
    assert label not in read_table(trained.eval_raw).columns  # what a caller sends


def test_train_writes_a_model_that_predicts_every_class(trained: Paths):
    import joblib

    model = joblib.load(trained.model)
    assert sorted(model.classes_) == sorted(load_contract().label_values)


def test_evaluate_scores_records_the_lineage_and_saves_the_model(trained: Paths, tmp_path: Path):
    store = tmp_path / "bentoml"
    evaluated = subprocess.run(
        [sys.executable, "-m", PACKAGE, "evaluate"],
        cwd=trained.root,
        env={**os.environ, "BENTOML_HOME": str(store)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(trained.metrics.read_text())
    assert metrics["model"]["roc_auc"] > metrics["baseline"]["roc_auc"]
    lineage = json.loads(trained.lineage.read_text())
    assert lineage["metrics"] == metrics
    assert lineage["code"] == {"commit": git(trained.root, "rev-parse", "HEAD"), "dirty": False}
    model_name, version = lineage["model"]["tag"].split(":")
    assert (store / "models" / model_name / version / "model.joblib").exists()
    assert f"model {lineage['model']['tag']}" in evaluated.stdout


def test_validate_stops_on_data_that_breaks_the_contract(
    tmp_path: Path, project_data, numeric_column: str
):
    broken = project_data.copy()
    broken[numeric_column] = broken[numeric_column].astype(object)
    broken.loc[broken.index[0], numeric_column] = "not a number"
    project = stage_folder(tmp_path / "project", broken)
    stopped = run_stage(project, "validate")
    assert stopped.exit_code == 1
    assert "ERROR: the raw data breaks its contract" in stopped.output
    report = json.loads(project.validation_report.read_text())
    assert not report["passed"]
    assert any(numeric_column in violation for violation in report["violations"])
