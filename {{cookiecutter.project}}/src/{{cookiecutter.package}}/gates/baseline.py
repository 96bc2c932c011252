"""The baseline gate: better than a trivial model, not worse than production.

Production is scored on the candidate's evaluation rows when its model is in
this model store, so both numbers come from the same data; only without it
does the gate fall back to the metric stored in deploy/production.yaml (also
when it reads a column these rows lack: a feature renamed or dropped). A
production model that reads none of these columns (the project was switched
to other data) is not compared with, and the gate says so in bold.
"""

from {{ cookiecutter.package }}.deploy.manifest import Manifest, load_optional_manifest
from {{ cookiecutter.package }}.gates.base import (
    EPSILON,
    NO_PRODUCTION,
    GateInputs,
    GateResult,
    fail_closed,
    finite,
    read_output,
)

SAME_ROWS = "production scored on the same rows"
STORED = "stored metric from deploy/production.yaml: production model not in this store"


class OtherColumns(Exception):
    """The production model reads columns the evaluation data does not have."""

    def __init__(self, missing: list[str], every: bool) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing
        self.every = every  # none of its columns is here: it learned from other data


def not_comparable(missing: list[str]) -> str:
    """Production reads none of these columns (the data was switched): no number to
    compare with, neither on these rows nor stored (that one measures other data)."""
    shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
    return (
        f"**not compared with production**: its model reads {len(missing)} column(s) the "
        f"evaluation data does not have ({shown}), so it learned from other data"
    )


def rescored_production(inputs: GateInputs, manifest: Manifest, metric: str) -> float | None:
    """Production's `metric` on the candidate's evaluation rows; None if its model is not
    here; OtherColumns if it reads columns these rows do not have."""
    import joblib

    from {{ cookiecutter.package }}.config import load_params
    from {{ cookiecutter.package }}.contract import load_contract, read_table
    from {{ cookiecutter.package }}.features import feature_names
    from {{ cookiecutter.package }}.model_store import stored_model_file
    from {{ cookiecutter.package }}.pipeline.evaluate import score

    try:
        model = joblib.load(stored_model_file(manifest.current.model_tag))
    except LookupError:
        return None
    evaluation = read_table(inputs.paths.eval_features)
    columns = list(getattr(model, "feature_names_in_", feature_names()))
    missing = [name for name in columns if name not in evaluation.columns]
    if missing:
        raise OtherColumns(missing, every=len(missing) == len(columns))
    probability = model.predict_proba(evaluation[columns])
    threshold = load_params(inputs.paths.params)["evaluate"]["threshold"]
    scores = score(evaluation[load_contract().label], probability, threshold)
    return finite(scores.get(metric), f"production {metric} on {inputs.paths.eval_features.name}")


def production_metric(inputs: GateInputs, metric: str) -> tuple[float | None, str]:
    """Production's metric and where it came from; None if nothing is deployed."""
    path = inputs.paths.manifest("production")
    manifest = load_optional_manifest(path)  # a broken manifest raises: never "no production"
    if manifest is None:
        return None, NO_PRODUCTION
    source = STORED
    try:
        rescored = rescored_production(inputs, manifest, metric)
    except OtherColumns as other:
        if other.every:
            return None, not_comparable(other.missing)
        # Same data, features changed (one renamed or dropped): not scorable on these
        # rows, so the number stored with it, as when its model is not in the store.
        rescored = None
        source = (
            f"stored metric from deploy/production.yaml: production model reads "
            f"column(s) these rows lack ({', '.join(other.missing[:3])})"
        )
    if rescored is not None:
        return rescored, SAME_ROWS
    fix = f"add current.metrics.{metric} (from the production model's lineage) to {path}"
    stored = finite(manifest.current.metrics.get(metric), f"production {metric} in {path}", fix)
    return stored, source


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
    production, source = production_metric(inputs, metric)
    checks = baseline_checks(metric, model, dummy, production, limits)
    failed = [why for ok, why in checks.values() if not ok]
    cleared = "above the floor and the trivial baseline"
    if production is not None:
        cleared += ", within tolerance of production"
    message = "; ".join([*(failed or [cleared]), source])
    evidence = {"metric": metric, "model": model, "baseline": dummy, "production": production}
    evidence |= {"thresholds": limits, "checks": {k: ok for k, (ok, _) in checks.items()}}
    evidence["production_source"] = source
    return GateResult("baseline", not failed, message, evidence)
