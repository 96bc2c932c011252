"""The one smoke check: a served version answers a valid prediction and its lineage.

The gate, a deploy, `smoke` and `smoke-deployed` all call `smoke_problem`, so
"it answers" means the same thing before a release and after a deploy.
"""

import httpx

# Sent with every smoke request: the service never logs it as production traffic.
SMOKE_HEADERS = {"x-traffic-class": "smoke"}


def smoke_record() -> dict[str, float]:
    """One valid record: the middle of every contract range."""
    from {{ cookiecutter.package }}.contract import load_contract

    contract = load_contract()
    return {name: (bounds.min + bounds.max) / 2 for name, bounds in contract.features.items()}


def prediction_problem(url: str) -> str | None:
    """None if /predict answers one valid record with a probability; else what went wrong."""
    try:
        response = httpx.post(
            f"{url}/predict", json={"records": [smoke_record()]}, headers=SMOKE_HEADERS, timeout=30
        )
    except httpx.HTTPError as error:
        return f"no answer: {error!r}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    probability = response.json()[0]["probability"]
    return None if 0.0 <= probability <= 1.0 else f"probability {probability} out of [0, 1]"


def lineage_problem(url: str, lineage_id: str) -> str | None:
    """None if the service reports `lineage_id` as what it serves."""
    try:
        # BentoML APIs are POST endpoints, the lineage one included.
        response = httpx.post(f"{url}/lineage", json={}, headers=SMOKE_HEADERS, timeout=10)
        served = response.json().get("lineage_id")
    except (httpx.HTTPError, ValueError) as error:
        return f"no lineage answer: {error!r}"
    return None if served == lineage_id else f"serves lineage {served}, not {lineage_id}"


def smoke_problem(url: str, lineage_id: str | None = None) -> str | None:
    """None if the service at `url` passes the smoke check; else one line saying why not."""
    problem = prediction_problem(url)
    if problem is None and lineage_id is not None:
        problem = lineage_problem(url, lineage_id)
    return problem
