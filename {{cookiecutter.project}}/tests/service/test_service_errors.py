"""Bad input never gets a 5xx: each kind is answered 4xx with a JSON reason.

One row per kind of mistake a caller makes: the request, the status it must
get, and the error type (pydantic's, for the 400s) or the words the reason
must hold. The fuzz test (test_service_fuzz.py) covers what nobody listed.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

pytestmark = pytest.mark.slow

JSON = {"content-type": "application/json"}
MAX_BATCH = 1000  # service.MAX_BATCH; importing the service needs a trained model
FIRST = "mean_radius"


@dataclass
class Bad:
    """A bad request: its body (made from one valid record), headers and expected answer."""

    body: Callable[[dict[str, float]], bytes]
    status: int
    reason: str  # a pydantic error type for 400s, else words the `error` holds
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    where: tuple[Any, ...] | None = None  # `loc` of the 400 error, when it names a place


def body(make: Callable[[dict[str, float]], Any]) -> Callable[[dict[str, float]], bytes]:
    """Serialise with Python's json, which writes NaN and Infinity as JavaScript does."""
    return lambda record: json.dumps(make(record)).encode()


def raw(text: str | bytes) -> Callable[[dict[str, float]], bytes]:
    return lambda record: text if isinstance(text, bytes) else text.encode()


def unsupported(make: Callable[[dict[str, float]], bytes], content_type: str) -> Bad:
    """A body sent with a content type the service does not read."""
    return Bad(
        make, 415, "Content-Type must be application/json", headers={"content-type": content_type}
    )


def replace(record: dict[str, float], **fields: Any) -> dict[str, Any]:
    return {**record, **fields}


def without(record: dict[str, float], name: str) -> dict[str, float]:
    return {k: v for k, v in record.items() if k != name}


CASES: dict[str, Bad] = {
    # wrong types
    "string-for-number": Bad(
        body(lambda r: {"records": [replace(r, mean_radius="12.5")]}),
        400,
        "float_type",
        where=("records", 0, FIRST),
    ),
    "bool-for-number": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=True)]}),
        400,
        "float_type",
        where=("records", 0, FIRST),
    ),
    "null-for-number": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=None)]}),
        400,
        "float_type",
        where=("records", 0, FIRST),
    ),
    "list-for-number": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=[1.0])]}),
        400,
        "float_type",
        where=("records", 0, FIRST),
    ),
    "records-not-a-list": Bad(body(lambda r: {"records": r}), 400, "list_type"),
    "record-not-an-object": Bad(body(lambda r: {"records": [1.0, "x"]}), 400, "model_type"),
    "body-a-list": Bad(body(lambda r: [r]), 400, "model_type"),
    "body-a-number": Bad(raw("42"), 400, "model_type"),
    "body-null": Bad(raw("null"), 400, "model_type"),
    # missing or extra fields
    "missing-field": Bad(
        body(lambda r: {"records": [without(r, FIRST)]}),
        400,
        "missing",
        where=("records", 0, FIRST),
    ),
    "missing-records": Bad(body(lambda r: {"rows": [r]}), 400, "missing", where=("records",)),
    "empty-object": Bad(raw("{}"), 400, "missing", where=("records",)),
    "empty-body": Bad(raw(""), 400, "missing", where=("records",)),
    "extra-field": Bad(
        body(lambda r: {"records": [replace(r, patient_id=7.0)]}),
        400,
        "extra_forbidden",
        where=("records", 0, "patient_id"),
    ),
    "extra-top-level-key": Bad(
        body(lambda r: {"records": [r], "threshold": 0.1}),
        400,
        "extra_forbidden",
        where=("threshold",),
    ),
    "unicode-and-control-key": Bad(
        body(lambda r: {"records": [replace(r, **{"radius\u00e9\u4e2d\u0000": 1.0})]}),
        400,
        "extra_forbidden",
    ),
    # not finite, or outside the contract
    "nan": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=float("nan"))]}),
        400,
        "finite_number",
        where=("records", 0, FIRST),
    ),
    "infinity": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=float("inf"))]}),
        400,
        "finite_number",
        where=("records", 0, FIRST),
    ),
    "minus-infinity": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=-float("inf"))]}),
        400,
        "finite_number",
        where=("records", 0, FIRST),
    ),
    "overflowing-number": Bad(  # 1e999 is valid JSON that no float can hold
        lambda r: (
            json.dumps({"records": [replace(r, mean_radius="BIG")]})
            .replace('"BIG"', "1e999")
            .encode()
        ),
        400,
        "finite_number",
        where=("records", 0, FIRST),
    ),
    "above-contract-range": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=1e6)]}),
        400,
        "less_than_equal",
        where=("records", 0, FIRST),
    ),
    "below-contract-range": Bad(
        body(lambda r: {"records": [replace(r, mean_radius=-1.0)]}),
        400,
        "greater_than_equal",
        where=("records", 0, FIRST),
    ),
    # batch size
    "empty-batch": Bad(body(lambda r: {"records": []}), 400, "too_short", where=("records",)),
    "oversized-batch": Bad(
        body(lambda r: {"records": [r] * (MAX_BATCH + 1)}), 400, "too_long", where=("records",)
    ),
    "body-over-the-size-bound": Bad(
        lambda r: b'{"records": [' + b" " * (8 * 1024 * MAX_BATCH + 1) + b"]}",
        413,
        "request body over",
    ),
    # malformed JSON
    "truncated-json": Bad(
        lambda r: json.dumps({"records": [r]})[:-5].encode(), 400, "json_invalid"
    ),
    "trailing-garbage": Bad(
        lambda r: json.dumps({"records": [r]}).encode() + b"}", 400, "json_invalid"
    ),
    "single-quotes": Bad(raw("{'records': []}"), 400, "json_invalid"),
    "invalid-utf8": Bad(raw(b'{"records": [\xff\xfe]}'), 400, "json_invalid"),
    "deeply-nested": Bad(
        raw('{"records": ' + "[" * 100_000 + "]" * 100_000 + "}"), 400, "json_invalid"
    ),
    # wrong content type
    "text-plain": unsupported(body(lambda r: {"records": [r]}), "text/plain"),
    "form-encoded": unsupported(raw("records=1"), "application/x-www-form-urlencoded"),
    "malformed-multipart": unsupported(raw("--x\r\n\r\n"), "multipart/form-data; boundary=x"),
    "xml": unsupported(raw("<records/>"), "application/xml"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_4xx_naming_the_problem(client, record, name):
    case = CASES[name]
    response = client.post("/predict", content=case.body(record), headers=case.headers)

    assert response.status_code == case.status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    assert answer["error"]
    if case.status == 400:
        errors = answer["detail"]
        assert case.reason in {e["type"] for e in errors}, errors
        if case.where is not None:
            assert list(case.where) in [e["loc"] for e in errors], errors
    else:
        assert case.reason in answer["error"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_refused(client, method):
    response = client.request(method, "/predict")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


def test_charset_parameter_and_missing_content_type_are_read_as_json(client, record):
    payload = json.dumps({"records": [record]}).encode()
    for headers in ({"content-type": "application/json; charset=utf-8"}, {}):
        response = client.post("/predict", content=payload, headers=headers)
        assert response.status_code == 200, (headers, response.text[:300])


def test_service_still_answers_after_bad_input(client, record):
    response = client.post("/predict", json={"records": [record]})
    assert response.status_code == 200
    assert 0.0 <= response.json()[0]["probability"] <= 1.0
