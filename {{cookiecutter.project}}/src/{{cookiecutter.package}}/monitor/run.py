"""`monitor <env>`: one window of the serving version's logs against its reference."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.files import file_digest, read_json, write_json
from {{ cookiecutter.package }}.monitor import drift, quality, report
from {{ cookiecutter.package }}.monitor.labels import load_labels
from {{ cookiecutter.package }}.monitor.log_reader import Window, read_window
from {{ cookiecutter.package }}.monitor.reference import logged_dtypes

UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class MonitorError(ValueError):
    """The monitor cannot run: bad arguments, no reference, unreadable settings."""


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    length: str

    @property
    def name(self) -> str:
        return f"{self.end:%Y%m%dT%H%M%SZ}"

    def as_dict(self) -> dict[str, str]:
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        return {"start": f"{self.start:{stamp}}", "end": f"{self.end:{stamp}}",
                "length": self.length, "name": self.name}  # fmt: skip


def parse_length(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if not match or int(match[1]) == 0:
        raise MonitorError(f"window {text!r}: write a length like 30m, 6h or 1d")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


def window_span(length: str, end: str | None, now: datetime | None = None) -> Span:
    """[end - length, end); by default the window ending at the last full hour,
    so scheduled runs cover back-to-back windows with stable names."""
    if end:
        try:
            moment = datetime.fromisoformat(end.replace("Z", "+00:00"))
        except ValueError:
            raise MonitorError(f"--window-end {end!r} is not an ISO date and time") from None
        moment = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    else:
        moment = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    return Span(moment - parse_length(length), moment, length)


def settings(p: Paths, tier: str) -> dict[str, Any]:
    try:
        section = load_params(p.params)["monitor"]
        return {"window": section["window"], "metric": section["metric"],
                "label_horizon": section.get("label_horizon", section["window"]),
                "limits": section["thresholds"][tier]}  # fmt: skip
    except (KeyError, TypeError):
        raise MonitorError(
            f"{p.params}: needs monitor.window, monitor.metric and monitor.thresholds.{tier}"
        ) from None


def reference_candidates(p: Paths, bento_tag: str, given: Path | None) -> list[Path]:
    if given:
        return [given]
    candidates = [p.reference]
    try:
        from {{ cookiecutter.package }}.serving.bento import bento_reference

        candidates.insert(0, bento_reference(bento_tag))
    except Exception:
        pass
    return candidates


def find_reference(
    p: Paths, lineage: dict[str, Any], bento_tag: str, given: Path | None
) -> dict[str, Any]:
    """The reference the lineage names, checked by its sha256 wherever it is found."""
    named = lineage.get("reference")
    if not named:
        raise MonitorError(f"lineage {lineage['lineage_id']} names no reference profile; retrain")
    for path in reference_candidates(p, bento_tag, given):
        if path.exists() and file_digest(path) == named["sha256"]:
            return dict(read_json(path))
    raise MonitorError(
        f"no reference with sha256 {named['sha256'][:12]}… for lineage {lineage['lineage_id']}: "
        f"`dvc pull {named['file']}` on the commit that trained it, or pass --reference"
    )


def default_logs(p: Paths, environment: str) -> str:
    """Where the local target's versions of `environment` log (all versions, one tree)."""
    from {{ cookiecutter.package }}.deploy.targets.local import prediction_logs

    return str(prediction_logs(p, environment))


def signals(
    reference: dict[str, Any],
    window: Window,
    labels: Any,
    cfg: dict[str, Any],
    labelled: Window | None = None,
) -> dict[str, Any]:
    limits, metric = cfg["limits"], cfg["metric"]
    return {
        "input_drift": drift.input_drift(reference, window.inputs, limits),
        "prediction_drift": drift.prediction_drift(reference, window.probability, limits),
        "data_quality": quality.data_quality(reference, window, limits),
        "quality": quality.model_quality(reference, window, labels, metric, limits, labelled),
    }


def row_counts(window: Window) -> dict[str, Any]:
    return {
        "scored": len(window.inputs),
        "refused": sum(window.refused.values()),
        "corrupt_lines": window.corrupt_lines,
        "other_versions": dict(window.other_versions),
        "files": window.files,
    }


@dataclass(frozen=True)
class Request:
    environment: str
    length: str | None = None
    end: str | None = None
    logs: str | None = None
    reference: Path | None = None


def monitor(p: Paths, ask: Request) -> tuple[dict[str, Any], Path]:
    """Write reports/monitor/<env>/<window>.json and .md; the report and the Markdown path."""
    from {{ cookiecutter.package }}.deploy.manifest import load_manifest
    from {{ cookiecutter.package }}.lineage import deployed_lineage

    current = load_manifest(p.manifest(ask.environment)).current
    lineage = deployed_lineage(p, ask.environment)
    cfg = settings(p, lineage["risk_tier"])
    span = window_span(ask.length or cfg["window"], ask.end)
    reference = find_reference(p, lineage, current.bento_tag, ask.reference)
    source = ask.logs or default_logs(p, ask.environment)
    features, version = logged_dtypes(reference), lineage["lineage_id"]
    window = read_window(source, features, version, span.start, span.end)
    labels = load_labels(p.labels_dir)
    horizon = span.end - parse_length(cfg["label_horizon"])
    labelled = read_window(source, features, version, horizon, span.end) if len(labels) else None
    model = {"lineage_id": lineage["lineage_id"], "model_tag": lineage["model"]["tag"],
             "bento_tag": current.bento_tag, "risk_tier": lineage["risk_tier"]}  # fmt: skip
    result = report.finish({
        "environment": ask.environment, "window": span.as_dict(), "model": model,
        "thresholds": cfg["limits"], "rows": row_counts(window),
        **signals(reference, window, labels, cfg, labelled),
    })  # fmt: skip
    folder = p.monitor_reports / ask.environment
    write_json(result, folder / f"{span.name}.json")
    history = [*report.previous_reports(folder, span.name), result]
    page = folder / f"{span.name}.md"
    page.write_text(report.markdown(result, history))
    return result, page
