"""The `{{ cookiecutter.package }}` command: pipeline stages and operations."""

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from {{ cookiecutter.package }}.config import PACKAGE, paths, use_project_model_store


@click.group(help="{{ cookiecutter.project }}: train, gate and release the model.")
def cli() -> None:
    use_project_model_store(paths().root)


@cli.command("init-repo")
def init_repo_command() -> None:
    """Prepare git, DVC, the remote and the pinned sample data (idempotent)."""
    from {{ cookiecutter.package }}.bootstrap import SetupError, init_repo

    try:
        init_repo(paths())
    except SetupError as error:
        raise click.ClickException(str(error)) from None


def _stage(name: str) -> None:
    @cli.command(name, help=f"Run the `{name}` stage (dvc.yaml runs this).")
    def command() -> None:
        module = __import__(f"{PACKAGE}.{name}", fromlist=["main"])
        module.main()


for _name in ("validate", "featurize", "train", "evaluate", "gate"):
    _stage(_name)


@cli.command()
def register() -> None:
    """Save the trained model and its lineage to the model store (idempotent)."""
    from {{ cookiecutter.package }}.io import read_json
    from {{ cookiecutter.package }}.registry import register as register_model

    p = paths()
    tag = register_model(p.model, read_json(p.lineage))
    click.echo(tag)


@cli.command()
def bento() -> None:
    """Build the bento for the last trained model (skipped if it exists); print its tag."""
    from {{ cookiecutter.package }}.bento import build_bento

    click.echo(build_bento(paths()))


def _lineage_for(model_tag: str | None) -> dict:
    from {{ cookiecutter.package }}.io import read_json
    from {{ cookiecutter.package }}.registry import stored_lineage

    if model_tag:
        return stored_lineage(model_tag)
    return read_json(paths().lineage)


def _print_table(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("field", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    Console(width=120).print(table)


@cli.command()
@click.argument("model_tag", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def lineage(model_tag: str | None, as_json: bool) -> None:
    """Print what produced a model (default: the one the pipeline last trained)."""
    from {{ cookiecutter.package }}.lineage import flatten

    try:
        record = _lineage_for(model_tag)
    except (LookupError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
        return
    _print_table(f"lineage of {record['model']['tag']}", flatten(record))


def main() -> None:
    try:
        cli(standalone_mode=True)
    except FileNotFoundError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
