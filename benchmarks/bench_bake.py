"""Time baking the default project and running its pipeline; measure what it generates.

    make bench                                     # from the template's root
    .venv/bin/python benchmarks/bench_bake.py [--json] [--bakes N] [--noops N]

Everything happens in a temporary directory (a local DVC remote included),
removed at the end. `make setup` runs against the shared project venv the
template's tests use (.cache/project-venv-<lock hash>): building that venv is
a one-off cost, timed and reported separately when this run had to build it.
So the setup figure is the repository work (git, DVC, sample data, push) plus
make's check of an already-installed venv, not a cold install.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
# The same cache as the template's tests (tests/conftest.py).
CACHE = Path(os.environ.get("TEMPLATE_TEST_CACHE", TEMPLATE / ".cache"))
GENERATED_LOCK = TEMPLATE / "{{cookiecutter.project}}" / "requirements.lock"
COMMAND = "make bench  # = .venv/bin/python benchmarks/bench_bake.py"
# Not part of the generated project, at any depth: version control, DVC's own
# state, the environment, BentoML's store, caches.
TOOL_DIRS = {".git", ".dvc", ".venv", ".bentoml", "__pycache__", ".pytest_cache", ".ruff_cache"}
# Top-level folders the pipeline writes into (tests/data/ is code, so top level only)...
OUTPUT_DIRS = {"data", "models", "metrics", "reports"}
# ...where only the pins and placeholders that cookiecutter itself writes count.
TEMPLATE_PLACEHOLDERS = {".gitignore", ".gitkeep"}
KINDS = {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".md": "markdown"}
RUNNING = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Benchmark",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Benchmark",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result


def bake(output_dir: Path) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir)))


def shared_venv(scratch: Path) -> tuple[Path, float | None]:
    """The tests' cached project venv (keyed by the lock); build it only if missing."""
    key = hashlib.sha256(GENERATED_LOCK.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"project-venv-{key}"
    if (venv / ".installed").exists():
        return venv, None
    shutil.rmtree(venv, ignore_errors=True)
    project = bake(scratch / "venv-bake")
    seconds, _ = timed(lambda: run(["make", "install", f"VENV={venv}"], project, {}))
    return venv, seconds


# --- size of the generated project ----------------------------------------------------


def is_project_file(path: Path, root: Path) -> bool:
    folders = path.relative_to(root).parts[:-1]
    if TOOL_DIRS.intersection(folders):
        return False
    if folders and folders[0] in OUTPUT_DIRS:
        return path.suffix == ".dvc" or path.name in TEMPLATE_PLACEHOLDERS
    return True


def kind(path: Path) -> str:
    return KINDS.get(path.suffix, "other")


def project_size(root: Path) -> dict[str, dict[str, int]]:
    """Files and lines by kind (python, yaml, markdown, other) and in total."""
    files, lines = Counter(), Counter()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and is_project_file(p, root)):
        count = len(path.read_text(errors="replace").splitlines())
        for bucket in (kind(path), "total"):
            files[bucket] += 1
            lines[bucket] += count
    order = ["python", "yaml", "markdown", "other", "total"]
    return {name: {"files": files[name], "lines": lines[name]} for name in order}


# --- the measurements -----------------------------------------------------------------


def median_bake_seconds(scratch: Path, bakes: int) -> float:
    return statistics.median(
        timed(lambda i=i: bake(scratch / f"bake-{i}"))[0] for i in range(bakes)
    )


def measure(scratch: Path, bakes: int, noops: int) -> dict[str, Any]:
    bake_seconds = median_bake_seconds(scratch, bakes)
    project = bake(scratch / "project")
    size = project_size(project)  # right after baking: exactly what cookiecutter wrote
    venv, venv_seconds = shared_venv(scratch)
    env = {
        **GIT_IDENTITY,
        "DVC_REMOTE_DIR": str(scratch / "remote"),
        "BENTOML_DO_NOT_TRACK": "true",
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    dvc = [str(venv / "bin" / "dvc"), "repro"]
    setup_seconds, _ = timed(lambda: run(["make", "setup", f"VENV={venv}"], project, env))
    repro_seconds, first = timed(lambda: run(dvc, project, env))
    noop_runs = [timed(lambda: run(dvc, project, env)) for _ in range(noops)]
    return {
        "bake_seconds": round(bake_seconds, 2),
        "bakes": bakes,
        "venv_build_seconds": None if venv_seconds is None else round(venv_seconds, 1),
        "setup_seconds": round(setup_seconds, 1),
        "first_repro_seconds": round(repro_seconds, 1),
        "first_repro_stages_run": RUNNING.findall(first.stdout + first.stderr),
        "noop_repro_seconds": round(statistics.median(s for s, _ in noop_runs), 2),
        "noop_repros": noops,
        "noop_repro_stages_run": sorted(
            {stage for _, r in noop_runs for stage in RUNNING.findall(r.stdout + r.stderr)}
        ),
        "size": size,
        "venv": str(venv.relative_to(TEMPLATE)),
        "tool_versions": tool_versions(venv),
    }


def tool_versions(venv: Path) -> dict[str, str]:
    code = "import platform; print(platform.python_version())"
    dvc = run([str(venv / "bin" / "dvc"), "--version"], TEMPLATE, {}).stdout.strip()
    python = run([str(venv / "bin" / "python"), "-c", code], TEMPLATE, {}).stdout.strip()
    return {"project_python": python, "dvc": dvc}


def memory_gib() -> float | None:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * page_size / 2**30, 1)


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": COMMAND,
    }


# --- reporting ------------------------------------------------------------------------


def stages_note(stages: list[str]) -> str:
    return "stages run: " + (", ".join(stages) or "none")


def timing_rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    built = r["venv_build_seconds"]
    return [
        (
            "bake (cookiecutter, default answers)",
            f"{r['bake_seconds']} s",
            f"median of {r['bakes']}",
        ),
        ("shared project venv", "reused" if built is None else f"built: {built} s", r["venv"]),
        (
            "`make setup`",
            f"{r['setup_seconds']} s",
            "shared venv; git, DVC, sample data, push to a local remote",
        ),
        (
            "first `dvc repro`",
            f"{r['first_repro_seconds']} s",
            stages_note(r["first_repro_stages_run"]),
        ),
        (
            "no-op `dvc repro`",
            f"{r['noop_repro_seconds']} s",
            f"median of {r['noop_repros']}; " + stages_note(r["noop_repro_stages_run"]),
        ),
    ]


def machine_line(r: dict[str, Any]) -> str:
    m, tools = r["machine"], r["tool_versions"]
    return (
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']} "
        f"(project venv: Python {tools['project_python']}, DVC {tools['dvc']}), "
        f"{m['platform']}, "
        f"1-minute load average {m['load_average_1m']} at the end; {m['date']}."
    )


def markdown(r: dict[str, Any]) -> str:
    lines = ["| measure | value | note |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in timing_rows(r)]
    lines += ["", "| generated project | files | lines |", "|---|---:|---:|"]
    lines += [f"| {name} | {n['files']} | {n['lines']} |" for name, n in r["size"].items()]
    lines += ["", machine_line(r), f"Command: `{r['machine']['command']}`"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--bakes", type=int, default=5, help="bakes to time (median)")
    parser.add_argument("--noops", type=int, default=3, help="no-op repros to time (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bake-") as scratch:
        results = measure(Path(scratch), args.bakes, args.noops)
    results["machine"] = machine()
    print(json.dumps(results, indent=2) if args.json else markdown(results))


if __name__ == "__main__":
    main()
