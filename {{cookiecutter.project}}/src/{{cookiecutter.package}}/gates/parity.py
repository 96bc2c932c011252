"""The training-serving parity gate: the served bento reproduces the offline predictions.

Every evaluation row is recomputed in process with the package's own code
(the code the bento packs) and the lineage's model (the one the bento packs:
the packaging gate checks its digest). Over HTTP, through the whole serving
stack, goes a bounded set: a sample of `parity_rows` rows stratified by the
answered class, and besides it the rows at each feature's extremes, a row
with each nullable column missing, the most and least confident rows. A million
evaluation rows cost seconds in process, where sending them all to the
service took minutes.
"""

from typing import Any

import httpx
import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.files import read_frame
from {{ cookiecutter.package }}.gates.base import (
    RERUN,
    GateInputs,
    GateResult,
    fail_closed,
    finite,
    read_output,
)
from {{ cookiecutter.package }}.monitor.log_writer import RECORD_ID


def json_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a caller sends them: a missing value is JSON null (NaN is not JSON)."""
    cleaned = rows.astype(object).where(rows.notna(), None)
    return [{str(key): value for key, value in row.items()} for row in cleaned.to_dict("records")]


def served_probabilities(url: str, rows: pd.DataFrame, batch: int = 200) -> np.ndarray:
    probabilities = []
    for start in range(0, len(rows), batch):
        records = json_records(rows.iloc[start : start + batch])
        response = httpx.post(f"{url}/predict", json={"records": records}, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(
                f"the service answered HTTP {response.status_code} to evaluation rows "
                f"{start}-{start + len(records) - 1}: {response.text[:300]}"
            )
        probabilities += [item["probability"] for item in response.json()]
    return np.asarray(probabilities, dtype=float)


def edge_rows(raw: pd.DataFrame, probability: np.ndarray) -> set[int]:
    """Positions of the rows most likely to differ: extremes, gaps, the surest answers."""
    chosen = {int(np.argmin(probability)), int(np.argmax(probability))}
    for name, feature in load_contract().features.items():
        column = raw[name]
        if feature.numeric and column.notna().any():
            chosen |= {int(column.to_numpy().argmin()), int(column.to_numpy().argmax())}
        if column.isna().any():
            chosen.add(int(np.flatnonzero(column.isna().to_numpy())[0]))
    return chosen


def http_rows(raw: pd.DataFrame, offline: pd.DataFrame, sample: int, seed: int = 0) -> np.ndarray:
    """Row positions: a sample of about `sample` rows stratified by the answered class
    (each class in its share, at least one row of each), and the edge rows besides."""
    if len(raw) <= sample:
        return np.arange(len(raw))
    probability = offline["probability"].to_numpy(dtype=float)
    chosen = edge_rows(raw.reset_index(drop=True), probability)
    rng = np.random.default_rng(seed)
    answered = offline["prediction"].to_numpy()
    for value in np.unique(answered):
        members = np.flatnonzero(answered == value)
        take = min(len(members), max(1, round(sample * len(members) / len(raw))))
        chosen |= set(rng.choice(members, take, replace=False).tolist())
    return np.array(sorted(chosen))


def in_process_probabilities(model_file: Any, rows: pd.DataFrame, threshold: float) -> np.ndarray:
    """What the service computes for `rows`, without the service: its features, its
    decision rule, the model file."""
    import joblib

    from {{ cookiecutter.package }}.decision import decide
    from {{ cookiecutter.package }}.features import build_features

    model = joblib.load(model_file)
    probability, _ = decide(model.predict_proba(build_features(rows)), model.classes_, threshold)
    return np.asarray(probability, dtype=float)


def max_difference(served: np.ndarray, offline: np.ndarray) -> float:
    if len(offline) == 0:
        raise ValueError(f"there are no evaluation rows to compare; {RERUN}")
    if len(served) != len(offline):
        raise ValueError(f"the service answered {len(served)} rows for {len(offline)} offline")
    if not (np.isfinite(served).all() and np.isfinite(offline).all()):
        raise ValueError(f"NaN or infinite probabilities (served or offline); {RERUN}")
    return float(np.max(np.abs(served - offline)))


def served_range(spec: dict[str, Any]) -> tuple[Any, Any]:
    """A numeric field's bounds; a nullable field holds them in its `anyOf` branch."""
    for branch in [spec, *spec.get("anyOf", [])]:
        if "minimum" in branch or "maximum" in branch:
            return branch.get("minimum"), branch.get("maximum")
    return None, None


def request_schema_matches_contract(url: str) -> list[str]:
    """Differences between the served request schema and the data contract."""
    schema = httpx.get(f"{url}/docs.json", timeout=10).json()
    record = schema["components"]["schemas"]["Record"]
    contract = load_contract()
    problems = []
    # Besides the features a record may carry its caller's id (never required).
    if set(record["properties"]) - {RECORD_ID} != set(contract.features):
        problems.append("request fields differ from the contract's features")
    if set(record.get("required", [])) != set(contract.features):
        problems.append("not every contract feature is required")
    for name, feature in contract.features.items():
        if feature.numeric and served_range(record["properties"].get(name, {})) != (
            feature.min,
            feature.max,
        ):
            problems.append(f"{name}: served range differs from the contract")
    if record.get("additionalProperties") is not False:
        problems.append("the request model accepts fields outside the contract")
    return problems


@fail_closed("training-serving parity")
def parity(inputs: GateInputs) -> GateResult:
    """The served bento, called over HTTP on the evaluation rows, reproduces the offline run."""
    if not inputs.server_url:
        raise RuntimeError("the bento was not served (see the rows below), so nothing to compare")
    tolerance = finite(inputs.params.get("parity_tolerance"), "gate.parity_tolerance", "set it")
    limit = int(finite(inputs.params.get("parity_rows"), "gate.parity_rows", "set it"))
    if limit < 1:
        raise ValueError(f"gate.parity_rows is {limit}: send at least one row over HTTP")
    raw = read_table(inputs.paths.eval_raw)[load_contract().feature_names]
    offline = read_frame(inputs.paths.predictions)
    expected = offline["probability"].to_numpy(dtype=float)
    threshold = float(read_output(inputs.paths.lineage)["params"]["evaluate"]["threshold"])
    computed = in_process_probabilities(inputs.paths.model, raw, threshold)
    sent = http_rows(raw, offline, limit)
    served = served_probabilities(inputs.server_url, raw.iloc[sent])
    gaps = {"in_process": max_difference(computed, expected),
            "over_http": max_difference(served, expected[sent])}  # fmt: skip
    schema_problems = request_schema_matches_contract(inputs.server_url)
    problems = [
        f"max |{where.replace('_', ' ')} - offline| = {gap:.3g} > {tolerance}: the service "
        "does not reproduce training (features.py changed without retraining, or another "
        "model packed: rerun `dvc repro`)"
        for where, gap in gaps.items()
        if gap > tolerance
    ]
    problems += schema_problems
    message = "; ".join(problems) or "the service reproduces the offline predictions"
    evidence: dict[str, Any] = {"rows": len(raw), "rows_over_http": len(sent),
                                "max_abs_difference": max(gaps.values()),
                                "max_abs_difference_by_path": gaps, "tolerance": tolerance,
                                "schema_problems": schema_problems}  # fmt: skip
    return GateResult("training-serving parity", not problems, message, evidence)
