"""The gates on real baked projects: a fresh bake passes, each negative fixture is stopped.

Every test drives a baked project the way a user would (`make repro`, `dvc repro`,
`python -m <package> gate`) and reads what the gate stage wrote: reports/gate.json
and the message a user sees. The fresh bakes are the session's trained projects;
tests that change a project work on a copy of the default one, so each starts
from a model that passed.
"""

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import RAW, Project, copy_project, output, run

pytestmark = pytest.mark.slow

LOW_RISK_GATES = ["data contract", "baseline", "training-serving parity", "packaging integrity"]


def report(project: Project) -> dict[str, Any]:
    return project.read_json("reports/gate.json")


def gates_by_name(project: Project) -> dict[str, dict[str, Any]]:
    return {gate["name"]: gate for gate in report(project)["gates"]}


def edit(project: Project, relative: str, old: str, new: str) -> None:
    """Replace one exact piece of a file's text (it must occur exactly once)."""
    path = project.path / relative
    text = path.read_text()
    assert text.count(old) == 1, f"expected exactly one {old!r} in {relative}"
    path.write_text(text.replace(old, new))


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def stages_run(result: subprocess.CompletedProcess) -> list[str]:
    return [
        line.split("'")[1]
        for line in output(result).splitlines()
        if line.startswith("Running stage '")
    ]


@pytest.fixture
def trained_copy(trained_project: Project, tmp_path: Path) -> Project:
    """A copy of the session's trained project (git, DVC cache, model store and all)."""
    return copy_project(trained_project, tmp_path)


def python(project: Project, code: str, *args: str) -> subprocess.CompletedProcess:
    return run([str(project.venv / "bin" / "python"), "-c", code, *args], project.path,
               project.env)


def gate(project: Project) -> subprocess.CompletedProcess:
    """Only the gate stage, as `dvc repro` would run it (no retraining)."""
    command = [str(project.venv / "bin" / "python"), "-m", project.package, "gate"]
    return run(command, project.path, project.env, check=False)


# --- (a) a fresh bake passes every gate --------------------------------------------------


def test_a_fresh_low_risk_bake_passes_its_four_gates(trained_project: Project) -> None:
    result = report(trained_project)
    assert (result["passed"], result["mode"], result["risk_tier"]) == (True, "enforce", "low")
    assert [gate["name"] for gate in result["gates"]] == LOW_RISK_GATES
    assert all(gate["passed"] for gate in result["gates"]), result["gates"]
    lineage = trained_project.read_json("models/lineage.json")
    assert result["model_digest"] == lineage["model"]["digest"]
    assert result["lineage_id"] == lineage["lineage_id"]
    baseline = gates_by_name(trained_project)["baseline"]
    assert "no production model yet" in baseline["message"]
    assert baseline["evidence"]["production"] is None
    table = (trained_project.path / "reports" / "gate.md").read_text()
    assert table.startswith("### Gates passed (enforce mode, risk tier low)")
    assert "gate" in yaml.safe_load((trained_project.path / "dvc.lock").read_text())["stages"]


def test_a_fresh_high_risk_bake_passes_five_gates_with_stricter_thresholds(
    trained_high_risk: Project,
) -> None:
    project = trained_high_risk
    result = report(project)
    assert (result["passed"], result["risk_tier"]) == (True, "high")
    assert [gate["name"] for gate in result["gates"]] == [*LOW_RISK_GATES, "fairness"]
    assert all(gate["passed"] for gate in result["gates"]), result["gates"]
    gates = gates_by_name(project)
    assert gates["baseline"]["evidence"]["thresholds"]["min_metric"] == 0.95
    fairness = gates["fairness"]["evidence"]
    assert fairness["group_column"] == "texture_error"
    assert fairness["gap"] <= fairness["max_gap"]
    assert min(fairness["sizes"].values()) >= 20


# --- (b) a feature change without retraining: parity ------------------------------------


def test_a_feature_change_without_retraining_fails_parity(trained_copy: Project) -> None:
    edit(
        trained_copy,
        f"src/{trained_copy.package}/features.py",
        '"radius_growth": lambda raw: raw["worst_radius"] - raw["mean_radius"],',
        '"radius_growth": lambda raw: raw["worst_radius"] - 0.5 * raw["mean_radius"],',
    )
    result = gate(trained_copy)
    assert result.returncode == 1, output(result)
    assert "a gate failed" in result.stderr
    gates = gates_by_name(trained_copy)
    parity = gates["training-serving parity"]
    assert parity["passed"] is False
    assert parity["evidence"]["max_abs_difference"] > 1e-3
    # Both paths see it: the served bento over HTTP, and the packed code in process.
    for path, gap in parity["evidence"]["max_abs_difference_by_path"].items():
        where = path.replace("_", " ")
        assert f"max |{where} - offline| = {gap:.3g} > 1e-09" in parity["message"]
    # The same model is packed: only the feature definition moved.
    assert gates["packaging integrity"]["passed"], gates["packaging integrity"]["message"]
    assert "| training-serving parity | **FAIL** |" in result.stdout


