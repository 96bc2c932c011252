"""Stage `gate`: build and serve the bento, run every gate, write the report.

The report is JSON (reports/gate.json) and a Markdown table (reports/gate.md,
what the pull request comment shows). In enforce mode any failure exits 1;
in warn mode the report says FAILED and the stage still succeeds.
"""

import math
import sys
from contextlib import ExitStack
from typing import Any

import numpy as np

from {{ cookiecutter.package }}.config import RISK_TIERS, Paths, load_params, paths
from {{ cookiecutter.package }}.files import read_json, write_json
from {{ cookiecutter.package }}.gates import gates_for
from {{ cookiecutter.package }}.gates.base import GateInputs, GateResult
from {{ cookiecutter.package }}.gates.verdict import GATE_REPORT

MODES = ("enforce", "warn")
# The end of a server log kept in a failure message (the whole log is in the evidence).
LOG_TAIL = 600


def build_or_explain(p: Paths) -> tuple[str | None, str]:
    try:  # a build error is a failed row in the report, never a crash of the stage
        from {{ cookiecutter.package }}.serving.bento import build_bento

        return build_bento(p), ""
    except Exception as error:  # reported as a failed row, never swallowed
        return None, f"bento build failed: {error}"


def serve_or_explain(stack: ExitStack, bento_tag: str | None) -> tuple[str | None, str]:
    """Serve the bento until `stack` closes; a server that does not start is a failure."""
    from {{ cookiecutter.package }}.serving.process import served

    if not bento_tag:
        return None, ""
    try:
        return stack.enter_context(served(bento_tag)), ""
    except Exception as error:  # reported as a failed row: the gates then fail closed
        return None, f"the bento did not start: {error}"


def run_gates(p: Paths, settings: dict[str, Any]) -> dict[str, Any]:
    bento_tag, build_error = build_or_explain(p)
    inputs = GateInputs(p, settings, bento_tag=bento_tag)
    with ExitStack() as stack:
        inputs.server_url, serve_error = serve_or_explain(stack, bento_tag)
        results = [gate(inputs) for gate in gates_for(inputs.tier)]
    if build_error:
        results.append(GateResult("bento build", False, build_error))
    if serve_error:
        message = serve_error if len(serve_error) <= LOG_TAIL else "…" + serve_error[-LOG_TAIL:]
        results.append(GateResult("bento serve", False, message, {"error": serve_error}))
    return report(p, settings, bento_tag, results)


def json_safe(value: Any) -> Any:
    """Evidence as strict JSON: NaN and infinity become strings, numpy scalars plain numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def lineage_or_nothing(p: Paths) -> dict[str, Any]:
    """The candidate's lineage, for naming it; the gates already fail on a broken one."""
    try:
        lineage = read_json(p.lineage)
    except (OSError, ValueError):
        return {}
    return lineage if isinstance(lineage, dict) else {}


def report(
    p: Paths, settings: dict[str, Any], bento_tag: str | None, results: list[GateResult]
) -> dict[str, Any]:
    lineage = lineage_or_nothing(p)
    safe: dict[str, Any] = json_safe(
        {
            "passed": bool(results) and all(r.passed for r in results),
            "mode": settings["mode"],
            "risk_tier": settings["risk_tier"],
            "bento_tag": bento_tag,
            "model_tag": lineage.get("model", {}).get("tag"),
            "model_digest": lineage.get("model", {}).get("digest"),
            "lineage_id": lineage.get("lineage_id"),
            "gates": [r.as_dict() for r in results],
        }
    )
    return safe


def markdown(result: dict[str, Any]) -> str:
    verdict = "passed" if result["passed"] else "FAILED"
    lines = [
        f"### Gates {verdict} ({result['mode']} mode, risk tier {result['risk_tier']})",
        "",
        f"Bento `{result['bento_tag']}`, model `{result['model_tag']}`, "
        f"lineage `{result['lineage_id']}`",
        "",
        "| Gate | Result | Evidence |",
        "| --- | --- | --- |",
    ]
    for gate in result["gates"]:
        mark = "pass" if gate["passed"] else "**FAIL**"
        message = gate["message"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {gate['name']} | {mark} | {message} |")
    if not result["passed"] and result["mode"] == "warn":
        lines += ["", "Warn mode: this failure does not block. Set `gate.mode: enforce` to block."]
    lines += ["", "Numbers and thresholds: `reports/gate.json`. Each gate: `docs/gates.md`."]
    return "\n".join(lines) + "\n"


def write_model_card(p: Paths, result: dict[str, Any]) -> None:
    """reports/model-card.md: the owner's card with this run's lineage, metrics and gates."""
    from {{ cookiecutter.package }}.card import card_or_blank, render_card

    text = render_card(card_or_blank(p.root), lineage_or_nothing(p), result)
    (p.reports_dir / "model-card.md").write_text(text)


def settings_or_exit() -> dict[str, Any]:
    settings = load_params().get("gate") or {}
    missing = {"mode", "risk_tier", "metric", "thresholds"} - set(settings)
    if missing:
        sys.exit(f"ERROR: params.yaml gate section lacks {sorted(missing)}; restore it from git")
    if settings["mode"] not in MODES:
        sys.exit(f"ERROR: gate.mode must be one of {MODES}, got {settings['mode']!r}")
    tier = settings["risk_tier"]
    if tier not in RISK_TIERS:
        sys.exit(f"ERROR: gate.risk_tier must be one of {RISK_TIERS}, got {tier!r}")
    if not isinstance(settings["thresholds"], dict) or tier not in settings["thresholds"]:
        sys.exit(f"ERROR: params.yaml gate.thresholds has no {tier!r} section; restore it from git")
    return settings


def main() -> None:
    p = paths()
    settings = settings_or_exit()
    result = run_gates(p, settings)
    write_json(result, p.reports_dir / GATE_REPORT)
    table = markdown(result)
    (p.reports_dir / "gate.md").write_text(table)
    write_model_card(p, result)
    print(table)
    if not result["passed"]:
        if settings["mode"] == "enforce":
            sys.exit("ERROR: a gate failed (see the table above and reports/gate.json)")
        print("WARNING: a gate failed, but gate.mode is 'warn': not blocking", file=sys.stderr)
