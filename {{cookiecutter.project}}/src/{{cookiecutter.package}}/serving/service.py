"""The BentoML service: the model behind a typed, contract-checked HTTP API.

Requests are validated by a pydantic model built from the data contract
(contract.yaml), so wrong types, missing or extra fields, NaN/inf, empty or
oversized batches and malformed JSON are answered with 400 and a reason before
they reach the model; a body that is not JSON is answered 415, one too large
to be a batch 413 (see `RequestGuard`). Features come from the same
`build_features` training used. Every prediction gets an id (the caller's,
or a new one) and is logged with it for the monitor, refusals too.
docs/service.md describes the API and its errors, docs/monitoring.md the logs.
"""

import contextlib
import json
import os
import uuid
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import bentoml
import joblib
import pandas as pd
from bentoml.validators import ContentType
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package }}.config import PACKAGE_DIR, SERVICE_NAME
from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.decision import decide
from {{ cookiecutter.package }}.features import build_features
from {{ cookiecutter.package }}.files import read_json
from {{ cookiecutter.package }}.model_store import MODEL_FILE
from {{ cookiecutter.package }}.monitor.log_writer import (
    RECORD_ID,
    NoLog,
    PredictionLog,
    from_environment,
)
from {{ cookiecutter.package }}.serving.limits import MAX_BATCH, MAX_BODY_BYTES
from {{ cookiecutter.package }}.serving.records import record_model
from {{ cookiecutter.package }}.serving.smoke import SMOKE_HEADERS

PREDICT_PATH = "/predict"
# Where a smoke request to /predict goes: the same model, never the prediction log.
SMOKE_PREDICT_PATH = "/smoke/predict"
JSON_ONLY_PATHS = frozenset({PREDICT_PATH, SMOKE_PREDICT_PATH})
# Inside a bento the lineage travels next to the package (see bento.py);
# in the repository it is the pipeline's output. Found from the package's
# folder, not this file's: a bento that missed it would fall back to the
# repository's newest lineage, and serve that model instead of its own.
BUNDLED_LINEAGE = PACKAGE_DIR.parent / "lineage.json"


def serving_lineage() -> dict[str, Any]:
    candidates = [BUNDLED_LINEAGE]
    if os.environ.get("SERVING_LINEAGE"):
        candidates.insert(0, Path(os.environ["SERVING_LINEAGE"]))
    from {{ cookiecutter.package }}.config import Paths, find_root

    with contextlib.suppress(FileNotFoundError):
        candidates.append(Paths(find_root(Path(__file__).parent)).lineage)
    for path in candidates:
        if path.exists():
            lineage: dict[str, Any] = read_json(path)
            return lineage
    raise FileNotFoundError("no lineage.json found; run `dvc repro` before building the bento")


# BentoML needs the model reference as a class attribute, so this module (and
# only this one: nothing else in the package imports it) reads the lineage and
# the contract when `bentoml serve` or `bentoml build` imports it.
LINEAGE = serving_lineage()
# A record is the contract's fields plus an optional `id`: the caller's own
# key for the prediction, echoed back and logged, so labels that arrive
# later can be joined to it. Without one, the service makes one up.
RECORD_ID_FIELD: dict[str, Any] = {
    RECORD_ID: (str | None, Field(default=None, min_length=1, max_length=128))
}
Record = create_model("Record", __base__=record_model(load_contract()), **RECORD_ID_FIELD)
REFUSED_STATUSES = frozenset({400, 413, 415})


class PredictRequest(BaseModel):
    """A batch of records, each with the named fields of the data contract."""

    model_config = ConfigDict(extra="forbid")
    records: list[Record] = Field(min_length=1, max_length=MAX_BATCH)


class Prediction(BaseModel):
    id: str = Field(description="The record's id as sent, or one made up; in the prediction log")
    probability: float = Field(description="P(label 1); multiclass: of the predicted label")
    label: int = Field(description="1 if probability >= threshold, else 0; multiclass: the class")


# Declared, not derived: without it BentoML derives the media type of a list
# output from its JSON schema on every response, about 1 ms of CPU per request
# (docs/service.md). ContentType is BentoML's public way to declare it.
JsonPredictions = Annotated[list[Prediction], ContentType("application/json")]


@cache
def prediction_log() -> PredictionLog | NoLog:
    """One log per worker process, opened on first use (not when bentoml imports this)."""
    return from_environment(LINEAGE["lineage_id"], load_contract().feature_names)


