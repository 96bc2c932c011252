"""What every command shares: the repository's paths, and the environment choice."""

import click

from {{ cookiecutter.package }}.config import ENVIRONMENTS, Paths, paths, use_project_model_store

ENVIRONMENT = click.Choice(ENVIRONMENTS)


def project() -> Paths:
    """The repository's paths, with BentoML's store set to the project's.

    Called inside each command, never by the group: `--help` works anywhere.
    """
    p = paths()
    use_project_model_store(p.root)
    return p
