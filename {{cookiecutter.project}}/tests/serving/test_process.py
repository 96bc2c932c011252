"""`served` and a port that another process takes between finding it free and binding it."""

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from {{ cookiecutter.package }}.serving import process


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port another process is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def static_server(tmp_path: Path, monkeypatch) -> None:
    """`serve_command` runs a plain HTTP server whose /readyz answers 200 (no bento)."""
    (tmp_path / "readyz").write_text("ok")
    python_server = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1"]

    def command(bento_tag: str, port: int) -> list[str]:
        return [*python_server, "--directory", str(tmp_path), str(port)]

    monkeypatch.setattr(process, "serve_command", command)


def test_a_port_taken_before_the_server_binds_it_is_retried_with_another(
    taken, static_server, monkeypatch
):
    offered = iter([taken, process.free_port()])
    monkeypatch.setattr(process, "free_port", lambda: next(offered))
    with process.served("any:tag", timeout=30) as url:
        assert not url.endswith(f":{taken}")
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200


def test_a_port_taken_every_time_is_an_error_after_the_last_attempt(
    taken, static_server, monkeypatch
):
    offered = []
    monkeypatch.setattr(process, "free_port", lambda: offered.append(taken) or taken)
    never_served = pytest.raises(process.PortTaken, match="Address already in use")
    with never_served, process.served("any:tag", timeout=30):
        pass
    assert len(offered) == process.PORT_ATTEMPTS
