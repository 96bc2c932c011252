"""The template's scripts answer `--help` and do nothing else.

A script that reads `--help` as "go" can delete a demo directory, bake, or
start servers when someone only asked what it does. Each one is run with
`--help` from an empty directory, with an empty TMPDIR and no bytecode
writes, and the template tree must be exactly as it was.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE

SCRIPTS = sorted([*TEMPLATE.glob("scripts/*.py"), *TEMPLATE.glob("benchmarks/*.py")])
# Not the template's own files, or rewritten by any Python run. The test cache
# is written by the other test workers while this runs; each script is pointed
# at a cache of its own instead (TEMPLATE_TEST_CACHE), which must stay empty.
UNWATCHED = {".venv", ".git", "__pycache__", ".pytest_cache", ".cache", "node_modules"}


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its mtime and size (directories change mtime on add/remove)."""
    state: dict[str, tuple[int, int]] = {}
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        subdirs[:] = [d for d in subdirs if d not in UNWATCHED]
        for name in [*subdirs, *files]:
            stat = (here / name).lstat()
            state[str((here / name).relative_to(root))] = (stat.st_mtime_ns, stat.st_size)
    return state


def changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(
        [f"created {p}" for p in after.keys() - before.keys()]
        + [f"removed {p}" for p in before.keys() - after.keys()]
        + [f"changed {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    )


def run_help(script: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`script --help`; if it runs the script instead, stop it and all it started."""
    process = subprocess.Popen([sys.executable, str(script), "--help"], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        # A --help that runs the script would take minutes: fail fast.
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{script.name} --help was still running after 60 s")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_every_script_is_found():
    # The glob must not silently find nothing (a moved folder would pass every case below).
    assert {path.name for path in SCRIPTS} >= {"demo.py", "bench_bake.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(p.relative_to(TEMPLATE)) for p in SCRIPTS])
def test_help_prints_usage_and_touches_nothing(script, tmp_path):
    cwd, tmp, cache = tmp_path / "cwd", tmp_path / "tmp", tmp_path / "cache"
    for folder in (cwd, tmp, cache):
        folder.mkdir()
    before = tree_state(TEMPLATE)
    result = run_help(script, cwd, {**os.environ, "TMPDIR": str(tmp),
                                    "TEMPLATE_TEST_CACHE": str(cache),
                                    "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"usage: {script.name}"), result.stdout
    assert changes(before, tree_state(TEMPLATE)) == []
    assert [*cwd.iterdir(), *tmp.iterdir(), *cache.iterdir()] == []
