"""docs/own-data.md, followed literally on data sets that are not the sample.

Two stories whose columns, label and types all differ from the sample:
scikit-learn's wine data (shipped in the lock, so no download) as three
cultivars (multiclass), with a categorical column (the alcohol band) and
missing values in a nullable numeric column; and a generated churn table
(binary) with a listed and an any-text categorical column and missing values.

The test runs the page's shell blocks and applies its YAML and Python
snippets, so the page cannot drift from what works; then the CI workflow's
jobs that read the data run under act on a pull request to the switched
project: the gates job (it pulls the user's data, passes the gates and
comments the curves) and the test job (the project's own `make test` passes,
since its tests follow the contract and the configured data, not the sample).

Each story starts from a project baked with other answers: the wine data
from the default (low risk, local remote), the churn table from the other
variant (high risk, S3 remote on a server on 127.0.0.1, as in
test_workflow_variants.py). So the churn table's jobs also prove that the
project's own tests follow the tier and the remote it was made with, and that
the jobs pull through the credentials step.
"""

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from act.harness import ActRun, GitHubRepo, git, run_act
from conftest import PR_NUMBER, PYTEST_SUMMARY, REPO, Project, copy_project, output, run
from test_s3_remote import BUCKET, PREFIX, s3_endpoint  # noqa: F401 (a fixture)
from test_workflow_variants import act_with_aws, s3_variant_of

pytestmark = pytest.mark.slow

DOC = "docs/own-data.md"
YOUR_CSV = "data/raw/your.csv"


@dataclass(frozen=True)
class Story:
    """A data set and what a user writes for it in steps 2 to 4 of the page."""

    writer: str  # Python that writes the CSV to sys.argv[1]
    contract: dict[str, Any]
    fairness: dict[str, Any]  # gate.fairness: a column of the contract
    expectations: dict[str, Any]  # tests/model/expectations.yaml
    # Baked as the other variant (high risk, S3 remote) rather than the default.
    s3_high_risk: bool = False


# Multiclass, a categorical column and missing values at once: the sample
# (binary, numeric, complete) proves the other side of each.
WINE = Story(
    writer="""
import numpy as np, pandas as pd, sys
from sklearn.datasets import load_wine
frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
frame["alcohol_band"] = pd.cut(frame.pop("alcohol"), [0, 12.5, 13.5, 99], labels=["low", "medium", "high"])
frame.loc[frame.index % 9 == 0, "flavanoids"] = np.nan
columns = ["alcohol_band", "flavanoids", "proline", "color_intensity", "hue", "cultivar"]
frame[columns].to_csv(sys.argv[1], index=False)
""",
    contract={
        "label": "cultivar",
        "label_values": [0, 1, 2],
        "rows": {"min": 100, "max": 10000000},
        "label_share": {"min": 0.1, "max": 0.9},
        "features": {
            "alcohol_band": {"type": "categorical", "values": ["low", "medium", "high"]},
            "flavanoids": {"min": 0, "max": 10, "nullable": True},
            "proline": {"min": 100, "max": 2000},
            "color_intensity": {"min": 0, "max": 20},
            "hue": {"min": 0, "max": 3},
        },
    },
    fairness={"group_column": "alcohol_band", "split_at": None},
    expectations={
        "quality": {"metric": "roc_auc", "min": 0.9},
        "directional": [
            {"name": "more proline looks like cultivar 0", "from_class": 1,
             "multiply": {"proline": 2.5}, "raises": 0},
        ],
        "invariance": [],
    },
)

