"""Where the local target keeps what serves, and its one-deploy-at-a-time lock."""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import Paths, use_project_model_store
from {{ cookiecutter.package }}.deploy.targets.local import Busy, LocalTarget


@pytest.mark.parametrize("value", [None, ""])
def test_state_stays_in_the_checkout_unless_told(tmp_path: Path, monkeypatch, value):
    # A workflow passes an unset variable as "": that must not mean the current folder.
    if value is None:
        monkeypatch.delenv("DEPLOY_STATE_DIR", raising=False)
    else:
        monkeypatch.setenv("DEPLOY_STATE_DIR", value)
    target = LocalTarget(Paths(tmp_path), "staging", 3100)
    assert target.dir == tmp_path / ".deploy" / "staging"


def test_deploy_state_dir_moves_the_state_out_of_the_checkout(tmp_path: Path, monkeypatch):
    outside = tmp_path / "srv" / "deploy"
    monkeypatch.setenv("DEPLOY_STATE_DIR", str(outside))
    target = LocalTarget(Paths(tmp_path / "checkout"), "production", 3200)
    assert target.dir == outside / "production"
    assert target.routes_file == outside / "production" / "routes.json"
    assert not (tmp_path / "checkout" / ".deploy").exists()


@pytest.mark.parametrize(("given", "expected"), [("", ".bentoml"), ("store", "store")])
def test_an_empty_bentoml_home_means_the_project_store(tmp_path, monkeypatch, given, expected):
    monkeypatch.setenv("BENTOML_HOME", given and str(tmp_path / given))
    use_project_model_store(tmp_path)
    assert os.environ["BENTOML_HOME"] == str(tmp_path / expected)


def test_a_second_deploy_to_one_environment_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DEPLOY_STATE_DIR", raising=False)
    first, second = (LocalTarget(Paths(tmp_path), "production", 3200) for _ in range(2))
    busy = pytest.raises(Busy, match="another deploy to production is in progress")
    with first.lock(), busy, second.lock():
        pass
    with second.lock():  # released: the next deploy goes ahead
        pass


def test_served_processes_get_only_the_allow_listed_environment(monkeypatch):
    from {{ cookiecutter.package }}.serving import process

    started_with = {}

    @contextmanager
    def record_environment(command, port, cwd, env, timeout):
        started_with.update(env)
        yield "http://127.0.0.1:1"

    monkeypatch.setattr(process, "running", record_environment)
    secrets = {"GH_TOKEN", "AWS_SECRET_ACCESS_KEY", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
    for name in secrets:
        monkeypatch.setenv(name, "secret")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    with process.served("svc:one", env={"EXTRA": "given"}):
        pass
    assert not secrets & set(started_with)
    assert started_with["LC_ALL"] == "C.UTF-8" and started_with["EXTRA"] == "given"
    assert "PATH" in started_with and "PREDICTION_LOG_DIR" in started_with
