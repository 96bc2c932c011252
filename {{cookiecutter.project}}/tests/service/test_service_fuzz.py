"""Fuzz the served API from its own OpenAPI document: no request gets a 5xx.

Schemathesis reads /docs.json from the running bento and generates requests
for every operation: valid ones (positive) and ones that break the schema on
purpose (negative: wrong types, missing and extra fields, out-of-range
numbers). Hypothesis adds bodies no schema describes: arbitrary JSON and
arbitrary bytes. Every request is counted; the count and the server errors
are printed at the end of the run (`fuzz: N requests, 0 server errors`).

Bounded and repeatable: a fixed number of examples per operation, generated
from a fixed seed (derandomize), stopping early at TIME_BUDGET seconds.
"""

import json
import time
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

pytestmark = pytest.mark.slow

# Derandomized: every run sends the same cases, so a larger number finds nothing new
# from one run to the next; it only adds time to every pull request's CI (120 and
# 80 took a minute more).
EXAMPLES = {"POST": 50, "GET": 5}  # per operation and generation mode
RAW_EXAMPLES = 40  # per kind of schema-less body
TIME_BUDGET = 150.0  # seconds; generation stops sending after this
FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "derandomize": True,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


class Tally:
    """Every response, by status; the 5xx ones kept to show what caused them."""

    def __init__(self, budget: float) -> None:
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self.deadline = time.monotonic() + budget

    @property
    def over_time(self) -> bool:
        return time.monotonic() > self.deadline

    def record(self, what: str, status: int, text: str) -> None:
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{what} -> {status}: {text[:300]}")

    def report(self) -> dict[str, Any]:
        return {
            "requests": sum(self.statuses.values()),
            "server_errors": sum(n for code, n in self.statuses.items() if code >= 500),
            "statuses": dict(self.statuses),
        }


def fuzz_operation(operation, mode: GenerationMode, tally: Tally) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[operation.method.upper()], **FUZZ_SETTINGS)
    def send(case) -> None:
        if tally.over_time:
            return
        response = case.call(timeout=60)
        what = f"{mode.value} {operation.method.upper()} {operation.path} {case.body!r:.200}"
        tally.record(what, response.status_code, response.text)

    send()


def fuzz_schemaless(client: httpx.Client, tally: Tally) -> None:
    """/predict with bodies no schema generates: any JSON value, any bytes."""
    json_values = st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )

    @given(value=json_values | st.fixed_dictionaries({"records": st.lists(json_values)}))
    @settings(max_examples=RAW_EXAMPLES, **FUZZ_SETTINGS)
    def send_json(value: Any) -> None:
        if tally.over_time:
            return
        content = json.dumps(value).encode()  # NaN and Infinity included
        response = client.post(
            "/predict", content=content, headers={"content-type": "application/json"}
        )
        tally.record(f"json {content[:200]!r}", response.status_code, response.text)

    @given(
        content=st.binary(max_size=2048),
        media=st.sampled_from(["application/json", "text/plain", ""]),
    )
    @settings(max_examples=RAW_EXAMPLES, **FUZZ_SETTINGS)
    def send_bytes(content: bytes, media: str) -> None:
        if tally.over_time:
            return
        headers = {"content-type": media} if media else {}
        response = client.post("/predict", content=content, headers=headers)
        tally.record(f"bytes {media} {content[:200]!r}", response.status_code, response.text)

    send_json()
    send_bytes()


def test_fuzzing_the_served_api_never_gets_a_server_error(service_url, client, record_property):
    schema = schemathesis.openapi.from_url(f"{service_url}/docs.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/predict", "/lineage", "/livez", "/readyz"}
    tally = Tally(TIME_BUDGET)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            # Negative data needs inputs to break: only the POST APIs take any.
            if mode is GenerationMode.POSITIVE or operation.method.upper() == "POST":
                fuzz_operation(operation, mode, tally)
    fuzz_schemaless(client, tally)

    report = tally.report()
    record_property("fuzz", report)  # conftest prints it in the run's summary
    print(f"fuzz: {report['requests']} requests, {report['server_errors']} server errors")
    assert report["requests"] > 0, "the fuzzer sent nothing"
    assert not tally.server_errors, "\n".join(tally.server_errors[:10])
    # Bad input must have been tried, and answered 4xx.
    assert any(400 <= code < 500 for code in report["statuses"]), report
