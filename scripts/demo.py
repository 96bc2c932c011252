"""`make demo`: bake a project with the default answers and walk its whole story.

Train on pinned data, pass the gates, deploy v1, promote v2 (v1 kept warm),
roll back by reverting the promotion commit; then send drifted traffic to
production, monitor it, open the alert issue, add late labels, see realized
quality fall and open the retrain pull request (demo_support/observe.py);
print a timeline with the rollback time. Everything happens in build/demo/
(recreated each run): the DVC remote is build/demo/dvc-remote, GitHub is a
recording `gh` in build/demo/bin, the project's origin build/demo/origin.git.
Every step is the command a user types.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
DEMO = TEMPLATE / "build" / "demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Story:
    def __init__(self, project: Path, env: dict[str, str]) -> None:
        self.project, self.env = project, env
        self.start = time.monotonic()
        self.timeline: list[tuple[float, float, str]] = []

    def run(self, title: str, *command: str, quiet: bool = False) -> str:
        print(f"\n=== {title}\n$ {' '.join(command)}", flush=True)
        began = time.monotonic()
        result = subprocess.run(
            command, cwd=self.project, env=self.env, text=True, capture_output=True
        )
        took = time.monotonic() - began
        if not quiet:
            print(result.stdout[-3000:], end="")
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
            sys.exit(f"demo: `{' '.join(command)}` failed after {took:.1f}s")
        self.timeline.append((began - self.start, took, title))
        return result.stdout

    def serving(self, port: int) -> str:
        """Which bento the environment's router answers from."""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.headers["x-bento-tag"]

    def print_timeline(self) -> None:
        print("\n=== Timeline (seconds since start, duration, step)")
        for at, took, title in self.timeline:
            print(f"  +{at:7.1f}  {took:7.2f}  {title}")


def bake() -> Path:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir(parents=True)
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(DEMO)))


def answers(project: Path) -> dict[str, str]:
    context: dict[str, str] = json.loads((project / ".cruft.json").read_text())["context"]
    return context["cookiecutter"]


def package_of(project: Path) -> str:
    return answers(project)["package"]


class Stopwatch(threading.Thread):
    """Polls the router from the moment of the revert until `tag` answers.

    `serving()` names the version the router answers from; `errors` are what it
    raises while the router refuses or answers 502 for a moment.
    """

    def __init__(
        self,
        serving: Callable[[], str],
        tag: str,
        errors: tuple[type[Exception], ...] = (OSError,),
    ) -> None:
        super().__init__(daemon=True)
        self.serving, self.tag, self.errors = serving, tag, errors
        self.began = time.monotonic()
        self.seconds: float | None = None

    def run(self) -> None:
        deadline = self.began + 300
        while time.monotonic() < deadline:
            try:
                if self.serving() == self.tag:
                    self.seconds = time.monotonic() - self.began
                    return
            except self.errors:
                pass
            time.sleep(0.01)


def parse_args() -> argparse.Namespace:
    """Options first: `--help` must answer before anything is removed or baked."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        epilog=f"Writes only under {DEMO.relative_to(TEMPLATE)}/, which it empties first.",
    )
    return parser.parse_args()


def main() -> None:
    parse_args()
    # Here, not at the top: the tests import this module as scripts.demo.
    from demo_support.observe import install_recording_gh, observe

    project = bake()
    port = free_port()
    env = {**os.environ, "DVC_REMOTE_DIR": str(DEMO / "dvc-remote"), "DEPLOY_PORT": str(port)}
    story = Story(project, env)
    cli = str(project / ".venv" / "bin" / package_of(project))
    print(f"baked {project.relative_to(TEMPLATE)} with the default answers")
    story.run("set up: environment from the lock, git, DVC, pinned data", "make", "setup")
    story.run("train v1 through the gates: dvc repro", "make", "repro", quiet=True)
    story.run("the gate table (reports/gate.md)", "cat", "reports/gate.md")
    story.run("the lineage of v1", cli, "lineage")
    story.run("serve the bento, send one prediction", cli, "smoke")
    story.run("commit v1", "sh", "-c", "git add -A && git commit --quiet -m 'Train v1'")
    story.run("promote v1 to production (a manifest commit)", cli, "promote", "production")
    story.run("deploy production: v1 serves", cli, "deploy", "production")
    v1 = story.serving(port)
    story.run(
        "change a param: train.C 1.0 -> 0.3", "sed", "-i", "s/  C: 1.0/  C: 0.3/", "params.yaml"
    )
    story.run("train v2 through the gates", "make", "repro", quiet=True)
    story.run("commit v2", "sh", "-c", "git add -A && git commit --quiet -m 'Train v2, C=0.3'")
    story.run("promote v2 to production", cli, "promote", "production")
    story.run("deploy production: v2 serves, v1 kept warm", cli, "deploy", "production")
    v2 = story.serving(port)
    stopwatch = Stopwatch(lambda: story.serving(port), v1)
    stopwatch.start()
    story.run("roll back: git revert the promotion commit", cli, "rollback", "production")
    story.run("deploy production: the warm v1 takes the traffic", cli, "deploy", "production")
    stopwatch.join()
    repo = f"{answers(project)['github_owner']}/{answers(project)['project']}"
    story.env = install_recording_gh(DEMO, env, repo)
    observe(story, cli, port, package_of(project))
    story.run("stop the local production environment", cli, "stop", "production")
    story.print_timeline()
    print(f"\nv1 {v1}\nv2 {v2}")
    print(f"rollback: {stopwatch.seconds:.2f}s from `git revert` to v1 answering again")
    print(
        f"\nThe project is in {project}, on the branch retrain/production; "
        "`git switch main && dvc checkout` goes back. Its README says what to do next."
    )


if __name__ == "__main__":
    main()
