"""Shared fixtures: bake projects, give them one shared environment, train once.

The environment. Every baked project installs from the same requirements.lock,
so the tests build that environment once (CACHE/project-venv-<lock hash>) and
hand it to each project's Makefile with VENV=..., as a user may. Its editable
install points at whichever checkout built it last (a project's `make` rebuilds
it only when its lock or pyproject.toml is newer); every command a test runs
gets PYTHONPATH=<project>/src, which Python searches before site-packages, so
each project runs its own code, even one a test has edited. Simpler than a
venv per project (one environment, built once) and the product's Makefile
knows nothing about it. act's jobs use the same environment, their own
checkout first on PYTHONPATH too (act/actions/actions/setup-python).

Training. Two session fixtures bake, set up and train a project each (the
default, and the high risk tier); the tests that only read use them as they
are, the tests that change a project take a copy (`copy_project`: the checkout
with its git history, DVC cache and BentoML store, and its DVC remote, the
remote's path fixed up), so nothing trains twice to start from the same state.

Workers. `make test` runs the tests on every core (pytest-xdist). Each worker
has its own copy of the environment (a test that changes the lock re-syncs
it, under another worker's running jobs otherwise); the two trained projects
are trained once per run, by the first worker that asks, and every worker
reads its own copy (dvc and git take locks in a repository). Each module runs on one worker, so a module fixture
(a story, a seed) is built once too.
"""

import dataclasses
import hashlib
import json
import os
import pickle
import re
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
from filelock import FileLock

TEMPLATE = Path(__file__).resolve().parents[1]
# pytest-cookies renders cookiecutter.json before cookiecutter puts the template
# on the import path, so the template's Jinja extension must be importable here.
sys.path.insert(0, str(TEMPLATE))
# Set by the template's own `make test`. Left in place, a generated project's
# make sees itself as a sub-make and prints "Entering/Leaving directory" lines
# a user never sees; every command in the tests runs as from a user's shell.
for make_variable in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"):
    os.environ.pop(make_variable, None)

from scripts.demo import free_port  # noqa: F401  (one port finder for demo and tests)

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
            f"{failures(result.stdout)}"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def failures(stdout: str) -> str:
    """A pytest run's failure section, which a coverage report after it would push out
    of the output's tail."""
    start = stdout.find("= FAILURES =")
    if start < 0:
        return ""
    return f"--- failures ---\n{stdout[start:start + 8000]}\n"


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
            # The shared environment's editable install may point at another checkout.
            "PYTHONPATH": str(self.path / "src"),
            **self.extra_env,
        }

    def make(self, *targets: str, check: bool = True) -> subprocess.CompletedProcess:
        self.take_shared_environment()
        return run(["make", *targets, f"VENV={self.venv}"], self.path, self.env, check=check)

    def take_shared_environment(self) -> None:
        """Let make see the shared environment as built for this checkout.

        It was built from this very lock; but a fresh bake's lock and pyproject.toml are
        newer than the environment, so make would sync it again and re-point its editable
        install (seconds per bake, for nothing: PYTHONPATH runs this checkout's code).
        """
        installed = self.venv / ".installed"
        lock = self.path / "requirements.lock"
        if not installed.exists() or lock_key(lock) != lock_key():
            return
        before = installed.stat().st_mtime - 1
        for built_from in (lock, self.path / "pyproject.toml"):
            if built_from.stat().st_mtime > before:
                os.utime(built_from, (before, before))

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # `python -m`, not the console script: PYTHONPATH decides which checkout runs.
        command = [str(self.venv / "bin" / "python"), "-m", self.package, *args]
        return run(command, self.path, self.env, check)

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
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


def clone_and_reproduce(origin: Project, destination: Path, *stages: str) -> Clone:
    """Clone the last commit, set it up, pull its data and reproduce it (origin's env);
    `stages`: only up to these, as `dvc repro <stage>`."""
    run(["git", "clone", "--quiet", str(origin.path), str(destination)], destination.parent)
    clone = Project(destination, origin.venv, origin.remote)
    clone.extra_env = dict(origin.extra_env)
    setup = clone.make("setup")
    clone.dvc("pull", *(("--with-deps", *stages) if stages else ()))
    return Clone(clone, setup, clone.dvc("repro", *stages))


def lock_key(lock: Path = GENERATED_LOCK) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()[:12]


