"""The monitor's report: a JSON file with a fixed schema, and Markdown to read first.

Charts are Mermaid `xychart-beta` blocks: GitHub renders them in Markdown
(issues, pull requests, files), so a report needs no image hosting, no
plotting library and stays diff-able text.
"""

import itertools
import json
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.charts import xychart

SCHEMA_VERSION = 1
FAMILIES = ("input_drift", "prediction_drift", "data_quality", "quality")
STATUSES = ("ok", "alert", "no_traffic")
HISTORY_WINDOWS = 30


def status_of(report: dict[str, Any]) -> str:
    if not report["rows"]["scored"]:
        return "no_traffic"
    return "alert" if any(report[family]["breached"] for family in FAMILIES) else "ok"


def quiet(report: dict[str, Any]) -> dict[str, Any]:
    """No traffic: nothing can have breached, whatever statistics of nothing say."""
    for family in FAMILIES:
        report[family]["breached"] = False
    report["input_drift"]["drifted"] = []
    return report


def finish(report: dict[str, Any]) -> dict[str, Any]:
    report = quiet(report) if not report["rows"]["scored"] else report
    report["status"] = status_of(report)
    report["breached"] = [family for family in FAMILIES if report[family]["breached"]]
    return {"schema_version": SCHEMA_VERSION, **report}


def bin_labels(edges: list[float]) -> list[str]:
    cut = [f"{edge:.3g}" for edge in edges]
    if not cut:
        return ["all"]
    return [f"<{cut[0]}"] + [f"{a}-{b}" for a, b in itertools.pairwise(cut)] + [f">={cut[-1]}"]


def chart(title: str, x: list[str], series: dict[str, list[float]], kind: str = "bar") -> str:
    """A Mermaid xychart: the first series as bars (or lines), the rest as lines."""
    return xychart(title, x, series, first=kind)


def number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def headline(report: dict[str, Any], family: str) -> str:
    section = report[family]
    if family == "input_drift":
        return ", ".join(section["drifted"]) or "no feature drifted"
    if family == "prediction_drift":
        rate = section["positive_rate"]
        moved = f"{number(rate['reference'])} -> {number(rate['current'])}"
        return f"PSI {section['psi']:.3f}; positive rate {moved}"
    if family == "data_quality":
        worst = max(section["out_of_range_rate"].values(), default=0)
        return (
            f"refused {section['refused_rate']:.2%}; worst out-of-range {worst:.2%}; "
            f"corrupt lines {section['corrupt_lines']}"
        )
    est, real = section["estimated"], section["realized"]
    return (
        f"{section['metric']} offline {number(section['offline'])}; estimated "
        f"{number(est['current'])} (reference {number(est['reference'])}); realized "
        f"{number(real['current'])} on {real['labelled_rows']} labels"
    )


def summary(report: dict[str, Any]) -> list[str]:
    window, model, rows = report["window"], report["model"], report["rows"]
    others = sum(rows["other_versions"].values())
    lines = [
        f"# Monitor of {report['environment']}: **{report['status']}**",
        "",
        f"Window {window['start']} to {window['end']} ({window['length']}); model "
        f"`{model['model_tag']}` (lineage `{model['lineage_id']}`, {model['risk_tier']} risk).",
        f"Rows: {rows['scored']} scored, {rows['refused']} refused, {rows['corrupt_lines']} "
        f"corrupt lines skipped, {others} of other versions ignored ({rows['files']} files).",
        "",
        "| signal | breached | what was seen |",
        "|---|---|---|",
    ]
    for family in FAMILIES:
        mark = "**yes**" if report[family]["breached"] else "no"
        lines.append(f"| {family} | {mark} | {headline(report, family)} |")
    return lines


def drift_test(result: dict[str, Any]) -> tuple[str, float, str, list[str]]:
    """A drifted feature's test, its p-value, and what its bins are, with their labels."""
    if "categories" in result:  # a categorical column
        return "chi-square", result["chi2_pvalue"], "value", result["categories"]
    return "KS", result["ks_pvalue"], "bin", bin_labels(result["edges"])


def drift_charts(report: dict[str, Any]) -> list[str]:
    lines = []
    for name in report["input_drift"]["drifted"]:
        result = report["input_drift"]["features"][name]
        test, pvalue, per, bins = drift_test(result)
        lines += ["", f"## {name}: PSI {result['psi']:.3f}, {test} p-value {pvalue:.2g}", ""]
        lines.append(f"Share of rows per {per}: bars at evaluation (reference), line now.")
        series = {"reference": result["reference"], "current": result["current"]}
        lines += ["", chart(name, bins, series)]
    return lines


def history_chart(history: list[dict[str, Any]]) -> list[str]:
    """The metric estimated, and realized where labels exist, per window."""
    if not history:
        return []
    metric = history[-1]["quality"]["metric"]
    names = [h["window"]["name"][4:13] for h in history]  # MMDDTHHMM: short enough to read
    series = {
        "estimated": [h["quality"]["estimated"]["current"] for h in history],
        "realized": [h["quality"]["realized"]["current"] for h in history],
        "offline": [h["quality"]["offline"] for h in history],
    }
    # A chart line needs a value in every window: realized quality appears once labels do.
    series = {k: v for k, v in series.items() if all(x is not None for x in v)}
    title = f"{metric} per window: estimated (bars), realized and offline (lines)"
    return ["", f"## {metric} over time", "", chart(title, names, series)]


def markdown(report: dict[str, Any], history: list[dict[str, Any]]) -> str:
    return "\n".join(summary(report) + drift_charts(report) + history_chart(history)) + "\n"


def previous_reports(folder: Path, name: str) -> list[dict[str, Any]]:
    """The reports of earlier windows in `folder`, oldest first (unreadable ones skipped)."""
    found = []
    for path in sorted(folder.glob("*.json"))[-HISTORY_WINDOWS:]:
        if path.stem >= name:
            continue
        try:
            found.append(json.loads(path.read_text()))
        except ValueError:
            continue
    return found
