"""What every command shares: the repository's paths, and the environment choice."""

import click

from {{ cookiecutter.package }}.config import ENVIRONMENTS, Paths, paths, use_project_model_store

ENVIRONMENT = click.Choice(ENVIRONMENTS)
# The GitHub repository a command talks to; commands fall back to DEFAULT_REPO.
REPO = click.option(
    "--repo",
    envvar="GITHUB_REPOSITORY",
    default=None,
    help="owner/name (default: the one chosen when the project was made).",
)


def project() -> Paths:
    """The repository's paths, with BentoML's store set to the project's.

    Called inside each command, never by the group: `--help` works anywhere.
    """
    p = paths()
    use_project_model_store(p.root)
    return p
