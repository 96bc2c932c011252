"""docs/own-data.md, followed literally on a data set that is not the sample.

scikit-learn's wine data (shipped in the lock, so no download), made binary
(class 0 against the rest), with a categorical column (the alcohol band) and
missing values in a nullable numeric column: columns, label and types all
differ from the sample. The test runs the page's shell blocks and applies its
YAML and Python snippets, so the page cannot drift from what works.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from conftest import Project, output, run

pytestmark = pytest.mark.slow

DOC = "docs/own-data.md"
YOUR_CSV = "data/raw/your.csv"
# The page's example contract, with this data set's columns.
WINE_CONTRACT = {
    "label": "class_zero",
    "label_values": [0, 1],
    "rows": {"min": 100, "max": 10000000},
    "label_share": {"min": 0.1, "max": 0.9},
    "features": {
        "alcohol_band": {"type": "categorical", "values": ["low", "medium", "high"]},
        "flavanoids": {"min": 0, "max": 10, "nullable": True},
        "proline": {"min": 100, "max": 2000},
        "color_intensity": {"min": 0, "max": 20},
        "hue": {"min": 0, "max": 3},
    },
}

WRITE_WINE = """
import numpy as np, pandas as pd, sys
from sklearn.datasets import load_wine
frame = load_wine(as_frame=True).frame
frame["class_zero"] = (frame.pop("target") == 0).astype(int)
frame["alcohol_band"] = pd.cut(frame.pop("alcohol"), [0, 12.5, 13.5, 99], labels=["low", "medium", "high"])
frame.loc[frame.index % 9 == 0, "flavanoids"] = np.nan
columns = ["alcohol_band", "flavanoids", "proline", "color_intensity", "hue", "class_zero"]
frame[columns].to_csv(sys.argv[1], index=False)
"""


def blocks(language: str, text: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def shell_lines(block: str) -> list[str]:
    """The commands of a bash block, comments dropped, continuation lines joined."""
    joined = block.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def run_line(project: Project, line: str, csv: Path) -> None:
    line = line.replace("/path/to/your.csv", str(csv))
    if line.startswith("make "):
        project.make(*shlex.split(line)[1:])
    else:
        run(["bash", "-c", line], project.path, project.env)


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory, project_venv: Path) -> Project:
    from conftest import bake

    root = tmp_path_factory.mktemp("own-data")
    project = Project(bake(root / "bake"), project_venv, root / "remote")
    project.make("setup")
    csv = root / "wine.csv"
    run([str(project_venv / "bin" / "python"), "-c", WRITE_WINE, str(csv)], root, project.env)
    page = (project.path / DOC).read_text()
    bash = blocks("bash", page)
    for line in shell_lines(bash[0]):  # 1. track the file
        run_line(project, line, csv)
    params = yaml.safe_load((project.path / "params.yaml").read_text())  # 2. name it
    params["data"] = yaml.safe_load(blocks("yaml", page)[0])["data"]
    # ...and the fairness group: a categorical column of the contract below.
    params["gate"]["fairness"].update(group_column="alcohol_band", split_at=None)
    (project.path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    contract = project.path / "src" / project.package / "contract.yaml"  # 3. describe it
    contract.write_text(yaml.safe_dump(WINE_CONTRACT, sort_keys=False))
    features = project.path / "src" / project.package / "features.py"  # 4. features
    source = features.read_text()
    derived = re.search(r"^DERIVED_FEATURES: .*?^\}\n", source, flags=re.S | re.M)
    assert derived, "features.py no longer declares DERIVED_FEATURES as the page says"
    features.write_text(source.replace(derived.group(0), blocks("python", page)[0]))
    for line in shell_lines(bash[1]):  # 5. reproduce and commit
        run_line(project, line, csv)
    return project


def test_the_page_switches_the_project_to_other_data_and_the_gates_pass(switched: Project):
    report = switched.read_json("reports/gate.json")
    assert report["passed"], report["gates"]
    assert (switched.path / f"{YOUR_CSV}.dvc").exists()
    assert not (switched.path / "data/raw/breast_cancer.csv.dvc").exists()
    lineage = switched.read_json("models/lineage.json")
    assert YOUR_CSV in lineage["data"]
    assert "alcohol_band" in lineage["features"]["names"]


def test_the_switched_project_serves_and_predicts(switched: Project):
    result = switched.cli("smoke")
    assert "answers and serves its lineage" in output(result)


def test_a_value_outside_the_contract_stops_validate(switched: Project):
    csv = switched.path / YOUR_CSV
    text = csv.read_text()
    assert "\nlow," in text  # alcohol_band is the first column
    csv.write_text(text.replace("\nlow,", "\nvery low,", 1))
    try:
        result = switched.cli("validate", check=False)
    finally:
        csv.write_text(text)
    assert result.returncode != 0
    assert "alcohol_band" in output(result) and "isin" in output(result)