def refusal_reason(status: int, body: bytes) -> str:
    """What was wrong, without the record index: `float_type at mean_radius`."""
    try:
        answer = json.loads(body)
    except ValueError:
        return f"HTTP {status}"
    detail = answer.get("detail") if isinstance(answer, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        where = [str(part) for part in detail[0].get("loc", [])[1:] if not isinstance(part, int)]
        return f"{detail[0].get('type', 'invalid')} at {'.'.join(where) or 'body'}"
    error = answer.get("error") if isinstance(answer, dict) else None
    return str(error)[:200] if error else f"HTTP {status}"


def logging_refusals(send: Send) -> Send:
    """`send`, recording a refused answer in the prediction log as it passes."""
    status, chunks = 0, []

    async def wrapped(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and status in REFUSED_STATUSES:
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                prediction_log().refused(uuid.uuid4().hex, refusal_reason(status, b"".join(chunks)))
        await send(message)

    return wrapped


def media_type_problem(content_type: str | None) -> str | None:
    """Why a request body of this Content-Type cannot be read (None: it can).

    No Content-Type at all is read as JSON, as BentoML does.
    """
    media_type = (content_type or "application/json").split(";")[0].strip().lower()
    if media_type == "application/json":
        return None
    return f"Content-Type must be application/json, not {content_type!r}"


async def read_capped(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past `limit` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


class RequestGuard:
    """Refuse bodies the JSON API cannot read, before BentoML parses them.

    BentoML also parses form and multipart bodies (a malformed multipart body
    makes it answer 500) and reads any body whole. Here a declared media type
    other than application/json gets 415 and a body over `max_bytes` gets 413,
    each with a JSON `error` naming the problem, like the 400s of validation.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = scope["type"] == "http" and scope["method"] == "POST"
        if not guarded or scope["path"] not in JSON_ONLY_PATHS:
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if scope["path"] == PREDICT_PATH and not is_smoke(headers):
            send = logging_refusals(send)  # refusals are data quality signals
        problem = media_type_problem(headers.get("content-type"))
        if problem:
            return await JSONResponse({"error": problem}, 415)(scope, receive, send)
        body = await read_capped(receive, self.max_bytes)
        if body is None:
            problem = f"request body over {self.max_bytes} bytes; send at most {MAX_BATCH} records"
            return await JSONResponse({"error": problem}, 413)(scope, receive, send)
        await self.app(by_traffic_class(scope, headers), replay(body, receive), send)


def is_smoke(headers: Headers) -> bool:
    return all(headers.get(k, "").lower() == v for k, v in SMOKE_HEADERS.items())


def by_traffic_class(scope: Scope, headers: Headers) -> Scope:
    """A smoke request to /predict goes to its unlogged twin.

    Deploys and checks send them (serving/smoke.py); the prediction log is
    what the drift monitor reads, so it must hold production traffic only.
    """
    if scope["path"] == PREDICT_PATH and is_smoke(headers):
        return {**scope, "path": SMOKE_PREDICT_PATH, "raw_path": SMOKE_PREDICT_PATH.encode()}
    return scope


def replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return once


# Adaptive batching: concurrent requests are queued and answered by one call
# of `predict` on all their records (a request is never split: max_batch_size
# is the largest request). max_latency_ms is the shedding bound: a request
# whose estimated wait exceeds it gets 503 instead of queueing further.
# Measurements behind these choices: docs/service.md, "Performance".
BATCHING: dict[str, Any] = {"batchable": True, "max_batch_size": MAX_BATCH, "max_latency_ms": 1000}


@bentoml.service(name=SERVICE_NAME, traffic={"timeout": 30})
class Classifier:
    model_ref = bentoml.models.BentoModel(LINEAGE["model"]["tag"])

    def __init__(self) -> None:
        self.model = joblib.load(self.model_ref.path_of(MODEL_FILE))
        self.threshold = float(LINEAGE["params"]["evaluate"]["threshold"])
        self.columns = load_contract().feature_names

    # Sync on purpose: BentoML runs it in a worker thread, so /livez, /readyz
    # and /metrics answer while a large batch computes (async measured no faster).
    @bentoml.api(input_spec=PredictRequest, **BATCHING)
    def predict(self, records: list[Record]) -> JsonPredictions:
        return self._answer(records, log=True)

    # What a request with `x-traffic-class: smoke` reaches (see `by_traffic_class`).
    # Not batched: a batch is logged as one, so smoke records must never join one.
    @bentoml.api(input_spec=PredictRequest, route=SMOKE_PREDICT_PATH)
    def smoke_predict(self, records: list[Record]) -> JsonPredictions:
        return self._answer(records, log=False)

    def _answer(self, records: list[Record], log: bool) -> list[Prediction]:
        columns = {name: [getattr(r, name) for r in records] for name in self.columns}
        raw = pd.DataFrame(columns, columns=self.columns)
        matrix = self.model.predict_proba(build_features(raw))
        decided, chosen = decide(matrix, self.model.classes_, self.threshold)
        probability, labels = decided.tolist(), chosen.tolist()
        ids = [getattr(r, RECORD_ID) or uuid.uuid4().hex for r in records]
        if log:
            inputs = [r.model_dump(exclude={RECORD_ID}) for r in records]
            prediction_log().predictions(ids, inputs, probability, labels)
        return [
            Prediction(id=i, probability=p, label=y)
            for i, p, y in zip(ids, probability, labels, strict=True)
        ]

    @bentoml.api
    def lineage(self) -> dict[str, Any]:
        """What produced the model that answers here."""
        return LINEAGE

    @bentoml.on_shutdown
    def close_prediction_log(self) -> None:
        """The server stops: this worker's log file is complete (and shipped, if set)."""
        if prediction_log.cache_info().currsize:  # a request of this worker opened it
            prediction_log().close()


# mypy does not apply class decorators: at run time Classifier is a bentoml Service.
Classifier.add_asgi_middleware(RequestGuard)  # type: ignore[attr-defined]
