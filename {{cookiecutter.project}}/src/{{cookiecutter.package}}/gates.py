"""Gates: validation as code. No model leaves without evidence.

Each gate returns pass/fail with the numbers it compared and the thresholds.
Gates fail closed: a missing file, a NaN metric, a broken manifest or a
contract that does not parse is a failure with a message saying what to fix,
never a pass.
"""

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.contract import check_table, load_contract
from {{ cookiecutter.package }}.io import read_csv, read_json
from {{ cookiecutter.package }}.manifest import load_optional_manifest, manifest_path


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
        return self.params["thresholds"][self.tier]


def fail_closed(name: str) -> Callable:
    """Turn any error inside a gate into a failed result that says why."""

    def wrap(check: Callable[[GateInputs], GateResult]) -> Callable[[GateInputs], GateResult]:
        def guarded(inputs: GateInputs) -> GateResult:
            try:
                return check(inputs)
            except Exception as error:  # a gate must never pass, or crash, on bad input
                return GateResult(name, False, f"could not evaluate: {error}")

        guarded.gate_name = name  # type: ignore[attr-defined]
        return guarded

    return wrap


def finite(value: Any, what: str) -> float:
    if value is None:
        raise ValueError(f"{what} is missing; run `dvc repro` to recompute the metrics")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{what} is {number}; the evaluation is broken, rerun `dvc repro`")
    return number


@fail_closed("data contract")
def data_contract(inputs: GateInputs) -> GateResult:
    frame = read_csv(inputs.paths.raw_data)
    contract = load_contract()
    violations = check_table(frame, contract)
    evidence = {
        "rows": len(frame),
        "row_bounds": [contract.min_rows, contract.max_rows],
        "label_share": round(float(frame[contract.label].mean()), 4)
        if contract.label in frame
        else None,
        "label_share_bounds": [contract.label_share.min, contract.label_share.max],
        "violations": violations,
    }
    message = "data holds its contract" if not violations else "; ".join(violations[:5])
    return GateResult("data contract", not violations, message, evidence)


def production_metric(inputs: GateInputs, metric: str) -> float | None:
    manifest = load_optional_manifest(manifest_path(inputs.paths.deploy_dir, "production"))
    if manifest is None:
        return None
    return finite(manifest.current.metrics.get(metric), f"production {metric} in the manifest")


@fail_closed("baseline")
def baseline(inputs: GateInputs) -> GateResult:
    metric, limits = inputs.params["metric"], inputs.thresholds
    metrics = read_json(inputs.paths.metrics)
    model = finite(metrics.get("model", {}).get(metric), f"model {metric}")
    dummy = finite(metrics.get("baseline", {}).get(metric), f"baseline {metric}")
    production = production_metric(inputs, metric)
    checks = {
        f"{metric} >= {limits['min_metric']}": model >= limits["min_metric"],
        f"beats the trivial baseline by {limits['baseline_margin']}": model - dummy
        >= limits["baseline_margin"],
    }
    if production is not None:
        tolerance = limits["production_tolerance"]
        checks[f"within {tolerance} of production"] = model >= production - tolerance
    failed = [name for name, ok in checks.items() if not ok]
    note = "no production model yet: comparison skipped" if production is None else ""
    message = "; ".join(failed) if failed else (note or "better than baseline and production")
    evidence = {"metric": metric, "model": model, "baseline": dummy, "production": production}
    evidence |= {"checks": checks, "note": note}
    return GateResult("baseline", not failed, message, evidence)


