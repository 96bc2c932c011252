"""A project made from one template commit updates cleanly to the next.

The template is copied into a temporary git repository so the test owns two
real commits of it: the project is created from the first (with `cruft
create`, or with plain `cookiecutter`, whose post-gen hook writes the
.cruft.json), committed untouched, and `cruft update` brings it to the second,
which changed a generated file and a file the project owns (params.yaml).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEFAULTS, TEMPLATE, run

BIN = Path(sys.executable).parent
PROJECT = DEFAULTS["project"]
README_LINE = "A line the newer template adds."
PARAMS_LINE = "added_by_the_newer_template: 1"


def copy_template(destination: Path) -> Path:
    """The template's files as they are on disk (tracked and new, not ignored), in a new repo."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                 TEMPLATE).stdout.split("\0")
    for relative in filter(None, listed):
        source = TEMPLATE / relative
        if source.is_file():  # a tracked file deleted in the work tree is not part of it
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    commit_everything(destination, "template, first commit")
    return destination


def commit_everything(repo: Path, message: str) -> str:
    if not (repo / ".git").exists():
        run(["git", "init", "--quiet", "--initial-branch=main"], repo)
    run(["git", "add", "--all"], repo)
    run(["git", "commit", "--quiet", "-m", message], repo)
    return run(["git", "rev-parse", "HEAD"], repo).stdout.strip()


def create(how: str, template: Path, output_dir: Path, config: Path) -> Path:
    """Create the default project the way a user would, with either tool."""
    if how == "cruft":
        command = [str(BIN / "cruft"), "create", "--no-input", "--config-file", str(config),
                   "--output-dir", str(output_dir), str(template)]
    else:
        command = [str(BIN / "cookiecutter"), "--no-input", "--config-file", str(config),
                   "-o", str(output_dir), str(template)]
    run(command, output_dir)
    return output_dir / PROJECT


def change_template(template: Path) -> str:
    generated = template / "{{cookiecutter.project}}"
    with (generated / "README.md").open("a") as readme:
        readme.write(f"\n{README_LINE}\n")
    with (generated / "params.yaml").open("a") as params:
        params.write(f"{PARAMS_LINE}\n")
    return commit_everything(template, "template, second commit")


def cruft(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([str(BIN / "cruft"), *args], project, check=check)


@pytest.mark.parametrize("how", ["cruft", "cookiecutter"])
def test_update_to_the_next_template_commit_applies_cleanly(how, tmp_path):
    template = copy_template(tmp_path / "template")
    (tmp_path / "out").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(f"replay_dir: {tmp_path / 'replay'}\n")
    project = create(how, template, tmp_path / "out", config)
    commit_everything(project, "Bake")
    params_before = (project / "params.yaml").read_bytes()

    head = change_template(template)
    assert cruft(project, "check", check=False).returncode != 0, "one commit behind"
    update = cruft(project, "update", "-y")

    assert sorted(p.name for p in project.rglob("*.rej")) == [], update.stdout + update.stderr
    assert "Failed to apply" not in update.stdout + update.stderr
    assert (project / "params.yaml").read_bytes() == params_before  # skipped: it is the user's
    assert README_LINE in (project / "README.md").read_text()
    assert json.loads((project / ".cruft.json").read_text())["commit"] == head
    cruft(project, "check")
    changed = run(["git", "status", "--porcelain"], project).stdout.split("\n")
    assert sorted(line[3:] for line in changed if line) == [".cruft.json", "README.md"]
