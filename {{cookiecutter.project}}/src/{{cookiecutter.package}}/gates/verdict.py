"""May a model ship? The report the gate stage wrote for its lineage decides.

Every run of the gate stage writes reports/gate.json, naming the lineage it
judged. The PR comment shows it; a release (`make image`) and a promotion read
it here, so a model whose gates failed in enforce mode, or never ran on it,
is neither released nor promoted, on any path: release.yml, `make image`,
`<package> promote` on this machine.
"""

from typing import Any

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.files import read_json

GATE_REPORT = "gate.json"


def gate_report(p: Paths, lineage: dict[str, Any]) -> dict[str, Any] | None:
    """The gate report of *this* model, or None if the gates did not run on it."""
    report_file = p.reports_dir / GATE_REPORT
    if not report_file.exists():
        return None
    report: dict[str, Any] = read_json(report_file)
    return report if report.get("lineage_id") == lineage.get("lineage_id") else None


def gate_summary(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a release records of the gates: the verdict, the mode, the gates that failed."""
    if report is None:
        return None
    failed = [gate["name"] for gate in report.get("gates", []) if not gate.get("passed")]
    return {"passed": bool(report.get("passed")), "mode": report.get("mode"), "failed": failed}


def shipping_problem(summary: dict[str, Any] | None, lineage_id: str) -> str | None:
    """Why the model of `lineage_id` may not ship, or None.

    Fails closed: no verdict, or a verdict that is not a pass, stops it; the
    one exception is warn mode, whose failures report and never block.
    """
    if summary is None:
        return (
            f"the gates have not run on lineage {lineage_id} (reports/{GATE_REPORT} is "
            "missing or names another model): run `make repro`"
        )
    if summary.get("passed") is True or summary.get("mode") == "warn":
        return None
    failed = ", ".join(summary.get("failed") or []) or "no gate ran"
    return (
        f"lineage {lineage_id} failed its gates in enforce mode ({failed}): "
        "it cannot be released or promoted; see reports/gate.md"
    )


def warn_mode_failures(summary: dict[str, Any] | None) -> list[str]:
    """The gates that failed but did not block (warn mode): a promotion says so."""
    if summary is None or summary.get("passed") or summary.get("mode") != "warn":
        return []
    return list(summary.get("failed") or [])
