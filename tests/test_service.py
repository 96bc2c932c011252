"""The generated project's service: `make serve`, its pins, its bento.

The slow tests use a copy of the session's trained project (baked, set up,
reproduced): `make serve` serves it, and they inspect the bento it builds. The
pin check only bakes. The project's own service tests (`make test-service`:
bad input, fuzzing, metrics, logs, batching) run in ci.yml's `service` job
under act (test_workflows.py).
"""

import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import Project, bake, copy_project, free_port, wait_until_answering

# A requirements.lock entry: `name==version`, maybe with a marker, then hashes.
LOCK_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def normalized(name: str) -> str:
    """PEP 503: case and runs of `-_.` do not distinguish package names."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: str) -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for name, version in LOCK_ENTRY.findall(lock):
        versions.setdefault(normalized(name), set()).add(version)
    return versions


def bento_pins(bentofile: Path) -> dict[str, str]:
    python = yaml.safe_load(bentofile.read_text())["python"]
    pins = {}
    for requirement in python["packages"]:
        name, sep, version = requirement.partition("==")
        assert sep, f"bentofile.yaml: {requirement!r} is not pinned with =="
        pins[normalized(name)] = version
    return pins


@pytest.fixture(scope="module")
def served_project(tmp_path_factory: pytest.TempPathFactory, trained_project: Project) -> Project:
    """Building and serving write to the project (bentos, logs): a copy of the trained one."""
    return copy_project(trained_project, tmp_path_factory.mktemp("service"))


@pytest.mark.parametrize("remote", ["local", "s3"])
def test_bentofile_pins_equal_the_lock(tmp_path: Path, remote: str):
    project = bake(tmp_path, dvc_remote=remote)
    python = yaml.safe_load((project / "bentofile.yaml").read_text())["python"]
    assert python["lock_packages"] is False, "locking needs the package index at build time"
    locked = locked_versions((project / "requirements.lock").read_text())
    for name, version in bento_pins(project / "bentofile.yaml").items():
        assert name in locked, f"{name} is in bentofile.yaml but not in requirements.lock"
        assert locked[name] == {version}, f"{name}: bentofile {version}, lock {locked[name]}"


@pytest.mark.slow
def test_make_serve_serves_the_model_just_trained(served_project: Project, tmp_path: Path):
    """From a shell with no BentoML settings: the CLI must look in the project's store."""
    port, log = free_port(), tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **served_project.env}
    env.pop("BENTOML_HOME", None)
    with log.open("w") as output:
        process = subprocess.Popen(
            ["make", "serve", f"SERVE_PORT={port}", f"VENV={served_project.venv}"],
            cwd=served_project.path, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answering(f"{url}/readyz", process, log)
        served = httpx.post(f"{url}/lineage", timeout=10).json()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    assert served["lineage_id"] == served_project.read_json("models/lineage.json")["lineage_id"]


@pytest.mark.slow
def test_bento_carries_a_dockerfile_and_the_pinned_requirements(served_project: Project):
    tag = served_project.cli("bento").stdout.strip().splitlines()[-1]
    name, version = tag.split(":")
    # The project keeps its BentoML store in .bentoml/ unless BENTOML_HOME says otherwise.
    home = Path(os.environ.get("BENTOML_HOME") or served_project.path / ".bentoml")
    bento = home / "bentos" / name / version

    dockerfile = bento / "env" / "docker" / "Dockerfile"
    assert dockerfile.is_file(), f"no Dockerfile in {bento}/env/docker"
    python_version = served_project.read_json(".cruft.json")["context"]["cookiecutter"][
        "python_version"
    ]
    docker = dockerfile.read_text()
    assert re.search(rf"^FROM python:{re.escape(python_version)}\b", docker, re.MULTILINE)
    assert "env/python/requirements.txt" in docker

    requirements = (bento / "env" / "python" / "requirements.txt").read_text()
    required = {normalized(n): v for n, v in LOCK_ENTRY.findall(requirements)}
    pins = bento_pins(served_project.path / "bentofile.yaml")
    assert required == pins

    assert (bento / "src" / "lineage.json").is_file()
    lineage = served_project.read_json("models/lineage.json")
    card = (bento / "src" / "model-card.md").read_text()  # the card travels with the model
    assert card.startswith(f"# Model card: `{lineage['model']['tag']}`")
    labels = yaml.safe_load((bento / "bento.yaml").read_text())["labels"]
    assert labels["model_tag"] == lineage["model"]["tag"]
