"""Benchmark the CI path: ci.yml under act on a fresh bake, cold and warm.

A project is baked with the default answers and set up (pinned data in a new
local DVC remote), pushed to a bare repository that plays GitHub, and a pull
request changing one parameter is opened. ci.yml then runs twice under act on
that pull request, exactly as the template's tests run it (see
tests/act/harness.py):

1. cold: nothing but the raw data in the remote, so the pipeline trains;
2. warm: the first run pushed its outputs and run cache, so `dvc repro`
   restores the trained stages instead of running them.

Prints a Markdown section and, with --write, appends it to docs/benchmarks.md
(replacing an earlier "CI under act" section).

    .venv/bin/python benchmarks/bench_ci.py [--write]
"""

import argparse
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE / "tests"))

from act.harness import GitHubRepo, git, run_act
from conftest import CACHE, DEFAULTS, GIT_IDENTITY, Project, bake, lock_key, run

DOCS = TEMPLATE / "docs" / "benchmarks.md"
SECTION = "## CI under act"
STAGE_RAN = re.compile(r"Running stage '(\w+)'")
STAGE_CACHED = re.compile(r"Stage '(\w+)' is cached - skipping run")
STEP_TIME = re.compile(r"(?:Success|Failure) - Main (?P<step>[^\[]+?) \[(?P<time>[^\]]+)\]")


def venv_for_act(scratch: Path) -> Path:
    venv = CACHE / f"act-venv-{lock_key()}"
    if not (venv / ".installed").exists():
        run(["make", "install", f"VENV={venv}"], bake(scratch / "venv-bake"))
    return venv


def seed_repository(scratch: Path, venv: Path) -> GitHubRepo:
    project = Project(bake(scratch / "bake"), venv, scratch / "remote")
    project.make("setup")
    git(scratch, "clone", "--quiet", "--bare", str(project.path), str(scratch / "seed.git"))
    repo = GitHubRepo.from_bare(scratch / "seed.git", scratch / "github",
                                f"{DEFAULTS['github_owner']}/{DEFAULTS['project']}")
    git(repo.work, "switch", "--quiet", "-c", "feature")
    params = repo.work / "params.yaml"
    params.write_text(params.read_text().replace("  C: 1.0\n", "  C: 0.5\n"))
    repo.commit("Regularise more", "params.yaml")
    repo.push("feature")
    return repo


def seconds(text: str) -> float:
    """act's step durations: `1m40.85s`, `8.86s`, `735ms`, `12.3µs`."""
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)(h|m(?!s)|s|ms|µs)", text):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "µs": 1e-6}[unit]
    return total


def timed_run(repo: GitHubRepo, venv: Path, standins: Path) -> dict:
    start = time.monotonic()
    result = run_act(repo, "pull_request", repo.pull_request_event(1, "feature"), "ci.yml",
                     venv, standins)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(result.explain())
    log = result.log("gates")
    steps = {m["step"].strip(): seconds(m["time"]) for m in STEP_TIME.finditer(log)}
    return {"wall": wall, "ran": STAGE_RAN.findall(log), "cached": STAGE_CACHED.findall(log),
            "repro": steps.get("Train through the gates (a failed gate fails this step)", 0.0),
            "jobs": {job: result.result(job) for job in ("lint", "test", "gates")}}


def section(cold: dict, warm: dict) -> str:
    machine = f"{platform.machine()}, {platform.python_version()}, {_cores()} cores"
    rows = [
        f"| cold: fresh bake, remote holds only the raw data | {cold['wall']:.0f} s | "
        f"{cold['repro']:.0f} s | {', '.join(cold['ran']) or 'none'} | "
        f"{', '.join(cold['cached']) or 'none'} |",
        f"| warm: same commit again, run cache in the remote | {warm['wall']:.0f} s | "
        f"{warm['repro']:.0f} s | {', '.join(warm['ran']) or 'none'} | "
        f"{', '.join(warm['cached']) or 'none'} |",
    ]
    return "\n".join([
        SECTION, "",
        "`benchmarks/bench_ci.py`: ci.yml (jobs lint, test, gates, one after the other) run",
        "by act 0.2.89 on the runner (`-P ubuntu-latest=-self-hosted`) for a pull request",
        "changing `train.C`, on a fresh bake with the default answers; third-party actions",
        "and `gh` are the local stand-ins of tests/act, the Python environment is prepared",
        f"once (not timed). Machine: {machine}.", "",
        "| run | ci.yml wall time | `make repro` step | stages run | stages restored from run cache |",
        "| --- | --- | --- | --- | --- |", *rows, "",
        "The stages DVC cannot restore from the run cache are those with an uncached",
        "output (`validate`, `evaluate` and `gate` write reports and metrics kept in git),",
        "so the gates, which build and serve the bento, run on every pull request;",
        "`train` never runs twice for the same inputs. The sample model trains in about a",
        "second, so here the run cache saves little; the saving is the training time of a",
        "real model. Each job also re-syncs the environment and installs the checkout.", "",
    ])


def _cores() -> int:
    return os.cpu_count() or 0


def write(text: str) -> None:
    existing = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if SECTION in existing:
        head, _, rest = existing.partition(SECTION)
        following = re.search(r"^## ", rest, re.M)  # the next section, kept
        existing = head + (rest[following.start():] if following else "")
    DOCS.write_text(existing.rstrip() + "\n\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    os.environ.update(GIT_IDENTITY)
    scratch = Path(tempfile.mkdtemp(prefix="bench-ci-"))
    try:
        venv = venv_for_act(scratch)
        repo = seed_repository(scratch, venv)
        cold = timed_run(repo, venv, scratch / "standins-cold")
        warm = timed_run(repo, venv, scratch / "standins-warm")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = section(cold, warm)
    print(text)
    print(f"jobs: cold {cold['jobs']}, warm {warm['jobs']}", file=sys.stderr)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
