"""The deploy workflow's own commands, as `deploy.yml` runs them: `deploy-plan`,
`check-manifests` and `smoke-deployed`, with what they print and where they stop."""

from {{ cookiecutter.package }}.shell import git


def test_deploy_plan_prints_and_writes_the_step_outputs(repo, promote_seed, command, tmp_path):
    before = git(repo.root, "rev-parse", "HEAD")
    promote_seed("staging", "b")
    outputs = tmp_path / "github-output"
    code, printed = command("deploy-plan", BEFORE=before, GITHUB_OUTPUT=str(outputs))
    assert code == 0, printed
    assert "staging=true" in printed.splitlines()
    assert "production=false" in printed.splitlines()
    assert outputs.read_text().splitlines() == printed.splitlines()


def test_check_manifests_counts_the_valid_ones(promote_seed, command):
    promote_seed("staging", "b")
    promote_seed("production", "a")
    assert command("check-manifests") == (0, "2 manifest(s) valid\n")


def test_check_manifests_names_a_broken_one_and_fails(repo, promote_seed, command):
    promote_seed("staging", "b")
    repo.manifest("production").write_text("current: {}\n")
    code, printed = command("check-manifests")
    assert code == 1
    assert printed.startswith("ERROR: ") and "production.yaml" in printed


def test_smoke_deployed_without_a_url_says_where_to_set_it(promote_seed, command):
    promote_seed("production", "a")
    code, printed = command("smoke-deployed", "production", SERVICE_URL="")
    assert code == 1
    assert "no SERVICE_URL: set it as a variable of the GitHub environment" in printed


def test_smoke_deployed_of_a_broken_manifest_names_the_environment(repo, command):
    repo.manifest("production").parent.mkdir(exist_ok=True)
    repo.manifest("production").write_text("current: {}\n")
    code, printed = command("smoke-deployed", "production", SERVICE_URL="http://127.0.0.1:9")
    assert code == 1
    assert "smoke check of production:" in printed
