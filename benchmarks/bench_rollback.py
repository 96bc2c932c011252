"""Rollback and deploy times on the local target, warm against cold.

Bakes the default project into build/bench-rollback/, trains and deploys v1,
trains and promotes v2, then measures:
  - deploy of a new version (v2: start-up, checks, switch);
  - rollback with v1 warm: from `git revert` to v1 answering through the router;
  - the same rollback with v1 cold (stopped first), the baseline a
    rebuild-free but not-warm rollback would give;
  - where a warm rollback's time goes: the CLI's start (`--help`, against the
    bare interpreter's start as the baseline), `rollback` and `deploy` each,
    and the traffic switch inside `deploy`.
Run: `make bench-rollback` (or .venv/bin/python benchmarks/bench_rollback.py [--json]).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from demo import Stopwatch, Story, free_port, package_of  # noqa: E402

from cookiecutter.main import cookiecutter  # noqa: E402

TEMPLATE = Path(__file__).resolve().parents[1]
WORK = TEMPLATE / "build" / "bench-rollback"


def bake() -> Path:
    subprocess.run(["rm", "-rf", str(WORK)], check=True)
    WORK.mkdir(parents=True)
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(WORK)))


def timed(story: Story, title: str, *command: str) -> float:
    began = time.monotonic()
    story.run(title, *command, quiet=True)
    return time.monotonic() - began


SWITCH = re.compile(r"switched traffic in ([0-9.]+)s")


def start_time(*command: str, runs: int = 9) -> float:
    """Median seconds for `command` to start and exit (cold caches removed by the warm-up)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        began = time.monotonic()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.monotonic() - began)
    return statistics.median(times)


def rollback(story: Story, cli: str, port: int, v1: str) -> dict[str, float]:
    """The two commands on-call types, timed apart and together with v1 answering."""
    stopwatch = Stopwatch(lambda: story.serving(port), v1)
    stopwatch.start()
    revert = timed(story, "revert", cli, "rollback", "production")
    began = time.monotonic()
    printed = story.run("deploy", cli, "deploy", "production", quiet=True)
    deploy = time.monotonic() - began
    stopwatch.join()
    switch = SWITCH.search(printed)
    return {
        "end to end": stopwatch.seconds,
        "rollback command": revert,
        "deploy command": deploy,
        "traffic switch": float(switch.group(1)) if switch else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    project, port = bake(), free_port()
    env = {**os.environ, "DVC_REMOTE_DIR": str(WORK / "dvc-remote"), "DEPLOY_PORT": str(port)}
    story, cli = Story(project, env), str(project / ".venv" / "bin" / package_of(project))
    story.run("setup", "make", "setup", quiet=True)
    story.run("train v1", "make", "repro", quiet=True)
    story.run("commit", "sh", "-c", "git add -A && git commit -qm v1")
    story.run("promote v1", cli, "promote", "production", quiet=True)
    first_deploy = timed(story, "deploy v1", cli, "deploy", "production")
    v1 = story.serving(port)
    story.run("v2 param", "sed", "-i", "s/  C: 1.0/  C: 0.3/", "params.yaml")
    story.run("train v2", "make", "repro", quiet=True)
    story.run("commit", "sh", "-c", "git add -A && git commit -qm v2")
    story.run("promote v2", cli, "promote", "production", quiet=True)
    new_version_deploy = timed(story, "deploy v2", cli, "deploy", "production")
    warm = rollback(story, cli, port, v1)
    # The cold baseline: the same revert, with v1 not running when it lands.
    # Promote v2 again (a revert of the revert is refused: it would re-promote by hand).
    story.run("promote v2 again", cli, "promote", "production", quiet=True)
    timed(story, "deploy v2 again", cli, "deploy", "production")
    state = json.loads((project / ".deploy/production/state.json").read_text())
    os.kill(state["versions"][v1]["pid"], 15)
    time.sleep(3)
    cold = rollback(story, cli, port, v1)
    story.run("stop", cli, "stop", "production", quiet=True)
    python = str(project / ".venv" / "bin" / "python")
    figures = {
        "interpreter start, `python -c pass` (baseline)": start_time(python, "-c", "pass"),
        "CLI start, `--help`": start_time(cli, "--help"),
        "first deploy (router and v1 start)": first_deploy,
        "deploy of a new version (v2)": new_version_deploy,
        "warm rollback: `rollback` command": warm["rollback command"],
        "warm rollback: `deploy` command": warm["deploy command"],
        "warm rollback: traffic switch inside `deploy`": warm["traffic switch"],
        "rollback, previous version warm: revert -> v1 answering": warm["end to end"],
        "rollback, previous version cold (baseline): revert -> v1 answering": cold["end to end"],
    }
    if args.json:
        print(json.dumps({k: round(v, 3) for k, v in figures.items()}, indent=2))
        return
    print(f"\n{platform.python_version()} on {os.cpu_count()} cores\n")
    print("| measurement | seconds |\n| --- | ---: |")
    for name, seconds in figures.items():
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