# --- (c) a model swapped in the store: packaging integrity -------------------------------

TRAIN_ANOTHER = """
import sys, joblib
from {package}.config import paths
from {package}.contract import read_table
from {package}.pipeline.train import fit
params = {{"estimator": "logistic_regression", "params": {{"C": 0.01}}, "seed": 0}}
joblib.dump(fit(read_table(paths().train_features), params), sys.argv[1])
"""


def test_a_model_swapped_in_the_store_fails_packaging_integrity(
    trained_copy: Project, tmp_path: Path
) -> None:
    lineage = trained_copy.read_json("models/lineage.json")
    name, version = lineage["model"]["tag"].split(":")
    stored = trained_copy.path / ".bentoml" / "models" / name / version / "model.joblib"
    assert sha256(stored) == lineage["model"]["digest"]
    other = tmp_path / "other.joblib"
    python(trained_copy, TRAIN_ANOTHER.format(package=trained_copy.package), str(other))
    stored.unlink()
    shutil.copyfile(other, stored)
    swapped = sha256(stored)
    assert swapped != lineage["model"]["digest"]

    result = gate(trained_copy)
    assert result.returncode == 1, output(result)
    packaging = gates_by_name(trained_copy)["packaging integrity"]
    assert packaging["passed"] is False
    expected = lineage["model"]["digest"]
    assert f"model in bento {swapped} != lineage {expected}" in packaging["message"]
    assert packaging["evidence"]["bento_model_digest"] == swapped


# --- (d) a weakened model in warn mode: reported, not blocking ----------------------------
# In enforce mode the same weakened model fails `make repro` and the pull request's
# check: test_workflow_gate_failure.py runs that through ci.yml's gates job.


def test_a_weakened_model_is_reported_in_warn_mode_and_does_not_block(
    trained_copy: Project,
) -> None:
    # Train on shuffled labels: the model learns nothing (roc_auc near 0.5).
    edit(
        trained_copy,
        f"src/{trained_copy.package}/pipeline/train.py",
        "model.fit(train[feature_names()], train[label])",
        "model.fit(train[feature_names()], train[label].sample(frac=1.0, random_state=0).to_numpy())",
    )
    edit(trained_copy, "params.yaml", "  mode: enforce\n", "  mode: warn\n")
    warned = trained_copy.dvc("repro", check=False)
    assert warned.returncode == 0, output(warned)
    assert stages_run(warned) == ["train", "evaluate", "gate"]
    assert "WARNING: a gate failed, but gate.mode is 'warn'" in output(warned)
    result = report(trained_copy)
    assert (result["passed"], result["mode"]) == (False, "warn")
    baseline = gates_by_name(trained_copy)["baseline"]
    assert baseline["passed"] is False
    assert baseline["evidence"]["model"] < 0.9
    assert "is below the floor 0.9 (min_metric)" in baseline["message"]
    table = (trained_copy.path / "reports" / "gate.md").read_text()
    assert table.startswith("### Gates FAILED (warn mode, risk tier low)")
    assert "| baseline | **FAIL** |" in table


# --- (e) bad data stops at validate -----------------------------------------------------

BREAK_DATA = """
import sys
from pathlib import Path
from {package}.files import write_frame
from {package}.sample_data import sample_frame
frame = sample_frame().drop(columns=sys.argv[1])
raw = Path("{raw}")
raw.unlink()  # never write through a link into the DVC cache
write_frame(frame, raw)
"""


def test_bad_data_stops_at_validate_naming_the_column(trained_copy: Project) -> None:
    """One damage, end to end: the stage stops the pipeline. Each kind of damage
    (missing values, a shift, a wrong type...) is the project's own tests' work."""
    column, check = "mean_radius", "column_in_dataframe"
    python(trained_copy, BREAK_DATA.format(package=trained_copy.package, raw=RAW), column)
    result = trained_copy.dvc("repro", check=False)
    assert result.returncode != 0, output(result)
    assert stages_run(result) == ["validate"]
    assert "the raw data breaks its contract" in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert problems, result.stderr
    assert any(column in line and check in line for line in problems), problems
    validation = trained_copy.read_json("reports/validate.json")
    assert validation["passed"] is False