# A generated churn table: binary, two categorical columns (one with listed values,
# one any text, missing at times) and missing values in a numeric column. Region
# plays no part in who churns: the model must not lean on it. Baked high risk, its
# gates are the stricter ones (roc_auc at least 0.95, the recall of each plan within
# 0.10 of the others): churn follows tenure closely enough, and the plan only a little.
CHURN = Story(
    writer="""
import numpy as np, pandas as pd, sys
rng = np.random.default_rng(11)
n = 1200
plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
region = rng.choice(["north", "south", "east", "west"], n).astype(object)
tenure = rng.integers(1, 120, n)
spend = rng.gamma(2.0, 40.0, n).round(2)
lean = pd.Series(plan).map({"basic": 1.0, "plus": 0.0, "pro": -1.0}).to_numpy()
churned = rng.random(n) < 1 / (1 + np.exp(-(10.0 - 0.2 * tenure + 1.0 * lean + 0.02 * spend)))
spend[rng.random(n) < 0.1] = np.nan
region[rng.random(n) < 0.05] = None
pd.DataFrame({"plan": plan, "tenure_months": tenure, "monthly_spend": spend, "region": region,
              "churned": churned.astype(int)}).to_csv(sys.argv[1], index=False)
""",
    contract={
        "label": "churned",
        "label_values": [0, 1],
        "rows": {"min": 100, "max": 10000000},
        "label_share": {"min": 0.05, "max": 0.95},
        "features": {
            "plan": {"type": "categorical", "values": ["basic", "plus", "pro"]},
            "tenure_months": {"min": 0, "max": 600},
            "monthly_spend": {"min": 0, "max": 10000, "nullable": True},
            "region": {"type": "categorical", "values": "any", "nullable": True},
        },
    },
    fairness={"group_column": "plan", "split_at": None},
    expectations={
        "quality": {"metric": "roc_auc", "min": 0.9},
        "directional": [
            {"name": "a longer tenure looks less like churn", "from_class": 1,
             "multiply": {"tenure_months": 4}, "raises": 0},
        ],
        "invariance": [{"name": "region plays no part", "columns": ["region"], "tolerance": 0.3}],
    },
    s3_high_risk=True,  # ...on the high tier and the S3 remote: the fairness gate too
)

STORIES = {"wine-multiclass-categorical-missing": WINE, "churn-binary-categorical-missing": CHURN}


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


