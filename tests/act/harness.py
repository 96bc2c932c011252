"""Run a generated project's workflows under act, offline, and read what they did.

- GitHub is played by a bare repository (the origin the checkout stand-in
  clones and the workflows push to) and by the recording `gh` in bin/.
- Third-party actions are replaced by the stand-ins in actions/<owner>/<name>,
  mapped with --local-repository to the exact SHA each workflow pins.
- Jobs run on this machine (-P ubuntu-latest=-self-hosted), one at a time
  (they share one Python environment), each from an empty workspace
  (--no-skip-checkout), like a fresh GitHub runner.

act ignores `on.<event>.paths` filters (it runs every workflow listening to
the event): `triggered` applies them the way GitHub does, to the same files.
"""

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ACTIONS = HERE / "actions"
BIN = HERE / "bin"
ACT = Path(sys.executable).with_name("act")
USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")
# With --log-prefix-job-id every line starts with `[<job id>]`.
JOB_LINE = re.compile(r"^\[(?P<job>[\w-]+)\]\s+(?P<text>.*)$", re.M)
OUTPUT_LINE = re.compile(r"::set-output::\s*(?P<key>[\w-]+)=(?P<value>.*)$")


# --- which workflows an event starts (GitHub's filters, which act skips) ---------------


def glob_regex(pattern: str) -> re.Pattern:
    """GitHub filter pattern: `**` crosses `/`, `*` and `?` do not."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def matches(patterns: list[str], name: str) -> bool:
    """The last matching pattern wins; a `!` pattern excludes."""
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if glob_regex(pattern.lstrip("!")).match(name):
            verdict = not negated
    return verdict


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML reads the key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {event: {} for event in on}
    return {event: (spec or {}) for event, spec in on.items()}


def triggered(workflow_file: Path, event: str, branch: str, changed: list[str]) -> bool:
    """Would GitHub start this workflow for `event` on `branch` changing `changed`?"""
    spec = triggers(yaml.safe_load(workflow_file.read_text())).get(event)
    if spec is None:
        return False
    if "branches" in spec and not matches(spec["branches"], branch):
        return False
    if "paths" in spec and not any(matches(spec["paths"], path) for path in changed):
        return False
    if "paths-ignore" in spec and all(matches(spec["paths-ignore"], p) for p in changed):
        return False
    return True


# --- the repository GitHub would hold -------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout.strip()


@dataclass
class GitHubRepo:
    """A bare origin (what GitHub holds) and a working clone (a developer's)."""

    origin: Path
    work: Path
    full_name: str

    @classmethod
    def from_bare(cls, bare: Path, root: Path, full_name: str) -> "GitHubRepo":
        origin, work = root / "origin.git", root / "work"
        root.mkdir(parents=True, exist_ok=True)
        git(root, "clone", "--quiet", "--bare", str(bare), str(origin))
        git(root, "clone", "--quiet", str(origin), str(work))
        # act derives github.repository from the origin URL; pushes go to the bare one.
        git(work, "remote", "set-url", "origin", f"https://github.com/{full_name}.git")
        git(work, "remote", "set-url", "--push", "origin", str(origin))
        return cls(origin, work, full_name)

    def head(self, ref: str = "HEAD") -> str:
        return git(self.work, "rev-parse", ref)

    def origin_head(self, ref: str) -> str:
        return git(self.origin, "rev-parse", ref)

    def commit(self, message: str, *paths: str) -> str:
        git(self.work, "add", "--", *paths)
        git(self.work, "commit", "--quiet", "--no-verify", "-m", message)
        return self.head()

    def push(self, branch: str) -> None:
        git(self.work, "push", "--quiet", "--force", str(self.origin), f"HEAD:refs/heads/{branch}")

    def changed(self, before: str, after: str) -> list[str]:
        return git(self.work, "diff", "--name-only", before, after).splitlines()

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace the one `old` in the working clone's file (a person's edit)."""
        path = self.work / relative
        text = path.read_text()
        assert text.count(old) == 1, f"expected one {old!r} in {relative}"
        path.write_text(text.replace(old, new))

    def repository(self) -> dict[str, Any]:
        owner, name = self.full_name.split("/")
        return {"full_name": self.full_name, "name": name, "owner": {"login": owner},
                "default_branch": "main"}

    def push_event(self, before: str, after: str, branch: str = "main") -> dict[str, Any]:
        return {"ref": f"refs/heads/{branch}", "before": before, "after": after,
                "repository": self.repository(), "head_commit": {"id": after},
                "pusher": {"name": "tests"}}

    def pull_request_event(self, number: int, head_branch: str) -> dict[str, Any]:
        repo = self.repository()
        pull = {"number": number, "state": "open",
                "head": {"ref": head_branch, "sha": self.head(), "repo": repo},
                "base": {"ref": "main", "sha": self.origin_head("main"), "repo": repo}}
        return {"action": "synchronize", "number": number, "pull_request": pull,
                "repository": repo}

    def dispatch_event(self, inputs: dict[str, str]) -> dict[str, Any]:
        return {"ref": "refs/heads/main", "inputs": inputs, "repository": self.repository()}


# --- running act ----------------------------------------------------------------------


def gh_holds_comment(standins: Path, issue: int, comment: dict[str, Any]) -> None:
    """Before a run: the gh stand-in (bin/gh) already holds `comment` on `issue`, as
    GitHub would after an earlier run."""
    state = {"next_id": comment["id"] + 1, "comments": {str(issue): [comment]},
             "pulls": [], "issues": []}
    (standins / "gh").mkdir(parents=True, exist_ok=True)
    (standins / "gh" / "state.json").write_text(json.dumps(state))


@dataclass
class ActRun:
    returncode: int
    output: str
    standins: Path

    def lines(self, job: str) -> list[str]:
        return [m["text"] for m in JOB_LINE.finditer(self.output) if m["job"] == job]

    def log(self, job: str) -> str:
        return "\n".join(self.lines(job))

    def result(self, job: str) -> str | None:
        """'succeeded', 'failed', or None if the job never ran."""
        for text in self.lines(job):
            if "Job succeeded" in text:
                return "succeeded"
            if "Job failed" in text:
                return "failed"
        return None

    def outputs(self, job: str) -> dict[str, str]:
        found = {}
        for text in self.lines(job):
            match = OUTPUT_LINE.search(text)
            if match:
                found[match["key"]] = match["value"].strip()
        return found

    def gh_calls(self) -> list[dict[str, Any]]:
        return read_jsonl(self.standins / "gh" / "calls.jsonl")

    def gh_state(self) -> dict[str, Any]:
        state = self.standins / "gh" / "state.json"
        return json.loads(state.read_text()) if state.exists() else {"comments": {}, "pulls": []}

    def comments(self, issue: int) -> list[dict[str, Any]]:
        """The comments the gh stand-in holds on issue or pull request `issue`."""
        return self.gh_state()["comments"].get(str(issue), [])

    def api_calls(self, method: str) -> list[dict[str, Any]]:
        """The `gh api` calls made with `method` (GET when none is given)."""
        return [c for c in self.gh_calls() if c["argv"][:1] == ["api"]
                and (c["argv"][c["argv"].index("--method") + 1] if "--method" in c["argv"]
                     else "GET") == method]

    def action_calls(self) -> list[dict[str, Any]]:
        return read_jsonl(self.standins / "actions.jsonl")

    def explain(self) -> str:
        return f"act exited {self.returncode}; its log:\n{self.output[-15000:]}"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def local_repositories(workflow: Path) -> list[str]:
    """--local-repository owner/name@sha=stand-in, for each action the workflow pins."""
    args = []
    for action, sha in sorted(set(USES.findall(workflow.read_text()))):
        stand_in = ACTIONS / action
        if not (stand_in / "action.yml").exists():
            raise AssertionError(f"{workflow.name} uses {action}, which has no stand-in "
                                 f"under {ACTIONS.relative_to(HERE.parent)}")
        args += ["--local-repository", f"{action}@{sha}={stand_in}"]
    return args


def run_act(repo: GitHubRepo, event: str, payload: dict[str, Any], workflow: str,
            venv: Path, standins: Path, *act_args: str, extra_env: dict[str, str] | None = None,
            tools: Path | None = None, timeout: float = 1500) -> ActRun:
    """Run one workflow file of `repo.work` on `event` (act_args: e.g. `-j <job>`).

    `tools`: a folder of stand-ins the jobs find on PATH before this machine's
    own commands (after bin/). Stops by itself: act and everything it started
    are killed after `timeout`.
    """
    standins.mkdir(parents=True, exist_ok=True)
    event_file = standins / f"{event}.json"
    event_file.write_text(json.dumps(payload))
    path = repo.work / ".github" / "workflows" / workflow
    env_vars = {
        "VENV": str(venv),
        "ACT_ORIGIN": str(repo.origin),
        "ACT_STANDIN_LOG": str(standins / "actions.jsonl"),
        # Where the upload-artifact stand-in keeps a run's artifacts for download-artifact.
        "ACT_ARTIFACT_DIR": str(standins / "artifacts"),
        "GH_STANDIN_DIR": str(standins / "gh"),
        **(extra_env or {}),
    }
    command = [
        str(ACT), event, "-W", str(path), "-e", str(event_file),
        "-P", "ubuntu-latest=-self-hosted", "--no-skip-checkout", "--concurrent-jobs", "1",
        "--log-prefix-job-id", "--no-cache-server", *local_repositories(path),
        # The variable deploy.yml reads for the environment its jobs install into.
        "--var", f"DEPLOY_VENV={venv}", *act_args,
    ]
    for key, value in env_vars.items():
        command += ["--env", f"{key}={value}"]
    # act checks jobs out under $XDG_CACHE_HOME/act: by default ~/.cache, a hidden
    # folder, where BentoML refuses the bento's setup script ("hidden files").
    environment = {**os.environ, **env_vars, "XDG_CACHE_HOME": str(standins / "cache"),
                   "PATH": os.pathsep.join(
                       [str(BIN), *([str(tools)] if tools else []), os.environ["PATH"]])}
    process = subprocess.Popen(command, cwd=repo.work, env=environment, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"act ran over {timeout}s and was stopped:\n{output[-8000:]}")
    (standins / f"act-{workflow}.log").write_text(output)
    # Kept beside the stand-ins' records: the whole log of every run, to read after a failure.
    with (standins / "act.log").open("a") as log:
        log.write(f"=== act {event} {workflow} {' '.join(act_args)}\n{output}\n")
    return ActRun(process.returncode, output, standins)
