"""Every action in every workflow is pinned to the release in one list.

The workflows are those of every baked variant (the product of the choices in
cookiecutter.json) and the template's own CI. Each `uses:` must name a full
commit SHA followed by its version as a comment, and that pair must be the one
in tests/data/action-pins.yaml, so a bump is one edit there plus the `uses:`
lines, and a forgotten line fails here rather than on a runner.
"""

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from act.harness import ACTIONS
from conftest import DEFAULTS, TEMPLATE, bake

PINS: dict[str, dict[str, str]] = yaml.safe_load(
    (TEMPLATE / "tests" / "data" / "action-pins.yaml").read_text()
)
CHOICES = {key: value for key, value in DEFAULTS.items()
           if isinstance(value, list) and not key.startswith("_")}
VARIANTS = [dict(zip(CHOICES, values)) for values in itertools.product(*CHOICES.values())]
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*?))?\s*$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")


def variant_id(answers: dict[str, str]) -> str:
    return "-".join(f"{k}={v}" for k, v in answers.items())


@pytest.fixture(scope="module")
def workflow_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every workflow file to check, by a readable name."""
    files = {f"template/{path.name}": path
             for path in sorted((TEMPLATE / ".github" / "workflows").glob("*.yml"))}
    for answers in VARIANTS:
        project = bake(tmp_path_factory.mktemp("pins"), **answers)
        for path in sorted((project / ".github" / "workflows").glob("*.yml")):
            files[f"{variant_id(answers)}/{path.name}"] = path
    return files


def uses_in_yaml(workflow: dict[str, Any]) -> list[str]:
    """What YAML sees: step actions and reusable workflows (a job's own `uses`)."""
    found = []
    for job in workflow["jobs"].values():
        found += [job["uses"]] if "uses" in job else []
        found += [step["uses"] for step in job.get("steps", []) if "uses" in step]
    return found


def uses_lines(text: str) -> list[re.Match]:
    return [match for line in text.splitlines() if (match := USES_LINE.match(line))]


def test_the_list_names_a_version_and_a_full_sha_per_action():
    for action, pin in PINS.items():
        assert re.fullmatch(r"v\d+\.\d+\.\d+", pin["version"]), action
        assert re.fullmatch(r"[0-9a-f]{40}", pin["sha"]), action


def test_every_uses_is_the_listed_sha_with_its_version(workflow_files):
    wrong = []
    for name, path in workflow_files.items():
        lines = uses_lines(path.read_text())
        # Reading lines must not miss a `uses:` that YAML sees (or see one it does not).
        assert [m["ref"] for m in lines] == uses_in_yaml(yaml.safe_load(path.read_text())), name
        for match in lines:
            pinned = PINNED.match(match["ref"])
            if not pinned:
                wrong.append(f"{name}: not pinned by a full commit SHA: {match['ref']}")
                continue
            expected = PINS.get(pinned["action"])
            got = {"sha": pinned["sha"], "version": match["comment"]}
            if expected != got:
                wrong.append(f"{name}: {pinned['action']} is {got}, the list says {expected}")
    assert wrong == []


def test_every_listed_action_is_used(workflow_files):
    # A stale entry would let the list drift from what the workflows run.
    used = {PINNED.match(m["ref"])["action"]
            for path in workflow_files.values() for m in uses_lines(path.read_text())}
    assert set(PINS) == used


def test_every_listed_action_has_an_act_stand_in():
    # tests/act/harness.py maps <action>@<sha> from the workflows to these folders.
    assert [action for action in PINS if not (ACTIONS / action / "action.yml").exists()] == []
