"""The one smoke check: a served version answers a valid prediction and its lineage.

The gate, a deploy, `smoke` and `smoke-deployed` all call `smoke_problem`, so
"it answers" means the same thing before a release and after a deploy.
"""

from contextlib import nullcontext

import httpx

# Sent with every smoke request: the service never logs it as production traffic.
SMOKE_HEADERS = {"x-traffic-class": "smoke"}


def smoke_record() -> dict[str, float | str]:
    """One valid record: the middle of every contract range, a listed value of each category."""
    from {{ cookiecutter.package }}.contract import load_contract

    return load_contract().example_record()


def prediction_problem(client: httpx.Client, url: str) -> str | None:
    """None if /predict answers one valid record with a probability; else what went wrong."""
    try:
        response = client.post(
            f"{url}/predict", json={"records": [smoke_record()]}, headers=SMOKE_HEADERS, timeout=30
        )
    except httpx.HTTPError as error:
        return f"no answer: {error!r}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    probability = response.json()[0]["probability"]
    return None if 0.0 <= probability <= 1.0 else f"probability {probability} out of [0, 1]"


def lineage_problem(
    client: httpx.Client, url: str, lineage_id: str, model: dict[str, str] | None = None
) -> str | None:
    """None if the service reports `lineage_id` (and `model`'s tag, digest) as what it serves."""
    try:
        # BentoML APIs are POST endpoints, the lineage one included.
        response = client.post(f"{url}/lineage", json={}, headers=SMOKE_HEADERS, timeout=10)
        served = response.json()
    except (httpx.HTTPError, ValueError) as error:
        return f"no lineage answer: {error!r}"
    if served.get("lineage_id") != lineage_id:
        return f"serves lineage {served.get('lineage_id')}, not {lineage_id}"
    served_model = served.get("model") or {}
    for key, expected in (model or {}).items():
        if served_model.get(key) != expected:
            return f"serves model {key} {served_model.get(key)}, not {expected}"
    return None


def smoke_problem(
    url: str,
    lineage_id: str | None = None,
    model: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> str | None:
    """None if the service at `url` passes the smoke check; else one line saying why not.

    With `lineage_id` it must serve that lineage; with `model`, also that
    model (its `tag` and `digest`, as its lineage records them). A caller
    that makes many requests passes its `client`: a new one loads the CA
    bundle (~0.04 s), a third of a warm rollback's work.
    """
    with httpx.Client() if client is None else nullcontext(client) as session:
        problem = prediction_problem(session, url)
        if problem is None and lineage_id is not None:
            problem = lineage_problem(session, url, lineage_id, model)
    return problem
