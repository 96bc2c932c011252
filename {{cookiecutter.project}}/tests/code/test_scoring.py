"""Batch scoring: the service's answers for a file, in chunks, with every bad row kept."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from {{ cookiecutter.package }} import model_store, scoring
from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import find_root
from {{ cookiecutter.package }}.contract import CONTRACT_FILE, Contract, parse_contract
from {{ cookiecutter.package }}.decision import decide
from {{ cookiecutter.package }}.features import build_features, definition_hash
from {{ cookiecutter.package }}.files import write_frame, write_json
from {{ cookiecutter.package }}.scoring import Scorer, ScoringError, rejects_path, score_file

THRESHOLD = 0.5


@pytest.fixture
def scorer(model) -> Scorer:
    return Scorer(model, THRESHOLD)


@pytest.fixture
def records(sample: pd.DataFrame, tmp_path: Path) -> Path:
    """The sample as a file of records (the label stays: extra columns are ignored)."""
    path = tmp_path / "records.csv"
    write_frame(sample, path)
    return path


def in_memory(model, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return decide(model.predict_proba(build_features(frame)), model.classes_, THRESHOLD)


def first_numeric(contract: Contract) -> tuple[str, float]:
    """The first numeric column that may not be missing, and its upper bound."""
    required = contract.required_names_of("numeric")
    if not required:
        pytest.skip("contract.yaml declares no numeric column that may not be missing")
    return required[0], float(contract.features[required[0]].max)  # type: ignore[arg-type]


def second_numeric(contract: Contract) -> str:
    """A numeric column other than first_numeric's."""
    first, _ = first_numeric(contract)
    return next(n for n in contract.names_of("numeric") if n != first)


def test_a_good_file_scores_as_predict_proba_on_the_same_rows(records, scorer, model, tmp_path):
    summary = score_file(records, tmp_path / "scores.csv", scorer)
    scores = pd.read_csv(summary.output)
    probability, label = in_memory(model, pd.read_csv(records))
    assert (summary.scored, summary.rejected) == (len(probability), 0)
    assert list(scores.columns) == ["row", "probability", "label"]
    assert scores["row"].tolist() == list(range(1, len(probability) + 1))
    np.testing.assert_array_equal(scores["probability"].to_numpy(), probability)  # bit for bit
    np.testing.assert_array_equal(scores["label"].to_numpy(), label)
    assert pd.read_csv(summary.rejects).empty  # written even when empty: never a stale one


def break_rows(records: Path, contract: Contract) -> pd.DataFrame:
    """Rows 3, 5 and 6 broken: out of range, not a number, missing."""
    frame = pd.read_csv(records, dtype=str)
    name, high = first_numeric(contract)
    second = second_numeric(contract)
    frame.loc[2, name] = str(high + 1)
    frame.loc[4, second] = "12,5"
    frame.loc[5, name] = None
    write_frame(frame, records)
    return frame


def test_rows_that_break_the_contract_go_to_the_rejects_with_the_reason(
    records, scorer, contract, tmp_path
):
    break_rows(records, contract)
    name, high = first_numeric(contract)
    summary = score_file(records, tmp_path / "scores.csv", scorer)
    rejects = pd.read_csv(summary.rejects, dtype=str)
    assert summary.rejects == tmp_path / "scores.rejects.csv"
    assert rejects["row"].tolist() == ["3", "5", "6"]
    assert rejects["reason"].tolist() == [
        f"{name}: {high + 1} is outside [{contract.features[name].min}, {high}]",
        f"{second_numeric(contract)}: '12,5' is not a number",
        f"{name}: missing, and contract.yaml does not allow it",
    ]
    assert rejects.loc[1, second_numeric(contract)] == "12,5"  # the row as it was read
    scored = pd.read_csv(summary.output)["row"]
    assert not set(scored) & {3, 5, 6}
    assert summary.scored + summary.rejected == len(pd.read_csv(records))


def with_site() -> Contract:
    """The project's contract plus a categorical column `site` of two listed values."""
    text = yaml.safe_load(CONTRACT_FILE.read_text())
    text["features"]["site"] = {"type": "categorical", "values": ["left", "right"],
                                "nullable": True}  # fmt: skip
    return parse_contract(json.dumps(text))


