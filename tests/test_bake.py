"""Bake every supported combination of choices and check what comes out.

Fast tier: a bake takes a fraction of a second and nothing is installed or run
here; the generated project's own checks run in the pipeline tests.
"""

import ast
import itertools
import json
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULTS, TEMPLATE

PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project}}"

# The choice prompts are the lists in cookiecutter.json; every combination of
# them is supported, so the matrix is their whole product.
CHOICES: dict[str, list[str]] = {
    key: options
    for key, options in DEFAULTS.items()
    if isinstance(options, list) and not key.startswith("_")
}
# Cycled through the matrix, so a name hard-coded where the answer belongs shows up.
PROJECT_NAMES = ["sample-classifier", "fraud-model"]

# The rule post_gen_project.py applies: file -> (answer, value that keeps it).
OPTION_FILES = {
    "docs/s3-remote.md": ("dvc_remote", "s3"),
    "docs/runbooks/approving-a-high-risk-deploy.md": ("risk_tier", "high"),
}
WRITTEN_BY_HOOK = {".cruft.json"}

# What every project must have whatever else is added to the template.
CORE_FILES = [
    ".cruft.json",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Makefile",
    "README.md",
    "data/raw/breast_cancer.csv.dvc",
    "dvc.yaml",
    "params.yaml",
    "pyproject.toml",
    "requirements.in",
    "requirements.lock",
    *(
        f"src/{{package}}/{module}.py"
        for module in ("cli/__init__", "config", "features", "contract", "lineage",
                       "pipeline/validate", "pipeline/featurize", "pipeline/train",
                       "pipeline/evaluate", "pipeline/gate", "gates/__init__",
                       "serving/service", "release/promotion", "release/rollback",
                       "deploy/reconcile", "deploy/targets/local", "deploy/targets/kubernetes")
    ),
    "tests/conftest.py",
    "tests/code/test_contract.py",
    "tests/code/test_features.py",
    "tests/code/test_lineage.py",
    "tests/data/test_contract_on_data.py",
    "tests/model/test_behaviour.py",
]

# A Jinja tag left unrendered. GitHub expressions `${{ ... }}` are the one
# legitimate form of `{{` in a generated file.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")

# Answers that break careless templates: quotes end string literals,
# backslashes start escapes, non-ASCII gets escaped (emoji as surrogate pairs).
HOSTILE_TEXT = {
    "single-quotes": "O'Brien's 'model'",
    "double-quotes": 'The "best" model',
    "triple-quotes": 'Ends a docstring """ early """',
    "backslashes": r"C:\models\new \n is not a newline \\ \"",
    "accents": "Modèle de détection, équipe Zoë",
    "cjk": "中文 分类器",
    "emoji": "Ships with 🚀 and 😀",
    "everything": 'O\'Brien "中文" \\ """ é',
}


def matrix_id(answers: dict[str, str]) -> str:
    """`py3.11-low-local`: the choices, in cookiecutter.json's order."""
    return "-".join(
        f"py{answers[key]}" if key == "python_version" else answers[key] for key in CHOICES
    )


def combinations() -> list[dict[str, str]]:
    names = itertools.cycle(PROJECT_NAMES)
    return [
        {**dict(zip(CHOICES, values)), "project": next(names)}
        for values in itertools.product(*CHOICES.values())
    ]


MATRIX = combinations()


def bake(cookies_session, answers: dict[str, Any]) -> Path:
    result = cookies_session.bake(extra_context=answers, template=str(TEMPLATE))
    assert result.exception is None, f"baking {answers} failed: {result.exception!r}"
    assert result.exit_code == 0
    return result.project_path


def bake_with_file_list(cookies_session, answers: dict[str, Any]) -> tuple[Path, set[str]]:
    """Bake, and the template's file list the bake saw.

    Files are added to the template while others work on it; a list taken
    before and after a bake that agree is the list that bake rendered.
    """
    for _ in range(3):
        before = template_files()
        project = bake(cookies_session, answers)
        if template_files() == before:
            return project, before
    pytest.fail("the template's file list kept changing during the bake")


