"""Gates: validation as code. No model leaves without evidence.

The list of gates each risk tier must pass is here, and only here; each gate
is one module beside this file.
"""

from collections.abc import Callable

from {{ cookiecutter.package }}.config import RISK_TIERS
from {{ cookiecutter.package }}.gates.base import GateInputs, GateResult


def gates_for(tier: str) -> list[Callable[[GateInputs], GateResult]]:
    """The gates a risk tier must pass: high adds fairness (and uses stricter thresholds)."""
    from {{ cookiecutter.package }}.gates.baseline import baseline
    from {{ cookiecutter.package }}.gates.data_contract import data_contract
    from {{ cookiecutter.package }}.gates.fairness import fairness
    from {{ cookiecutter.package }}.gates.packaging import packaging
    from {{ cookiecutter.package }}.gates.parity import parity

    if tier not in RISK_TIERS:
        raise ValueError(f"unknown risk tier {tier!r}; gate.risk_tier must be one of {RISK_TIERS}")
    common = [data_contract, baseline, parity, packaging]
    return [*common, fairness] if tier == "high" else common
