"""Fixtures shared by the code, data and model tests.

They build everything from the project's own data (params.yaml `data.raw`,
the bundled sample until you bring yours) and its contract (contract.yaml),
never from facts of the sample, so the tests pass on any data that holds the
contract. They need no trained pipeline; with your own data, `dvc pull` (or
`make setup`) first. The few tests about the sample itself are marked
`about_the_sample` and skipped once `data.raw` names other data.
"""

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package }}.config import PACKAGE, SERVICE_NAME, Paths, load_params, paths
from {{ cookiecutter.package }}.contract import Contract, load_contract, read_table
from {{ cookiecutter.package }}.deploy.manifest import Version
from {{ cookiecutter.package }}.pipeline.featurize import split, with_features
from {{ cookiecutter.package }}.pipeline.train import fit
from {{ cookiecutter.package }}.release.promotion import candidate_version, promote
from {{ cookiecutter.package }}.sample_data import write_sample
from {{ cookiecutter.package }}.shell import git

TRAIN_PARAMS = {
    "estimator": "logistic_regression",
    "params": {"C": 1.0, "max_iter": 1000, "class_weight": None},
    "seed": 42,
}


PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "data/raw/breast_cancer.csv"


def pin_data_with_dvc(repo: Path, remote_url: str, relative: str) -> None:
    """Make `repo` a git and DVC repository whose remote is `remote_url`, then pin
    `relative` and push it. DVC reads a relative remote path from .dvc/, so a copy of
    a folder holding the repository and a remote it names so works as it is.

    Through DVC's Python API, in this process: a `dvc` command per step costs
    seconds each, and what the tests exercise is the project's own commands.
    """
    from dvc.repo import Repo

    git(repo, "init", "--quiet", "--initial-branch", "main")
    Repo.init(str(repo)).close()
    # Written as the file, not through the config API, which would take a relative
    # path from the current folder.
    (repo / ".dvc" / "config").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {remote_url}\n"
    )
    with Repo(str(repo)) as dvc_repo:
        dvc_repo.add(str(repo / relative))
        dvc_repo.push()


@pytest.fixture(scope="session")
def pin_with_dvc():
    """`pin_with_dvc(repo, remote_url, relative)`: see `pin_data_with_dvc`."""
    return pin_data_with_dvc


def uses_the_sample() -> bool:
    return Paths(PROJECT_ROOT).raw_data == PROJECT_ROOT / SAMPLE


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "about_the_sample: a fact of the bundled sample, skipped with other data"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of facts of the bundled sample (its pin, its derived features) have
    nothing to check once params.yaml names your data: they are skipped, saying so."""
    if uses_the_sample():
        return
    skip = pytest.mark.skip(
        reason="about the bundled sample; params.yaml data.raw names other data (docs/own-data.md)"
    )
    for item in items:
        if item.get_closest_marker("about_the_sample"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def bentoml_home_restored() -> Iterator[None]:
    """A command run in process sets BENTOML_HOME to the store of the repository it
    runs in when none is set (config.use_project_model_store): a test's temporary
    repository must not become the store of the tests after it."""
    before = os.environ.get("BENTOML_HOME")
    yield
    if before is None:
        os.environ.pop("BENTOML_HOME", None)
    else:
        os.environ["BENTOML_HOME"] = before


@pytest.fixture(scope="session")
def contract() -> Contract:
    return load_contract()


@pytest.fixture(scope="session")
def params() -> dict[str, Any]:
    return load_params(PROJECT_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def project_data(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The table params.yaml `data.raw` names, as the pipeline reads it."""
    raw = Paths(PROJECT_ROOT).raw_data
    if not raw.exists() and uses_the_sample():
        raw = tmp_path_factory.mktemp("sample") / "sample.csv"  # no setup needed for the sample
        write_sample(raw)
    if not raw.exists():
        pytest.fail(f"{raw.relative_to(PROJECT_ROOT)} is missing: run `dvc pull` (or `make setup`)")
    return read_table(raw)


@pytest.fixture
def sample(project_data: pd.DataFrame) -> pd.DataFrame:
    """A copy of the project's data, for a test to change."""
    return project_data.copy()


