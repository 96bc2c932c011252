"""What every gate shares: the result, the inputs, and failing closed.

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

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.files import read_json

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
        tier: str = self.params["risk_tier"]
        return tier

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


def fail_closed(
    name: str,
) -> Callable[[Callable[[GateInputs], GateResult]], Callable[[GateInputs], GateResult]]:
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
