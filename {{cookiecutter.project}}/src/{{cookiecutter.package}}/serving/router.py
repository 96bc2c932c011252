"""The local traffic router: one port per environment, in front of the bentos.

Every version runs as its own `bentoml serve` process. The router forwards
each request to the version its routes file names (and a canary share to the
new version), so moving traffic, a rollback included, is an atomic rewrite of
that file, picked up on the next request, and never a start-up.

Written by hand because it is thirty lines of Starlette and httpx (both
already dependencies), where a real proxy (nginx, Envoy) would be a system
service to install; on Kubernetes the Service does this job (see deploy/targets/kubernetes_objects.py).

Run: ROUTES_FILE=.deploy/<env>/routes.json uvicorn <package>.router:app
"""

import json
import os
import random
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FORWARDED_HEADERS = ("content-type", "accept")


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


async def proxy(request: Request) -> Response:
    target = choose(ROUTES.current())
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
    try:
        upstream = await CLIENT.request(
            request.method,
            target["url"] + request.url.path,
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
    except httpx.TransportError as error:
        return JSONResponse(
            {"error": f"version {target['tag']} is unreachable: {error!r}"},
            status_code=502,
            headers={"x-bento-tag": target["tag"]},
        )
    content_type = upstream.headers.get("content-type", "application/json")
    return Response(
        upstream.content,
        status_code=upstream.status_code,
        headers={"content-type": content_type, "x-bento-tag": target["tag"]},
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
