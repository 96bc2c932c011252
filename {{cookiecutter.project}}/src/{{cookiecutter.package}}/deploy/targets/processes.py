"""Every process a locally served version owns: recorded at start, found again later.

`bentoml serve` starts its workers in sessions of their own, so neither its
process group nor, once the parent is gone, its tree reaches them: a worker
whose parent was killed lives on and keeps answering on the old port. So a
version's state entry records the pid and start time of every process of its
tree once it is ready (a pid alone could be reused by another program), and
its port; what it owns later is what is still alive of that record, the
children of its parent, and any process of ours listening on its port whose
command line names the version. Whether a process runs, and whether it answers
on loopback, are asked here too.
"""

from contextlib import suppress
from functools import cache
from typing import Any

import httpx
import psutil

from {{ cookiecutter.package }}.serving.process import still_running


def pid_alive(pid: int | None) -> bool:
    """The process runs (a zombie, dead but not yet reaped, does not count)."""
    if not pid:
        return False
    try:
        return still_running(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return False


@cache
def loopback() -> httpx.Client:
    """One client for every check of a process on this machine.

    A new client loads the CA bundle, ~0.1 s each time: a rollback makes a
    dozen checks. No proxy from the environment applies to 127.0.0.1.
    """
    return httpx.Client(timeout=2, trust_env=False)


def answers(url: str, path: str = "/readyz") -> bool:
    try:
        return loopback().get(url + path).status_code == 200
    except httpx.TransportError:
        return False


def record_tree(pid: int) -> list[list[float]]:
    """[pid, start time] of a process and all its descendants."""
    root = psutil.Process(pid)
    return [[p.pid, p.create_time()] for p in [root, *root.children(recursive=True)]]


def same_process(pid: int, created: float | None) -> psutil.Process | None:
    """The process `pid` if it is still the one recorded (same start time)."""
    with suppress(psutil.Error):
        process = psutil.Process(pid)
        if created is None or process.create_time() == created:
            return process
    return None


def listening_on(port: int) -> list[psutil.Process]:
    """Processes of this user that listen on 127.0.0.1:`port` (or any address)."""
    found = []
    for connection in psutil.net_connections(kind="inet"):
        local = connection.laddr
        if connection.status == psutil.CONN_LISTEN and local and local.port == port:
            with suppress(psutil.Error, ValueError):
                found.append(psutil.Process(connection.pid))
    return found


def names(process: psutil.Process, marker: str) -> bool:
    with suppress(psutil.Error):
        return any(marker in part for part in process.cmdline())
    return False


def owned_processes(entry: dict[str, Any], marker: str) -> list[psutil.Process]:
    """The processes of a version still running, however they were orphaned."""
    found: dict[int, psutil.Process] = {}
    for pid, created in entry.get("processes") or [[entry["pid"], None]]:
        process = same_process(int(pid), created)
        if process:
            found[process.pid] = process
    if entry["pid"] in found:
        with suppress(psutil.Error):
            found.update((p.pid, p) for p in found[entry["pid"]].children(recursive=True))
    for process in listening_on(entry["port"]):
        if process.pid in found or names(process, marker):
            found[process.pid] = process
    return [p for p in found.values() if still_running(p)]


def describe(entry: dict[str, Any], owned: list[psutil.Process], root_alive: bool) -> str:
    """Why a version that does not answer is not simply gone."""
    pids = ", ".join(str(p.pid) for p in owned)
    if root_alive:
        return f"alive but not answering /readyz on port {entry['port']} (pids {pids})"
    return (
        f"half-dead: its parent (pid {entry['pid']}) is gone, "
        f"pids {pids} still run (port {entry['port']})"
    )
