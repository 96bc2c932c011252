"""The pre-generation hook: what it refuses, how it says so, and what it lets through.

Each refused case differs from a set of answers that bakes in exactly one
answer, so the hook must name exactly that one problem. The hook runs as a
child process of cookiecutter and writes to file descriptor 2, so its message
is read with `capfd` (in process) or from the CLI's stderr.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULTS, TEMPLATE
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

# Every prompt answered explicitly, derived ones included (package,
# s3_remote_url, image_registry), so changing one answer changes only it.
VALID: dict[str, str] = {
    "project": "fraud-model",
    "package": "fraud_model",
    "description": "Flags fraudulent card payments.",
    "author": "Risk ML",
    "author_email": "risk-ml@example.com",
    "github_owner": "my-org",
    "approvers_team": "ml-approvers",
    "python_version": DEFAULTS["python_version"][0],
    "risk_tier": DEFAULTS["risk_tier"][0],
    "dvc_remote": DEFAULTS["dvc_remote"][0],
    "s3_remote_url": "s3://my-org-dvc/fraud-model",
    "image_registry": "ghcr.io/my-org/fraud-model",
}
COOKIECUTTER_CLI = Path(sys.executable).parent / "cookiecutter"


def refused(key: str, value: str, says: str) -> Any:
    """A case: this one answer changed, and the start of the error it must get."""
    return pytest.param({key: value}, f"{key} {value!r} {says}", id=f"{key}={value}")


REFUSED_ANSWERS = [
    refused("project", "My Project", "must be lowercase"),
    refused("project", "MyProject", "must be lowercase"),
    refused("project", "my_model", "must be lowercase"),
    refused("project", "1-model", "must be lowercase"),
    refused("package", "1abc", "must be a lowercase Python identifier"),
    refused("package", "my-pkg", "must be a lowercase Python identifier"),
    refused("package", "My_pkg", "must be a lowercase Python identifier"),
    refused("package", "class", "must be a lowercase Python identifier"),
    refused("package", "pandas", "would shadow the library"),
    refused("package", "json", "would shadow the library"),
    refused("package", "sklearn", "would shadow the library"),
    refused("github_owner", "my_org", "is not a GitHub account name"),
    refused("github_owner", "-my-org", "is not a GitHub account name"),
    refused("github_owner", "my org", "is not a GitHub account name"),
    refused("approvers_team", "ML Approvers", "must be a GitHub team slug"),
    refused("approvers_team", "my-org/ml-approvers", "must be a GitHub team slug"),
    refused("author_email", "not-an-email", "is not an email address"),
    refused("author_email", "risk ml@example.com", "is not an email address"),
    refused("author_email", "risk-ml@localhost", "is not an email address"),
    refused("image_registry", "ghcr.io/My-Org/fraud-model", "must be a lowercase image"),
    # A newline would end the string in the TOML and the YAML it is rendered into.
    pytest.param({"description": "line one\nline two"}, "description must be a single line",
                 id="description-newline"),
    pytest.param({"description": "line one\r\nline two"}, "description must be a single line",
                 id="description-crlf"),
    pytest.param({"author": "Risk\nML"}, "author must be a single line", id="author-newline"),
]

S3_NEEDS_URL = "dvc_remote 's3' needs s3_remote_url like 's3://bucket/prefix', got "

# Answers that only work together, both ways round.
SUPPORTED_COMBINATIONS = [
    pytest.param({"dvc_remote": "s3", "s3_remote_url": "s3://my-bucket"}, id="s3-bucket"),
    pytest.param({"dvc_remote": "s3", "s3_remote_url": "s3://my.bucket-01/team/model"},
                 id="s3-bucket-prefix"),
    # The URL is not used with a local remote, so it is not checked.
    pytest.param({"dvc_remote": "local", "s3_remote_url": "not a url"}, id="local-any-url"),
]
UNSUPPORTED_COMBINATIONS = [
    pytest.param({"dvc_remote": "s3", "s3_remote_url": url}, S3_NEEDS_URL + repr(url),
                 id=f"s3-url={url}")
    for url in ["https://my-bucket/data", "my-bucket/data", "s3://", "s3://My_Bucket/data", ""]
]

# Not offered by cookiecutter.json. Cookiecutter itself rejects these as
# `key=value` answers, so the hook meets them only through saved answers
# (a replay file, or a project made from an older template).
UNKNOWN_CHOICES = [
    pytest.param("python_version", "3.9", id="python_version=3.9"),
    pytest.param("risk_tier", "medium", id="risk_tier=medium"),
    pytest.param("dvc_remote", "gcs", id="dvc_remote=gcs"),
]


@pytest.fixture(scope="module")
def user_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A cookiecutter config that keeps replay files and clones out of $HOME."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(yaml.safe_dump({
        "cookiecutters_dir": str(home / "cookiecutters"),
        "replay_dir": str(home / "replay"),
    }))
    return str(config)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ERROR:")]


def refusal(capfd, output_dir: Path, **generate: Any) -> list[str]:
    """Run cookiecutter expecting the hook to refuse; return its ERROR lines."""
    capfd.readouterr()  # start from a clean capture
    with pytest.raises(FailedHookException, match="exit status"):
        cookiecutter(str(TEMPLATE), output_dir=str(output_dir), **generate)
    assert list(output_dir.iterdir()) == [], "a refused bake left files behind"
    return error_lines(capfd.readouterr().err)


def test_valid_answers_cover_every_prompt():
    # If cookiecutter.json gains a prompt, the cases here must answer it too.
    assert set(VALID) == {key for key in DEFAULTS if not key.startswith("_")}


def test_valid_answers_bake(tmp_path, user_config):
    # The baseline every refused case departs from must itself be accepted.
    project = cookiecutter(str(TEMPLATE), no_input=True, extra_context=VALID,
                           output_dir=str(tmp_path), config_file=user_config)
    assert Path(project) == tmp_path / VALID["project"]
    assert (tmp_path / VALID["project"] / "src" / VALID["package"]).is_dir()
    # The answer is where `make image` pushes when IMAGE_REGISTRY is not set (the
    # release workflow sets none); the image tests push to a registry on loopback.
    image_module = Path(project) / "src" / VALID["package"] / "release" / "image.py"
    assert module_constant(image_module, "IMAGE_REGISTRY") == VALID["image_registry"]


def module_constant(module: Path, name: str) -> Any:
    """The literal value a module assigns to `name` at its top level."""
    for node in ast.parse(module.read_text()).body:
        targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if isinstance(node, ast.Assign) and targets == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{module} assigns no {name}")


@pytest.mark.parametrize(("answers", "message"), REFUSED_ANSWERS + UNSUPPORTED_COMBINATIONS)
def test_hook_refuses_with_one_error_naming_the_problem(
    answers, message, tmp_path, capfd, user_config
):
    errors = refusal(capfd, tmp_path, no_input=True, extra_context={**VALID, **answers},
                     config_file=user_config)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"ERROR: {message}"), errors


@pytest.mark.parametrize("answers", SUPPORTED_COMBINATIONS)
def test_supported_combinations_bake(answers, tmp_path, user_config):
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context={**VALID, **answers},
                                output_dir=str(tmp_path), config_file=user_config))
    saved = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert {key: saved[key] for key in answers} == answers


@pytest.mark.parametrize(("key", "value"), UNKNOWN_CHOICES)
def test_hook_refuses_an_unknown_choice_from_saved_answers(
    key, value, tmp_path, capfd, user_config
):
    assert value not in DEFAULTS[key]
    replay = tmp_path / "saved-answers.json"
    replay.write_text(json.dumps({"cookiecutter": {**DEFAULTS, **VALID, key: value}}))
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    errors = refusal(capfd, output_dir, replay=str(replay), config_file=user_config)
    assert errors == [f"ERROR: {key} {value!r} is not supported; choose one of "
                      f"{sorted(DEFAULTS[key])}"]


def cli_bake(output_dir: Path, user_config: str, answers: dict[str, str]):
    """Cookiecutter's command line, as a user runs it."""
    return subprocess.run(
        [str(COOKIECUTTER_CLI), "--no-input", "--config-file", user_config,
         "-o", str(output_dir), str(TEMPLATE),
         *(f"{key}={value}" for key, value in answers.items())],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project": "My Project"}, "project 'My Project' must be lowercase"),
        ({"description": "line one\nline two"}, "description must be a single line"),
    ],
    ids=["project", "newline"],
)
def test_cli_refusal_is_one_error_line_on_stderr(answers, message, tmp_path, user_config):
    result = cli_bake(tmp_path, user_config, {**VALID, **answers})
    errors = error_lines(result.stderr)
    assert result.returncode != 0
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"ERROR: {message}"), result.stderr
    assert list(tmp_path.iterdir()) == []


