"""Serve a bento on 127.0.0.1 for as long as a block of code needs it."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise TimeoutError(
        f"the server at {url} was not ready after {timeout:.0f}s:\n{log.read_text()}"
    )


def stop(process: subprocess.Popen) -> None:
    """Stop the server and its workers (they share its process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def served(bento_tag: str, timeout: float = 90, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `bento_tag` on a free loopback port; yield its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="serve-") as scratch:
        log = Path(scratch) / "server.log"
        # Gate and test traffic must not pollute the logs the drift monitor reads.
        monitoring = str(Path(scratch) / "monitoring")
        environment = {**os.environ, "PREDICTION_LOG_DIR": monitoring, **(env or {})}
        command = [sys.executable, "-m", "bentoml", "serve", bento_tag]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=scratch,
                env=environment,
                start_new_session=True,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(url, process, timeout, log)
            yield url
        finally:
            stop(process)


def smoke_request(url: str) -> str:
    """One valid record (the middle of every contract range): "ok" or what went wrong."""
    from {{ cookiecutter.package }}.contract import load_contract

    contract = load_contract()
    record = {name: (b.min + b.max) / 2 for name, b in contract.features.items()}
    try:
        response = httpx.post(f"{url}/predict", json={"records": [record]}, timeout=30)
    except httpx.HTTPError as error:
        return f"no answer: {error!r}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    probability = response.json()[0]["probability"]
    return "ok" if 0.0 <= probability <= 1.0 else f"probability {probability} out of [0, 1]"
