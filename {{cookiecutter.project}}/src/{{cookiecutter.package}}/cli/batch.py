"""Batch scoring: a file of records scored by the model the service serves."""

from pathlib import Path

import click

from {{ cookiecutter.package }}.cli.common import ENVIRONMENT, project


@click.command()
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The predictions: Parquet if it ends in .parquet or .pq, else CSV; rows that break "
    "the contract go beside it, to <name>.rejects.csv.",
)
@click.option("--model", "model_tag", help="Score with this model tag (default: the last trained).")
@click.option("--env", "environment", type=ENVIRONMENT, help="Score with the model serving there.")
@click.option("--chunk-rows", default=None, type=click.IntRange(min=1), help="Rows read at a time.")
def score(
    source: Path,
    output: Path,
    model_tag: str | None,
    environment: str | None,
    chunk_rows: int | None,
) -> None:
    """Score a CSV or Parquet file of records with the service's contract, features and model."""
    from {{ cookiecutter.package }}.deploy.manifest import ManifestError
    from {{ cookiecutter.package }}.lineage import find_lineage
    from {{ cookiecutter.package }}.scoring import CHUNK_ROWS, ScoringError, load_scorer, score_file

    try:
        scorer = load_scorer(find_lineage(project(), model_tag, environment))
        summary = score_file(source, output, scorer, chunk_rows or CHUNK_ROWS)
    except (ScoringError, LookupError, FileNotFoundError, ManifestError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"score: {summary.scored} rows scored into {summary.output}")
    if summary.rejected:
        click.echo(
            f"score: {summary.rejected} rows break the contract: {summary.rejects} "
            "(the `reason` column says which column and what rule)",
            err=True,
        )


COMMANDS = [score]
