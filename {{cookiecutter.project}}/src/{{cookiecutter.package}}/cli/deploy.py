"""Commands of the deploy: reconcile, status, plan, smoke, manifests, rendering, stop."""

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import click

from {{ cookiecutter.package }}.cli.common import ENVIRONMENT, project
from {{ cookiecutter.package }}.config import PACKAGE

if TYPE_CHECKING:
    from {{ cookiecutter.package }}.deploy.targets import Target


def target_option(command: Callable[..., None]) -> Callable[..., None]:
    """`--target`: which deploy target (deploy/targets/__init__.py) the command acts on."""
    from {{ cookiecutter.package }}.deploy.targets import TARGETS

    return click.option(
        "--target",
        envvar="DEPLOY_TARGET",
        default="local",
        show_default=True,
        type=click.Choice(list(TARGETS)),
        help="local: this machine (router + bentoml serve); kubernetes: kubectl.",
    )(command)


def on_target(name: str, doing: str, act: Callable[["Target"], Iterable[str]]) -> None:
    """Run `act` on the chosen target and print its lines as they come; one line if it stops."""
    from {{ cookiecutter.package }}.deploy.manifest import ManifestError
    from {{ cookiecutter.package }}.deploy.targets import choose
    from {{ cookiecutter.package }}.shell import CommandFailed

    try:
        for line in act(choose(name, project())):
            click.echo(line)
    # RuntimeError covers DeployError and the local target's Busy (another deploy
    # holds the lock), without importing that target when another one is chosen.
    except (RuntimeError, ManifestError, CommandFailed) as error:
        raise click.ClickException(f"{doing} on the {name} target stopped: {error}") from None


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@target_option
@click.option(
    "--commit",
    "revert_failed_canary",
    is_flag=True,
    help="If the canary fails, revert the manifest commit.",
)
def deploy(environment: str, target: str, revert_failed_canary: bool) -> None:
    """Reconcile ENVIRONMENT to deploy/ENVIRONMENT.yaml on the chosen target."""
    on_target(
        target,
        f"deploy to {environment}",
        lambda chosen: chosen.deploy(environment, revert_failed_canary),
    )


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@target_option
def status(environment: str, target: str) -> None:
    """What runs in ENVIRONMENT on the chosen target, and what takes its traffic."""
    on_target(target, f"status of {environment}", lambda chosen: chosen.status(environment))


@click.command("deploy-plan")
@click.option("--before", envvar="BEFORE", default=None, help="Commit before the push.")
@click.option("--after", envvar="AFTER", default="HEAD", help="Commit the push ends at.")
def deploy_plan(before: str | None, after: str) -> None:
    """Which environments this push changes, and the GitHub environment of each deploy."""
    from {{ cookiecutter.package }}.deploy.plan import plan_outputs
    from {{ cookiecutter.package }}.github import write_github_output

    outputs = plan_outputs(project().root, before, after)
    write_github_output(outputs)
    for key, value in outputs.items():
        click.echo(f"{key}={value}")


@click.command("smoke-deployed")
@click.argument("environment", type=ENVIRONMENT)
@click.option(
    "--url",
    envvar="SERVICE_URL",
    default=None,
    help="Base URL of the deployed service (the environment's SERVICE_URL variable).",
)
def smoke_deployed(environment: str, url: str | None) -> None:
    """Check the deployed service answers and serves the manifest's lineage."""
    from {{ cookiecutter.package }}.deploy.manifest import ManifestError, load_manifest
    from {{ cookiecutter.package }}.serving.smoke import smoke_problem

    if not url:
        raise click.ClickException("no SERVICE_URL: set it as a variable of the GitHub environment")
    try:
        lineage_id = load_manifest(project().manifest(environment)).current.lineage_id
    except ManifestError as error:
        raise click.ClickException(f"smoke check of {environment}: {error}") from None
    problem = smoke_problem(url.rstrip("/"), lineage_id)
    if problem:
        raise click.ClickException(f"smoke check of {environment} at {url}: {problem}")
    click.echo(f"smoke: {environment} at {url} answers and serves {lineage_id}")


@click.command("check-manifests")
def check_manifests() -> None:
    """Validate every deploy/<env>.yaml against the manifest schema."""
    from {{ cookiecutter.package }}.deploy.manifest import check_files

    manifests = sorted(project().deploy_dir.glob("*.yaml"))
    problems = check_files(manifests)
    for problem in problems:
        click.echo(f"ERROR: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(manifests)} manifest(s) valid")


@click.command("render-k8s")
@click.option(
    "--env",
    "environments",
    multiple=True,
    type=ENVIRONMENT,
    help="Environment to render (repeatable). Default: every deploy/<env>.yaml there is.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if deploy/k8s/<env>/ differs from the rendering.",
)
def render_k8s(environments: tuple[str, ...], check: bool) -> None:
    """Render deploy/<env>.yaml into Kubernetes manifests in deploy/k8s/<env>/."""
    from {{ cookiecutter.package }}.deploy.manifest import ManifestError
    from {{ cookiecutter.package }}.deploy.targets.kubernetes_files import (
        found_environments,
        render_environments,
    )
    from {{ cookiecutter.package }}.deploy.targets.kubernetes_settings import RenderError

    p = project()
    chosen = list(dict.fromkeys(environments)) or found_environments(p)
    if not chosen:
        click.echo("no deploy/<env>.yaml yet: nothing to render")
        return
    try:
        lines, stale = render_environments(p, chosen, check)
    except (ManifestError, RenderError) as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line)
    if check and stale:
        raise click.ClickException(f"deploy/k8s/ is stale; run `{PACKAGE} render-k8s`")


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@target_option
def stop(environment: str, target: str) -> None:
    """Stop everything of ENVIRONMENT on the chosen target (locally: the router and every
    version, half-dead ones included)."""
    on_target(target, f"stop of {environment}", lambda chosen: chosen.stop(environment))


COMMANDS = [deploy, status, deploy_plan, smoke_deployed, check_manifests, render_k8s, stop]
