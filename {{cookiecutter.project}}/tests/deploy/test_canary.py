"""Canary analysis: counters from /metrics become a verdict; no evidence, no promotion."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.canary import Counters, analyse, judge, parse_counters, settle_canary

SETTINGS = {
    "min_requests": 50,
    "max_error_rate_increase": 0.01,
    "max_latency_ratio": 1.5,
    "window_seconds": 0,
}


def metrics_text(requests: int, errors: int, seconds: float) -> str:
    """What a bento's /metrics says after `requests` predictions, `errors` of them 500."""
    total, duration = "bentoml_service_request_total", "bentoml_service_request_duration_seconds"
    predict = 'endpoint="/predict"'
    lines = [
        f"# TYPE {total} counter",
        sample(total, predict + ',http_response_code="200"', requests - errors),
        sample(total, predict + ',http_response_code="500"', errors),
        sample(total, 'endpoint="/livez",http_response_code="200"', 1000),
        f"# TYPE {duration} histogram",
        sample(f"{duration}_sum", predict, seconds),
        sample(f"{duration}_count", predict, requests),
    ]
    return "\n".join(lines) + "\n"


def sample(name: str, labels: str, value: float) -> str:
    """One line of the Prometheus text format: name{labels} value."""
    return name + "{" + labels + "} " + str(value)


def test_counters_count_predict_only_and_5xx_as_errors():
    counters = parse_counters(metrics_text(100, 3, 2.0))
    assert counters == Counters(requests=100, errors=3, seconds=2.0)
    assert counters.error_rate == 0.03 and counters.mean_latency == 0.02


@pytest.mark.parametrize(
    ("canary", "promote", "reason"),
    [
        (Counters(100, 0, 1.0), True, "matches stable"),
        (Counters(10, 0, 0.1), False, "only 10 canary requests (need 50)"),
        (Counters(100, 5, 1.0), False, "canary error rate 0.050 > 0.010"),
        (Counters(100, 0, 2.0), False, "canary mean latency 20.0 ms > 15.0 ms"),
    ],
)
def test_the_canary_is_judged_on_traffic_errors_and_latency(canary, promote, reason):
    verdict = judge(Counters(1000, 0, 10.0), canary, SETTINGS)
    assert verdict.promote is promote
    assert reason in verdict.reason


@contextmanager
def metrics_server(snapshots: list[str]) -> Iterator[str]:
    """A /metrics on 127.0.0.1 that answers each snapshot in turn (then the last)."""

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (snapshots.pop(0) if len(snapshots) > 1 else snapshots[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_analyse_judges_what_happened_between_two_snapshots():
    stable = [metrics_text(1000, 0, 10.0), metrics_text(2000, 0, 20.0)]
    canary = [metrics_text(5, 0, 0.05), metrics_text(105, 0, 1.05)]
    with metrics_server(stable) as stable_url, metrics_server(canary) as canary_url:
        verdict = analyse(stable_url, canary_url, SETTINGS)
    assert verdict.promote, verdict.reason


def test_errors_from_before_the_window_do_not_count_against_the_canary():
    stable = [metrics_text(1000, 0, 10.0), metrics_text(2000, 0, 20.0)]
    canary = [metrics_text(100, 90, 1.0), metrics_text(200, 95, 2.0)]
    with metrics_server(stable) as stable_url, metrics_server(canary) as canary_url:
        verdict = analyse(stable_url, canary_url, SETTINGS)
    assert not verdict.promote
    assert "canary error rate 0.050" in verdict.reason


def test_settling_with_no_canary_running_is_a_clear_error():
    target = SimpleNamespace(load_routes=lambda: None)
    reconciler = SimpleNamespace(target=target, environment="production", settings={})
    with pytest.raises(DeployError, match="no canary is running in production"):
        settle_canary(reconciler, commit=False)
