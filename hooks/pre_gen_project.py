"""Validate the answers before anything is written.

Cookiecutter renders this file with the answers, so each answer is read as a
JSON string literal (``tojson``): quotes, backslashes and newlines in an
answer cannot break the hook itself.
"""

import json
import keyword
import re
import sys

ANSWERS = json.loads(
    r"""{{ cookiecutter | tojson }}"""
)

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z][a-z0-9_]*$")
GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
TEAM_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
S3_URL = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?$")
IMAGE = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$")

SUPPORTED = {
    "python_version": {"3.11", "3.12"},
    "risk_tier": {"low", "high"},
    "dvc_remote": {"local", "s3"},
}

# Import names the generated project depends on; a package named like one of
# them would shadow it and break imports in confusing ways.
DEPENDENCY_IMPORTS = {
    "bentoml", "click", "dvc", "fastapi", "httpx", "joblib", "numpy", "pandas",
    "pandera", "pydantic", "pytest", "rich", "scipy", "sklearn", "yaml",
    "hypothesis", "schemathesis", "uvicorn", "starlette", "test", "tests",
}


def derived_from_project(answers: dict) -> dict[str, str]:
    """The answers cookiecutter.json derives from `project`, as it renders them."""
    project, owner = answers["project"], answers["github_owner"].lower()
    return {
        "package": project.replace("-", "_"),
        "s3_remote_url": f"s3://{owner}-dvc/{project}",
        "image_registry": f"ghcr.io/{owner}/{project}",
    }


def unchecked_answers(answers: dict) -> set[str]:
    """Answers not to check because they only repeat a refused `project`.

    The user typed the project name; the package, bucket and image defaults
    follow from it, so one bad name would otherwise be reported up to four
    times. An answer given explicitly (different from the derived default) is
    still checked.
    """
    if SLUG.match(answers["project"]):
        return set()
    return {key for key, value in derived_from_project(answers).items() if answers[key] == value}


def validate_project(answers: dict) -> list[str]:
    if SLUG.match(answers["project"]):
        return []
    return [
        f"project {answers['project']!r} must be lowercase letters, digits and single dashes, "
        "starting with a letter (no spaces or capitals), e.g. 'fraud-model'"
    ]


def validate_package(answers: dict) -> list[str]:
    errors = []
    package = answers["package"]
    if not PACKAGE.match(package) or keyword.iskeyword(package):
        errors.append(
            f"package {package!r} must be a lowercase Python identifier, e.g. 'fraud_model'"
        )
    elif package in sys.stdlib_module_names or package in DEPENDENCY_IMPORTS:
        errors.append(
            f"package {package!r} would shadow the library of the same name; pick another"
        )
    return errors


def validate_choices(answers: dict) -> list[str]:
    return [
        f"{key} {answers[key]!r} is not supported; choose one of {sorted(allowed)}"
        for key, allowed in SUPPORTED.items()
        if answers[key] not in allowed
    ]


def validate_github(answers: dict) -> list[str]:
    errors = []
    if not GITHUB_NAME.match(answers["github_owner"]):
        errors.append(f"github_owner {answers['github_owner']!r} is not a GitHub account name")
    if not TEAM_SLUG.match(answers["approvers_team"]):
        errors.append(
            f"approvers_team {answers['approvers_team']!r} must be a GitHub team slug, "
            "e.g. 'ml-approvers'"
        )
    return errors


def validate_image(answers: dict) -> list[str]:
    if IMAGE.match(answers["image_registry"]):
        return []
    return [
        f"image_registry {answers['image_registry']!r} must be a lowercase image "
        "repository, e.g. 'ghcr.io/my-org/my-model'"
    ]


def validate_text(answers: dict) -> list[str]:
    errors = []
    for key in ("description", "author"):
        if not answers[key].strip():
            errors.append(f"{key} must not be empty")
        if any(ch in answers[key] for ch in "\r\n"):
            errors.append(f"{key} must be a single line")
    if not EMAIL.match(answers["author_email"]):
        errors.append(f"author_email {answers['author_email']!r} is not an email address")
    return errors


def validate_s3_url(answers: dict) -> list[str]:
    """The URL matters only with an S3 remote: then it must be one."""
    if answers["dvc_remote"] != "s3" or S3_URL.match(answers["s3_remote_url"]):
        return []
    return [
        f"dvc_remote 's3' needs s3_remote_url like 's3://bucket/prefix', "
        f"got {answers['s3_remote_url']!r}"
    ]


# Checks of an answer whose default is derived from `project`.
DERIVED_CHECKS = {
    "package": validate_package,
    "s3_remote_url": validate_s3_url,
    "image_registry": validate_image,
}
OTHER_CHECKS = [validate_choices, validate_github, validate_text]


def validate(answers: dict) -> list[str]:
    skipped = unchecked_answers(answers)
    errors = validate_project(answers)
    for key, check in DERIVED_CHECKS.items():
        if key not in skipped:
            errors += check(answers)
    for check in OTHER_CHECKS:
        errors += check(answers)
    return errors


def main() -> int:
    errors = validate(ANSWERS)
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
