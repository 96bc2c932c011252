"""Running git, DVC, gh and the container tool: one way to run them, one way to fail.

A failure is a click.ClickException carrying the command and what it printed,
so any command line shows the tool's own words and exits 1, never a traceback.
"""

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import click


class CommandFailed(click.ClickException):
    """A tool exited non-zero."""


def run(
    root: Path,
    *command: str,
    check: bool = True,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            command, cwd=root, input=stdin, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        if shutil.which(command[0]) is not None:
            raise  # the tool is there: the missing file is something else (e.g. `root`)
        raise CommandFailed(f"`{command[0]}` is not installed (not found on PATH)") from None
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise CommandFailed(f"`{' '.join(command)}` exited {result.returncode}:\n{output}")
    return result


def output(root: Path, *command: str, check: bool = True, stdin: str | None = None) -> str:
    """What the command printed on stdout."""
    printed: str = run(root, *command, check=check, stdin=stdin).stdout
    return printed


def succeeds(root: Path, *command: str) -> bool:
    return run(root, *command, check=False).returncode == 0


def git(root: Path, *args: str, check: bool = True) -> str:
    return output(root, "git", *args, check=check).strip()


def dvc(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # The DVC of this environment, whatever PATH says.
    return run(root, sys.executable, "-m", "dvc", *args, check=check)
