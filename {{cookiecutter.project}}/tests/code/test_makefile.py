"""`make` targets take values through the environment, never as shell text.

A workflow passes its inputs to make (ENV=<environment>); if a recipe pasted
the value into its shell text, a crafted value would run as a command.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import find_root

HOSTILE = "staging'; touch pwned; '"
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(cwd: Path, makefile: Path, *args: str, env: dict[str, str] | None = None):
    # -o install: use this environment as it is (VENV points at it), install nothing.
    command = ["make", "-f", str(makefile), "-o", "install", f"VENV={sys.prefix}", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("target", ["rollback", "deploy", "promote", "smoke-deployed", "monitor"])
@pytest.mark.parametrize("passed", ["argument", "environment"])
def test_an_environment_name_cannot_run_a_command(tmp_path: Path, target: str, passed: str):
    makefile = find_root(Path(__file__).parent) / "Makefile"
    if passed == "argument":
        result = make(tmp_path, makefile, target, f"ENV={HOSTILE}")
    else:
        result = make(tmp_path, makefile, target, env={**os.environ, "ENV": HOSTILE})
    assert result.returncode != 0
    assert "is not one of 'staging', 'production'" in result.stderr  # an unknown name
    assert list(tmp_path.iterdir()) == []  # and nothing was created


def test_a_value_pasted_into_shell_text_would_run(tmp_path: Path):
    """The attack the recipes are written against is real: a quoted paste runs it."""
    makefile = tmp_path / "Makefile"
    makefile.write_text("pasted:\n\t@echo '$(ENV)'\n")
    make(tmp_path, makefile, "pasted", f"ENV={HOSTILE}")
    assert (tmp_path / "pwned").exists()
