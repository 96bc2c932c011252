"""A monitor report as the alerts read it: which signal families breached in which window.

`<package> monitor <env>` writes reports/monitor/<env>/<window>.json and the
Markdown a person reads beside it (<window>.md). Each signal family has a
section with `breached`; `status` is "no_traffic" when the window was empty;
`model.risk_tier` is the serving model's tier (schema version 1).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.files import read_json
from {{ cookiecutter.package }}.monitor.hysteresis import FAMILIES

DRIFT_FAMILIES = ("input_drift", "prediction_drift")


@dataclass(frozen=True)
class MonitorReport:
    path: Path
    environment: str
    window: str
    status: str
    sections: dict[str, dict[str, Any]]
    markdown: str

    def breached(self, family: str) -> bool | None:
        """True/False for this window; None when the window says nothing (no traffic, no data).

        Quality counts as breached when realized quality dropped, or when the
        estimate (no labels yet) dropped while inputs or predictions drifted:
        an estimate alone, on unchanged traffic, is not evidence enough.
        """
        if self.status == "no_traffic":
            return None
        section = self.sections.get(family) or {}
        verdict = section.get("breached")
        if verdict is None:
            return None
        if family == "quality" and verdict and not self.realized_quality_dropped():
            return any(self.sections.get(f, {}).get("breached") for f in DRIFT_FAMILIES)
        return bool(verdict)

    def realized_quality_dropped(self) -> bool:
        """Did quality measured on labels (not the estimate) drop past the threshold?"""
        quality = self.sections.get("quality") or {}
        if "basis" in quality:
            return bool(quality["basis"] == "realized")
        realized = quality.get("realized") or {}
        limits = self.sections.get("thresholds") or {}
        drop, rows = realized.get("drop"), realized.get("labelled_rows") or 0
        if drop is None or "quality_drop" not in limits:
            return False
        return bool(drop >= limits["quality_drop"] and rows >= limits.get("min_labelled_rows", 0))

    @property
    def risk_tier(self) -> str | None:
        tier = self.sections.get("model", {}).get("risk_tier")
        return str(tier) if tier else None


def window_of(data: dict[str, Any], path: Path) -> str:
    """The window's name: the report's own, else its file name (<window>.json)."""
    window = data.get("window")
    if isinstance(window, dict):
        window = window.get("name") or window.get("end")
    return str(window or path.stem)


def load_report(path: Path, environment: str) -> MonitorReport:
    data = read_json(path)
    if not isinstance(data, dict) or "status" not in data:
        raise ValueError(f"{path} is not a monitor report: it has no `status`")
    named = data.get("environment", environment)
    if named != environment:
        raise ValueError(f"{path} is a report of {named}, not of {environment}")
    for family in FAMILIES:
        section = data.get(family)
        if section is not None and not isinstance(section.get("breached"), (bool, type(None))):
            raise ValueError(f"{path}: `{family}.breached` must be true or false")
    sections = {key: value for key, value in data.items() if isinstance(value, dict)}
    markdown_file = path.with_suffix(".md")
    markdown = markdown_file.read_text() if markdown_file.exists() else ""
    return MonitorReport(
        path, environment, window_of(data, path), str(data["status"]), sections, markdown
    )


def latest_report(folder: Path) -> Path:
    """The newest report of an environment: window names sort in time."""
    found = sorted(folder.glob("*.json"))
    if not found:
        raise FileNotFoundError(f"no monitor report in {folder}; run `monitor` first")
    return found[-1]