# The order the modules are handed to the workers (`make test` passes
# --no-loadscope-reorder, so xdist keeps it; by default it hands out the modules
# with the most tests first, the fast ones). Each module runs on one worker
# (--dist loadscope), so a module fixture is built once, and a worker takes the
# next module when it is done with one. First the module that trains the
# session's project; beside it two long modules that need no trained project;
# then the longest, the pull request's act runs, which start once the training
# is done; then the rest, heaviest first, so that no long module starts last.
MODULE_ORDER = (
    "test_pipeline",
    # No trained project: each bakes and sets up its own.
    "test_workflow_checks", "test_monitor_workflow",
    "test_workflows",
    # The session's trained projects (conftest: first_run, trained_high_risk).
    "test_lifecycle", "test_image", "test_own_data", "test_workflow_variants",
    "test_workflow_gate_failure", "test_gates", "test_service", "test_s3_remote",
    "test_workflows_deploy", "test_k8s_manifests", "test_cruft_update",
    # Fast: hooks, bakes, workflow lint, pins, scripts.
    "test_mermaid", "test_pin_updates", "test_bake", "test_hooks", "test_workflow_security",
    "test_scripts", "test_action_pins", "test_suite_order",
)


def scheduled(item: pytest.Item) -> int:
    module = item.path.stem
    return MODULE_ORDER.index(module) if module in MODULE_ORDER else len(MODULE_ORDER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=scheduled)  # stable: the order inside a module stays


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
    # For act's setup-python stand-in: a job whose lock has this hash installs nothing.
    (venv / ".lock-sha256").write_text(hashlib.sha256(GENERATED_LOCK.read_bytes()).hexdigest())
    return venv


