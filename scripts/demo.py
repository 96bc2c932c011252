"""`make demo`: bake a project with the default answers and walk its story.

Everything happens in build/demo/ (deleted and recreated each run), with the
DVC remote in build/demo/dvc-remote. Each step is the command a user would
type; the output says what happened and how long it took.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
DEMO = TEMPLATE / "build" / "demo"


class Timeline:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.events: list[tuple[float, float, str]] = []

    def step(self, title: str, command: list[str], cwd: Path, env: dict[str, str]) -> str:
        print(f"\n=== {title}\n$ {' '.join(command)}", flush=True)
        began = time.monotonic()
        result = subprocess.run(command, cwd=cwd, env=env, text=True, capture_output=True)
        took = time.monotonic() - began
        print(result.stdout[-4000:], end="")
        if result.returncode != 0:
            print(result.stderr[-4000:], file=sys.stderr)
            sys.exit(f"demo: `{' '.join(command)}` failed after {took:.1f}s")
        self.events.append((began - self.start, took, title))
        return result.stdout

    def print(self) -> None:
        print("\n=== Timeline")
        for at, took, title in self.events:
            print(f"  +{at:6.1f}s  {took:6.1f}s  {title}")


def bake() -> Path:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir(parents=True)
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(DEMO)))


def main() -> None:
    timeline = Timeline()
    project = bake()
    print(f"baked {project.relative_to(TEMPLATE)} with the default answers")
    env = {**os.environ, "DVC_REMOTE_DIR": str(DEMO / "dvc-remote"), "BENTOML_DO_NOT_TRACK": "true"}
    package = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]["package"]
    cli = str(project / ".venv" / "bin" / package)
    timeline.step("set up: environment, git, DVC, pinned data", ["make", "setup"], project, env)
    timeline.step("train through the gates: dvc repro", ["make", "repro"], project, env)
    timeline.step("the gate table (reports/gate.md)", ["cat", "reports/gate.md"], project, env)
    timeline.step("serve the bento and send one prediction", [cli, "demo-predict"], project, env)
    timeline.print()
    print(f"\nThe project is in {project}; its README says what to do next.")


if __name__ == "__main__":
    main()
