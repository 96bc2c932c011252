"""A tool that fails says which command failed and what it printed; no traceback."""

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.shell import CommandFailed, git, output, run, succeeds


def test_a_failing_command_names_itself_its_exit_code_and_its_output(tmp_path: Path):
    script = "import sys; print('partial'); sys.exit('no such bucket')"
    with pytest.raises(CommandFailed) as failure:
        run(tmp_path, sys.executable, "-c", script)
    message = failure.value.format_message()
    assert "exited 1" in message
    assert "partial" in message and "no such bucket" in message


def test_unchecked_commands_report_instead_of_raising(tmp_path: Path):
    assert run(tmp_path, sys.executable, "-c", "raise SystemExit(3)", check=False).returncode == 3
    assert not succeeds(tmp_path, sys.executable, "-c", "raise SystemExit(3)")
    assert output(tmp_path, sys.executable, "-c", "print('hi')") == "hi\n"
    echo = "import sys; print(sys.stdin.read())"
    assert output(tmp_path, sys.executable, "-c", echo, stdin="piped") == "piped\n"


def test_a_tool_that_is_not_installed_is_named_in_one_line(tmp_path: Path):
    message = r"^`no-such-tool` is not installed \(not found on PATH\)$"
    with pytest.raises(CommandFailed, match=message):
        run(tmp_path, "no-such-tool", "--version")


def test_a_missing_folder_is_not_mistaken_for_a_missing_tool(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        run(tmp_path / "gone", sys.executable, "-c", "pass")


def test_git_outside_a_repository_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CommandFailed, match="not a git repository"):
        git(tmp_path, "rev-parse", "HEAD")


def test_rollback_with_local_edits_stops_with_gits_reason(tmp_path: Path, monkeypatch):
    """`git revert` refuses to overwrite an edited manifest: the user reads why."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "dvc.yaml").write_text("stages: {}\n")
    (repo / "deploy").mkdir()
    manifest = repo / "deploy" / "production.yaml"
    git(repo, "init", "--quiet")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    for content in ("first: 1\n", "second: 2\n"):
        manifest.write_text(content)
        git(repo, "add", "--all")
        git(repo, *identity, "commit", "--quiet", "-m", content)
    manifest.write_text("edited: by hand\n")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, ["rollback", "production"])
    assert result.exit_code == 1
    assert "git revert --no-edit" in result.output
    assert "local changes" in result.output
    assert manifest.read_text() == "edited: by hand\n"  # nothing lost


@pytest.mark.parametrize(
    ("broken", "command", "said"),
    [
        ("params.yaml", ["validate"], "params.yaml is not valid YAML: "),
        ("params.yaml", ["status", "production"], "params.yaml is not valid YAML: "),
        (
            "deploy/staging.yaml",
            ["smoke-deployed", "staging", "--url", "http://127.0.0.1:9"],
            "staging.yaml is not valid YAML",
        ),
    ],
)
def test_a_broken_project_file_is_one_line_naming_it(
    repo, monkeypatch, capsys, broken: str, command: list[str], said: str
):
    """What the installed command prints (cli.main): the file and the place, no traceback."""
    from {{ cookiecutter.package }}.cli import main

    (repo.root / broken).parent.mkdir(exist_ok=True)
    (repo.root / broken).write_text("train: [unclosed\n")
    monkeypatch.chdir(repo.root)
    monkeypatch.setattr(sys, "argv", ["{{ cookiecutter.package }}", *command])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    printed = capsys.readouterr().err
    assert printed.startswith("Error: ") and said in printed, printed
    assert "(line 2, column 1)" in printed
    assert len(printed.strip().splitlines()) == 1, printed
