"""Something keeps the pins current: Dependabot, and `make lock` for the pre-commit hooks.

What Dependabot must cover is derived from the files, not listed: a folder
with workflows needs `github-actions`, a folder with requirements*.in or
requirements*.lock needs `pip`. Checked for every baked variant and for the
template itself (its own CI and requirements files; the generated workflows
are Jinja templates, which Dependabot cannot read, see README.md).
"""

import itertools
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULTS, TEMPLATE, bake, run

CHOICES = {key: value for key, value in DEFAULTS.items()
           if isinstance(value, list) and not key.startswith("_")}
VARIANTS = [dict(zip(CHOICES, values)) for values in itertools.product(*CHOICES.values())]
NOT_SOURCE = {"build", "node_modules"}  # besides hidden folders (.venv, .cache, .git)


def variant_id(answers: dict[str, str]) -> str:
    return "-".join(f"{k}={v}" for k, v in answers.items())


@pytest.fixture(scope="module", params=VARIANTS, ids=variant_id)
def project(request, tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("dependabot"), **request.param)


def source_dirs(root: Path) -> list[Path]:
    found = []
    for directory, subdirs, _ in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in NOT_SOURCE]
        found.append(Path(directory))
    return found


def as_dependabot_dir(root: Path, directory: Path) -> str:
    return "/" + directory.relative_to(root).as_posix().removeprefix(".")


def required_updates(root: Path) -> set[tuple[str, str]]:
    """(ecosystem, directory) pairs the files under root call for."""
    needed = set()
    if any((root / ".github" / "workflows").glob("*.yml")):
        needed.add(("github-actions", "/"))
    for directory in source_dirs(root):
        if any(directory.glob("requirements*.in")) or any(directory.glob("requirements*.lock")):
            needed.add(("pip", as_dependabot_dir(root, directory)))
        if (directory / "package.json").exists():
            needed.add(("npm", as_dependabot_dir(root, directory)))
    return needed


def configured_updates(config: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (update["package-ecosystem"], directory.rstrip("/") or "/")
        for update in config["updates"]
        for directory in update.get("directories") or [update["directory"]]
    }


def check_config(root: Path) -> None:
    config = yaml.safe_load((root / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    for update in config["updates"]:
        name = update["package-ecosystem"]
        assert update["schedule"]["interval"] == "weekly", name
        # Grouped: one pull request per ecosystem a week, not one per package.
        assert any(group.get("patterns") for group in update["groups"].values()), name
    missing = required_updates(root) - configured_updates(config)
    assert missing == set(), f"Dependabot does not cover {sorted(missing)}"


def test_the_derivation_sees_what_a_project_has(project):
    # Guards the derivation itself: an empty requirement would pass anything.
    assert required_updates(project) == {("github-actions", "/"), ("pip", "/")}


def test_generated_dependabot_covers_every_ecosystem(project):
    check_config(project)


def test_template_dependabot_covers_its_ci_and_every_requirements_file():
    assert ("pip", "/{{cookiecutter.project}}") in required_updates(TEMPLATE)
    assert ("npm", "/tests/mermaid") in required_updates(TEMPLATE)
    check_config(TEMPLATE)


FAKE_UV = """#!/bin/sh
# `uv pip compile ... -o FILE` as if the index had a newer ruff.
while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
printf 'ruff==9.9.9 \\\\\\n    --hash=sha256:%064d\\n' 0 > "$out"
"""


def test_make_lock_gives_the_pre_commit_hooks_the_locked_ruff(tmp_path):
    # The hooks are `repo: local`: no updater reads their pins, `make lock` must.
    project = bake(tmp_path / "bake")
    uv = tmp_path / "venv" / "bin" / "uv"
    uv.parent.mkdir(parents=True)
    uv.write_text(FAKE_UV)
    uv.chmod(uv.stat().st_mode | stat.S_IXUSR)
    config = project / ".pre-commit-config.yaml"
    before = config.read_text()
    assert '"ruff==9.9.9"' not in before

    run(["make", "lock", f"VENV={tmp_path / 'venv'}"], project)

    hooks = yaml.safe_load(config.read_text())["repos"][0]["hooks"]
    ruff_pins = {dep for hook in hooks for dep in hook.get("additional_dependencies", [])
                 if dep.startswith("ruff")}
    assert ruff_pins == {"ruff==9.9.9"}
    old = next(dep for dep in yaml.safe_load(before)["repos"][0]["hooks"][0]
               ["additional_dependencies"] if dep.startswith("ruff=="))
    assert config.read_text() == before.replace(f'"{old}"', '"ruff==9.9.9"')