def baked_files(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


def template_files() -> set[str]:
    return {p.relative_to(PROJECT_TEMPLATE).as_posix()
            for p in PROJECT_TEMPLATE.rglob("*") if p.is_file()}


def expected_files(answers: dict[str, str], template: set[str]) -> set[str]:
    """The template's files, package path rendered, option rule applied, plus the hook's."""
    package = answers["project"].replace("-", "_")
    files = {path.replace("{{cookiecutter.package}}", package) for path in template}
    dropped = {path for path, (key, keep) in OPTION_FILES.items() if answers[key] != keep}
    return (files - dropped) | WRITTEN_BY_HOOK


def text_files(project: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary: nothing to render in it


def leftover_jinja(project: Path) -> list[str]:
    found = [f"{p.relative_to(project)} (name)" for p in project.rglob("*")
             if LEFTOVER_JINJA.search(p.name)]
    for path, text in text_files(project):
        for number, line in enumerate(text.splitlines(), start=1):
            if LEFTOVER_JINJA.search(line):
                found.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    return found


def parse(path: Path, text: str) -> Any:
    """Parse a file by its type; None for types without a parser here."""
    suffix = path.suffix
    if suffix == ".toml":
        return tomllib.loads(text)
    if suffix in {".yaml", ".yml", ".dvc"}:  # .dvc files are YAML, read by DVC
        return list(yaml.safe_load_all(text))
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".py":
        compile(text, str(path), "exec")  # the full compile, not only the parse
        return ast.parse(text)
    return None


PARSE_ERRORS = (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError,
                SyntaxError, ValueError)


def unparseable(project: Path) -> list[str]:
    broken = []
    for path, text in text_files(project):
        try:
            parse(path, text)
        except PARSE_ERRORS as error:
            broken.append(f"{path.relative_to(project)}: {type(error).__name__}: {error}")
    return broken


def strings_in(value: Any) -> Iterator[str]:
    """Every string a parsed document holds (keys, values, Python constants)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, ast.AST):
        for node in ast.walk(value):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def files_using(answer: str) -> list[str]:
    """Template files (package path left as is) that render this answer."""
    uses = re.compile(rf"cookiecutter\.{answer}\b")
    return [
        p.relative_to(PROJECT_TEMPLATE).as_posix()
        for p in PROJECT_TEMPLATE.rglob("*")
        if p.is_file() and uses.search(p.read_text(encoding="utf-8", errors="replace"))
    ]


def values_of(key: str, document: Any) -> Iterator[Any]:
    """Every value stored under this key, at any depth."""
    if isinstance(document, dict):
        for name, value in document.items():
            if name == key:
                yield value
            yield from values_of(key, value)
    elif isinstance(document, list):
        for item in document:
            yield from values_of(key, item)


def template_head() -> str:
    return subprocess.run(
        ["git", "-C", str(TEMPLATE), "rev-parse", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()


@pytest.fixture(scope="module", params=MATRIX, ids=matrix_id)
def baked(request, cookies_session) -> tuple[dict[str, str], Path, set[str]]:
    """One bake per combination, shared by the checks below."""
    project, template = bake_with_file_list(cookies_session, request.param)
    return request.param, project, template


def test_matrix_covers_every_choice():
    # Guards the matrix itself: a choice read wrongly from cookiecutter.json
    # would silently shrink it.
    assert set(CHOICES) == {"python_version", "risk_tier", "dvc_remote"}
    assert len(MATRIX) == len(set(map(matrix_id, MATRIX))) == len(
        list(itertools.product(*CHOICES.values())))
    for key, options in CHOICES.items():
        assert {answers[key] for answers in MATRIX} == set(options)


def test_option_files_exist_in_the_template():
    # Otherwise the option rule below would pass without testing anything.
    for path in OPTION_FILES:
        assert (PROJECT_TEMPLATE / path).is_file(), path


def test_bakes_into_a_directory_named_after_the_project(baked):
    answers, project, _ = baked
    assert project.is_dir()
    assert project.name == answers["project"]


def test_file_list_is_exactly_the_template_with_the_option_rule(baked):
    answers, project, template = baked
    assert baked_files(project) == expected_files(answers, template)


def test_core_files_exist(baked):
    answers, project, _ = baked
    package = answers["project"].replace("-", "_")
    missing = [path for path in (f.format(package=package) for f in CORE_FILES)
               if not (project / path).is_file()]
    assert missing == []


def test_no_leftover_jinja(baked):
    _, project, _ = baked
    assert leftover_jinja(project) == []


def test_every_structured_file_parses(baked):
    _, project, _ = baked
    assert unparseable(project) == []


def test_choices_reach_the_project(baked):
    answers, project, _ = baked
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={answers['python_version']}"
    # Wherever params.yaml keeps the tier, it is the one chosen.
    params = yaml.safe_load((project / "params.yaml").read_text())
    tiers = list(values_of("risk_tier", params))
    assert tiers and set(tiers) == {answers["risk_tier"]}


def test_default_name_does_not_leak(baked):
    # A project named differently must not mention the default name anywhere:
    # that would be a path or import hard-coded in the template.
    answers, project, _ = baked
    if answers["project"] == DEFAULTS["project"]:
        pytest.skip("baked with the default name")
    default_package = DEFAULTS["project"].replace("-", "_")
    leaks = [
        str(path.relative_to(project))
        for path, text in text_files(project)
        if DEFAULTS["project"] in text or default_package in text
    ]
    assert leaks == []


def test_cruft_json_records_answers_template_and_commit(baked):
    answers, project, _ = baked
    cruft = json.loads((project / ".cruft.json").read_text())
    context = cruft["context"]["cookiecutter"]
    for key, value in answers.items():
        assert context[key] == value, key
    # Every prompt is saved, so `cruft update` can replay them without asking.
    prompts = {key for key in DEFAULTS if not key.startswith("_")}
    assert prompts <= set(context)
    assert context["package"] == answers["project"].replace("-", "_")
    assert cruft["template"] == str(TEMPLATE)
    assert cruft["commit"] == template_head()
    # Paths of the machine that baked it would make every update a diff.
    assert not {"_output_dir", "_repo_dir", "_checkout"} & set(context)


@pytest.fixture(scope="module", params=list(HOSTILE_TEXT.items()), ids=list(HOSTILE_TEXT))
def hostile(request, cookies_session) -> tuple[str, Path]:
    _, text = request.param
    answers = {"description": text, "author": f"{text} team"}
    return text, bake(cookies_session, answers)


def test_hostile_text_keeps_every_file_valid(hostile):
    _, project = hostile
    assert unparseable(project) == []
    assert leftover_jinja(project) == []


def test_hostile_text_preserved_in_pyproject(hostile):
    text, project = hostile
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == text
    assert pyproject["project"]["authors"][0]["name"] == f"{text} team"


def test_hostile_text_preserved_in_answers_file(hostile):
    text, project = hostile
    context = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert (context["description"], context["author"]) == (text, f"{text} team")


@pytest.mark.parametrize("answer", ["description", "author"])
def test_hostile_text_preserved_wherever_it_is_rendered(hostile, answer):
    # Every file that renders the answer must give it back exactly once parsed
    # (a string in the TOML/YAML/JSON, a constant in the Python), or verbatim
    # in any other text.
    text, project = hostile
    value = text if answer == "description" else f"{text} team"
    package = DEFAULTS["project"].replace("-", "_")
    using = files_using(answer)
    assert using, f"no template file renders {answer}"
    lost = []
    for relative in using:
        path = project / relative.replace("{{cookiecutter.package}}", package)
        if relative in OPTION_FILES and not path.exists():
            continue  # dropped for these answers by the option rule
        source = path.read_text(encoding="utf-8")
        try:
            parsed = parse(path, source)
        except PARSE_ERRORS as error:
            lost.append(f"{relative}: does not parse: {error}")
            continue
        found = strings_in(parsed) if parsed is not None else [source]
        if not any(value in string for string in found):
            lost.append(relative)
    assert lost == []
