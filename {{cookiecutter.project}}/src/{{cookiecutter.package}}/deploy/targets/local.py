"""The local deploy target: bento processes and the router, on this machine.

State lives in .deploy/<env>/ (git-ignored): state.json (which version runs
on which port; the pid and start time of every process it owns; what was
verified when it started; which versions are kept warm after a rollback, and
until when), routes.json (what the router sends where), logs, prediction logs
per version, a BentoML home per version (homes/<version>, sharing the bento
and model stores), and a lock file so two deploys to one environment never
interleave. Served processes get an allow-listed environment
(`serving_environment`): no secret of the deploy job lives on in them.
DEPLOY_STATE_DIR moves it out of the checkout: a runner's next checkout
cleans the workspace, and the state must outlive it.
"""

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from {{ cookiecutter.package }}.config import PACKAGE, Paths
from {{ cookiecutter.package }}.deploy.targets.processes import (
    answers,
    describe,
    owned_processes,
    pid_alive,
    record_tree,
)
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.serving.process import (
    PORT_ATTEMPTS,
    PortTaken,
    free_port,
    serve_command,
    server_home,
    serving_environment,
    stop_processes,
    stop_tree,
)

ServeCommand = Callable[[str, int], list[str]]


class Busy(RuntimeError):
    """Another deploy to the same environment holds the lock."""


def state_root(p: Paths) -> Path:
    # An empty value counts as unset: a workflow passes an unset variable as "".
    return Path(os.environ.get("DEPLOY_STATE_DIR") or p.root / ".deploy")


# Each version of an environment logs under <state>/<env>/predictions/<version>/.
PREDICTIONS = "predictions"


def prediction_logs(p: Paths, environment: str) -> Path:
    """Where an environment's versions log their predictions: what `monitor` reads."""
    return state_root(p) / environment / PREDICTIONS


class LocalTarget:
    def __init__(
        self, p: Paths, environment: str, router_port: int, serve: ServeCommand = serve_command
    ) -> None:
        self.environment = environment
        self.serve = serve  # tests serve a stand-in for `bentoml serve`
        self.router_port = router_port
        self.dir = state_root(p) / environment
        self.state_file = self.dir / "state.json"
        self.routes_file = self.dir / "routes.json"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_starts: dict[str, int] = {}  # log name -> its size when last spawned

    # -- state ---------------------------------------------------------------
    def load_state(self) -> dict[str, Any]:
        if not self.state_file.exists():
            return {"router": None, "versions": {}}
        state: dict[str, Any] = json.loads(self.state_file.read_text())
        return state

    def save_state(self, state: dict[str, Any]) -> None:
        write_json(state, self.state_file)

    def load_routes(self) -> dict[str, Any] | None:
        return json.loads(self.routes_file.read_text()) if self.routes_file.exists() else None

    def write_routes(self, routes: dict[str, Any]) -> None:
        """Atomic replace: the router sees the old table or the new one, never half."""
        write_json(routes, self.routes_file)

    @contextmanager
    def lock(self) -> Iterator[None]:
        with (self.dir / "lock").open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy(
                    f"another deploy to {self.environment} is in progress; "
                    "wait for it (deploys to one environment never run at once)"
                ) from None
            yield

    # -- processes -----------------------------------------------------------
    @property
    def router_url(self) -> str:
        return f"http://127.0.0.1:{self.router_port}"

    @staticmethod
    def url(entry: dict[str, Any]) -> str:
        return f"http://127.0.0.1:{entry['port']}"

    def version_health(self, tag: str, entry: dict[str, Any]) -> tuple[str, list[psutil.Process]]:
        """("running", []), ("gone", []), or why it is half-dead and what it still owns."""
        if pid_alive(entry["pid"]) and answers(self.url(entry)):
            return "running", []
        owned = owned_processes(entry, tag.split(":")[-1])
        if not owned:
            return "gone", []
        return describe(entry, owned, any(p.pid == entry["pid"] for p in owned)), owned

    def stop_version(self, tag: str, entry: dict[str, Any], wait: bool = True) -> None:
        """Stop every process the version owns, orphaned workers included."""
        stop_processes(owned_processes(entry, tag.split(":")[-1]), wait)

    def router_running(self, state: dict[str, Any]) -> bool:
        router: dict[str, Any] | None = state.get("router")
        return (
            router is not None
            and router["port"] == self.router_port
            and pid_alive(router["pid"])
            and answers(self.router_url, "/-/routes")
        )

    def log_path(self, log_name: str) -> Path:
        return self.dir / "logs" / f"{log_name}.log"

    def _spawn(self, command: list[str], log_name: str, env: dict[str, str]) -> int:
        log = self.log_path(log_name)
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log_starts[log_name] = log.stat().st_size if log.exists() else 0
        with log.open("a") as output:
            process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env=serving_environment(env),
                start_new_session=True,  # survives this command; stopped by group
            )
        return process.pid

    def start_version(self, bento_tag: str) -> dict[str, Any]:
        """Serve `bento_tag` on a free port: another one if the port is taken between
        finding it free and the server binding it."""
        version = bento_tag.split(":")[1]
        name = f"version-{version}"
        # Prediction logs per version (what the drift monitor reads), and a
        # BentoML home per version (see server_home).
        settings = {
            "PREDICTION_LOG_DIR": str(self.dir / PREDICTIONS / version),
            "SERVING_ENVIRONMENT": self.environment,
            **server_home(self.dir / "homes" / version),
        }
        for attempt in range(1, PORT_ATTEMPTS + 1):
            port = free_port()
            pid = self._spawn(self.serve(bento_tag, port), name, settings)
            entry = {"port": port, "pid": pid}
            try:
                self._wait(self.url(entry), pid, name, f"{name} did not become ready", 120)
            except PortTaken:
                if attempt == PORT_ATTEMPTS:
                    raise
                continue
            # Once ready, its workers exist: record them all (see processes.py).
            return {**entry, "processes": record_tree(pid)}
        raise AssertionError("unreachable: the last attempt returns or raises")

    def start_router(self) -> dict[str, Any]:
        command = [sys.executable, "-m", "uvicorn", f"{PACKAGE}.serving.router:app"]
        command += ["--host", "127.0.0.1", "--port", str(self.router_port)]
        command += ["--log-level", "warning", "--no-access-log"]
        pid = self._spawn(command, "router", {"ROUTES_FILE": str(self.routes_file)})
        failure = f"the router did not start on port {self.router_port}"
        self._wait(self.router_url, pid, "router", failure, timeout=30, path="/-/routes")
        return {"port": self.router_port, "pid": pid}

    def _wait(
        self, url: str, pid: int, log_name: str, failure: str, timeout: float, path: str = "/readyz"
    ) -> None:
        """Until `url` answers; if the process dies or time runs out, stop it and say why
        (PortTaken when it died because its port was taken)."""
        log, since = self.log_path(log_name), self.log_starts.get(log_name, 0)
        deadline = time.monotonic() + timeout
        while not answers(url, path):
            died = not pid_alive(pid)
            if died or time.monotonic() > deadline:
                stop_tree(pid)
                with log.open() as text:
                    text.seek(since)  # what this start wrote, not an earlier one
                    output = text.read()[-2000:]
                taken = died and "Address already in use" in output
                raise (PortTaken if taken else RuntimeError)(f"{failure}:\n{output}")
            time.sleep(0.1)