@pytest.fixture(scope="session")
def project_venv(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The generated project's environment, built once from its lock file (per worker)."""
    name = "project-venv" if worker_id in ("master", "gw0") else f"project-venv-{worker_id}"
    return cached_venv(name, bake(tmp_path_factory.mktemp("venv-bake")))


def once_per_run(factory: pytest.TempPathFactory, worker_id: str, name: str, build):
    """`build(root)` run once per test run, by the first worker that asks; the others
    wait for it and get the same (pickled) result."""
    base = factory.getbasetemp()
    if worker_id != "master":
        base = base.parent  # the folder every worker's base sits in
    root, result = base / f"once-{name}", base / f"once-{name}.pickle"
    with FileLock(base / f"once-{name}.lock"):
        if not result.exists():
            root.mkdir(exist_ok=True)
            result.write_bytes(pickle.dumps(build(root)))
        return pickle.loads(result.read_bytes())


def own_copy(shared: "Project", factory: pytest.TempPathFactory, worker_id: str,
             venv: Path) -> "Project":
    """A worker's own copy of a project trained once per run (the project itself alone)."""
    if worker_id == "master":
        return shared
    copy = copy_project(shared, factory.mktemp("trained-copy"))
    copy.venv = venv
    return copy


@pytest.fixture(scope="session")
def act_venv(project_venv: Path) -> Path:
    """The environment act's jobs install into: the same one (see the docstring above)."""
    return project_venv


@pytest.fixture
def new_project(tmp_path: Path, project_venv: Path):
    """A factory: bake with answers and return the Project (not set up yet)."""

    def factory(**answers: Any) -> Project:
        return Project(bake(tmp_path / "bake", **answers), project_venv, tmp_path / "remote")

    return factory


def repository_state(project: Project) -> dict[str, Any]:
    """What `make setup` must leave alone when it runs again."""
    raw = project.path / RAW
    return {
        "head": project.git("rev-parse", "HEAD").stdout.strip(),
        "commits": project.git("rev-list", "--count", "HEAD").stdout.strip(),
        "status": project.git("status", "--porcelain").stdout,
        "pin": (project.path / f"{RAW}.dvc").read_bytes(),
        "dvc_config": (project.path / ".dvc" / "config").read_bytes(),
        # The sample is written only when missing: an unchanged mtime proves it was kept.
        "raw_mtime": raw.stat().st_mtime_ns,
    }


@dataclass
class FirstRun:
    """A project's first steps as a user takes them, and what each printed."""

    project: Project
    state_after_setup: dict[str, Any]
    setup_again: subprocess.CompletedProcess
    state_after_setup_again: dict[str, Any]
    first: subprocess.CompletedProcess
    first_lineage: dict[str, Any]
    second: subprocess.CompletedProcess


# Not the default: the release workflow's test shows the answer reaches the pushed image.
REGISTRY = "registry.example.com/ml/sample-classifier"


@pytest.fixture(scope="session")
def first_run(tmp_path_factory: pytest.TempPathFactory, project_venv: Path,
              worker_id: str) -> FirstRun:
    """The one training of the default project in a test run (see `take_first_run`)."""
    shared = once_per_run(tmp_path_factory, worker_id, "trained",
                          lambda root: take_first_run(root, project_venv))
    project = own_copy(shared.project, tmp_path_factory, worker_id, project_venv)
    return dataclasses.replace(shared, project=project)


def take_first_run(root: Path, venv: Path) -> FirstRun:
    """Bake (default answers but the image registry); `make setup` twice; `dvc repro`
    twice."""
    project = Project(bake(root / "bake", image_registry=REGISTRY), venv, root / "remote")
    project.make("setup")
    state_after_setup = repository_state(project)
    setup_again = project.make("setup")
    state_after_setup_again = repository_state(project)
    first = project.dvc("repro")
    first_lineage = lineage(project)
    second = project.dvc("repro")
    return FirstRun(project, state_after_setup, setup_again, state_after_setup_again, first,
                    first_lineage, second)


@pytest.fixture(scope="session")
def trained_project(first_run: FirstRun) -> Project:
    """The default project, set up and trained through the gates. Read it; never change
    it (take a `copy_project`)."""
    return first_run.project


@pytest.fixture(scope="session")
def trained_high_risk(tmp_path_factory: pytest.TempPathFactory, project_venv: Path,
                      worker_id: str) -> Project:
    """A risk_tier=high project, set up and trained through its gates (`make repro`);
    trained once per test run."""

    def train(root: Path) -> Project:
        project = Project(bake(root / "bake", risk_tier="high"), project_venv, root / "remote")
        project.make("setup")
        project.make("repro")
        return project

    shared = once_per_run(tmp_path_factory, worker_id, "trained-high", train)
    return own_copy(shared, tmp_path_factory, worker_id, project_venv)


def copy_project(original: Project, root: Path) -> Project:
    """A copy of `original` under `root` to change: checkout, git, DVC cache, BentoML
    store and the DVC remote. The remote's path, the one absolute path a project holds
    (in .dvc/config), is pointed at the copy's remote; the change is left uncommitted.
    """
    root.mkdir(parents=True, exist_ok=True)
    path, remote = root / original.path.name, root / "remote"
    shutil.copytree(original.path, path, symlinks=True)
    shutil.copytree(original.remote, remote, symlinks=True)
    config = path / ".dvc" / "config"
    text, old = config.read_text(), str(original.remote.resolve())
    assert text.count(old) == 1, f"expected the remote {old} once in {config}:\n{text}"
    config.write_text(text.replace(old, str(remote.resolve())))
    copy = Project(path, original.venv, remote)
    copy.extra_env = dict(original.extra_env)
    return copy


# --- the repository the workflow tests run in (act) ---------------------------

# The GitHub repository the default bake names (owner/name).
REPO = f"{DEFAULTS['github_owner']}/{DEFAULTS['project']}"
# The pull request the ci.yml tests open, the comment's marker, pytest's last line.
PR_NUMBER = 7
MARKER = f"<!-- {DEFAULTS['project']}:ci-report -->"
PYTEST_SUMMARY = re.compile(r"=+ .* in [\d.]+s.* =+")


@pytest.fixture(scope="module")
def seed(tmp_path_factory, trained_project: Project) -> Path:
    """A bare repository holding a project trained on main, its data in the remote:
    a copy of the session's trained project (baked with REGISTRY), committed and pushed."""
    root = tmp_path_factory.mktemp("seed")
    return bare_seed(copy_project(trained_project, root), root, "--run-cache")


def bare_seed(project: Project, root: Path, *push_args: str) -> Path:
    """Commit the trained project, push its DVC data (`push_args`: e.g. the run cache)
    and return a bare repository of it under `root`, to play GitHub's side."""
    from act.harness import git

    project.commit_all("Train the first model")
    project.dvc("push", *push_args)
    git(root, "clone", "--quiet", "--bare", str(project.path), str(root / "seed.git"))
    return root / "seed.git"


@pytest.fixture
def repo(seed: Path, tmp_path: Path):
    """A clone of the seed to change, with the seed's copy as GitHub's side."""
    from act.harness import GitHubRepo

    return GitHubRepo.from_bare(seed, tmp_path, REPO)
