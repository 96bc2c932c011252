"""Hysteresis: a signal family alerts after N breaching windows in a row, clears after M clean.

Pure functions over a small state record, so the rule is tested without GitHub.
A window counts once: the same window seen again (a re-run of the workflow)
changes no counter. A window without traffic says nothing either way: it
neither breaches nor clears.
"""

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

FAMILIES = ("input_drift", "prediction_drift", "data_quality", "quality")
Action = Literal["none", "open", "update", "close"]


@dataclass(frozen=True)
class Thresholds:
    alert_after: int
    clear_after: int

    def __post_init__(self) -> None:
        if self.alert_after < 1 or self.clear_after < 1:
            raise ValueError(
                f"monitor.hysteresis: alert_after and clear_after must be 1 or more, "
                f"got {self.alert_after} and {self.clear_after}"
            )


@dataclass(frozen=True)
class FamilyState:
    breaching: int = 0  # breaching windows in a row
    clean: int = 0  # clean windows in a row
    alerting: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FamilyState":
        return cls(int(data["breaching"]), int(data["clean"]), bool(data["alerting"]))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def step(state: FamilyState, breached: bool | None, limits: Thresholds) -> FamilyState:
    """The state after one new window: breached True/False, or None for no traffic."""
    if breached is None:
        return state
    if breached:
        count = state.breaching + 1
        return FamilyState(count, 0, state.alerting or count >= limits.alert_after)
    count = state.clean + 1
    still = state.alerting and count < limits.clear_after
    return FamilyState(0, count, still)


def action(before: FamilyState, after: FamilyState) -> Action:
    """What the family's issue needs: opened, updated in place, closed, or nothing."""
    if after.alerting:
        return "update" if before.alerting else "open"
    return "close" if before.alerting else "none"


def advance(
    state: FamilyState, breached: bool | None, limits: Thresholds, new_window: bool
) -> tuple[FamilyState, Action]:
    """One family through one report; a window seen before refreshes the issue, counts nothing."""
    after = step(state, breached, limits) if new_window else replace(state)
    if not new_window:
        return after, "update" if after.alerting else "none"
    return after, action(state, after)
