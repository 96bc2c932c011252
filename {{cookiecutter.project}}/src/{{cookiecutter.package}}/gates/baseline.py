"""The baseline gate: better than a trivial model, not worse than production."""

from {{ cookiecutter.package }}.deploy.manifest import load_optional_manifest
from {{ cookiecutter.package }}.gates.base import (
    EPSILON,
    NO_PRODUCTION,
    GateInputs,
    GateResult,
    fail_closed,
    finite,
    read_output,
)


def production_metric(inputs: GateInputs, metric: str) -> float | None:
    """The production model's metric from deploy/production.yaml; None if nothing is deployed."""
    path = inputs.paths.manifest("production")
    manifest = load_optional_manifest(path)  # a broken manifest raises: never "no production"
    if manifest is None:
        return None
    fix = f"add current.metrics.{metric} (from the production model's lineage) to {path}"
    return finite(manifest.current.metrics.get(metric), f"production {metric} in {path}", fix)


def limits_of(inputs: GateInputs) -> dict[str, float]:
    where = f"params.yaml gate.thresholds.{inputs.tier}"
    return {
        key: finite(inputs.thresholds.get(key), f"{where}.{key}", f"set {where}.{key}")
        for key in ("min_metric", "baseline_margin", "production_tolerance")
    }


def baseline_checks(
    metric: str, model: float, dummy: float, production: float | None, limits: dict[str, float]
) -> dict[str, tuple[bool, str]]:
    """Check name -> (passed, what to say when it failed)."""
    floor, margin = limits["min_metric"], limits["baseline_margin"]
    checks = {
        f"{metric} >= {floor}": (
            model >= floor - EPSILON,
            f"{metric} {model:.4f} is below the floor {floor} (min_metric)",
        ),
        f"beats the trivial baseline by {margin}": (
            model - dummy >= margin - EPSILON,
            f"{metric} {model:.4f} beats the trivial baseline ({dummy:.4f}) by "
            f"{model - dummy:.4f}, less than {margin} (baseline_margin)",
        ),
    }
    if production is not None:
        tolerance = limits["production_tolerance"]
        checks[f"within {tolerance} of production"] = (
            model >= production - tolerance - EPSILON,
            f"{metric} {model:.4f} is worse than production ({production:.4f}) by more than "
            f"{tolerance} (production_tolerance)",
        )
    return checks


@fail_closed("baseline")
def baseline(inputs: GateInputs) -> GateResult:
    """Above the floor, better than a trivial model by a margin, not worse than production."""
    metric, limits = inputs.params["metric"], limits_of(inputs)
    metrics = read_output(inputs.paths.metrics)
    where = f"in {inputs.paths.metrics.name}"
    model = finite((metrics.get("model") or {}).get(metric), f"model {metric} {where}")
    dummy = finite((metrics.get("baseline") or {}).get(metric), f"baseline {metric} {where}")
    production = production_metric(inputs, metric)
    checks = baseline_checks(metric, model, dummy, production, limits)
    failed = [why for ok, why in checks.values() if not ok]
    note = "" if production is not None else NO_PRODUCTION
    cleared = "above the floor and the trivial baseline"
    summary = failed or [cleared if note else f"{cleared}, within tolerance of production"]
    message = "; ".join([*summary, note] if note else summary)
    evidence = {"metric": metric, "model": model, "baseline": dummy, "production": production}
    evidence |= {"thresholds": limits, "checks": {k: ok for k, (ok, _) in checks.items()}}
    evidence["note"] = note
    return GateResult("baseline", not failed, message, evidence)
