"""The alert state of one environment, kept in one GitHub issue: `Monitor state: <env>`.

Why an issue, and one per environment: the state must outlive the runner, and
before an alert issue exists (the first N-1 breaching windows) it must live
somewhere too. The monitor job may already write issues (`issues: write`);
a git-tracked file would need a push to main on every run, the log store
write access to the bucket. One record holds every family's counters, so a
run reads the state once and writes it once, and a person reads the counters
in the issue itself (a table above the hidden JSON block).
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from {{ cookiecutter.package }}.config import PROJECT
from {{ cookiecutter.package }}.monitor.hysteresis import FAMILIES, FamilyState

STATE_VERSION = 1
REMEMBERED_WINDOWS = 60  # a re-run of any of these changes no counter
STATE_BLOCK = re.compile(r"<!-- monitor-state\n(?P<json>.*?)\n-->", re.DOTALL)


def state_marker(environment: str) -> str:
    return f"<!-- {PROJECT}:monitor-state:{environment} -->"


@dataclass
class EnvironmentState:
    environment: str
    families: dict[str, FamilyState] = field(
        default_factory=lambda: {family: FamilyState() for family in FAMILIES}
    )
    windows: list[str] = field(default_factory=list)  # oldest first

    def seen(self, window: str) -> bool:
        return window in self.windows

    def remember(self, window: str) -> None:
        if not self.seen(window):
            self.windows = [*self.windows, window][-REMEMBERED_WINDOWS:]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "environment": self.environment,
            "families": {name: state.to_json() for name, state in self.families.items()},
            "windows": self.windows,
        }


def parse_state(body: str, environment: str) -> EnvironmentState:
    """The state an issue body holds; a body without one (edited by hand) starts afresh."""
    found = STATE_BLOCK.search(body or "")
    if not found:
        return EnvironmentState(environment)
    try:
        data = json.loads(found["json"])
        families = {name: FamilyState.from_json(data["families"][name]) for name in FAMILIES}
        windows = [str(window) for window in data["windows"]]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"the monitor state issue of {environment} holds an unreadable state ({error}); "
            "delete the block between `<!-- monitor-state` and `-->` to start afresh"
        ) from None
    return EnvironmentState(environment, families, windows)


def render_state(state: EnvironmentState) -> str:
    """The state issue's body: what a person reads, then the block the next run reads."""
    rows = [
        f"| {name} | {s.breaching} | {s.clean} | {'**alerting**' if s.alerting else 'quiet'} |"
        for name, s in state.families.items()
    ]
    # JSON has `>` only inside strings, where \u003e means the same: the comment cannot end early.
    data = json.dumps(state.to_json(), indent=1, sort_keys=True).replace(">", "\\u003e")
    return "\n".join(
        [
            state_marker(state.environment),
            f"The monitor of **{state.environment}** keeps its counters here, so a lost runner "
            "loses nothing. Leave this issue open; the scheduled workflow edits it.",
            "",
            f"Last window: `{state.windows[-1] if state.windows else 'none yet'}`",
            "",
            "| signal family | breaching in a row | clean in a row | state |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
            f"<!-- monitor-state\n{data}\n-->",
        ]
    )
