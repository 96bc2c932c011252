"""Every shell block of every runbook runs, so a runbook cannot rot.

Each runbook's ```bash blocks run in order, with bash, in a repository whose
production manifest was promoted twice (fake versions: nothing is trained),
with a bare repository as `origin` and a stand-in for `gh` on PATH that
records its calls and refuses what GitHub's CLI refuses. A block that needs a
running deploy is marked `<!-- needs: serving -->` just above it, and skipped.
"""

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package }}.config import PACKAGE, Paths
from {{ cookiecutter.package }}.release.promotion import candidate_version, promote
from {{ cookiecutter.package }}.shell import git

RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
BLOCK = re.compile(
    r"^(?:[ \t]*<!-- needs: (?P<needs>[\w-]+) -->\n)?"  # the optional marker line
    r"(?P<indent>[ \t]*)```bash\n(?P<body>.*?)^(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)
# What a marked block may need; anything else is a typo that would skip silently.
NEEDS = {"serving": "needs a deployed service on this machine"}
# GitHub's CLI refuses `gh pr create` on the base branch without --head.
GH_STANDIN = """#!/bin/sh
printf '%s\\n' "$*" >> "$GH_CALLS"
case "$1 $2" in
  "pr list") echo '[]' ;;
  "pr create")
    case " $* " in *" --head "*) ;; *)
      if [ "$(git branch --show-current)" = main ]; then
        echo 'must be on a branch named differently than "main"' >&2; exit 1
      fi ;;
    esac
    echo "https://github.com/owner/repo/pull/1" ;;
  *) echo "gh stand-in: unsupported: $*" >&2; exit 1 ;;
esac
"""


@dataclass
class Block:
    runbook: str
    line: int
    body: str
    needs: str | None


def blocks(runbook: Path) -> list[Block]:
    text = runbook.read_text()
    return [
        Block(runbook.name, line_of(text, m.start()), textwrap.dedent(m["body"]), m["needs"])
        for m in BLOCK.finditer(text)
    ]


def line_of(text: str, offset: int) -> int:
    return text[:offset].count("\n") + 1


def executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def fake_venv(root: Path) -> None:
    """`.venv/bin/<tool>` as the runbooks call them, running this test's environment."""
    tools = {PACKAGE: f"'{sys.executable}' -m {PACKAGE}", "python": f"'{sys.executable}'"}
    tools["dvc"] = f"'{sys.executable}' -m dvc"
    for name, command in tools.items():
        executable(root / ".venv" / "bin" / name, f'#!/bin/sh\nexec {command} "$@"\n')


def trained(n: int, commit: str) -> dict[str, Any]:
    """A lineage record with what promotion and `lineage` read; n (1-9) names the version."""
    return {
        "lineage_id": str(n) * 16,
        "model": {"tag": f"model:{str(n) * 16}"},
        "metrics": {"model": {"roc_auc": 0.9 + n / 100}},
        "code": {"commit": commit, "dirty": False},
        "risk_tier": "low",
    }


def promoted_twice(root: Path) -> None:
    """main with two promotions of production, pushed to a bare origin."""
    from dvc.repo import Repo

    origin = root.parent / "origin.git"
    git(root.parent, "init", "--quiet", "--bare", str(origin))
    git(root, "init", "--quiet", "--initial-branch", "main")
    Repo.init(str(root)).close()
    git(root, "remote", "add", "origin", str(origin))
    (root / "dvc.yaml").write_text("stages: {}\n")
    (root / "params.yaml").write_text("gate: {risk_tier: low}\n")
    (root / ".gitignore").write_text(".venv/\n")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "project")
    commit = git(root, "rev-parse", "HEAD")
    for n in (1, 2):
        lineage = trained(n, commit)
        image = f"registry.example/svc@sha256:{n:064x}"
        version = candidate_version(lineage, f"svc:{str(n) * 16}", image)
        promote(Paths(root), "production", lineage, version, proposal=False)
    git(root, "push", "--quiet", "--set-upstream", "origin", "main")


@pytest.fixture
def repository(tmp_path: Path, monkeypatch) -> tuple[Path, dict[str, str]]:
    identity = {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "on-call"), ("EMAIL", "on-call@example.com"))
    }
    for key, value in identity.items():
        monkeypatch.setenv(key, value)
    root = tmp_path / "repo"
    root.mkdir()
    promoted_twice(root)
    fake_venv(root)
    executable(tmp_path / "bin" / "gh", GH_STANDIN)
    # An on-call engineer's shell, not a workflow run (where gh lends git its token).
    shell = {key: value for key, value in os.environ.items() if key != "GITHUB_ACTIONS"}
    env = {
        **shell,
        **identity,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GH_CALLS": str(tmp_path / "gh-calls.txt"),
        "BENTOML_HOME": str(tmp_path / "bentoml"),  # a fresh clone's empty store
    }
    return root, env


def run_block(block: Block, root: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.body],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{block.runbook}:{block.line} failed ({result.returncode}):\n{block.body}\n"
        f"{result.stdout}\n{result.stderr}"
    )


def rolled_back_through_a_pull_request(root: Path, env: dict[str, str]) -> None:
    branches = git(root.parent / "origin.git", "branch", "--list", "rollback/production-*")
    assert branches, "no rollback branch was pushed"
    calls = Path(env["GH_CALLS"]).read_text()
    assert "pr create --base main --head rollback/production-" in calls
    first = git(root, "rev-list", "--max-parents=0", "HEAD")
    served = json.loads((root / "deploy" / "lineage" / "production.json").read_text())
    assert served == trained(1, first)


# What a runbook's blocks must have done, beyond exiting 0.
OUTCOMES = {"rollback.md": rolled_back_through_a_pull_request}


@pytest.mark.parametrize("runbook", sorted(RUNBOOKS.glob("*.md")), ids=lambda p: p.stem)
def test_every_shell_block_of_the_runbook_runs(runbook: Path, repository):
    root, env = repository
    found = blocks(runbook)
    runnable = [block for block in found if block.needs is None]
    for block in runnable:
        run_block(block, root, env)
    if runbook.name in OUTCOMES:
        OUTCOMES[runbook.name](root, env)
    if not runnable:
        reasons = sorted({NEEDS[b.needs] for b in found if b.needs} or {"no shell block"})
        pytest.skip(f"{runbook.name}: {'; '.join(reasons)}")


def test_the_stand_in_refuses_what_gh_refuses(tmp_path: Path):
    """The old step 2 (`gh pr create --fill` on main) must fail here as it does on GitHub."""
    root = tmp_path / "repo"
    git(tmp_path, "init", "--quiet", "--initial-branch", "main", str(root))
    executable(tmp_path / "bin" / "gh", GH_STANDIN)
    path = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "GH_CALLS": str(tmp_path / "calls")}
    old = Block("rollback.md", 0, "gh pr create --fill\n", None)
    with pytest.raises(AssertionError, match="must be on a branch named differently"):
        run_block(old, root, env)


def test_marked_blocks_name_a_known_need_and_stay_few():
    found = [block for runbook in RUNBOOKS.glob("*.md") for block in blocks(runbook)]
    marked = [block for block in found if block.needs]
    assert {block.needs for block in marked} <= set(NEEDS)
    assert len(marked) < len(found) - len(marked), "most runbook blocks must run in the tests"