def stop_environment(p: Paths, environment: str) -> list[str]:
    """Stop the router and every version of an environment, half-dead ones included.

    It needs no manifest: this stops whatever the state says runs.
    """
    target = LocalTarget(p, environment, 0)
    state = target.load_state()
    stopped = []
    for tag, entry in state["versions"].items():
        health, _ = target.version_health(tag, entry)
        target.stop_version(tag, entry)
        stopped.append(tag if health == "running" else f"{tag} ({health})")
    if state.get("router"):
        stop_tree(state["router"]["pid"])
        stopped.append("router")
    target.save_state({"router": None, "versions": {}})
    return stopped


def route_roles(routes: dict[str, Any] | None) -> dict[str, str]:
    """Which version the router sends what: tag -> "all traffic", "stable", "canary N%"."""
    if not routes:
        return {}
    if routes.get("canary") is None:
        return {routes["stable"]["tag"]: "all traffic"}
    share = routes["canary_share"]
    return {routes["stable"]["tag"]: f"{100 - share}%", routes["canary"]["tag"]: f"{share}%"}


def status_lines(target: LocalTarget) -> list[str]:
    """The router and every version of an environment, as the state and a probe find them."""
    state = target.load_state()
    if not state["versions"] and not state.get("router"):
        return [f"{target.environment}: nothing is running on this machine"]
    router = "answering" if target.router_running(state) else "not answering"
    lines = [f"{target.environment}: router {target.router_url} {router}"]
    roles = route_roles(target.load_routes())
    for tag, entry in state["versions"].items():
        health, _ = target.version_health(tag, entry)
        role = roles.get(tag, "no traffic (warm)")
        lines.append(f"  {tag} at {target.url(entry)}: {health}; {role}")
    return lines


class Local:
    """The local target (the interface: targets/__init__.py): the router and the bento
    processes of each environment, on this machine."""

    def __init__(self, p: Paths) -> None:
        self.p = p

    def deploy(self, environment: str, revert_failed_canary: bool) -> Iterator[str]:
        # Imported here: reconcile and canary import this module.
        from {{ cookiecutter.package }}.deploy.canary import settle_canary
        from {{ cookiecutter.package }}.deploy.reconcile import Reconciler

        reconciler = Reconciler(self.p, environment)
        outcome = reconciler.run()
        yield from outcome.lines()
        if outcome.canary_pending:
            yield f"canary: {reconciler.manifest().traffic.canary}% of traffic, watching..."
            yield settle_canary(reconciler, revert_failed_canary)

    def status(self, environment: str) -> list[str]:
        from {{ cookiecutter.package }}.deploy.reconcile import settings

        port = settings(self.p, environment)["router_port"]
        return status_lines(LocalTarget(self.p, environment, port))

    def stop(self, environment: str) -> list[str]:
        stopped = stop_environment(self.p, environment)
        return [f"stopped: {', '.join(stopped) or 'nothing was running'}"]
