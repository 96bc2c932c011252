"""Commands of the release: the PR report, the image, promotion, rollback, GitHub set-up."""

import click

from {{ cookiecutter.package }}.cli.common import ENVIRONMENT, REPO, project


@click.command("pr-comment")
@click.option(
    "--base",
    envvar="BASE_SHA",
    default="main",
    show_default=True,
    help="Commit or branch to diff metrics and params against.",
)
@click.option(
    "--pr",
    "number",
    envvar="PR_NUMBER",
    default=None,
    help="Pull request number; without it the comment is only printed.",
)
@REPO
@click.option("--repro-outcome", envvar="REPRO_OUTCOME", default="unknown")
def pr_comment(base: str, number: str | None, repo: str | None, repro_outcome: str) -> None:
    """Render the pull request comment; post it, or update the one posted before."""
    from {{ cookiecutter.package }}.release.pr_report import publish

    click.echo(publish(project(), base, number, repo, repro_outcome))


@click.command()
@click.option(
    "--backend",
    envvar="CONTAINER_BACKEND",
    default=None,
    help="docker, buildah or podman: builds and pushes (default: Docker if its daemon "
    "answers, buildah otherwise).",
)
@click.option(
    "--registry",
    envvar="IMAGE_REGISTRY",
    default=None,
    help="Image repository (default: the one chosen when the project was made).",
)
def image(backend: str | None, registry: str | None) -> None:
    """Containerize the bento, push it, print image@sha256 (and write reports/release.json)."""
    import json

    from {{ cookiecutter.package }}.github import write_github_output
    from {{ cookiecutter.package }}.release.image import IMAGE_REGISTRY, release_image

    record = release_image(project(), backend, registry or IMAGE_REGISTRY)
    write_github_output({"image": record["image"], "release": json.dumps(record, sort_keys=True)})
    click.echo(record["image"])


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@click.option(
    "--propose",
    is_flag=True,
    help="Commit on a branch of its own, push it and open (or update) the pull request.",
)
def promote(environment: str, propose: bool) -> None:
    """Commit deploy/ENVIRONMENT.yaml (and its rendered objects) naming the last release.

    The release is reports/release.json from `make image` (RELEASE_JSON in CI);
    without one, the bento of the last trained model, with no image (local target).
    """
    from {{ cookiecutter.package }}.gates.verdict import warn_mode_failures
    from {{ cookiecutter.package }}.release.promotion import promote as promote_version
    from {{ cookiecutter.package }}.release.promotion import version_to_promote

    p = project()
    candidate = version_to_promote(p)
    failed = warn_mode_failures(candidate.gates)
    if failed:
        warning = f"warning: gates failed in warn mode, not blocking: {', '.join(failed)}"
        click.echo(warning, err=True)
    click.echo(promote_version(p, environment, candidate.lineage, candidate.version, propose))


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@click.option(
    "--force",
    is_flag=True,
    help="Revert even a revert, or a commit that changed other files (says what it re-promotes).",
)
@click.option(
    "--propose",
    is_flag=True,
    help="Revert on a branch of its own, push it and open the pull request.",
)
@click.option(
    "--push",
    "push_mode",
    envvar="ROLLBACK_PUSH",
    default="pr",
    show_default=True,
    type=click.Choice(["pr", "direct"]),
    help="With --propose: a pull request, or straight to main "
    "(only where branch protection lets this identity push).",
)
def rollback(environment: str, force: bool, propose: bool, push_mode: str) -> None:
    """Revert the last commit that changed deploy/ENVIRONMENT.yaml (then deploy)."""
    from {{ cookiecutter.package }}.release.rollback import propose_rollback
    from {{ cookiecutter.package }}.release.rollback import rollback as revert

    root = project().root
    if propose:
        click.echo(f"rollback: {propose_rollback(root, environment, force, push_mode == 'direct')}")
        return
    done = revert(root, environment, force)
    if done.warning:
        click.echo(f"WARNING: {done.warning}", err=True)
    click.echo(f"reverted {done.reverted}; run `deploy {environment}` (CI does it on push)")


@click.command("github-setup")
@REPO
@click.option(
    "--team",
    default=None,
    help="Slug of the team (in the owner organisation) that approves deploys.",
)
def github_setup(repo: str | None, team: str | None) -> None:
    """Create or update the deploy environments and their reviewers (idempotent).

    Runs `gh api` as whoever gh is logged in as (`gh auth login`, or GH_TOKEN):
    a repository admin.
    """
    from pathlib import Path

    from {{ cookiecutter.package }}.github import DEFAULT_REPO, DEFAULT_TEAM, setup_environments

    for line in setup_environments(Path.cwd(), repo or DEFAULT_REPO, team or DEFAULT_TEAM):
        click.echo(line, err=line.startswith("WARNING"))


COMMANDS = [pr_comment, image, promote, rollback, github_setup]
