"""The training-serving parity gate: the served bento reproduces the offline predictions."""

from typing import Any

import httpx
import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.files import read_csv
from {{ cookiecutter.package }}.gates.base import (
    RERUN,
    GateInputs,
    GateResult,
    fail_closed,
    finite,
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
    raw = read_table(inputs.paths.eval_raw)
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
    evidence: dict[str, Any] = {"rows": len(raw), "max_abs_difference": gap, "tolerance": tolerance}
    evidence["schema_problems"] = schema_problems
    return GateResult("training-serving parity", not problems, message, evidence)
