"""Health, metrics and lineage endpoints of the served bento."""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package }}.files import read_json

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_health_endpoints_answer_200(client, path):
    assert client.get(path).status_code == 200


def request_counts(client) -> dict[str, float]:
    """bentoml_service_request_total for /predict, by HTTP status."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "bentoml_service_request_total" and (
                sample.labels.get("endpoint") == "/predict"
            ):
                code = sample.labels["http_response_code"]
                counts[code] = counts.get(code, 0.0) + sample.value
    return counts


def test_metrics_count_predict_requests_by_status(client, record):
    before = request_counts(client)
    assert client.post("/predict", json={"records": [record]}).status_code == 200
    assert client.post("/predict", json={"records": []}).status_code == 400
    after = request_counts(client)

    assert after.get("200", 0) - before.get("200", 0) >= 1
    assert after.get("400", 0) - before.get("400", 0) >= 1


def test_a_second_server_leaves_the_first_ones_metrics(client, record, bento_tag):
    """BentoML empties its Prometheus folder when a server starts: on one shared home,
    starting a second server (a warm previous version, a gate) would zero the first's
    /metrics, which the canary analysis reads. Each server has a home of its own."""
    from {{ cookiecutter.package }}.serving.process import served

    assert client.post("/predict", json={"records": [record]}).status_code == 200
    before = request_counts(client)
    with served(bento_tag) as second:
        assert httpx.get(f"{second}/readyz", timeout=5).status_code == 200
        assert request_counts(client) == before


def test_metrics_expose_latency_and_batch_size(client, record):
    client.post("/predict", json={"records": [record]})
    names = {family.name for family in text_string_to_metric_families(client.get("/metrics").text)}
    assert "bentoml_service_request_duration_seconds" in names
    assert "bentoml_service_adaptive_batch_size" in names


def test_lineage_endpoint_names_the_model_that_was_trained(client, project):
    response = client.post("/lineage", json={})
    assert response.status_code == 200
    served = response.json()
    trained = read_json(project.lineage)
    assert served["model"]["tag"] == trained["model"]["tag"]
    assert served["model"]["digest"] == trained["model"]["digest"]
    assert served["lineage_id"] == trained["lineage_id"]


def test_openapi_document_describes_the_contract(client, project):
    from {{ cookiecutter.package }}.contract import load_contract
    from {{ cookiecutter.package }}.monitor.log_writer import RECORD_ID

    schema = client.get("/docs.json").json()
    record = schema["components"]["schemas"]["Record"]
    # The contract's fields, and the caller's optional key for the prediction log.
    assert set(record["properties"]) == {*load_contract().features, RECORD_ID}
    assert RECORD_ID not in record.get("required", [])
    assert record["additionalProperties"] is False
    request = schema["paths"]["/predict"]["post"]["requestBody"]["content"]
    assert list(request) == ["application/json"]


def test_predict_declares_its_json_media_type_through_bentoml(client, project, record):
    """The ~1 ms per request the declaration saves (docs/service.md) holds only while
    BentoML still reads `ContentType` from the return annotation: fail loudly if not."""
    from {{ cookiecutter.package }}.serving.service import Classifier

    for api in ("predict", "smoke_predict"):
        assert Classifier.apis[api].output_spec.media_type == "application/json", api
    response = client.post("/predict", json={"records": [record]})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
