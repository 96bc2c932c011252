"""Batch scoring: a CSV or Parquet file of records in, a file of predictions out.

The same contract, features, model and decision rule as the service: rows
are checked against contract.yaml, turned into model inputs by
`build_features`, scored by the model the lineage names (from the model
store, as the bento loads it) and decided by `decide`. The file is read in
chunks (CSV) or record batches (Parquet), so memory stays flat however large
it is. A row that breaks the contract is never dropped: it goes to the
rejects file (CSV, for a person to read), as it was read, with the reason.
docs/batch-scoring.md describes the files.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from {{ cookiecutter.package }}.contract import Contract, Feature, load_contract
from {{ cookiecutter.package }}.files import (
    csv_writer,
    is_parquet,
    read_frame_chunks,
    replaced_on_success,
    table_writer,
)
from {{ cookiecutter.package }}.monitor.log_writer import RECORD_ID

if TYPE_CHECKING:  # pandas loads when a file is scored, not on every command
    import pandas as pd

# 50,000 rows of 30 numbers are about 12 MB as read: large enough that the
# per-chunk overhead is small, small enough that memory stays flat.
CHUNK_ROWS = 50_000
ROW = "row"  # the record's position in the input file, 1 for the first record
REASON = "reason"
PROBABILITY, LABEL = "probability", "label"


class ScoringError(ValueError):
    """The file as a whole cannot be scored (not one row: those are rejected)."""


@dataclass(frozen=True)
class Scorer:
    """A fitted model and the rule that turns its probabilities into answers."""

    model: Any
    threshold: float

    def answers(self, raw: pd.DataFrame) -> tuple[Any, Any]:
        """(probability, label) per row of raw records, exactly as the service answers."""
        from {{ cookiecutter.package }}.decision import decide
        from {{ cookiecutter.package }}.features import build_features

        matrix = self.model.predict_proba(build_features(raw))
        return decide(matrix, self.model.classes_, self.threshold)


@dataclass(frozen=True)
class Summary:
    scored: int
    rejected: int
    output: Path
    rejects: Path


def rejects_path(output: Path) -> Path:
    """`scores.csv` -> `scores.rejects.csv`, beside it."""
    return output.with_name(f"{output.stem}.rejects.csv")


def check_header(columns: list[str], contract: Contract, source: Path) -> None:
    """A missing contract column breaks every row: one error for the file, nothing scored."""
    missing = [name for name in contract.feature_names if name not in columns]
    if missing:
        raise ScoringError(
            f"{source} lacks {len(missing)} column(s) of contract.yaml: {', '.join(missing)}; "
            "no row was scored"
        )


@dataclass(frozen=True)
class Broken:
    """One rule of one column, and the rows of a chunk that break it."""

    rows: np.ndarray  # positions in the chunk
    values: np.ndarray  # the value each row holds (as read, or as parsed)
    reason: Callable[[Any], str]  # a row's value -> why it breaks the rule


def column_rules(name: str, feature: Feature, raw: pd.Series, numbers: Any) -> list[Broken]:
    """Every rule of one contract column, checked on every row of a chunk at once.

    Hand-written, not pandera: pandera reports failures per check, and a
    column it cannot read as numbers fails as a whole, where a batch must
    name each row's own problem and keep scoring the others.
    """
    text, missing = raw.to_numpy(), raw.isna().to_numpy()
    checks: list[tuple[np.ndarray, np.ndarray, Callable[[Any], str]]] = []
    if not feature.nullable:
        checks.append(
            (missing, text, lambda _: f"{name}: missing, and contract.yaml does not allow it")
        )
    if feature.numeric:
        parsed, bounds = ~np.isnan(numbers), f"[{feature.min}, {feature.max}]"
        outside = parsed & ((numbers < feature.min) | (numbers > feature.max))
        checks.append((~missing & ~parsed, text, lambda v: f"{name}: {v!r} is not a number"))
        checks.append((outside, numbers, lambda v: f"{name}: {v} is outside {bounds}"))
    elif feature.values is not None:
        allowed = ", ".join(feature.values)
        unknown = ~missing & ~raw.isin(feature.values).to_numpy()
        checks.append((unknown, text, lambda v: f"{name}: {v!r} is not one of {allowed}"))
    return [Broken(np.flatnonzero(rows), values, why) for rows, values, why in checks if rows.any()]


def parse_numbers(chunk: pd.DataFrame, contract: Contract) -> dict[str, np.ndarray]:
    """The numeric columns as float64 arrays; a value that is not a number becomes NaN.

    pandas reads a numeric column as text when one value in the chunk is not
    a number; to_numeric gives the other values the same floats the CSV
    reader would (tests/code/test_scoring.py checks chunking changes nothing).
    """
    import pandas as pd

    return {
        name: pd.to_numeric(chunk[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        for name in contract.names_of("numeric")
    }


def row_reasons(
    chunk: pd.DataFrame, numbers: dict[str, np.ndarray], contract: Contract
) -> pd.Series:
    """The reasons of each row that breaks the contract, indexed like the chunk."""
    import pandas as pd

    reasons: dict[int, list[str]] = {}
    for name, feature in contract.features.items():
        for broken in column_rules(name, feature, chunk[name], numbers.get(name)):
            # A Python loop over the broken rows only: formatting each reason.
            for row in broken.rows.tolist():
                value = broken.values[row]
                value = value.item() if hasattr(value, "item") else value
                reasons.setdefault(row, []).append(broken.reason(value))
    rows = sorted(reasons)
    return pd.Series(
        ["; ".join(reasons[row]) for row in rows], index=chunk.index[rows], dtype=object
    )


def split_chunk(chunk: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records that hold the contract, parsed; rejected rows as read, with row and reason)."""
    numbers = parse_numbers(chunk, contract)
    reasons = row_reasons(chunk, numbers, contract)
    good = chunk.assign(**numbers).drop(index=reasons.index)
    rejected = chunk.loc[reasons.index]
    rejected.insert(0, REASON, reasons)
    rejected.insert(0, ROW, rejected.index + 1)
    return good, rejected


