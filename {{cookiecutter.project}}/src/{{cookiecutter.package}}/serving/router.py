"""The local traffic router: one port per environment, in front of the bentos.

Every version runs as its own `bentoml serve` process. The router forwards
each request to the version its routes file names (and a canary share to the
new version), so moving traffic, a rollback included, is an atomic rewrite of
that file, picked up on the next request, and never a start-up.

It is the environment's entry point, so it bounds what it accepts: a body
over the service's own limit (serving/limits.py) is answered 413 at the door,
from its Content-Length or, for a chunked body, as soon as the bytes counted
while streaming pass the limit. Requests and responses are streamed, never
held whole, so its memory stays flat whatever a caller sends
(benchmarks/bench_router.py). Every header but the hop-by-hop ones is
forwarded both ways.

Written by hand because it is some sixty lines of Starlette and httpx (both
already dependencies), where a real proxy (nginx, Envoy) would be a system
service to install; on Kubernetes the Service does this job (see
deploy/targets/kubernetes_objects.py).

Run: ROUTES_FILE=.deploy/<env>/routes.json uvicorn <package>.serving.router:app
"""

import json
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from {{ cookiecutter.package }}.serving.limits import MAX_BODY_BYTES

# Headers about one connection, not the request (RFC 9110, 7.6.1): never forwarded.
# Host names the router; Content-Length is re-derived, as bodies are streamed.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
})  # fmt: skip


class Routes:
    """The routes file, re-read whenever it is replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamp: int | None = None
        self.table: dict[str, Any] = {}

    def current(self) -> dict[str, Any]:
        stamp = self.path.stat().st_mtime_ns
        if stamp != self.stamp:
            self.table, self.stamp = json.loads(self.path.read_text()), stamp
        return self.table


def choose(table: dict[str, Any]) -> dict[str, str]:
    canary: dict[str, str] | None = table.get("canary")
    if canary and random.uniform(0, 100) < table.get("canary_share", 0):
        return canary
    stable: dict[str, str] = table["stable"]
    return stable


ROUTES = Routes(Path(os.environ.get("ROUTES_FILE", "routes.json")))
CLIENT = httpx.AsyncClient(timeout=30)


class BodyTooLarge(Exception):
    """A chunked request body grew past the limit while it streamed."""


def end_to_end(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}


def too_large(tag: str, limit: int) -> JSONResponse:
    problem = f"request body over {limit} bytes; the service accepts at most that"
    return JSONResponse({"error": problem}, 413, headers={"x-bento-tag": tag})


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


async def capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body as it arrives, stopped as soon as it passes `limit` bytes."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        yield chunk


async def proxy(request: Request) -> Response:
    target = choose(ROUTES.current())
    if (declared_length(request) or 0) > MAX_BODY_BYTES:
        return too_large(target["tag"], MAX_BODY_BYTES)
    outgoing = CLIENT.build_request(
        request.method,
        target["url"] + request.url.path,
        params=request.query_params,
        content=capped(request, MAX_BODY_BYTES),
        headers=end_to_end(request.headers),
    )
    try:
        upstream = await CLIENT.send(outgoing, stream=True)
    except BodyTooLarge:
        return too_large(target["tag"], MAX_BODY_BYTES)
    except httpx.TransportError as error:
        return JSONResponse(
            {"error": f"version {target['tag']} is unreachable: {error!r}"},
            status_code=502,
            headers={"x-bento-tag": target["tag"]},
        )
    headers = end_to_end(upstream.headers)
    if "content-length" in upstream.headers:  # the raw bytes are passed on unchanged
        headers["content-length"] = upstream.headers["content-length"]
    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers={**headers, "x-bento-tag": target["tag"]},
        background=BackgroundTask(upstream.aclose),
    )


async def routes(_: Request) -> JSONResponse:
    return JSONResponse(ROUTES.current())


METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
app = Starlette(
    routes=[
        Route("/-/routes", routes),
        Route("/{path:path}", proxy, methods=METHODS),
    ]
)
