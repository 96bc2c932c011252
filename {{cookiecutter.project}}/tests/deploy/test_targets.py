"""The deploy targets behind one interface (deploy/targets/__init__.py), chosen by name:
`deploy`, `status` and `stop` reach each target the same way."""

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import PROJECT, Paths
from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.targets import TARGETS, Target, choose
from {{ cookiecutter.package }}.deploy.targets.kubernetes import Kubernetes
from {{ cookiecutter.package }}.deploy.targets.local import Local, route_roles, status_lines


@pytest.mark.parametrize("name", list(TARGETS))
def test_every_target_named_implements_the_interface(name, tmp_path):
    assert isinstance(choose(name, Paths(tmp_path)), Target)


def test_the_names_choose_their_classes(tmp_path):
    assert isinstance(choose("local", Paths(tmp_path)), Local)
    assert isinstance(choose("kubernetes", Paths(tmp_path)), Kubernetes)


def test_an_unknown_target_is_refused_naming_the_known_ones(tmp_path):
    with pytest.raises(DeployError, match="no deploy target 'argo': choose one of local, kub"):
        choose("argo", Paths(tmp_path))


def test_the_command_refuses_an_unknown_target_before_doing_anything(repo):
    result = CliRunner().invoke(cli, ["status", "staging"], env={"DEPLOY_TARGET": "argo"})
    assert result.exit_code == 2
    assert "'argo' is not one of 'local', 'kubernetes'" in result.output


@pytest.fixture
def invoke(command):
    """Run a command in the repository on a target; what it printed."""

    def run(*args: str, target: str) -> str:
        code, output = command(*args, DEPLOY_TARGET=target)
        assert code == 0, output
        return output

    return run


def test_kubernetes_status_and_stop_go_through_kubectl(invoke, stand_in):
    kubectl = stand_in("kubectl", {"get deployments,services": "NAME  READY\nv-abc  2/2\n"})
    shown = invoke("status", "production", target="kubernetes")
    namespace, selector = f"{PROJECT}-production", f"app={PROJECT},environment=production"
    assert shown.splitlines() == [
        f"production (namespace {namespace}):",
        "NAME  READY",
        "v-abc  2/2",
    ]
    stopped = invoke("stop", "production", target="kubernetes")
    get, delete = kubectl.calls()
    assert get == ["get", "deployments,services", "-n", namespace, "-l", selector, "-o", "wide"]
    assert delete == [
        "delete",
        "-n",
        namespace,
        "-k",
        "deploy/k8s/production",
        "--ignore-not-found",
    ]
    assert stopped.strip() == f"ran: kubectl {' '.join(delete)}"


def test_a_failing_kubectl_is_one_line_naming_the_target(repo, tmp_path, monkeypatch):
    monkeypatch.chdir(repo.root)
    monkeypatch.setenv("PATH", str(tmp_path / "no-kubectl-here"))
    result = CliRunner().invoke(cli, ["status", "staging"], env={"DEPLOY_TARGET": "kubernetes"})
    assert result.exit_code == 1
    assert result.output.startswith("Error: status of staging on the kubernetes target stopped: ")
    assert "`kubectl` is not installed" in result.output


def test_local_status_of_an_environment_never_deployed_says_so(invoke):
    shown = invoke("status", "staging", target="local")
    assert shown.strip() == "staging: nothing is running on this machine"


def test_local_status_names_each_version_its_health_and_its_traffic(environment):
    environment.manifest("two", previous="one")
    environment.deploy()
    lines = status_lines(environment.target())
    assert lines[0].startswith("production: router http://127.0.0.1:")
    assert lines[0].endswith(" answering")
    assert any(
        line.startswith("  svc:two at ") and line.endswith("running; all traffic") for line in lines
    ), lines
    assert any(
        line.startswith("  svc:one at ") and line.endswith("running; no traffic (warm)")
        for line in lines
    ), lines
    environment.target().stop_version("svc:one", environment.entry("one"))
    lines = status_lines(environment.target())
    assert any(line.startswith("  svc:one at ") and ": gone;" in line for line in lines), lines


def test_during_a_canary_both_versions_show_their_share():
    routes = {"stable": {"tag": "svc:one"}, "canary": {"tag": "svc:two"}, "canary_share": 10}
    assert route_roles(routes) == {"svc:one": "90%", "svc:two": "10%"}
    assert route_roles(None) == {}
