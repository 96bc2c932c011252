"""Stage `gate`: build and serve the bento, run every gate, write the report.

The report is JSON (reports/gate.json) and a Markdown table (reports/gate.md,
what the pull request comment shows). In enforce mode any failure exits 1.
"""

import sys
from contextlib import nullcontext
from typing import Any

from {{ cookiecutter.package }}.config import Paths, load_params, paths
from {{ cookiecutter.package }}.gates import GateInputs, GateResult, gates_for
from {{ cookiecutter.package }}.io import read_json, write_json

MODES = ("enforce", "warn")


def build_or_explain(p: Paths) -> tuple[str | None, str]:
    from {{ cookiecutter.package }}.bento import build_bento

    try:
        return build_bento(p), ""
    except Exception as error:  # reported by the packaging gate, never swallowed
        return None, f"bento build failed: {error}"


def run_gates(p: Paths, settings: dict[str, Any]) -> dict[str, Any]:
    from {{ cookiecutter.package }}.serving import served

    bento_tag, build_error = build_or_explain(p)
    inputs = GateInputs(p, settings, bento_tag=bento_tag)
    with served(bento_tag) if bento_tag else nullcontext(None) as url:
        inputs.server_url = url
        results = [gate(inputs) for gate in gates_for(inputs.tier)]
    if build_error:
        results.append(GateResult("bento build", False, build_error))
    return report(p, settings, bento_tag, results)


def report(p: Paths, settings: dict, bento_tag: str | None, results: list[GateResult]) -> dict:
    lineage = read_json(p.lineage) if p.lineage.exists() else {}
    return {
        "passed": all(r.passed for r in results),
        "mode": settings["mode"],
        "risk_tier": settings["risk_tier"],
        "bento_tag": bento_tag,
        "model_tag": lineage.get("model", {}).get("tag"),
        "model_digest": lineage.get("model", {}).get("digest"),
        "lineage_id": lineage.get("lineage_id"),
        "gates": [r.as_dict() for r in results],
    }


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
    return "\n".join(lines) + "\n"


def settings_or_exit() -> dict[str, Any]:
    settings = load_params().get("gate") or {}
    missing = {"mode", "risk_tier", "metric", "thresholds"} - set(settings)
    if missing:
        sys.exit(f"ERROR: params.yaml gate section lacks {sorted(missing)}; restore it from git")
    if settings["mode"] not in MODES:
        sys.exit(f"ERROR: gate.mode must be one of {MODES}, got {settings['mode']!r}")
    return settings


def main() -> None:
    p = paths()
    settings = settings_or_exit()
    result = run_gates(p, settings)
    write_json(result, p.reports_dir / "gate.json")
    table = markdown(result)
    (p.reports_dir / "gate.md").write_text(table)
    print(table)
    if not result["passed"]:
        if settings["mode"] == "enforce":
            sys.exit("ERROR: a gate failed (see the table above and reports/gate.json)")
        print("WARNING: a gate failed, but gate.mode is 'warn': not blocking", file=sys.stderr)
