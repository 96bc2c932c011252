"""Serve a bento on 127.0.0.1 for as long as a block of code needs it."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import httpx
import psutil

# What a served process needs of the environment it is started from, and
# nothing else: a deploy job's tokens and cloud credentials must not live on,
# readable in /proc, in a server that runs for weeks. PREDICTION_LOG_DIR and
# ROUTES_FILE are passed explicitly by whoever starts the process.
SERVING_ENV = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "PYTHONPATH", "VIRTUAL_ENV", "BENTOML_HOME", "BENTOML_DO_NOT_TRACK", "BENTOML_CONFIG",
    "PREDICTION_LOG_DIR", "PREDICTION_LOG", "ROUTES_FILE", "SERVING_LINEAGE", "SERVING_ENVIRONMENT",
})  # fmt: skip
SERVING_ENV_PREFIXES = ("LC_",)


def serving_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of this process's environment, plus `extra`."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name in SERVING_ENV or name.startswith(SERVING_ENV_PREFIXES)
    }
    return {**kept, **(extra or {})}


# BentoML keeps a server's Prometheus files in $BENTOML_HOME/prometheus_multiproc_dir
# and empties that folder whenever a server starts: two servers on one home (the
# current version and the warm previous one, a gate beside a deployed version)
# would wipe each other's /metrics, which the canary analysis reads. So each
# server gets a home of its own that links to the shared stores.
SHARED_STORES = ("bentos", "models", "envs")


def shared_bentoml_home() -> Path:
    """The BentoML home this process uses: $BENTOML_HOME, else BentoML's default."""
    return Path(os.environ.get("BENTOML_HOME") or Path.home() / "bentoml")


def server_home(home: Path) -> dict[str, str]:
    """Make `home` a BentoML home sharing this process's stores; its environment setting.

    The links are made anew each time: a home that outlives a checkout (a
    runner's DEPLOY_STATE_DIR) must point at the stores of the current one.
    """
    shared = shared_bentoml_home()
    home.mkdir(parents=True, exist_ok=True)
    for store in SHARED_STORES:
        (shared / store).mkdir(parents=True, exist_ok=True)
        link = home / store
        if link.is_symlink():
            link.unlink()
        link.symlink_to((shared / store).absolute(), target_is_directory=True)
    return {"BENTOML_HOME": str(home)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# A port found free can be taken by another process before the server binds
# it (nothing reserves it in between): `served` then tries another this many times.
PORT_ATTEMPTS = 3


class PortTaken(RuntimeError):
    """The server exited because its port was taken after it was found free."""


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text()
            failure = PortTaken if "Address already in use" in output else RuntimeError
            raise failure(f"the server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise TimeoutError(
        f"the server at {url} was not ready after {timeout:.0f}s:\n{log.read_text()}"
    )


def stop_tree(pid: int, wait: bool = True, grace: float = 15) -> None:
    """Stop a server we started and every process under it.

    BentoML starts its workers in sessions of their own, so signalling the
    process group could miss them: the tree is read first, then each process
    is asked to stop, and (with `wait`) killed if it has not after `grace`.
    """
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    stop_processes(tree, wait, grace)


def still_running(process: psutil.Process) -> bool:
    """Alive, and not a zombie: one that has exited but is not yet reaped counts as gone."""
    with suppress(psutil.Error):
        return process.status() != psutil.STATUS_ZOMBIE
    return False


def stop_processes(processes: list[psutil.Process], wait: bool = True, grace: float = 15) -> None:
    """Ask each process to stop; with `wait`, kill those still running after `grace`.

    Waits by status rather than psutil.wait_procs: an orphaned worker is
    reaped by init, not by us, and stays a zombie until it is.
    """
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            process.terminate()
    if not wait:
        return
    deadline = time.monotonic() + grace
    while any(map(still_running, processes)) and time.monotonic() < deadline:
        time.sleep(0.02)
    for process in filter(still_running, processes):
        with suppress(psutil.NoSuchProcess):
            process.kill()


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by `served`, its workers included."""
    stop_tree(process.pid)
    process.poll()  # collect its exit status: no zombie left behind


# Written here rather than with a process library such as mirakuru, which
# does start, wait-for-URL and stop: it merges os.environ into the server's
# environment (the allow-list above would be lost, and a deploy job's tokens
# with it), and it signals the workers only after the parent has exited,
# without waiting for them or killing the ones that linger.
@contextmanager
def running(
    command: list[str], port: int, cwd: Path, env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[str]:
    """Run a server command in the background while the block runs; yield its URL.

    It must answer /readyz on 127.0.0.1:`port`; its output goes to a log that
    is shown if it never becomes ready. Stopped, with its workers, on exit.
    """
    with tempfile.TemporaryDirectory(prefix="server-log-") as scratch:
        log = Path(scratch) / "server.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(url, process, timeout, log)
            yield url
        finally:
            stop(process)


def serve_command(bento_tag: str, port: int) -> list[str]:
    """`bentoml serve` of this environment, on loopback only."""
    serve = [sys.executable, "-m", "bentoml", "serve", bento_tag]
    return [*serve, "--host", "127.0.0.1", "--port", str(port)]


@contextmanager
def served(bento_tag: str, timeout: float = 90, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `bento_tag` on a free loopback port; yield its base URL."""
    with tempfile.TemporaryDirectory(prefix="serve-") as scratch:
        # Gate and test traffic must not pollute the logs the drift monitor reads.
        monitoring = str(Path(scratch) / "monitoring")
        home = server_home(Path(scratch) / "bentoml")
        environment = serving_environment({"PREDICTION_LOG_DIR": monitoring, **home, **(env or {})})
        for attempt in range(1, PORT_ATTEMPTS + 1):
            port = free_port()
            with ExitStack() as server:
                try:
                    command = serve_command(bento_tag, port)
                    url = server.enter_context(
                        running(command, port, Path(scratch), environment, timeout)
                    )
                except PortTaken:
                    if attempt == PORT_ATTEMPTS:
                        raise
                    continue
                yield url
                return