BAD_PROJECT = "project 'Fraud Model' must be lowercase"
# The hook's refusal, then cookiecutter's own summary line (on stdout).
COOKIECUTTER_STOP = "ERROR: Stopping generation because pre_gen_project hook script"


@pytest.mark.parametrize(
    "answers",
    [
        {"project": "Fraud Model"},
        # Every default derived from the name: the package, the image and,
        # with an S3 remote, the bucket URL (the owner lowercased in both).
        {"project": "Fraud Model", "github_owner": "My-Org", "dvc_remote": "s3"},
    ],
    ids=["defaults", "s3-uppercase-owner"],
)
def test_cli_reports_a_bad_project_name_once_without_traceback(answers, tmp_path, user_config):
    # No package given: it, the image and the S3 URL are derived from the bad
    # name, and reporting them would repeat one mistake three more times.
    result = cli_bake(tmp_path, user_config, answers)
    assert result.returncode != 0
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"ERROR: {BAD_PROJECT}"), result.stderr
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    others = [line for line in error_lines(everything)
              if line not in errors and not line.startswith(COOKIECUTTER_STOP)]
    assert others == [], everything
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"package": "My-pkg"}, "package 'My-pkg' must be a lowercase Python identifier"),
        ({"image_registry": "ghcr.io/My-Org/x"}, "image_registry 'ghcr.io/My-Org/x' must be"),
        ({"dvc_remote": "s3", "s3_remote_url": "bucket"}, "dvc_remote 's3' needs s3_remote_url"),
    ],
    ids=["package", "image_registry", "s3_remote_url"],
)
def test_cli_still_reports_an_explicit_bad_answer_beside_a_bad_project(
    answer, message, tmp_path, user_config
):
    # Only answers derived from the name are left unchecked; one the user typed is not.
    result = cli_bake(tmp_path, user_config, {"project": "Fraud Model", **answer})
    errors = error_lines(result.stderr)
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith(f"ERROR: {BAD_PROJECT}"), result.stderr
    assert errors[1].startswith(f"ERROR: {message}"), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_unknown_choice_before_the_hook(tmp_path, user_config):
    # Cookiecutter checks `key=value` against the choices itself; the answer
    # must still be refused and leave nothing behind.
    result = cli_bake(tmp_path, user_config, {**VALID, "python_version": "3.9"})
    assert result.returncode != 0
    assert "3.9 provided for choice variable python_version" in result.stderr
    assert list(tmp_path.iterdir()) == []
