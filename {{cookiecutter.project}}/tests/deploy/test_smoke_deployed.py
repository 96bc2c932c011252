"""`smoke-deployed`, the check deploy.yml runs after a deploy: bad input is one line."""

from click.testing import CliRunner

from {{ cookiecutter.package }}.cli import cli


def test_a_missing_manifest_is_one_line_not_a_traceback(repo, monkeypatch):
    monkeypatch.chdir(repo.root)  # a repository with no deploy/staging.yaml, whatever this one has
    result = CliRunner().invoke(cli, ["smoke-deployed", "staging", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    assert result.output.startswith("Error: smoke check of staging: ")
    assert "deploy/staging.yaml does not exist" in result.output


def test_no_service_url_says_where_to_set_it(repo):
    result = CliRunner().invoke(cli, ["smoke-deployed", "staging"], env={"SERVICE_URL": ""})
    assert result.exit_code == 1
    assert "no SERVICE_URL: set it as a variable of the GitHub environment" in result.output
