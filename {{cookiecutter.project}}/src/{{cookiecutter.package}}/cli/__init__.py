"""The `{{ cookiecutter.package }}` command: pipeline stages and operations.

Every command imports what it needs when it runs, so `--help` and a rollback
start at once. The commands live beside this file, one module per part of
the lifecycle; each is a thin layer over the function that owns the operation.
"""

import sys

import click

from {{ cookiecutter.package }}.cli import alerts, batch, deploy, monitor, pipeline, release
from {{ cookiecutter.package }}.config import ProjectFileError


@click.group(help="{{ cookiecutter.project }}: train, gate, release, deploy and roll back the model.")
def cli() -> None:
    pass


for _part in (pipeline, batch, release, deploy, monitor, alerts):
    for _command in _part.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except (FileNotFoundError, ProjectFileError) as error:
        # A missing or broken project file (params.yaml, a manifest, ...): one line
        # naming it, from whichever command read it.
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
