"""What the served bento answers: the offline model's numbers, per caller, logged.

Predictions over HTTP must equal `predict_proba` in process; concurrent
callers, whose requests adaptive batching merges into one model call, must
each get their own rows' answers back; every prediction must reach the
prediction log the monitor reads (format: docs/monitoring.md), with the id
the caller got back.
"""

import csv
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package }}.serving.smoke import SMOKE_HEADERS

pytestmark = pytest.mark.slow

MAX_BATCH = 1000  # service.MAX_BATCH


def probabilities(response) -> list[float]:
    assert response.status_code == 200, response.text[:500]
    return [item["probability"] for item in response.json()]


def test_predictions_equal_the_offline_model(client, eval_rows, offline_probability, project):
    rows = eval_rows.head(25)
    response = client.post("/predict", json={"records": rows.to_dict(orient="records")})
    served = probabilities(response)
    assert served == pytest.approx(offline_probability(rows), abs=1e-12)

    from {{ cookiecutter.package }}.files import read_json

    threshold = read_json(project.lineage)["params"]["evaluate"]["threshold"]
    labels = [item["label"] for item in response.json()]
    assert labels == [int(p >= threshold) for p in served]


def test_a_full_batch_in_one_request_is_answered(client, eval_rows, offline_probability):
    rows = eval_rows.sample(n=MAX_BATCH, replace=True, random_state=0)
    served = probabilities(client.post("/predict", json={"records": rows.to_dict("records")}))
    assert served == pytest.approx(offline_probability(rows), abs=1e-12)


def batch_sizes(client) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of the adaptive batch size histogram."""
    buckets = []
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "bentoml_service_adaptive_batch_size_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    return sorted(buckets)


def merged_batches(client) -> float:
    """How many model calls took more than one record."""
    buckets = batch_sizes(client)
    total = buckets[-1][1] if buckets else 0.0
    single = next((count for bound, count in buckets if bound == 1.0), 0.0)
    return total - single


CALLERS = 32


def test_concurrent_callers_each_get_their_own_answers(
    client, service_url, eval_rows, offline_probability
):
    """32 callers at once, twice, 1 to 4 rows each: merged into batches, answered per caller.

    Each caller connects first and all send together (a barrier): on a busy
    machine callers that connect as they go arrive one by one, and nothing
    is left to merge.
    """
    import httpx

    calls = [eval_rows.iloc[i : i + 1 + i % 4] for i in range(2 * CALLERS)]
    expected = [offline_probability(rows) for rows in calls]
    together = threading.Barrier(CALLERS)

    def caller(index: int) -> list:
        answers = []
        with httpx.Client(base_url=service_url, timeout=60) as own:
            own.get("/readyz")  # connected before the race
            for rows in (calls[index], calls[index + CALLERS]):
                together.wait()
                answers.append(post_until_not_shed(own, rows))
        return answers

    merged_before = merged_batches(client)
    for _attempt in range(3):  # until the server has merged some requests
        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            waves = list(pool.map(caller, range(CALLERS)))
        answers = [wave[0] for wave in waves] + [wave[1] for wave in waves]
        for got, want in zip(map(probabilities, answers), expected, strict=True):
            assert got == pytest.approx(want, abs=1e-12)
        if merged_batches(client) > merged_before:
            break
    assert merged_batches(client) > merged_before, "no two requests were ever batched"


def post_until_not_shed(client, rows):
    """A request queued longer than max_latency_ms is shed with a 503 (a busy machine,
    not a wrong answer): retried with a growing pause, as a client of the service would
    (up to about 15 s in all)."""
    for retry in range(8):
        answer = client.post("/predict", json={"records": rows.to_dict(orient="records")})
        if answer.status_code != 503:
            break
        time.sleep(min(0.25 * 2**retry, 4))
    return answer


def as_logged(row: dict[str, str], features: list[str]) -> dict:
    """A logged CSV row with its values as the service answered them."""
    scored = row["status"] == "ok"
    return {
        **row,
        "inputs": {name: float(row[name]) for name in features} if scored else None,
        "probability": float(row["probability"]) if scored else None,
        "label": int(row["label"]) if scored else None,
    }


def read_log(directory: Path) -> list[dict]:
    entries = []
    for path in sorted(directory.glob("predictions-*.csv")):
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            names = list(reader.fieldnames or [])
            features = names[names.index("reason") + 1 : names.index("probability")]
            entries += [as_logged(row, features) for row in reader]
    return entries


def scored_rows(directory: Path) -> list[dict]:
    return [entry for entry in read_log(directory) if entry["status"] == "ok"]


def test_inputs_and_predictions_are_logged_with_their_id(
    client, eval_rows, prediction_log_dir, project
):
    rows = eval_rows.iloc[40:43].to_dict(orient="records")
    sent = [{**rows[0], "id": "caller-key-1"}, *rows[1:]]
    served = client.post("/predict", json={"records": sent}).json()
    assert served[0]["id"] == "caller-key-1"
    assert len({answer["id"] for answer in served}) == 3, "each prediction gets its own id"

    deadline = time.monotonic() + 10
    wanted = {answer["id"] for answer in served}
    while not wanted <= {e["id"] for e in scored_rows(prediction_log_dir)}:
        assert time.monotonic() < deadline, "the predictions were not logged"
        time.sleep(0.2)
    by_id = {e["id"]: e for e in scored_rows(prediction_log_dir)}
    lineage_id = json.loads(project.lineage.read_text())["lineage_id"]
    for row, answer in zip(rows, served, strict=True):
        entry = by_id[answer["id"]]
        assert entry["inputs"] == row
        assert entry["probability"] == answer["probability"]
        assert entry["label"] == answer["label"]
        assert entry["lineage_id"] == lineage_id
        assert entry["time"].endswith("Z")


def test_a_refused_request_is_logged_with_its_reason(client, record, prediction_log_dir):
    bad = {**record, "mean_radius": "big"}
    assert client.post("/predict", json={"records": [bad]}).status_code == 400
    deadline = time.monotonic() + 10
    while True:
        refused = [e for e in read_log(prediction_log_dir) if e["status"] == "refused"]
        if any(e["reason"] == "float_type at mean_radius" for e in refused):
            break
        assert time.monotonic() < deadline, f"no refused row with its reason: {refused}"
        time.sleep(0.2)


def logged_rows(directory: Path, rows: list[dict]) -> list[dict]:
    return [e for e in scored_rows(directory) if e["inputs"] in rows]


def test_smoke_requests_are_answered_but_never_logged(client, eval_rows, prediction_log_dir):
    # Midpoints of two held-out rows: valid records no other test sends.
    unseen = (
        eval_rows.iloc[50:53].reset_index(drop=True) + eval_rows.iloc[60:63].reset_index(drop=True)
    ) / 2
    smoke_rows = unseen.iloc[:2].to_dict(orient="records")
    client_rows = unseen.iloc[2:].to_dict(orient="records")
    smoke = client.post("/predict", json={"records": smoke_rows}, headers=SMOKE_HEADERS)
    assert smoke.status_code == 200 and len(smoke.json()) == 2
    # A client's request after it is logged: once it is, the smoke one would be too.
    client.post("/predict", json={"records": client_rows})
    deadline = time.monotonic() + 10
    while not logged_rows(prediction_log_dir, client_rows) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert logged_rows(prediction_log_dir, client_rows), "the client's request was not logged"
    assert logged_rows(prediction_log_dir, smoke_rows) == []
