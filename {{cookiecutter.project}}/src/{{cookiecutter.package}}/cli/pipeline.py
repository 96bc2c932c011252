"""Commands of the pipeline: set up, the DVC stages, the model store, the bento, lineage."""

import json
from importlib import import_module

import click

from {{ cookiecutter.package }}.cli.common import ENVIRONMENT, project

STAGES = ("validate", "featurize", "train", "evaluate", "gate")


@click.command("init-repo")
def init_repo() -> None:
    """Prepare git, DVC, the remote and the pinned sample data (idempotent)."""
    from {{ cookiecutter.package }}.bootstrap import SetupError
    from {{ cookiecutter.package }}.bootstrap import init_repo as initialise

    try:
        initialise(project())
    except SetupError as error:
        raise click.ClickException(str(error)) from None


def stage_command(name: str) -> click.Command:
    @click.command(name, help=f"Run the `{name}` stage (dvc.yaml runs this).")
    def command() -> None:
        project()
        import_module(f"{{ cookiecutter.package }}.pipeline.{name}").main()

    return command


@click.command()
def pull() -> None:
    """Fetch the pinned data from the DVC remote (an error naming what is missing and where)."""
    from {{ cookiecutter.package }}.bootstrap import ensure_s3_endpoint
    from {{ cookiecutter.package }}.remote import pull_pinned_data

    root = project().root
    # A CI job's fresh checkout has no .dvc/config.local: an S3-compatible
    # server's endpoint (DVC_S3_ENDPOINT_URL) is set here, before the first pull.
    ensure_s3_endpoint(root)
    click.echo(pull_pinned_data(root))


@click.command()
def register() -> None:
    """Save the trained model and its lineage to the model store (idempotent)."""
    from {{ cookiecutter.package }}.files import read_json
    from {{ cookiecutter.package }}.model_store import register as register_model

    p = project()
    click.echo(register_model(p.model, read_json(p.lineage)))


@click.command()
def bento() -> None:
    """Build the bento for the last trained model (skipped if it exists); print its tag."""
    from {{ cookiecutter.package }}.serving.bento import build_bento

    click.echo(build_bento(project()))


@click.command()
@click.argument("model_tag", required=False)
@click.option("--env", "environment", type=ENVIRONMENT, help="The model serving there.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def lineage(model_tag: str | None, environment: str | None, as_json: bool) -> None:
    """Print what produced a model: by tag, by environment, or the last trained one."""
    from {{ cookiecutter.package }}.deploy.manifest import ManifestError
    from {{ cookiecutter.package }}.lineage import find_lineage, print_table

    try:
        record = find_lineage(project(), model_tag, environment)
    except (LookupError, FileNotFoundError, ManifestError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
    else:
        print_table(record)


@click.command()
def smoke() -> None:
    """Serve the current bento on loopback and run the smoke check against it."""
    from {{ cookiecutter.package }}.files import read_json
    from {{ cookiecutter.package }}.serving.bento import build_bento
    from {{ cookiecutter.package }}.serving.process import served
    from {{ cookiecutter.package }}.serving.smoke import smoke_problem

    p = project()
    tag = build_bento(p)
    with served(tag) as url:
        problem = smoke_problem(url, read_json(p.lineage)["lineage_id"])
    if problem:
        raise click.ClickException(f"smoke check of {tag} failed: {problem}")
    click.echo(f"smoke: {tag} answers and serves its lineage")


COMMANDS = [
    init_repo,
    *(stage_command(name) for name in STAGES),
    pull,
    register,
    bento,
    lineage,
    smoke,
]
