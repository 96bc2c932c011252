"""Deploys under faults: what serves is what the manifest says, nothing is left behind.

Each test drives the real reconcile, router and process tracking against
stand-in versions (conftest.py), and checks what a caller and an operator see.
No trained model is needed; the ones marked slow (several deploys, cold
starts) run with `make test-service` or `pytest tests/deploy`.
"""

import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import psutil
import pytest

from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.targets.local import stop_environment
from {{ cookiecutter.package }}.deploy.targets.processes import answers, pid_alive
from {{ cookiecutter.package }}.serving.process import free_port


def served_tag(env) -> str:
    return httpx.get(env.target().router_url + "/readyz", timeout=5).headers["x-bento-tag"]


def kill(pids) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=5)


def pids_of(entry) -> list[int]:
    return [int(pid) for pid, _ in entry["processes"]]


def test_a_port_taken_before_the_version_binds_it_is_replaced(environment, monkeypatch):
    """Between finding a port free and the server binding it, another process took it."""
    from {{ cookiecutter.package }}.deploy.targets import local

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        monkeypatch.setattr(local, "free_port", lambda: next(ports, None) or free_port())
        environment.manifest("one")
        environment.deploy()
        port = environment.entry("one")["port"]
        assert port != taken
        assert served_tag(environment) == "svc:one"
        log = environment.target().log_path("version-one").read_text()
        assert "Address already in use" in log  # the first start failed, the second serves


def test_a_warm_version_is_refused_when_the_manifest_names_another_model(environment):
    environment.manifest("two", previous="one")
    environment.deploy()
    state = environment.state()
    environment.manifest("two", previous="one", model_tag="model:one")
    with pytest.raises(DeployError, match="svc:two packs model:two, not model:one"):
        environment.deploy()
    assert environment.state() == state  # nothing changed
    assert served_tag(environment) == "svc:two"


def test_a_matching_warm_version_is_not_verified_again(environment):
    environment.manifest("two", previous="one")
    environment.deploy()
    verified = list(environment.verified)
    outcome = environment.deploy()
    assert not outcome.changed and outcome.cold == {}
    assert environment.verified == verified  # the recorded verification was enough
    recorded = environment.entry("two")["verified"]
    assert recorded == {
        "bento_tag": "svc:two",
        "model_tag": "model:two",
        "lineage_id": "2" * 16,
        "model_digest": "sha256:" + "2" * 64,
    }


def test_a_served_model_other_than_the_verified_one_fails_the_smoke_check(environment):
    environment.manifest("two")
    environment.deploy()
    state = environment.target().load_state()
    state["versions"]["svc:two"]["verified"]["model_digest"] = "sha256:" + "f" * 64
    environment.target().save_state(state)
    with pytest.raises(DeployError, match=r"serves model digest sha256:2+, not sha256:f+"):
        environment.deploy()


@pytest.mark.slow  # three deploys or more, with cold starts
def test_a_rollback_to_a_dead_warm_version_says_it_started_cold(environment):
    environment.manifest("two", previous="one")
    environment.deploy()
    kill(pids_of(environment.entry("one")))
    environment.manifest("one")
    began = time.monotonic()
    outcome = environment.deploy()
    took = time.monotonic() - began
    assert "its warm copy was not running" in outcome.cold["svc:one"]
    assert outcome.answering_seconds > outcome.switch_seconds
    assert outcome.answering_seconds <= took
    printed = "\n".join(outcome.lines())
    assert "started svc:one cold: its warm copy was not running; ready after" in printed
    assert "svc:one answered" in printed and "after this deploy began" in printed


@pytest.mark.slow  # three deploys or more, with cold starts
def test_a_half_dead_version_is_stopped_and_reported_on_the_next_deploy(environment):
    environment.manifest("two", previous="one")
    environment.deploy()
    orphaned = environment.entry("one")
    kill([orphaned["pid"]])  # the parent only: its worker lives on, in a session of its own
    old_url = f"http://127.0.0.1:{orphaned['port']}"
    assert answers(old_url)
    outcome = environment.deploy()
    assert any("svc:one was half-dead: its parent" in note for note in outcome.notes)
    assert not answers(old_url)
    assert not any(pid_alive(pid) for pid in pids_of(orphaned))
    assert "svc:one" in outcome.cold  # and warm again, a new copy
    assert answers(environment.target().url(environment.entry("one")))


def test_stop_stops_the_orphaned_worker_of_a_killed_parent(environment):
    environment.manifest("two")
    environment.deploy()
    entry = environment.entry("two")
    kill([entry["pid"]])
    url = environment.target().url(entry)
    assert answers(url)
    stopped = stop_environment(environment.p, "production")
    assert any(s.startswith("svc:two (half-dead") for s in stopped)
    assert not answers(url)


