"""The entry point of an environment: bounded at the door, streaming, headers both ways.

The router runs as an ASGI app in front of a small fake upstream (no bento):
what it forwards is what the upstream saw, and what it returns is what the
upstream answered.
"""

import json
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from {{ cookiecutter.package }}.serving import router
from {{ cookiecutter.package }}.serving.limits import MAX_BODY_BYTES

UPSTREAM = "http://version.test"


class Upstream:
    """A fake version: it counts the request bodies it received whole, and echoes them."""

    def __init__(self) -> None:
        self.bodies = 0
        self.app = Starlette(routes=[Route("/predict", self.echo, methods=["POST"])])

    async def echo(self, request: Request) -> JSONResponse:
        body = await request.body()
        self.bodies += 1
        seen = {"size": len(body), "headers": dict(request.headers)}
        return JSONResponse(seen, headers={"x-request-id": "abc", "cache-control": "no-store"})


@pytest.fixture
def upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Upstream:
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"stable": {"tag": "svc:one", "url": UPSTREAM}, "canary": None}))
    fake = Upstream()
    monkeypatch.setattr(router, "ROUTES", router.Routes(routes))
    monkeypatch.setattr(
        router, "CLIENT", httpx.AsyncClient(transport=httpx.ASGITransport(fake.app))
    )
    return fake


async def send(**kwargs) -> httpx.Response:
    transport = httpx.ASGITransport(router.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router.test") as client:
        return await client.post("/predict", **kwargs)


async def chunks(total: int, size: int = 1 << 20):
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@pytest.mark.anyio
async def test_a_body_under_the_limit_is_forwarded_whole(upstream):
    response = await send(content=b"x" * 1000)
    assert response.status_code == 200 and response.json()["size"] == 1000


@pytest.mark.anyio
async def test_an_over_limit_content_length_is_refused_at_the_door(upstream):
    response = await send(content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert f"over {MAX_BODY_BYTES} bytes" in response.json()["error"]
    assert upstream.bodies == 0  # not even the start of it was sent on


@pytest.mark.anyio
async def test_an_over_limit_chunked_body_is_refused_while_it_streams(upstream):
    response = await send(content=chunks(3 * MAX_BODY_BYTES))
    assert response.status_code == 413
    assert upstream.bodies == 0  # the service never received it whole


@pytest.mark.anyio
async def test_a_chunked_body_under_the_limit_is_forwarded(upstream):
    response = await send(content=chunks(MAX_BODY_BYTES, size=1 << 16))
    assert response.status_code == 200 and response.json()["size"] == MAX_BODY_BYTES


@pytest.mark.anyio
async def test_headers_are_forwarded_both_ways_but_hop_by_hop_ones(upstream):
    headers = {
        "x-traffic-class": "smoke",
        "authorization": "Bearer t",
        "x-request-id": "r-1",
        "content-type": "application/json",
        "keep-alive": "timeout=5",
        "te": "trailers",
    }
    response = await send(content=b"{}", headers=headers)
    seen = response.json()["headers"]
    for name in ("x-traffic-class", "authorization", "x-request-id", "content-type"):
        assert seen[name] == headers[name]
    assert "keep-alive" not in seen and "te" not in seen
    assert seen["host"] == "version.test"  # the upstream's, not the router's
    assert response.headers["x-request-id"] == "abc"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-bento-tag"] == "svc:one"


@pytest.mark.anyio
async def test_an_unreachable_version_is_a_502_naming_it(upstream, monkeypatch):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    monkeypatch.setattr(router, "CLIENT", httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    response = await send(content=b"{}")
    assert response.status_code == 502 and "svc:one is unreachable" in response.json()["error"]
