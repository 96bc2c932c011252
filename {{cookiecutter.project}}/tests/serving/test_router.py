"""The local router: which version answers, the canary share, and routes picked up live."""

import asyncio
import json
import os

import httpx
import pytest

from {{ cookiecutter.package }}.config import SERVICE_NAME
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.serving import router

# Nothing listens on port 1: a forwarded request fails at once, naming its target.
STABLE = {"tag": f"{SERVICE_NAME}:stable", "url": "http://127.0.0.1:1"}
CANARY = {"tag": f"{SERVICE_NAME}:canary", "url": "http://127.0.0.1:1"}


def test_the_canary_takes_its_share_and_only_that():
    assert router.choose({"stable": STABLE, "canary": None, "canary_share": 100}) == STABLE
    assert router.choose({"stable": STABLE, "canary": CANARY, "canary_share": 0}) == STABLE
    assert router.choose({"stable": STABLE, "canary": CANARY, "canary_share": 100}) == CANARY
    table = {"stable": STABLE, "canary": CANARY, "canary_share": 30}
    picked = [router.choose(table)["tag"] for _ in range(2000)]
    assert 0.25 < picked.count(CANARY["tag"]) / len(picked) < 0.35


@pytest.fixture
def routes_file(tmp_path, monkeypatch):
    path = tmp_path / "routes.json"
    write_json({"stable": STABLE, "canary": None, "canary_share": 0}, path)
    monkeypatch.setattr(router, "ROUTES", router.Routes(path))
    return path


def get(path: str) -> httpx.Response:
    """A request through the ASGI app, as the router's port would receive it."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=router.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
            return await client.get(path)

    return asyncio.run(send())


def test_a_replaced_routes_file_is_served_on_the_next_request(routes_file):
    assert (get("/-/routes")).json()["stable"] == STABLE
    write_json({"stable": CANARY, "canary": None, "canary_share": 0}, routes_file)
    os.utime(routes_file, ns=(1, 1))  # a new stamp even within the clock's resolution
    assert (get("/-/routes")).json()["stable"] == CANARY


def test_requests_go_to_the_chosen_version_and_say_which(routes_file):
    response = get("/readyz")
    assert response.status_code == 502
    assert response.headers["x-bento-tag"] == STABLE["tag"]
    assert f"{STABLE['tag']} is unreachable" in json.loads(response.text)["error"]