def test_a_deploy_adds_no_row_to_the_prediction_log(environment):
    environment.manifest("two", previous="one")
    environment.deploy()
    environment.deploy()
    logs = environment.target().dir / "predictions"
    assert not list(logs.rglob("*.jsonl"))
    # A client's request through the entry point is logged: the check above can fail.
    httpx.post(environment.target().router_url + "/predict", json={}, timeout=5)
    assert len(list(logs.rglob("rows.jsonl"))) == 1


SECRET_WORDS = ("TOKEN", "KEY", "SECRET", "PASSWORD", "CREDENTIAL")


def environ_of(pid: int) -> dict[str, str]:
    return psutil.Process(pid).environ()


def test_served_processes_inherit_no_secrets(environment, monkeypatch):
    secrets = {
        "GH_TOKEN": "ghp_x",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "x",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "DB_PASSWORD": "x",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    environment.manifest("two", previous="one")
    environment.deploy()
    state = environment.state()
    pids = [pid for entry in state["versions"].values() for pid in pids_of(entry)]
    pids.append(state["router"]["pid"])
    assert len(pids) == 5  # two parents, two workers, the router
    for pid in pids:
        environ = environ_of(pid)
        leaked = [name for name in environ if any(word in name.upper() for word in SECRET_WORDS)]
        assert leaked == [], f"pid {pid} inherited {leaked}"
        assert "PATH" in environ
    assert "PREDICTION_LOG_DIR" in environ_of(environment.entry("one")["pid"])
    assert "ROUTES_FILE" in environ_of(state["router"]["pid"])


def test_each_version_has_a_bentoml_home_of_its_own(environment, monkeypatch, tmp_path):
    """Two versions on one home would wipe each other's /metrics (serving.process.server_home)."""
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "store"))
    environment.manifest("two", previous="one")
    environment.deploy()
    homes = {
        name: environ_of(environment.entry(name)["pid"])["BENTOML_HOME"] for name in ("one", "two")
    }
    assert homes["one"] != homes["two"]
    for home in homes.values():
        assert (Path(home) / "bentos").resolve() == (tmp_path / "store" / "bentos").resolve()


@pytest.mark.slow  # three deploys or more, with cold starts
def test_the_version_rolled_back_from_stays_warm_and_rolling_forward_is_warm(environment):
    environment.manifest("one")
    environment.deploy()
    environment.manifest("two", previous="one")
    environment.deploy()
    environment.manifest("one")  # the revert
    rollback = environment.deploy()
    assert rollback.cold == {}
    kept = [note for note in rollback.notes if note.startswith("kept warm: svc:two")]
    assert kept and "until" in kept[0] and "keep_warm_after_rollback_minutes.low" in kept[0]
    environment.manifest("two", previous="one")  # the revert of the revert
    forward = environment.deploy()
    assert forward.cold == {} and served_tag(environment) == "svc:two"


@pytest.mark.slow  # three deploys or more, with cold starts
def test_a_version_past_its_keep_warm_time_is_retired_on_the_next_deploy(environment):
    environment.manifest("two", previous="one")
    environment.deploy()
    environment.manifest("one")
    environment.deploy()
    two = environment.entry("two")
    state = environment.state()
    state["kept_warm"]["svc:two"] = time.time() - 1
    environment.target().save_state(state)
    outcome = environment.deploy()
    assert any(note.startswith("retired svc:two: kept warm until") for note in outcome.notes)
    assert "svc:two" not in environment.state()["versions"]
    psutil.wait_procs([psutil.Process(p) for p in pids_of(two) if psutil.pid_exists(p)], timeout=10)
    assert not answers(f"http://127.0.0.1:{two['port']}")


@pytest.mark.slow  # three deploys or more, with cold starts
def test_no_keep_warm_time_keeps_nothing_warm_after_a_rollback(environment):
    environment.write_params(low=0)
    environment.manifest("two", previous="one")
    environment.deploy()
    environment.manifest("one")
    outcome = environment.deploy()
    assert not any(note.startswith("kept warm") for note in outcome.notes)
    assert "svc:two" not in environment.state()["versions"]


def test_a_previous_version_serving_another_lineage_is_not_kept_warm(environment):
    served = json.loads(environment.lineages.read_text())
    served["svc:one"] = served["svc:two"]  # a bento that serves another model than its own
    environment.lineages.write_text(json.dumps(served))
    environment.manifest("two", previous="one")
    outcome = environment.deploy()
    assert any(
        note.startswith("previous version svc:one not kept warm: smoke check of svc:one failed")
        for note in outcome.notes
    ), outcome.notes
    assert set(environment.state()["versions"]) == {"svc:two"}
    assert served_tag(environment) == "svc:two"
