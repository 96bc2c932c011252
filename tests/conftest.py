"""Shared fixtures: bake projects, give them one shared environment, run them.

Every baked project installs from the same requirements.lock, so the tests
build that environment once (cached under .cache/, keyed by the lock's hash)
and point each project's Makefile at it with VENV=...; `make install` then
only adds the project itself in editable mode.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
# pytest-cookies renders cookiecutter.json before cookiecutter puts the template
# on the import path, so the template's Jinja extension must be importable here.
sys.path.insert(0, str(TEMPLATE))
# Set by the template's own `make test`. Left in place, a generated project's
# make sees itself as a sub-make and prints "Entering/Leaving directory" lines
# a user never sees; every command in the tests runs as from a user's shell.
for make_variable in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"):
    os.environ.pop(make_variable, None)

from scripts.demo import free_port  # noqa: E402,F401  (one port finder for demo and tests)

# TEMPLATE_TEST_CACHE lets two test runs on one machine keep separate environments.
CACHE = Path(os.environ.get("TEMPLATE_TEST_CACHE", TEMPLATE / ".cache"))
GENERATED_LOCK = TEMPLATE / "{{cookiecutter.project}}" / "requirements.lock"
DEFAULTS: dict[str, Any] = json.loads((TEMPLATE / "cookiecutter.json").read_text())

# Tests commit in baked repositories: never depend on the machine's git identity.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


def wait_until_answering(url: str, server: subprocess.Popen, log: Path,
                         timeout: float = 120) -> None:
    """Until `url` answers 200; fails with the server's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"{server.args} exited with {server.returncode}:\n{log.read_text()}")
        try:
            # Straight to loopback: no proxy from the environment in between.
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"nothing answered on {url} within {timeout}s:\n{log.read_text()[-3000:]}")


class CommandFailed(AssertionError):
    pass


def run(
    command: list[str] | str, cwd: Path, env: dict[str, str] | None = None, check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    """Run a command as a user's shell would; on failure the assertion shows its whole output."""
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        shell=isinstance(command, str), timeout=timeout,
    )
    if check and result.returncode != 0:
        raise CommandFailed(
            f"{command} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def bake(output_dir: Path, **answers: Any) -> Path:
    """Bake the template with these answers (the rest default); return the project.

    A config file of its own keeps cookiecutter's replay files out of $HOME.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    config = output_dir / ".cookiecutter-config.yaml"
    config.write_text(f"replay_dir: {output_dir / '.replay'}\n")
    project = cookiecutter(
        str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output_dir),
        config_file=str(config),
    )
    return Path(project)


class Project:
    """A baked project, driven through its own Makefile like a user would."""

    def __init__(self, path: Path, venv: Path, remote: Path) -> None:
        self.path = path
        self.venv = venv
        self.remote = remote
        self.package = json.loads((path / ".cruft.json").read_text())["context"][
            "cookiecutter"
        ]["package"]
        self.extra_env: dict[str, str] = {}

    @property
    def env(self) -> dict[str, str]:
        return {
            **GIT_IDENTITY,
            "DVC_REMOTE_DIR": str(self.remote),
            "BENTOML_DO_NOT_TRACK": "true",
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            **self.extra_env,
        }

    def make(self, *targets: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(["make", *targets, f"VENV={self.venv}"], self.path, self.env, check=check)

    def activate(self) -> None:
        """Point the shared environment's editable install at this project."""
        marker = self.venv / ".project"
        if not marker.exists() or marker.read_text().strip() != str(self.path):
            self.make("install")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        self.activate()
        return run([str(self.venv / "bin" / self.package), *args], self.path, self.env, check)

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        self.activate()
        return run([str(self.venv / "bin" / "dvc"), *args], self.path, self.env, check)

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(["git", *args], self.path, self.env, check)

    def read_json(self, relative: str) -> Any:
        return json.loads((self.path / relative).read_text())

    def commit_all(self, message: str) -> str:
        """Commit every change (the project installs no git hooks); return the new HEAD."""
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()


# --- what the tests read from a project and its commands -------------------------------

RAW = "data/raw/breast_cancer.csv"


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def lineage(project: Project) -> dict[str, Any]:
    return project.read_json("models/lineage.json")


def pinned_md5(project: Project) -> str:
    return yaml.safe_load((project.path / f"{RAW}.dvc").read_text())["outs"][0]["md5"]


@dataclass
class Clone:
    project: Project
    setup: subprocess.CompletedProcess
    repro: subprocess.CompletedProcess


def clone_and_reproduce(origin: Project, destination: Path) -> Clone:
    """Clone the last commit, set it up, pull its data and reproduce it (origin's env)."""
    run(["git", "clone", "--quiet", str(origin.path), str(destination)], destination.parent)
    clone = Project(destination, origin.venv, origin.remote)
    clone.extra_env = dict(origin.extra_env)
    setup = clone.make("setup")
    clone.dvc("pull")
    return Clone(clone, setup, clone.dvc("repro"))


def lock_key() -> str:
    return hashlib.sha256(GENERATED_LOCK.read_bytes()).hexdigest()[:12]


@pytest.fixture(scope="session", autouse=True)
def git_identity() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in GIT_IDENTITY}
    os.environ.update(GIT_IDENTITY)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def cached_venv(name: str, project: Path, *make_args: str) -> Path:
    """CACHE/<name>-<lock hash>, installed once from the lock by `project`'s Makefile.

    A half-built one (no `.installed` marker) is removed and built again.
    """
    venv = CACHE / f"{name}-{lock_key()}"
    if not (venv / ".installed").exists():
        shutil.rmtree(venv, ignore_errors=True)
        run(["make", "install", f"VENV={venv}", *make_args], project)
    return venv


@pytest.fixture(scope="session")
def project_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated project's environment, built once from its lock file."""
    return cached_venv("project-venv", bake(tmp_path_factory.mktemp("venv-bake")))


@pytest.fixture(scope="session")
def act_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The environment act's jobs install into: their own, since each job re-points
    the editable install at its workspace, which act deletes afterwards."""
    return cached_venv("act-venv", bake(tmp_path_factory.mktemp("act-venv")))


@pytest.fixture
def new_project(tmp_path: Path, project_venv: Path):
    """A factory: bake with answers and return the Project (not set up yet)."""

    def factory(**answers: Any) -> Project:
        return Project(bake(tmp_path / "bake", **answers), project_venv, tmp_path / "remote")

    return factory


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory, project_venv: Path) -> Project:
    """One default project, set up and reproduced, for tests that only read it."""
    root = tmp_path_factory.mktemp("trained")
    project = Project(bake(root / "bake"), project_venv, root / "remote")
    project.make("setup")
    project.make("repro")
    return project