@pytest.fixture(scope="session")
def split_sample(project_data, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    settings = params["featurize"]
    return split(project_data, settings["test_size"], settings["seed"])


@pytest.fixture(scope="session")
def model(split_sample):
    train, _ = split_sample
    return fit(with_features(train), TRAIN_PARAMS)


@pytest.fixture(scope="session")
def numeric_column(contract: Contract) -> str:
    """A numeric column of the contract that may not be missing: tests break it."""
    names = contract.required_names_of("numeric")
    if not names:
        pytest.skip("contract.yaml declares no numeric column that may not be missing")
    return names[0]


# --- a repository to promote and roll back in, and recording stand-ins ------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Paths]:
    """A git repository shaped like this project (dvc.yaml, params.yaml), one commit on main.

    Commands find the repository from the working directory once (`paths()` is
    cached): the cache is cleared so a command run here never acts on another.
    """
    root = tmp_path / "repo"
    root.mkdir()
    (root / "dvc.yaml").write_text("stages: {}\n")
    for name in ("params.yaml", "model-card.yaml"):
        shutil.copyfile(PROJECT_ROOT / name, root / name)
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("RELEASE_JSON", raising=False)
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "Start")
    paths.cache_clear()
    yield Paths(root)
    paths.cache_clear()


@pytest.fixture
def command(repo: Paths, monkeypatch: pytest.MonkeyPatch):
    """`command(*args, **env)`: run the CLI in the repository; its exit code and what it printed."""
    from click.testing import CliRunner

    from {{ cookiecutter.package }}.cli import cli

    monkeypatch.chdir(repo.root)

    def run(*args: str, **env: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), env=env)
        return result.exit_code, result.output

    return run


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def lineage_of(seed: str, risk_tier: str = "low", roc_auc: float = 0.97) -> dict[str, Any]:
    """A lineage whose ids all repeat `seed` (one hex digit)."""
    return {
        "lineage_id": seed * 16,
        "risk_tier": risk_tier,
        "model": {"tag": f"{PACKAGE}:{seed * 16}", "digest": f"sha256:{seed * 64}"},
        "metrics": {"model": {"roc_auc": roc_auc}},
    }


def version_of(lineage: dict[str, Any]) -> Version:
    seed = lineage["lineage_id"][0]
    image = f"registry.example.com/team/model@sha256:{seed * 64}"
    return candidate_version(lineage, f"{SERVICE_NAME}:{seed * 16}", image)


@pytest.fixture
def promote_seed(repo: Paths):
    """Promote the version of lineage `seed` to an environment, committed on the branch."""

    def promote_it(environment: str, seed: str, risk_tier: str = "low") -> str:
        lineage = lineage_of(seed, risk_tier)
        return promote(repo, environment, lineage, version_of(lineage), proposal=False)

    return promote_it


# A stand-in needs only the standard library. Without site (-S) it starts in a
# few milliseconds and `make test`'s coverage does not start in it: coverage
# measures every Python subprocess through a site-packages .pth file.
STAND_IN_SHEBANG = f"#!{sys.executable} -S\n"


@pytest.fixture
def stand_in_shebang() -> str:
    """The first line of a stand-in written in Python (see STAND_IN_SHEBANG)."""
    return STAND_IN_SHEBANG


class Recorder:
    """A stand-in for a command line tool (gh, kubectl) on PATH that records its calls.

    `replies` maps the first words of a call ("pr list") to what it prints.
    """

    def __init__(self, folder: Path, name: str, replies: dict[str, str]) -> None:
        self.log = folder / f"{name}.calls"
        script = folder / name
        script.write_text(
            f"{STAND_IN_SHEBANG}"
            "import json, sys\n"
            f"with open({str(self.log)!r}, 'a') as log:\n"
            "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
            f"replies = {replies!r}\n"
            "for words in (2, 1):\n"
            "    key = ' '.join(sys.argv[1:1 + words])\n"
            "    if key in replies:\n"
            "        sys.stdout.write(replies[key])\n"
            "        break\n"
        )
        script.chmod(0o755)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Put a recording stand-in for a tool first on PATH: `stand_in("gh", {"pr list": "[]"})`."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")

    def make(name: str, replies: dict[str, str] | None = None) -> Recorder:
        return Recorder(folder, name, replies or {})

    return make
