"""Commands of the monitor: one window of an environment's logs, and late labels."""

from pathlib import Path

import click

from {{ cookiecutter.package }}.cli.common import ENVIRONMENT, project


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@click.option("--window", "length", help="Window length: 30m, 6h, 1d (default: params.yaml).")
@click.option(
    "--window-end", "end", help="End of the window, ISO UTC (default: the last full hour)."
)
@click.option("--logs", help="Log folder or s3://bucket/prefix (default: the local deploy's).")
@click.option(
    "--reference", type=click.Path(path_type=Path, dir_okay=False), help="Reference profile file."
)
def monitor(
    environment: str, length: str | None, end: str | None, logs: str | None, reference: Path | None
) -> None:
    """Compare a window of ENVIRONMENT's predictions with its model's reference.

    Exits 0 whether the status is ok, alert or no_traffic (the report says which).
    """
    from {{ cookiecutter.package }}.deploy.manifest import ManifestError
    from {{ cookiecutter.package }}.monitor.run import MonitorError, Request
    from {{ cookiecutter.package }}.monitor.run import monitor as run_monitor

    try:
        result, page = run_monitor(project(), Request(environment, length, end, logs, reference))
    except (MonitorError, LookupError, ManifestError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    breached = ", ".join(result["breached"]) or "nothing breached"
    rows = result["rows"]["scored"]
    click.echo(f"monitor {environment}: {result['status']} ({breached}); {rows} rows; {page}")


@click.group()
def labels() -> None:
    """Late labels, joined to logged predictions by id."""


@labels.command("add")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--logs",
    multiple=True,
    help="Where to look for the predicted ids (default: every local environment's logs).",
)
def add(file: Path, logs: tuple[str, ...]) -> None:
    """Check and store FILE (CSV or Parquet: id,label[,time]); then `dvc add monitoring/labels`."""
    from {{ cookiecutter.package }}.config import ENVIRONMENTS
    from {{ cookiecutter.package }}.contract import load_contract
    from {{ cookiecutter.package }}.monitor.labels import LabelError, add_labels
    from {{ cookiecutter.package }}.monitor.log_reader import logged_ids
    from {{ cookiecutter.package }}.monitor.run import default_logs

    p = project()
    sources = list(logs) or [default_logs(p, env) for env in ENVIRONMENTS]
    try:
        added = add_labels(file, load_contract(), p.labels_dir, logged_ids(sources))
    except LabelError as error:
        raise click.ClickException(str(error)) from None
    where = added.stored.relative_to(p.root) if added.stored else "nothing stored"
    click.echo(
        f"labels: {added.rows} rows stored ({where}); {added.unknown} ids with no logged "
        f"prediction; {added.duplicated} duplicated ids (the last one kept)"
    )


COMMANDS = [monitor, labels]
