"""Drop the files of options not chosen and save the answers.

No network: the answers file records where the template came from and at
which commit, read from the local checkout cookiecutter used.
"""

import json
import shutil
import subprocess
from pathlib import Path

ANSWERS = json.loads(
    r"""{{ cookiecutter | tojson }}"""
)
PROJECT = Path.cwd()

S3_ONLY = ["docs/s3-remote.md"]
HIGH_RISK_ONLY = ["docs/runbooks/approving-a-high-risk-deploy.md"]
# Keys cookiecutter adds at run time that describe this machine, not the project.
MACHINE_KEYS = {"_output_dir", "_repo_dir", "_checkout"}


def remove(paths: list[str]) -> None:
    for relative in paths:
        target = PROJECT / relative
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def remove_s3_files() -> None:
    if ANSWERS["dvc_remote"] != "s3":
        remove(S3_ONLY)


def remove_high_risk_files() -> None:
    if ANSWERS["risk_tier"] != "high":
        remove(HIGH_RISK_ONLY)


def template_commit(repo_dir: str) -> str | None:
    """The template's commit, if cookiecutter ran from a git checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", repo_dir, "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip()


def template_source() -> str:
    template = ANSWERS.get("_template", "")
    if Path(template).expanduser().exists():
        return str(Path(ANSWERS.get("_repo_dir", template)).resolve())
    return template


def write_answers_file() -> None:
    """Write .cruft.json (the format `cruft check` and `cruft update` read).

    `cruft create` writes its own after this hook; plain `cookiecutter` does not,
    so the project always ends up with one. The paths updates skip are in the
    project's pyproject.toml ([tool.cruft]), which cruft reads whichever way
    the project was made; a `skip` here too would be appended to on every
    update (cruft extends this list with pyproject's and saves it).
    """
    context = {k: v for k, v in ANSWERS.items() if k not in MACHINE_KEYS}
    answers = {
        "template": template_source(),
        "commit": template_commit(ANSWERS.get("_repo_dir", "")),
        "checkout": None,
        "context": {"cookiecutter": context},
        "directory": None,
    }
    (PROJECT / ".cruft.json").write_text(json.dumps(answers, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    remove_s3_files()
    remove_high_risk_files()
    write_answers_file()


if __name__ == "__main__":
    main()
