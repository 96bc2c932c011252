"""The pipeline's commands on this trained project, as `make bento`, `make smoke`
and `lineage` run them: what they print, and the one-line error for a model the
store does not hold."""

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.files import read_json

pytestmark = pytest.mark.slow


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_bento_prints_the_bento_of_the_last_trained_model(bento_tag):
    assert invoke("bento") == (0, f"{bento_tag}\n")


def test_register_again_keeps_the_model_already_stored(project):
    tag = read_json(project.lineage)["model"]["tag"]
    assert invoke("register") == (0, f"{tag}\n")


def test_smoke_serves_the_bento_and_finds_its_lineage(bento_tag):
    code, printed = invoke("smoke")
    assert code == 0, printed
    assert printed == f"smoke: {bento_tag} answers and serves its lineage\n"


def test_lineage_as_json_is_the_last_trained_models(project):
    code, printed = invoke("lineage", "--json")
    assert code == 0, printed
    assert printed.strip().startswith("{")
    assert read_json(project.lineage)["lineage_id"] in printed


def test_lineage_of_a_tag_nobody_trained_is_one_line(project):
    code, printed = invoke("lineage", "{{ cookiecutter.package }}:0000000000000000")
    assert code == 1
    (line,) = printed.strip().splitlines()
    assert "is not in the model store" in line