def test_a_categorical_value_outside_the_contract_is_a_reject(
    sample, scorer, tmp_path, monkeypatch
):
    monkeypatch.setattr(scoring, "load_contract", with_site)
    sample = sample.assign(
        site=["left", "right", "middle", None] * (len(sample) // 4) + ["left"] * (len(sample) % 4)
    )
    write_frame(sample, tmp_path / "records.csv")
    summary = score_file(tmp_path / "records.csv", tmp_path / "scores.csv", scorer)
    rejects = pd.read_csv(summary.rejects)
    assert set(rejects["site"]) == {"middle"}  # a missing site is allowed: nullable
    assert set(rejects["reason"]) == {"site: 'middle' is not one of left, right"}
    assert summary.scored == len(sample) - len(rejects)


def test_a_missing_contract_column_is_one_error_for_the_file(records, scorer, contract, tmp_path):
    name, _ = first_numeric(contract)
    write_frame(pd.read_csv(records).drop(columns=[name]), records)
    output = tmp_path / "scores.csv"
    with pytest.raises(
        ScoringError,
        match=rf"^{records} lacks 1 column\(s\) of contract.yaml: {name}; no row was scored$",
    ):
        score_file(records, output, scorer)
    assert not list(tmp_path.glob("scores*"))


@pytest.mark.parametrize("broken", [False, True])
def test_chunk_boundaries_change_nothing(records, scorer, contract, tmp_path, broken):
    # Ten chunks of 7 rows are boundaries enough; every chunk costs a validation.
    write_frame(pd.read_csv(records, dtype=str).head(70), records)
    if broken:  # a text value makes pandas read that chunk's column as text
        break_rows(records, contract)
    whole = score_file(records, tmp_path / "whole.csv", scorer, chunk_rows=1_000_000)
    chunked = score_file(records, tmp_path / "chunked.csv", scorer, chunk_rows=7)
    whole_scores, chunked_scores = pd.read_csv(whole.output), pd.read_csv(chunked.output)
    assert whole_scores[["row", "label"]].equals(chunked_scores[["row", "label"]])
    # Equal up to the rounding of the matrix product: BLAS sums in an order
    # that depends on how many rows it multiplies at once (so does the service).
    np.testing.assert_allclose(
        whole_scores["probability"], chunked_scores["probability"], rtol=1e-12
    )
    assert whole.rejects.read_bytes() == chunked.rejects.read_bytes()
    assert (whole.scored, whole.rejected) == (chunked.scored, chunked.rejected)


def test_an_id_column_is_kept_as_text(records, scorer, tmp_path):
    frame = pd.read_csv(records)
    frame.insert(0, "id", [f"{n:05d}" for n in range(len(frame))])
    write_frame(frame, records)
    scores = pd.read_csv(score_file(records, tmp_path / "s.csv", scorer).output, dtype=str)
    assert list(scores.columns) == ["id", "probability", "label"]
    assert scores["id"].tolist() == frame["id"].tolist()  # leading zeros kept


def test_a_file_that_breaks_midway_leaves_the_previous_output(records, scorer, tmp_path):
    output = tmp_path / "scores.csv"
    output.write_text("previous\n")
    with records.open("a") as handle:
        handle.write("1," * 40 + "\n")  # more fields than the header
    with pytest.raises(ScoringError, match="is not a readable CSV file"):
        score_file(records, output, scorer, chunk_rows=100)
    assert output.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.csv", "scores.csv"]


def test_parquet_in_and_out_scores_as_csv_does(records, scorer, tmp_path):
    """Record batches and row groups instead of chunks: the same answers and rejects."""
    frame = pd.read_csv(records, dtype=load_contract_dtypes())
    column, top = first_numeric(parse_contract(CONTRACT_FILE.read_text()))
    frame[column] = frame[column].astype("float64")
    broken = [3, len(frame) - 2]
    frame.loc[broken, column] = top + 1  # two rows break the contract
    frame.to_parquet(tmp_path / "records.parquet", index=False)
    write_frame(frame, tmp_path / "records.csv")
    as_csv = score_file(tmp_path / "records.csv", tmp_path / "scores.csv", scorer, chunk_rows=100)
    as_parquet = score_file(
        tmp_path / "records.parquet", tmp_path / "scores.PQ", scorer, chunk_rows=100
    )
    assert (as_parquet.scored, as_parquet.rejected) == (as_csv.scored, as_csv.rejected)
    scores = pd.read_parquet(tmp_path / "scores.PQ")
    assert scores.equals(pd.read_csv(tmp_path / "scores.csv"))
    assert as_parquet.rejects == tmp_path / "scores.rejects.csv"
    rejected = pd.read_csv(as_parquet.rejects)
    assert rejected["row"].tolist() == [row + 1 for row in broken]
    assert rejected["reason"].str.contains(column).all()


def test_a_file_that_is_not_parquet_is_named(scorer, tmp_path):
    (tmp_path / "records.parquet").write_text("id,width\n1,2\n")
    with pytest.raises(ScoringError, match=r"records\.parquet is not a readable Parquet file"):
        score_file(tmp_path / "records.parquet", tmp_path / "s.parquet", scorer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.parquet"]


def load_contract_dtypes() -> dict[str, str]:
    return parse_contract(CONTRACT_FILE.read_text()).csv_dtypes()


def test_an_empty_or_absent_file_is_named(scorer, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ScoringError, match=r"empty\.csv is empty"):
        score_file(tmp_path / "empty.csv", tmp_path / "s.csv", scorer)
    with pytest.raises(ScoringError, match=r"gone\.csv does not exist"):
        score_file(tmp_path / "gone.csv", tmp_path / "s.csv", scorer)


def test_scores_never_replace_the_file_being_scored(records, scorer, tmp_path):
    before = records.read_bytes()
    with pytest.raises(ScoringError, match=r"records\.csv is the file being scored"):
        score_file(records, records.parent / "." / records.name, scorer)
    # scores.rejects.csv is where the rejects of scores.csv go: as the input, refused too.
    like_rejects = tmp_path / "scores.rejects.csv"
    like_rejects.write_bytes(before)
    with pytest.raises(ScoringError, match=r"scores\.rejects\.csv is the file being scored"):
        score_file(like_rejects, tmp_path / "scores.csv", scorer)
    assert records.read_bytes() == before == like_rejects.read_bytes()


def test_rejects_sit_beside_the_output():
    assert rejects_path(Path("out/scores.csv")) == Path("out/scores.rejects.csv")


# --- the command: the lineage's model from the store, as the service loads it ----------


@pytest.fixture
def trained(repo, model, monkeypatch, tmp_path) -> dict:
    """The repository's last trained lineage, its model in the (stand-in) model store."""
    stored = tmp_path / "store" / "model.joblib"
    stored.parent.mkdir()
    joblib.dump(model, stored)
    tag = "{{ cookiecutter.package }}:" + "a" * 16
    stores = {tag: stored}

    def stored_model_file(wanted: str) -> Path:
        if wanted not in stores:
            raise LookupError(f"model {wanted} is not in the model store")
        return stores[wanted]

    monkeypatch.setattr(model_store, "stored_model_file", stored_model_file)
    lineage = {
        "model": {"tag": tag},
        "features": {"definition_hash": definition_hash()},
        "params": {"evaluate": {"threshold": THRESHOLD}},
    }
    write_json(lineage, repo.lineage)
    monkeypatch.chdir(repo.root)
    return lineage


def test_the_command_scores_with_the_lineages_model(trained, records, model, contract, tmp_path):
    break_rows(records, contract)
    result = CliRunner().invoke(cli, ["score", str(records), "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 0, result.output
    assert "3 rows break the contract" in result.output
    scores = pd.read_csv(tmp_path / "s.csv")
    good = pd.read_csv(records).drop(index=[2, 4, 5])
    np.testing.assert_array_equal(scores["probability"], in_memory(model, good)[0])


def test_the_command_refuses_a_model_trained_on_other_features(trained, records, repo, tmp_path):
    write_json({**trained, "features": {"definition_hash": "sha256:other"}}, repo.lineage)
    result = CliRunner().invoke(cli, ["score", str(records), "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 1
    assert (
        "features.py changed since {{ cookiecutter.package }}:aaaaaaaaaaaaaaaa was trained" in result.output
    )
    assert not (tmp_path / "s.csv").exists()


def test_the_command_names_a_model_missing_from_the_store(trained, records, repo, tmp_path):
    write_json({**trained, "model": {"tag": "{{ cookiecutter.package }}:" + "b" * 16}}, repo.lineage)
    result = CliRunner().invoke(cli, ["score", str(records), "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 1
    assert "not in the model store" in result.output


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("given", [[], ["INPUT=records.csv"], ["OUTPUT=scores.csv"]])
def test_make_score_without_both_files_says_how(tmp_path, given):
    makefile = find_root(Path(__file__).parent) / "Makefile"
    command = ["make", "-f", str(makefile), "-o", "install", f"VENV={sys.prefix}", "score", *given]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "usage: make score INPUT=records.csv OUTPUT=scores.csv" in result.stderr
