"""Canary analysis from the services' own Prometheus metrics.

Both versions expose `bentoml_service_request_total` and
`bentoml_service_request_duration_seconds` on /metrics. Two snapshots, a
window apart, give each version's request count, error rate and mean latency
over that window. Too little canary traffic is a failure: no evidence, no
promotion.
"""

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package }}.deploy import DeployError

if TYPE_CHECKING:
    from {{ cookiecutter.package }}.deploy.reconcile import Reconciler

ENDPOINT = "/predict"


@dataclass(frozen=True)
class Counters:
    requests: float = 0.0
    errors: float = 0.0  # 5xx: the service failed, not the caller
    seconds: float = 0.0  # total time spent answering

    def __sub__(self, other: "Counters") -> "Counters":
        return Counters(
            self.requests - other.requests,
            self.errors - other.errors,
            self.seconds - other.seconds,
        )

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def mean_latency(self) -> float:
        return self.seconds / self.requests if self.requests else 0.0


def parse_counters(text: str) -> Counters:
    requests = errors = seconds = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("endpoint") != ENDPOINT:
                continue
            if sample.name == "bentoml_service_request_total":
                requests += sample.value
                if sample.labels.get("http_response_code", "").startswith("5"):
                    errors += sample.value
            elif sample.name == "bentoml_service_request_duration_seconds_sum":
                seconds += sample.value
    return Counters(requests, errors, seconds)


def snapshot(url: str) -> Counters:
    return parse_counters(httpx.get(f"{url}/metrics", timeout=5).text)


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reason: str


def judge(stable: Counters, canary: Counters, settings: dict[str, Any]) -> Verdict:
    if canary.requests < settings["min_requests"]:
        reason = f"only {canary.requests:.0f} canary requests (need {settings['min_requests']})"
        return Verdict(False, reason)
    allowed_errors = stable.error_rate + settings["max_error_rate_increase"]
    if canary.error_rate > allowed_errors:
        reason = f"canary error rate {canary.error_rate:.3f} > {allowed_errors:.3f}"
        return Verdict(False, reason)
    allowed_latency = stable.mean_latency * settings["max_latency_ratio"]
    if stable.requests and canary.mean_latency > allowed_latency:
        latency_ms, allowed_ms = canary.mean_latency * 1000, allowed_latency * 1000
        reason = f"canary mean latency {latency_ms:.1f} ms > {allowed_ms:.1f} ms"
        return Verdict(False, reason)
    return Verdict(True, "canary matches stable on errors and latency")


def analyse(stable_url: str, canary_url: str, settings: dict[str, Any]) -> Verdict:
    """Watch both versions for the window while traffic flows; judge the canary."""
    before = snapshot(stable_url), snapshot(canary_url)
    time.sleep(settings["window_seconds"])
    after = snapshot(stable_url), snapshot(canary_url)
    return judge(after[0] - before[0], after[1] - before[1], settings)


def settle_canary(reconciler: "Reconciler", commit: bool) -> str:
    """Watch the canary for the window, then give it all traffic or take it all away.

    A failed canary sends everything back to the previous version at once and,
    with `commit`, reverts the promotion commit: the same path as a rollback.
    """
    from {{ cookiecutter.package }}.release.rollback import rollback

    routes = reconciler.target.load_routes()
    if routes is None or routes.get("canary") is None:
        raise DeployError(f"no canary is running in {reconciler.environment}: nothing to settle")
    verdict = analyse(
        routes["stable"]["url"], routes["canary"]["url"], reconciler.settings["canary"]
    )
    reconciler.finish_canary(promote=verdict.promote)
    if verdict.promote:
        return f"canary {routes['canary']['tag']} promoted to all traffic: {verdict.reason}"
    message = f"canary failed ({verdict.reason}); all traffic back on {routes['stable']['tag']}"
    if commit:
        reverted = rollback(reconciler.p.root, reconciler.environment).reverted
        message += f"; reverted the manifest commit {reverted[:12]}"
    raise DeployError(message)
