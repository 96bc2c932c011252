"""Commands that act on the monitor's reports: the alert issues and the retrain proposal."""

from pathlib import Path

import click

from {{ cookiecutter.package }}.cli.common import ENVIRONMENT, REPO, project


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The monitor report (default: the newest in reports/monitor/ENVIRONMENT/).",
)
@REPO
def alert(environment: str, report: Path | None, repo: str | None) -> None:
    """Open, update or close the one alert issue per signal family of ENVIRONMENT.

    A family alerts after `monitor.hysteresis.<tier>.alert_after` breaching
    windows in a row and clears after `clear_after` clean ones (params.yaml).
    """
    from {{ cookiecutter.package }}.github import DEFAULT_REPO, write_github_output
    from {{ cookiecutter.package }}.monitor.alerts import publish_alerts
    from {{ cookiecutter.package }}.monitor.report_reader import latest_report, load_report

    p = project()
    try:
        path = report or latest_report(p.monitor_reports / environment)
        loaded = load_report(path, environment)
        lines, retrain_due = publish_alerts(p, repo or DEFAULT_REPO, loaded)
    except (ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(f"alert {environment}: {line}")
    write_github_output({"retrain": str(retrain_due).lower()})


@click.command()
@click.argument("environment", type=ENVIRONMENT)
@click.option(
    "--logs",
    envvar="PREDICTION_LOGS",
    default="monitoring",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the prediction logs are.",
)
@click.option(
    "--labels",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the late labels are (`id,label[,time]` CSV files) [default: LOGS/labels].",
)
@REPO
def retrain(environment: str, logs: Path, labels: Path | None, repo: str | None) -> None:
    """Open or update the one retrain pull request of ENVIRONMENT, if model quality alerts.

    The branch retrain/ENVIRONMENT re-pins data/raw/ with the logged inputs
    joined by id to their labels; CI trains and gates it. Nothing is promoted.
    """
    from {{ cookiecutter.package }}.github import DEFAULT_REPO
    from {{ cookiecutter.package }}.monitor.retrain import propose_retrain

    p = project()
    try:
        done = propose_retrain(
            p, repo or DEFAULT_REPO, environment, logs, labels or logs / "labels"
        )
    except (ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"retrain {environment}: {done}")


COMMANDS = [alert, retrain]