def write_yaml(path: Path, content: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def switch(project: Project, story: Story, csv: Path) -> None:
    """Steps 1 to 5 of the page, on a project just set up."""
    run([str(project.venv / "bin" / "python"), "-c", story.writer, str(csv)], csv.parent,
        project.env)
    page = (project.path / DOC).read_text()
    bash = blocks("bash", page)
    for line in shell_lines(bash[0]):  # 1. track the file
        run_line(project, line, csv)
    params = yaml.safe_load((project.path / "params.yaml").read_text())  # 2. name it
    params["data"] = yaml.safe_load(blocks("yaml", page)[0])["data"]
    params["gate"]["fairness"].update(story.fairness)  # ...and the fairness group
    write_yaml(project.path / "params.yaml", params)
    package = project.path / "src" / project.package
    write_yaml(package / "contract.yaml", story.contract)  # 3. describe it
    features = package / "features.py"  # 4. features and expectations
    source = features.read_text()
    derived = re.search(r"^DERIVED_FEATURES: .*?^\}\n", source, flags=re.S | re.M)
    assert derived, "features.py no longer declares DERIVED_FEATURES as the page says"
    emptied = source.replace(derived.group(0), blocks("python", page)[0])
    assert "delete its\n`import numpy as np` line" in page
    features.write_text(emptied.replace("import numpy as np\n", ""))
    write_yaml(project.path / "tests" / "model" / "expectations.yaml", story.expectations)
    for line in shell_lines(bash[1]):  # 5. reproduce and commit
        run_line(project, line, csv)


@pytest.fixture(scope="module", params=list(STORIES))
def story(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def switched(story: str, tmp_path_factory: pytest.TempPathFactory,
             request: pytest.FixtureRequest) -> Project:
    """A copy of the session's trained project of the story's variant (the page starts
    from a project set up; a trained one is that too), its sample model in production
    as after `make demo`, switched to the story's data."""
    root = tmp_path_factory.mktemp(f"own-data-{story}")
    if STORIES[story].s3_high_risk:
        project = s3_variant_of(request.getfixturevalue("trained_high_risk"), root,
                                request.getfixturevalue("s3_endpoint"))
    else:
        project = copy_project(request.getfixturevalue("trained_project"), root)
    project.commit_all("Train on the sample")  # the page's `git add` shows only the switch
    project.cli("promote", "production")  # commits deploy/production.yaml
    switch(project, STORIES[story], root / "your.csv")
    return project


def test_the_page_switches_the_project_to_other_data_and_the_gates_pass(
    switched: Project, story: str
):
    report = switched.read_json("reports/gate.json")
    assert report["passed"], report["gates"]
    # The parity gate served the bento on the user's columns and it answered as trained.
    gates = {gate["name"]: gate for gate in report["gates"]}
    assert gates["training-serving parity"]["passed"]
    # Production still runs the sample's model, which reads other columns: not compared.
    assert "**not compared with production**" in gates["baseline"]["message"]
    assert (switched.path / f"{YOUR_CSV}.dvc").exists()
    assert not (switched.path / "data/raw/breast_cancer.csv.dvc").exists()
    # Unpinned, the sample is gone from the folder, never committed to git by step 5.
    assert not (switched.path / "data/raw/breast_cancer.csv").exists()
    assert git(switched.path, "ls-files", "data/raw").split() == [
        "data/raw/.gitignore", f"{YOUR_CSV}.dvc"]
    lineage = switched.read_json("models/lineage.json")
    assert YOUR_CSV in lineage["data"]
    assert set(lineage["features"]["names"]) >= set(STORIES[story].contract["features"])


def gates_job_pulled_the_data_and_commented(run: ActRun, log: str) -> None:
    assert f"pull: pinned data {YOUR_CSV}.dvc" in log
    assert "Running stage 'train'" not in log  # the model the page's step 5 pushed
    [comment] = run.comments(PR_NUMBER)
    assert "**Gates passed**" in comment["body"] and "xychart-beta" in comment["body"]


def the_test_job_ran_the_projects_own_tests(run: ActRun, log: str) -> None:
    assert f"pull: pinned data {YOUR_CSV}.dvc" in log
    summary = PYTEST_SUMMARY.findall(log)
    assert summary and "passed" in summary[-1] and "failed" not in summary[-1], log[-3000:]
    assert "Required test coverage of 80.0% reached" in log
    # The tests of the sample's own facts say why they have nothing to check.
    assert "about the bundled sample" in log


CI_CHECKS = {"gates": gates_job_pulled_the_data_and_commented,
             "test": the_test_job_ran_the_projects_own_tests}


@pytest.fixture(scope="module")
def pull_request(switched: Project, story: str, tmp_path_factory) -> GitHubRepo:
    """A pull request to the switched project (the page's step 5 committed it and pushed
    its data) that changes only the README: what CI then checks is the user's data."""
    root = tmp_path_factory.mktemp(f"pull-request-{story}")
    git(root, "clone", "--quiet", "--bare", str(switched.path), str(root / "seed.git"))
    repo = GitHubRepo.from_bare(root / "seed.git", root / "github", REPO)
    git(repo.work, "switch", "--quiet", "-c", "readme")
    readme = repo.work / "README.md"
    readme.write_text(readme.read_text() + "\nThe model now learns from our own data.\n")
    repo.commit("Say what the model learns from", "README.md")
    repo.push("readme")
    return repo


def run_ci_job(repo: GitHubRepo, story: Story, job: str, venv: Path, scratch: Path,
               request: pytest.FixtureRequest) -> ActRun:
    """One job of ci.yml on the pull request, under act; the S3 variant's with the
    repository variables and credentials step its workflow reads."""
    event = repo.pull_request_event(PR_NUMBER, "readme")
    if story.s3_high_risk:
        endpoint = request.getfixturevalue("s3_endpoint")
        return act_with_aws(repo, "pull_request", event, "ci.yml", venv, endpoint, scratch,
                            "-j", job)
    return run_act(repo, "pull_request", event, "ci.yml", venv, scratch / "standins", "-j", job)


@pytest.mark.parametrize("job", list(CI_CHECKS))
def test_its_ci_jobs_pass_under_act(pull_request: GitHubRepo, story: str, job: str,
                                    act_venv: Path, tmp_path: Path,
                                    request: pytest.FixtureRequest):
    """ci.yml's jobs that read the data, each as GitHub runs it on the pull request: the
    gates job and the test job. (The service job, which builds its requests from the
    contract too, runs on the sample in test_workflows.py.)"""
    run = run_ci_job(pull_request, STORIES[story], job, act_venv, tmp_path, request)
    log = run.log(job)
    assert run.result(job) == "succeeded", log[-6000:]
    CI_CHECKS[job](run, log)
    if STORIES[story].s3_high_risk:  # pulled through the credentials step, from the bucket
        [aws] = [c for c in run.action_calls() if c["action"] == "configure-aws-credentials"]
        assert aws["job"] == job
        assert f"from 'storage' (s3://{BUCKET}/{PREFIX})" in log


def test_the_switched_project_passes_its_lint(switched: Project):
    result = run([str(switched.venv / "bin" / "ruff"), "check", "src", "tests"], switched.path,
                 switched.env, check=False)
    assert result.returncode == 0, output(result)


def test_a_value_outside_the_contract_stops_validate(switched: Project, story: str):
    csv = switched.path / YOUR_CSV
    text = csv.read_text()
    # The file's first column: in each story, a categorical one with listed values.
    column = next(iter(STORIES[story].contract["features"]))
    first_value = text.splitlines()[1].split(",")[0]
    wrong = "very low"  # not one of its values
    csv.write_text(text.replace(f"\n{first_value},", f"\n{wrong},", 1))
    try:
        result = switched.cli("validate", check=False)
    finally:
        csv.write_text(text)
    assert result.returncode != 0
    assert column in output(result)
