"""Gates: validation as code. No model leaves without evidence.

Each gate returns pass/fail with the numbers it compared and the thresholds.
Gates fail closed: a missing file, a NaN metric, a broken manifest or a
contract that does not parse is a failure with a message saying what to fix,
never a pass. docs/gates.md explains every gate and its messages.
"""

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.contract import check_table, load_contract
from {{ cookiecutter.package }}.io import file_digest, read_csv, read_json
from {{ cookiecutter.package }}.manifest import load_optional_manifest, manifest_path
from {{ cookiecutter.package }}.serving import smoke_request  # one smoke test for gate and deploy

TIERS = ("low", "high")
RERUN = "rerun `dvc repro`"
# Distinct contract problems named in the data gate's message; lines kept as evidence.
SHOWN_PROBLEMS = 5
KEPT_VIOLATIONS = 50
# Slack for comparing metrics with thresholds (0.6 - 0.5 >= 0.1 must hold).
EPSILON = 1e-12
NO_PRODUCTION = "no production model yet (no deploy/production.yaml): comparison skipped"


@dataclass
class GateResult:
    name: str
    passed: bool
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GateInputs:
    """Everything the gates look at, gathered once."""

    paths: Paths
    params: dict[str, Any]
    bento_tag: str | None = None
    server_url: str | None = None

    @property
    def tier(self) -> str:
        return self.params["risk_tier"]

    @property
    def thresholds(self) -> dict[str, Any]:
        limits = (self.params.get("thresholds") or {}).get(self.tier)
        if not isinstance(limits, dict):
            raise ValueError(
                f"params.yaml gate.thresholds has no '{self.tier}' section; add min_metric, "
                "baseline_margin and production_tolerance for it"
            )
        return limits


def explain(error: Exception, root: Path) -> str:
    """What went wrong, with paths relative to the repository (the PR comment shows it)."""
    if isinstance(error, KeyError):
        return f"missing key {error} (check params.yaml, or {RERUN} to rewrite the outputs)"
    return (str(error) or type(error).__name__).replace(f"{root}/", "")


def fail_closed(name: str) -> Callable:
    """Turn any error inside a gate into a failed result that says why."""

    def wrap(check: Callable[[GateInputs], GateResult]) -> Callable[[GateInputs], GateResult]:
        def guarded(inputs: GateInputs) -> GateResult:
            try:
                return check(inputs)
            except Exception as error:  # a gate must never pass, or crash, on bad input
                evidence = {"error": f"{type(error).__name__}: {error}"}
                message = f"could not evaluate: {explain(error, inputs.paths.root)}"
                return GateResult(name, False, message, evidence)

        guarded.gate_name = name  # type: ignore[attr-defined]
        guarded.__doc__ = check.__doc__
        return guarded

    return wrap


def finite(value: Any, what: str, fix: str = RERUN) -> float:
    """`value` as a float; missing, non-numeric, NaN or infinite is an error naming `what`."""
    if value is None:
        raise ValueError(f"{what} is missing; {fix}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{what} is {value!r}, not a number; {fix}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} is {value!r}, not a number; {fix}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} is {number}; {fix}")
    return number


def read_output(path: Path) -> Any:
    """A JSON output of an earlier stage; a missing or broken file says which and what to do."""
    try:
        return read_json(path)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); {RERUN}") from None


# --- data contract ----------------------------------------------------------------------


def summarise(violations: list[str]) -> str:
    """The first problems (one per column and check, see contract.summarise_failures)."""
    summary = "; ".join(violations[:SHOWN_PROBLEMS])
    if len(violations) > SHOWN_PROBLEMS:
        summary += f"; and {len(violations) - SHOWN_PROBLEMS} more problems (reports/gate.json)"
    return summary


def label_share(frame: pd.DataFrame, label: str) -> float | None:
    if label not in frame or not pd.api.types.is_numeric_dtype(frame[label]):
        return None
    share = frame[label].mean()
    return round(float(share), 4) if pd.notna(share) else None


@fail_closed("data contract")
def data_contract(inputs: GateInputs) -> GateResult:
    """The raw data holds contract.yaml: columns, types, ranges, no nulls, rows, label share."""
    contract = load_contract()
    frame = read_csv(inputs.paths.raw_data)
    violations = check_table(frame, contract)
    evidence = {
        "rows": len(frame),
        "row_bounds": [contract.min_rows, contract.max_rows],
        "label_share": label_share(frame, contract.label),
        "label_share_bounds": [contract.label_share.min, contract.label_share.max],
        "violation_count": len(violations),
        "violations": violations[:KEPT_VIOLATIONS],
    }
    if not violations:
        return GateResult("data contract", True, "data holds its contract", evidence)
    message = f"{summarise(violations)}. Fix the data, or contract.yaml if the data is right"
    return GateResult("data contract", False, message, evidence)