def predictions(good: pd.DataFrame, scorer: Scorer) -> pd.DataFrame:
    """The output rows: the input's id (or the row number), the probability, the label."""
    import pandas as pd

    key = RECORD_ID if RECORD_ID in good.columns else ROW
    keys = good[RECORD_ID] if key == RECORD_ID else good.index + 1
    probability, label = scorer.answers(good) if len(good) else ([], [])
    # Typed even when empty: every chunk of a Parquet output has the same schema.
    columns = {key: keys, PROBABILITY: np.asarray(probability, dtype="float64"),
               LABEL: np.asarray(label, dtype="int64")}  # fmt: skip
    return pd.DataFrame(columns, index=good.index)


def read_chunks(source: Path, contract: Contract, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The input in chunks; categorical columns and the id read as text, as in training."""
    if is_parquet(source):
        yield from read_parquet_chunks(source, contract, chunk_rows)
    else:
        yield from read_csv_chunks(source, contract, chunk_rows)


def read_parquet_chunks(
    source: Path, contract: Contract, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Record batches, indexed by their rows' positions in the file, as CSV chunks are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.ParquetFile(source).schema_arrow.names
    except (pa.ArrowInvalid, OSError) as error:
        raise ScoringError(f"{source} is not a readable Parquet file: {error}") from None
    check_header(names, contract, source)
    yield from read_frame_chunks(source, [*contract.csv_dtypes(), RECORD_ID], chunk_rows)


def read_csv_chunks(source: Path, contract: Contract, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pandas as pd

    try:
        header = list(pd.read_csv(source, nrows=0).columns)
    except pd.errors.EmptyDataError:
        raise ScoringError(f"{source} is empty: expected a header row and records") from None
    check_header(header, contract, source)
    try:
        yield from read_frame_chunks(source, [*contract.csv_dtypes(), RECORD_ID], chunk_rows)
    except pd.errors.ParserError as error:
        raise ScoringError(f"{source} is not a readable CSV file: {error}") from None


def score_file(source: Path, output: Path, scorer: Scorer, chunk_rows: int = CHUNK_ROWS) -> Summary:
    """Score every row of `source` into `output`; rows that break the contract to the rejects."""
    if not source.exists():
        raise ScoringError(f"{source} does not exist")
    contract, rejects = load_contract(), rejects_path(output)
    # The outputs replace their files when scoring ends: onto the input, the records are lost.
    if source.resolve() in (output.resolve(), rejects.resolve()):
        raise ScoringError(f"{source} is the file being scored: write the scores to another file")
    output.parent.mkdir(parents=True, exist_ok=True)
    scored = rejected = 0
    with contextlib.ExitStack() as files:
        scores_path, rejects_path_ = files.enter_context(replaced_on_success(output, rejects))
        # An input without records gives a file without rows.
        empty = {ROW: "int64"}
        write_scores = files.enter_context(table_writer(output, scores_path, empty))
        write_rejects = files.enter_context(csv_writer(rejects_path_))
        for chunk in read_chunks(source, contract, chunk_rows):
            good, bad = split_chunk(chunk, contract)
            answers = predictions(good, scorer)
            write_scores(answers)
            write_rejects(bad)
            scored, rejected = scored + len(answers), rejected + len(bad)
    return Summary(scored, rejected, output, rejects)


def load_scorer(lineage: dict[str, Any]) -> Scorer:
    """The model the lineage names, from the model store, as the service loads it.

    Refused if features.py changed since that model was trained: the model
    would be given inputs it was not trained on.
    """
    import joblib

    from {{ cookiecutter.package }}.features import definition_hash
    from {{ cookiecutter.package }}.model_store import stored_model_file

    tag = lineage["model"]["tag"]
    if lineage["features"]["definition_hash"] != definition_hash():
        raise ScoringError(
            f"features.py changed since {tag} was trained; retrain (`make repro`) or "
            "score on the commit that trained it"
        )
    model = joblib.load(stored_model_file(tag))
    return Scorer(model, float(lineage["params"]["evaluate"]["threshold"]))