def served_probabilities(url: str, rows: pd.DataFrame, batch: int = 200) -> np.ndarray:
    probabilities = []
    for start in range(0, len(rows), batch):
        records = rows.iloc[start : start + batch].to_dict(orient="records")
        response = httpx.post(f"{url}/predict", json={"records": records}, timeout=30)
        response.raise_for_status()
        probabilities += [item["probability"] for item in response.json()]
    return np.asarray(probabilities)


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
    if not inputs.server_url:
        raise RuntimeError("the bento was not served, see the packaging gate")
    raw = read_csv(inputs.paths.eval_raw)
    offline = read_csv(inputs.paths.predictions)
    served = served_probabilities(inputs.server_url, raw[load_contract().feature_names])
    gap = float(np.max(np.abs(served - offline["probability"].to_numpy())))
    tolerance = inputs.params["parity_tolerance"]
    schema_problems = request_schema_matches_contract(inputs.server_url)
    problems = list(schema_problems)
    if gap > tolerance:
        problems.insert(0, f"max |served - offline| = {gap:.3g} > {tolerance}")
    passed = not problems
    message = "; ".join(problems) or "the service reproduces the offline predictions"
    evidence = {"rows": len(raw), "max_abs_difference": gap, "tolerance": tolerance}
    evidence["schema_problems"] = schema_problems
    return GateResult("training-serving parity", passed, message, evidence)


@fail_closed("packaging integrity")
def packaging(inputs: GateInputs) -> GateResult:
    from {{ cookiecutter.package }}.bento import bento_model_digest

    if not inputs.bento_tag:
        raise RuntimeError("no bento was built")
    lineage = read_json(inputs.paths.lineage)
    packed = bento_model_digest(inputs.bento_tag, lineage["model"]["tag"])
    expected = lineage["model"]["digest"]
    smoke = smoke_request(inputs.server_url) if inputs.server_url else "not served"
    problems = []
    if packed != expected:
        problems.append(f"model in bento {packed} != lineage {expected}")
    if smoke != "ok":
        problems.append(f"smoke request: {smoke}")
    passed = not problems
    message = "; ".join(problems) or "the bento holds the lineage's model and answers"
    evidence = {"bento_tag": inputs.bento_tag, "bento_model_digest": packed}
    evidence |= {"lineage_model_digest": expected, "smoke": smoke}
    return GateResult("packaging integrity", passed, message, evidence)


def smoke_request(url: str) -> str:
    contract = load_contract()
    record = {name: (b.min + b.max) / 2 for name, b in contract.features.items()}
    response = httpx.post(f"{url}/predict", json={"records": [record]}, timeout=30)
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    probability = response.json()[0]["probability"]
    return "ok" if 0.0 <= probability <= 1.0 else f"probability {probability} out of [0, 1]"


def group_metric(frame: pd.DataFrame, metric: str) -> float:
    from sklearn.metrics import precision_score, recall_score

    scorer = {"recall": recall_score, "precision": precision_score}[metric]
    return float(scorer(frame["label"], frame["prediction"], zero_division=0))


@fail_closed("fairness")
def fairness(inputs: GateInputs) -> GateResult:
    spec = inputs.params["fairness"]
    raw, offline = read_csv(inputs.paths.eval_raw), read_csv(inputs.paths.predictions)
    truth = read_csv(inputs.paths.eval_features)[load_contract().label]
    groups = np.where(raw[spec["group_column"]] > spec["split_at"], "above", "at_or_below")
    frame = pd.DataFrame({"group": groups, "label": truth, "prediction": offline["prediction"]})
    by_group = {g: group_metric(part, spec["metric"]) for g, part in frame.groupby("group")}
    sizes = frame["group"].value_counts().to_dict()
    if len(by_group) < 2 or min(sizes.values()) < spec["min_group_size"]:
        raise ValueError(f"groups too small to compare: {sizes}; adjust fairness.split_at")
    gap = max(by_group.values()) - min(by_group.values())
    passed = gap <= spec["max_gap"]
    message = f"{spec['metric']} gap {gap:.3f} {'<=' if passed else '>'} {spec['max_gap']}"
    evidence = {"group_column": spec["group_column"], "split_at": spec["split_at"]}
    evidence |= {"metric": spec["metric"], "by_group": by_group, "sizes": sizes, "gap": gap}
    return GateResult("fairness", passed, message, evidence)


def gates_for(tier: str) -> list[Callable[[GateInputs], GateResult]]:
    common = [data_contract, baseline, parity, packaging]
    return [*common, fairness] if tier == "high" else common