# --- baseline and production ------------------------------------------------------------


def production_metric(inputs: GateInputs, metric: str) -> float | None:
    """The production model's metric from deploy/production.yaml; None if nothing is deployed."""
    path = manifest_path(inputs.paths.deploy_dir, "production")
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


# --- training-serving parity -----------------------------------------------------------


def served_probabilities(url: str, rows: pd.DataFrame, batch: int = 200) -> np.ndarray:
    probabilities = []
    for start in range(0, len(rows), batch):
        records = rows.iloc[start : start + batch].to_dict(orient="records")
        response = httpx.post(f"{url}/predict", json={"records": records}, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(
                f"the service answered HTTP {response.status_code} to evaluation rows "
                f"{start}-{start + len(records) - 1}: {response.text[:300]}"
            )
        probabilities += [item["probability"] for item in response.json()]
    return np.asarray(probabilities, dtype=float)


def max_difference(served: np.ndarray, offline: np.ndarray) -> float:
    if len(offline) == 0:
        raise ValueError(f"there are no evaluation rows to compare; {RERUN}")
    if len(served) != len(offline):
        raise ValueError(f"the service answered {len(served)} rows for {len(offline)} offline")
    if not (np.isfinite(served).all() and np.isfinite(offline).all()):
        raise ValueError(f"NaN or infinite probabilities (served or offline); {RERUN}")
    return float(np.max(np.abs(served - offline)))


def request_schema_matches_contract(url: str) -> list[str]:
    """Differences between the served request schema and the data contract."""
    schema = httpx.get(f"{url}/docs.json", timeout=10).json()
    record = schema["components"]["schemas"]["Record"]
    contract = load_contract()
    problems = []
    if set(record["properties"]) != set(contract.features):
        problems.append("request fields differ from the contract's features")
    if set(record.get("required", [])) != set(contract.features):
        problems.append("not every contract feature is required")
    for name, bounds in contract.features.items():
        spec = record["properties"].get(name, {})
        if (spec.get("minimum"), spec.get("maximum")) != (bounds.min, bounds.max):
            problems.append(f"{name}: served range differs from the contract")
    if record.get("additionalProperties") is not False:
        problems.append("the request model accepts fields outside the contract")
    return problems


@fail_closed("training-serving parity")
def parity(inputs: GateInputs) -> GateResult:
    """The served bento, called over HTTP on the evaluation rows, reproduces the offline run."""
    if not inputs.server_url:
        raise RuntimeError("the bento was not served (see the rows below), so nothing to compare")
    raw = read_csv(inputs.paths.eval_raw)
    offline = read_csv(inputs.paths.predictions)["probability"].to_numpy(dtype=float)
    served = served_probabilities(inputs.server_url, raw[load_contract().feature_names])
    gap = max_difference(served, offline)
    tolerance = finite(inputs.params.get("parity_tolerance"), "gate.parity_tolerance", "set it")
    schema_problems = request_schema_matches_contract(inputs.server_url)
    problems = list(schema_problems)
    if gap > tolerance:
        problems.insert(
            0,
            f"max |served - offline| = {gap:.3g} > {tolerance}: the service does not "
            "reproduce training (features.py changed without retraining, or another model "
            "packed: rerun `dvc repro`)",
        )
    message = "; ".join(problems) or "the service reproduces the offline predictions"
    evidence = {"rows": len(raw), "max_abs_difference": gap, "tolerance": tolerance}
    evidence["schema_problems"] = schema_problems
    return GateResult("training-serving parity", not problems, message, evidence)


# --- packaging integrity ----------------------------------------------------------------


def trained_model_digest(model: Path) -> str:
    if not model.exists():
        raise FileNotFoundError(f"{model} is missing; run `dvc pull` or `dvc repro`")
    return "sha256:" + file_digest(model)


@fail_closed("packaging integrity")
def packaging(inputs: GateInputs) -> GateResult:
    """The bento serves exactly the model the lineage names, and answers a smoke request."""
    if not inputs.bento_tag:
        raise RuntimeError("no bento was built (see the 'bento build' row)")
    from {{ cookiecutter.package }}.bento import bento_model_digest

    lineage = read_output(inputs.paths.lineage)
    expected = lineage["model"]["digest"]
    packed = bento_model_digest(inputs.bento_tag, lineage["model"]["tag"])
    trained = trained_model_digest(inputs.paths.model)
    smoke = smoke_request(inputs.server_url) if inputs.server_url else "not served"
    problems = []
    if packed != expected:
        problems.append(f"model in bento {packed} != lineage {expected}")
    if trained != expected:
        problems.append(f"{inputs.paths.model.name} {trained} != lineage {expected}")
    if smoke != "ok":
        problems.append(f"smoke request: {smoke}")
    message = "; ".join(problems) or "the bento holds the lineage's model and answers"
    evidence = {"bento_tag": inputs.bento_tag, "bento_model_digest": packed}
    evidence |= {"lineage_model_digest": expected, "trained_model_digest": trained}
    evidence["smoke"] = smoke
    return GateResult("packaging integrity", not problems, message, evidence)


# --- fairness ---------------------------------------------------------------------------


def group_metric(frame: pd.DataFrame, metric: str) -> float:
    from sklearn.metrics import precision_score, recall_score

    scorers = {"recall": recall_score, "precision": precision_score}
    if metric not in scorers:
        raise ValueError(f"gate.fairness.metric must be one of {sorted(scorers)}, not {metric!r}")
    return float(scorers[metric](frame["label"], frame["prediction"], zero_division=0))


def fairness_groups(raw: pd.DataFrame, column: str, split_at: Any) -> np.ndarray:
    """Each row's group: the column's value, or which side of `split_at` it falls."""
    if column not in raw:
        raise ValueError(
            f"gate.fairness.group_column {column!r} is not a column of the evaluation rows; "
            "name a column of the raw data (docs/gates.md)"
        )
    if raw[column].isna().any():
        raise ValueError(f"{column} has missing values: every row needs a group")
    if split_at is None:
        return raw[column].astype(str).to_numpy()
    return np.where(raw[column] > split_at, f"{column} > {split_at}", f"{column} <= {split_at}")


def evaluation_frame(p: Paths, column: str, split_at: Any) -> pd.DataFrame:
    raw, offline = read_csv(p.eval_raw), read_csv(p.predictions)
    truth = read_csv(p.eval_features)[load_contract().label]
    if not len(raw) == len(offline) == len(truth):
        raise ValueError(
            f"evaluation files disagree: {len(raw)} raw rows, {len(offline)} predictions, "
            f"{len(truth)} labels; {RERUN}"
        )
    groups = fairness_groups(raw, column, split_at)
    return pd.DataFrame(
        {"group": groups, "label": truth.to_numpy(), "prediction": offline["prediction"].to_numpy()}
    )


def check_group_sizes(sizes: dict[str, int], minimum: int) -> None:
    if len(sizes) < 2:
        raise ValueError(f"every row is in one group {sizes}; nothing to compare: adjust split_at")
    small = {group: n for group, n in sizes.items() if n < minimum}
    if small:
        raise ValueError(
            f"groups too small to compare: {small} below min_group_size {minimum} "
            f"(all groups: {sizes}); adjust gate.fairness.split_at or evaluate on more rows"
        )


@fail_closed("fairness")
def fairness(inputs: GateInputs) -> GateResult:
    """The metric's gap between groups of a declared column stays under max_gap."""
    spec = inputs.params["fairness"]
    column, split_at = spec["group_column"], spec.get("split_at")
    frame = evaluation_frame(inputs.paths, column, split_at)
    sizes = {str(g): int(n) for g, n in frame["group"].value_counts().sort_index().items()}
    check_group_sizes(sizes, int(spec["min_group_size"]))
    by_group = {str(g): group_metric(part, spec["metric"]) for g, part in frame.groupby("group")}
    gap = max(by_group.values()) - min(by_group.values())
    max_gap = finite(spec.get("max_gap"), "gate.fairness.max_gap", "set it in params.yaml")
    passed = gap <= max_gap + EPSILON
    values = ", ".join(f"{g}: {v:.3f}" for g, v in by_group.items())
    message = f"{spec['metric']} gap {gap:.3f} {'<=' if passed else '>'} {max_gap} ({values})"
    evidence = {"group_column": column, "split_at": split_at, "metric": spec["metric"]}
    evidence |= {"by_group": by_group, "sizes": sizes, "gap": gap, "max_gap": max_gap}
    return GateResult("fairness", passed, message, evidence)


def gates_for(tier: str) -> list[Callable[[GateInputs], GateResult]]:
    """The gates a risk tier must pass: high adds fairness (and uses stricter thresholds)."""
    if tier not in TIERS:
        raise ValueError(f"unknown risk tier {tier!r}; gate.risk_tier must be one of {TIERS}")
    common = [data_contract, baseline, parity, packaging]
    return [*common, fairness] if tier == "high" else common
