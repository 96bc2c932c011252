"""The `{{ cookiecutter.package }}` command: pipeline stages and operations."""

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from {{ cookiecutter.package }} import k8s
from {{ cookiecutter.package }}.config import PACKAGE, paths, use_project_model_store
from {{ cookiecutter.package }}.manifest import ENVIRONMENTS


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


def _lineage_for(model_tag: str | None, environment: str | None) -> dict:
    from {{ cookiecutter.package }}.io import read_json
    from {{ cookiecutter.package }}.manifest import load_manifest, manifest_path
    from {{ cookiecutter.package }}.registry import stored_lineage

    if environment:
        manifest = load_manifest(manifest_path(paths().deploy_dir, environment))
        model_tag = manifest.current.model_tag
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


ENVIRONMENT = click.Choice(ENVIRONMENTS)


@cli.command()
@click.argument("model_tag", required=False)
@click.option("--env", "environment", type=ENVIRONMENT, help="The model serving there.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def lineage(model_tag: str | None, environment: str | None, as_json: bool) -> None:
    """Print what produced a model: by tag, by environment, or the last trained one."""
    from {{ cookiecutter.package }}.lineage import flatten
    from {{ cookiecutter.package }}.manifest import ManifestError

    try:
        record = _lineage_for(model_tag, environment)
    except (LookupError, FileNotFoundError, ManifestError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(record, indent=2, sort_keys=True))
        return
    _print_table(f"lineage of {record['model']['tag']}", flatten(record))


@cli.command()
def smoke() -> None:
    """Serve the current bento on loopback and send it one evaluation row."""
    import httpx

    from {{ cookiecutter.package }}.bento import build_bento
    from {{ cookiecutter.package }}.contract import load_contract
    from {{ cookiecutter.package }}.io import read_csv
    from {{ cookiecutter.package }}.serving import served

    p = paths()
    tag = build_bento(p)
    record = read_csv(p.eval_raw)[load_contract().feature_names].iloc[0].to_dict()
    with served(tag) as url:
        response = httpx.post(f"{url}/predict", json={"records": [record]}, timeout=30)
    click.echo(f"POST {url}/predict (bento {tag}) -> HTTP {response.status_code}")
    click.echo(response.text)


def _print_outcome(outcome) -> None:
    what = "switched traffic" if outcome.switch_seconds is not None else "no traffic change"
    click.echo(f"{outcome.environment}: serving {outcome.serving}; warm: {outcome.warm or 'none'}")
    if outcome.switch_seconds is not None:
        click.echo(f"{what} in {outcome.switch_seconds:.3f}s")
    elif not outcome.changed:
        click.echo("already as the manifest says: nothing changed")
    for note in outcome.notes:
        click.echo(f"note: {note}")


@cli.command()
@click.argument("environment", type=ENVIRONMENT)
@click.option("--commit", is_flag=True, help="If the canary fails, revert the manifest commit.")
def deploy(environment: str, commit: bool) -> None:
    """Reconcile ENVIRONMENT to deploy/ENVIRONMENT.yaml on the local target."""
    from {{ cookiecutter.package }}.deploy import DeployError, Reconciler, settle_canary
    from {{ cookiecutter.package }}.local_target import Busy
    from {{ cookiecutter.package }}.manifest import ManifestError

    try:
        reconciler = Reconciler(paths(), environment)
        outcome = reconciler.run()
        _print_outcome(outcome)
        if outcome.canary_pending:
            click.echo(f"canary: {reconciler.manifest().traffic.canary}% of traffic, watching...")
            click.echo(settle_canary(reconciler, commit))
    except (DeployError, ManifestError, Busy, RuntimeError) as error:
        raise click.ClickException(f"deploy to {environment} stopped: {error}") from None


@cli.command()
@click.argument("environment", type=ENVIRONMENT)
@click.option("--image", help="The pushed image, as repository@sha256:digest.")
@click.option("--commit", is_flag=True, help="Commit the manifest change.")
def promote(environment: str, image: str | None, commit: bool) -> None:
    """Point deploy/ENVIRONMENT.yaml at the bento of the last trained model."""
    from pydantic import ValidationError

    from {{ cookiecutter.package }}.bento import build_bento
    from {{ cookiecutter.package }}.deploy import commit_manifest
    from {{ cookiecutter.package }}.manifest import ManifestError
    from {{ cookiecutter.package }}.promotion import candidate_version, write_promotion

    p = paths()
    try:
        manifest = write_promotion(p, environment, candidate_version(p, build_bento(p), image))
    except (ManifestError, ValidationError) as error:
        raise click.ClickException(str(error)) from None
    if manifest is None:
        click.echo(f"{environment} already serves this version: nothing to promote")
        return
    tag = manifest.current.bento_tag
    click.echo(f"deploy/{environment}.yaml now names {tag} (canary {manifest.traffic.canary}%)")
    if commit:
        commit_manifest(p.root, environment, f"Promote {tag} to {environment}")


@cli.command()
@click.argument("environment", type=ENVIRONMENT)
def rollback(environment: str) -> None:
    """Revert the last commit that changed deploy/ENVIRONMENT.yaml (then deploy)."""
    from {{ cookiecutter.package }}.deploy import DeployError, revert_manifest_change

    try:
        reverted = revert_manifest_change(paths().root, environment)
    except DeployError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"reverted {reverted}; run `{PACKAGE} deploy {environment}` (CI does it on push)")


@cli.command("check-manifests")
def check_manifests() -> None:
    """Validate every deploy/<env>.yaml against the manifest schema."""
    from {{ cookiecutter.package }}.manifest import check_files

    manifests = sorted(paths().deploy_dir.glob("*.yaml"))
    problems = check_files(manifests)
    for problem in problems:
        click.echo(f"ERROR: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(manifests)} manifest(s) valid")


@cli.command()
@click.argument("environment", type=ENVIRONMENT)
def stop(environment: str) -> None:
    """Stop the local router and every version of ENVIRONMENT."""
    from {{ cookiecutter.package }}.deploy import stop_environment

    stopped = stop_environment(paths(), environment)
    click.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")


cli.add_command(k8s.render_k8s)

from {{ cookiecutter.package }} import github_setup, release  # noqa: E402

cli.add_command(release.pull)
cli.add_command(release.pr_comment)
cli.add_command(release.image)
cli.add_command(release.propose_promotion)
cli.add_command(release.propose_rollback)
cli.add_command(release.deploy_plan)
cli.add_command(release.smoke_deployed)
cli.add_command(github_setup.github_setup)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except FileNotFoundError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
