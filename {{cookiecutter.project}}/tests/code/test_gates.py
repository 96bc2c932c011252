"""Each gate passes what it should and stops what it should, with a reason.

The gates run here against a small repository built in a temporary folder
from the project's data and contract (no DVC, no bento, no server): the serving side of
parity and packaging is replaced by plain functions, so what is tested is
the gates' own logic. tests of the template run them on a served bento.
"""

import json
import math
import sys
import types
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package }} import gates, model_store
from {{ cookiecutter.package }}.config import RISK_TIERS, Paths
from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.features import build_features
from {{ cookiecutter.package }}.files import file_digest, read_frame, write_frame, write_json
from {{ cookiecutter.package }}.gates import data_contract as data_contract_module
from {{ cookiecutter.package }}.gates import packaging as packaging_module
from {{ cookiecutter.package }}.gates import parity as parity_module
from {{ cookiecutter.package }}.gates.base import GateInputs, GateResult
from {{ cookiecutter.package }}.gates.baseline import baseline
from {{ cookiecutter.package }}.gates.data_contract import data_contract
from {{ cookiecutter.package }}.gates.fairness import fairness
from {{ cookiecutter.package }}.gates.packaging import packaging
from {{ cookiecutter.package }}.gates.parity import parity
from {{ cookiecutter.package }}.pipeline import gate
from {{ cookiecutter.package }}.pipeline.evaluate import predictions_frame, score
from {{ cookiecutter.package }}.pipeline.featurize import with_features
from {{ cookiecutter.package }}.serving import process as serving

PROJECT_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
CONTRACT = load_contract()
LABEL = CONTRACT.label
# The shipped defaults, spelled out so a change of params.yaml cannot hide a gate bug.
THRESHOLDS = {
    "low": {"min_metric": 0.90, "baseline_margin": 0.10, "production_tolerance": 0.02},
    "high": {"min_metric": 0.95, "baseline_margin": 0.20, "production_tolerance": 0.01},
}
# The group column and split are the repository's (see `repo`).
FAIRNESS = {
    "group_column": None,
    "split_at": None,
    "metric": "recall",
    "max_gap": 0.10,
    "min_group_size": 20,
}
SETTINGS = {
    "mode": "enforce",
    "risk_tier": "low",
    "metric": "roc_auc",
    "thresholds": THRESHOLDS,
    "parity_tolerance": 1e-9,
    "parity_rows": 2000,
    "fairness": FAIRNESS,
}
METRICS = {"model": {"roc_auc": 0.99}, "baseline": {"roc_auc": 0.5}}
LINEAGE_ID = "0123456789abcdef"


# --- a small repository in tmp_path -----------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, project_data, split_sample, model) -> Paths:
    """The files the gates read, as the pipeline would have written them.

    Its params.yaml holds the gate settings. Fairness groups on a stand-in
    column of the evaluation rows, every other row of each class, so that both
    groups hold every class whatever the data (a real column may not).
    """
    p = Paths(tmp_path)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    _, evaluation = split_sample
    group = {"group_column": "group", "split_at": 0.5}
    settings = {**SETTINGS, "fairness": {**FAIRNESS, **group}}
    params = {"data": {"raw": "data/raw/your.csv"}, "evaluate": {"threshold": 0.5}}
    p.params.write_text(yaml.safe_dump({**params, "gate": settings}))
    write_frame(project_data, p.raw_data)
    featured = with_features(evaluation)
    write_frame(featured, p.eval_features)
    alternate = evaluation.groupby(LABEL).cumcount() % 2
    write_frame(evaluation.drop(columns=LABEL).assign(group=alternate), p.eval_raw)
    matrix = model.predict_proba(build_features(evaluation))
    write_frame(predictions_frame(featured, matrix, model.classes_, 0.5), p.predictions)
    write_json(METRICS, p.metrics)
    p.deploy_dir.mkdir()
    return p


@pytest.fixture(autouse=True)
def production_store(monkeypatch, tmp_path: Path) -> dict[str, Path]:
    """The model store as the baseline gate sees it: tag -> model file; empty unless a test
    adds one. (BentoML's own store keeps the first BENTOML_HOME a process uses, so a tmp
    one per test is not possible in process; the store's own lookup is tested in service.)"""
    models: dict[str, Path] = {}

    def stored_model_file(tag: str) -> Path:
        if tag not in models:
            raise LookupError(f"model {tag} is not in the model store")
        return models[tag]

    monkeypatch.setattr(model_store, "stored_model_file", stored_model_file)
    return models


def settings_of(repo: Paths) -> dict[str, Any]:
    return yaml.safe_load(repo.params.read_text())["gate"]


def inputs(repo: Paths, **settings: Any) -> GateInputs:
    return GateInputs(repo, {**settings_of(repo), **settings})


def write_metrics(repo: Paths, model: float, dummy: float = 0.5) -> None:
    write_json({"model": {"roc_auc": model}, "baseline": {"roc_auc": dummy}}, repo.metrics)


def version(metrics: dict[str, float]) -> dict[str, Any]:
    return {
        "bento_tag": "svc:0011223344556677",
        "model_tag": "model:8899aabbccddeeff",
        "lineage_id": LINEAGE_ID,
        "metrics": metrics,
    }


def write_production(repo: Paths, metrics: dict[str, float]) -> None:
    manifest = {"environment": "production", "risk_tier": "low", "current": version(metrics)}
    (repo.deploy_dir / "production.yaml").write_text(yaml.safe_dump(manifest))


def assert_failed_closed(result: GateResult, *words: str) -> None:
    assert result.passed is False
    assert result.message.startswith("could not evaluate: ")
    for word in words:
        assert word in result.message, result.message


# --- data contract ----------------------------------------------------------------------


def test_data_gate_passes_the_data_with_its_evidence(repo, project_data):
    result = data_contract(inputs(repo))
    assert result.passed, result.message
    assert result.evidence["rows"] == len(project_data)
    assert result.evidence["violations"] == []
    if CONTRACT.binary:  # the share of the positive class
        assert (
            CONTRACT.label_share.min <= result.evidence["label_share"] <= CONTRACT.label_share.max
        )


def break_data(repo: Paths, frame: pd.DataFrame) -> None:
    repo.raw_data.unlink()
    write_frame(frame, repo.raw_data)


def missing_values(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame.loc[frame.index[:5], column] = np.nan
    return frame


def shifted(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A change upstream (a unit, an offset) that moves every value past the contract's max."""
    bounds = CONTRACT.features[column]
    return frame.assign(**{column: frame[column] + 10 * (bounds.max - bounds.min) + 1})


# Each damage breaks a numeric column of the contract (`numeric_column`) and names
# what the message must say ("{column}": that column).
@pytest.mark.parametrize(
    "damage, named",
    [
        pytest.param(lambda f, c: f.drop(columns=c), "{column}", id="missing-column"),
        pytest.param(lambda f, c: f.assign(patient="x"), "patient", id="extra-column"),
        pytest.param(
            lambda f, c: f.assign(**{c: f[c].astype(str) + "mm"}), "{column}", id="not-a-number"
        ),
        pytest.param(shifted, "{column}", id="shifted"),
        pytest.param(missing_values, "{column}", id="missing-values"),
        pytest.param(lambda f, c: f.head(CONTRACT.min_rows - 1), "row count", id="too-few-rows"),
    ],
)
def test_data_gate_fails_bad_data_naming_the_column(repo, sample, numeric_column, damage, named):
    break_data(repo, damage(sample, numeric_column))
    result = data_contract(inputs(repo))
    assert result.passed is False
    assert named.format(column=numeric_column) in result.message
    assert "contract.yaml" in result.message  # says where to fix it
    assert result.evidence["violation_count"] >= 1


def test_data_gate_summarises_a_shift_instead_of_listing_every_value(repo, sample, numeric_column):
    break_data(repo, shifted(sample, numeric_column))
    result = data_contract(inputs(repo))
    # One line per column and check, however many rows break it.
    assert result.evidence["violation_count"] == 1
    (line,) = result.evidence["violations"]
    assert line.startswith(f"{numeric_column}: in_range") and f"({len(sample)} rows" in line
    assert numeric_column in result.message


def test_data_gate_fails_closed_without_the_data(repo):
    repo.raw_data.unlink()
    assert_failed_closed(data_contract(inputs(repo)), "your.csv", "dvc pull")


@pytest.mark.parametrize(
    "text, reason",
    [("features: [unclosed", "not valid YAML"), ("label: y\n", "non-empty 'features'")],
)
def test_a_contract_file_that_does_not_parse_fails_the_data_gate(
    repo, tmp_path, monkeypatch, text, reason
):
    broken = tmp_path / "contract.yaml"
    broken.write_text(text)
    # The real loader, reading the broken file instead of the package's contract.
    monkeypatch.setattr(
        data_contract_module, "load_contract", lambda: load_contract.__wrapped__(broken)
    )
    result = data_contract(inputs(repo))
    assert_failed_closed(result, reason)
    assert result.message.startswith("could not evaluate: contract.yaml ")  # relative to the repo
    assert str(broken) in result.evidence["error"]


# --- baseline and production ------------------------------------------------------------


def test_baseline_passes_and_says_there_is_no_production_model_yet(repo):
    result = baseline(inputs(repo))
    assert result.passed, result.message
    assert "no production model yet" in result.message
    assert result.evidence["production"] is None
    assert result.evidence["model"] == 0.99
    assert result.evidence["baseline"] == 0.5
    assert set(result.evidence["checks"].values()) == {True}


def test_a_weakened_model_below_the_floor_fails(repo):
    write_metrics(repo, model=0.85)
    result = baseline(inputs(repo))
    assert result.passed is False
    assert "roc_auc 0.8500 is below the floor 0.9" in result.message
    assert result.evidence["checks"] == {
        "roc_auc >= 0.9": False,
        "beats the trivial baseline by 0.1": True,
    }


def test_a_model_not_better_than_the_trivial_one_by_the_margin_fails(repo):
    write_metrics(repo, model=0.93, dummy=0.88)
    result = baseline(inputs(repo))
    assert result.passed is False
    assert "trivial baseline (0.8800)" in result.message
    assert "baseline_margin" in result.message
    assert "below the floor" not in result.message


def test_the_margin_is_met_exactly_despite_float_rounding(repo):
    write_metrics(repo, model=0.95, dummy=0.85)  # 0.95 - 0.85 = 0.09999999999999998
    assert baseline(inputs(repo)).passed


def model_metric(value: str) -> str:
    """metrics.json as text, the model's roc_auc written as `value`."""
    return '{"model": {"roc_auc": ' + value + '}, "baseline": {"roc_auc": 0.5}}'


BROKEN_METRICS = {
    "no-file": (None, "metrics.json is missing"),
    "not-json": ("{not json", "not valid JSON"),
    "nan": (model_metric("NaN"), "is nan"),
    "inf": (model_metric("Infinity"), "is inf"),
    "null": (model_metric("null"), "model roc_auc in metrics.json is missing"),
    "text": (model_metric('"high"'), "not a number"),
    "no-key": ('{"model": {}, "baseline": {"roc_auc": 0.5}}', "model roc_auc"),
    "no-baseline": ('{"model": {"roc_auc": 0.99}}', "baseline roc_auc"),
}


@pytest.mark.parametrize("content, reason", BROKEN_METRICS.values(), ids=BROKEN_METRICS)
def test_missing_or_broken_metrics_fail_closed(repo, content, reason):
    repo.metrics.unlink()
    if content is not None:
        repo.metrics.write_text(content)
    assert_failed_closed(baseline(inputs(repo)), reason, "dvc repro")


def test_failure_messages_name_files_relative_to_the_repository(repo):
    repo.metrics.unlink()
    result = baseline(inputs(repo))
    assert "metrics/metrics.json is missing" in result.message
    assert str(repo.root) not in result.message
    assert str(repo.metrics) in result.evidence["error"]  # the full path stays in the evidence


def test_a_missing_threshold_fails_closed(repo):
    limits = {**THRESHOLDS["low"], "min_metric": None}
    result = baseline(inputs(repo, thresholds={**THRESHOLDS, "low": limits}))
    assert_failed_closed(result, "gate.thresholds.low.min_metric")


def test_a_tier_without_thresholds_fails_closed(repo):
    result = baseline(inputs(repo, thresholds={"low": THRESHOLDS["low"]}, risk_tier="high"))
    assert_failed_closed(result, "no 'high' section")


def test_a_model_within_tolerance_of_production_passes(repo):
    write_production(repo, {"roc_auc": 0.999})  # 0.99 >= 0.999 - 0.02
    result = baseline(inputs(repo))
    assert result.passed, result.message
    assert result.evidence["production"] == 0.999
    assert result.evidence["checks"]["within 0.02 of production"] is True
    assert "no production model" not in result.message


def test_a_model_worse_than_production_beyond_tolerance_fails(repo):
    write_production(repo, {"roc_auc": 0.999})
    write_metrics(repo, model=0.95)  # above the floor, but 0.049 below production
    result = baseline(inputs(repo))
    assert result.passed is False
    assert "worse than production (0.9990) by more than 0.02" in result.message
    assert result.evidence["checks"]["within 0.02 of production"] is False


@pytest.mark.parametrize(
    "text, reason",
    [
        pytest.param("environment: [unclosed", "not valid YAML", id="not-yaml"),
        pytest.param("environment: production\nrisk_tier: low\n", "current", id="no-current"),
        pytest.param("- a list\n", "manifest", id="not-a-mapping"),
    ],
)
def test_an_invalid_production_manifest_fails_the_gate_not_skips_it(repo, text, reason):
    (repo.deploy_dir / "production.yaml").write_text(text)
    result = baseline(inputs(repo))
    assert_failed_closed(result, "production.yaml", reason)
    assert "no production model" not in result.message


@pytest.mark.parametrize("metrics", [{}, {"roc_auc": math.nan}], ids=["missing", "nan"])
def test_a_production_manifest_without_a_usable_metric_fails_closed(repo, metrics):
    write_production(repo, metrics)
    assert_failed_closed(baseline(inputs(repo)), "production.yaml", "roc_auc")


def test_a_staging_manifest_does_not_count_as_production(repo):
    manifest = {"environment": "staging", "risk_tier": "low", "current": version({"roc_auc": 1})}
    (repo.deploy_dir / "staging.yaml").write_text(yaml.safe_dump(manifest))
    result = baseline(inputs(repo))
    assert result.passed
    assert result.evidence["production"] is None


def store_production_model(repo: Paths, store: dict[str, Path], fitted) -> None:
    """The production model (manifest current.model_tag) as a joblib file in the store."""
    import joblib

    path = repo.root / "production.joblib"
    joblib.dump(fitted, path)
    store[version({})["model_tag"]] = path


def scored_on_the_evaluation_rows(model, split_sample) -> float:
    _, evaluation = split_sample
    matrix = model.predict_proba(build_features(evaluation))
    return score(evaluation[LABEL], matrix, 0.5)["roc_auc"]


def test_production_is_scored_on_the_same_rows_when_its_model_is_in_the_store(
    repo, production_store, model, split_sample
):
    write_production(repo, {"roc_auc": 0.5})  # the stored figure must not be used
    store_production_model(repo, production_store, model)
    result = baseline(inputs(repo))
    expected = scored_on_the_evaluation_rows(model, split_sample)
    assert result.evidence["production"] == pytest.approx(expected, abs=1e-6)
    assert result.evidence["production_source"] == "production scored on the same rows"
    assert "production scored on the same rows" in result.message


def test_a_production_model_better_on_the_same_rows_fails_the_candidate(
    repo, production_store, model, split_sample
):
    write_production(repo, {"roc_auc": 0.5})  # stored: weak; on these rows: far better
    store_production_model(repo, production_store, model)
    on_these_rows = scored_on_the_evaluation_rows(model, split_sample)
    write_metrics(repo, model=on_these_rows - 0.05, dummy=0.0)  # beyond the tolerance, 0.02
    result = baseline(inputs(repo))
    assert result.passed is False
    assert "worse than production" in result.message
    assert "production scored on the same rows" in result.message


def test_without_the_production_model_the_stored_metric_is_used_and_said(repo):
    write_production(repo, {"roc_auc": 0.97})
    result = baseline(inputs(repo))
    assert result.passed, result.message
    assert result.evidence["production"] == 0.97
    stored = "stored metric from deploy/production.yaml: production model not in this store"
    assert result.evidence["production_source"] == stored
    assert stored in result.message


def test_a_production_model_of_other_columns_is_not_compared_and_the_gate_says_so(
    repo, production_store
):
    # The project was switched to other data: production learned from columns these
    # rows lack. Neither it nor its stored metric (of other data) is compared with.
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    other = pd.DataFrame({"elsewhere_a": [0.0, 1.0, 2.0, 3.0], "elsewhere_b": [1.0, 0.0, 1.0, 0.0]})
    fitted = LogisticRegression().fit(other, [0, 0, 1, 1])
    write_production(repo, {"roc_auc": 0.999})  # above the candidate: must not count
    store_production_model(repo, production_store, fitted)
    result = baseline(inputs(repo))
    assert result.passed, result.message
    assert result.evidence["production"] is None
    assert "**not compared with production**" in result.message
    assert "2 column(s) the evaluation data does not have (elsewhere_a, elsewhere_b)" in (
        result.message
    )


def test_a_production_model_missing_one_column_here_is_compared_by_its_stored_metric(
    repo, production_store, numeric_column
):
    # Same data, a feature renamed or dropped since: production cannot be scored on these
    # rows, so its stored metric counts, as when its model is not in the store.
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    columns = pd.DataFrame({numeric_column: [0.0, 1.0, 2.0, 3.0], "ratio_x": [1.0, 0, 1, 0]})
    write_production(repo, {"roc_auc": 0.999})
    write_metrics(repo, model=0.95, dummy=0.5)  # above the floor, far below production
    fitted = LogisticRegression().fit(columns, [0, 0, 1, 1])
    store_production_model(repo, production_store, fitted)
    result = baseline(inputs(repo))
    assert result.passed is False
    assert "worse than production" in result.message
    assert "production model reads column(s) these rows lack (ratio_x)" in result.message


# --- training-serving parity (the service replaced by a function) -----------------------


def offline_probabilities(repo: Paths) -> np.ndarray:
    return read_frame(repo.predictions)["probability"].to_numpy()


def serve(monkeypatch, answer) -> list[pd.Index]:
    """The service, answering `answer[row]` for each row sent; the indexes of what was sent."""
    sent: list[pd.Index] = []

    def served(url, rows):
        sent.append(rows.index)
        return answer[rows.index.to_numpy()]

    monkeypatch.setattr(parity_module, "served_probabilities", served)
    monkeypatch.setattr(parity_module, "request_schema_matches_contract", lambda url: [])
    return sent


@pytest.fixture
def parity_repo(repo: Paths, model) -> Paths:
    """The repository with what the in-process check reads: the model and its threshold."""
    repo.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, repo.model)
    write_json({"params": {"evaluate": {"threshold": 0.5}}}, repo.lineage)
    return repo


def test_parity_passes_when_the_service_reproduces_the_offline_predictions(
    parity_repo, monkeypatch
):
    repo = parity_repo
    serve(monkeypatch, offline_probabilities(repo))
    result = parity(GateInputs(repo, SETTINGS, server_url="http://127.0.0.1:1"))
    assert result.passed, result.message
    assert result.evidence["max_abs_difference"] == 0.0
    assert result.evidence["rows"] == len(offline_probabilities(repo))


def test_parity_fails_with_the_largest_difference(parity_repo, monkeypatch):
    served = offline_probabilities(parity_repo).copy()
    served[7] += 0.25
    serve(monkeypatch, served)
    result = parity(GateInputs(parity_repo, SETTINGS, server_url="http://127.0.0.1:1"))
    assert result.passed is False
    assert "max |over http - offline| = 0.25 > 1e-09" in result.message
    assert "features.py changed without retraining" in result.message


def test_parity_checks_every_row_in_process_and_a_bounded_sample_over_http(
    parity_repo, monkeypatch
):
    offline = offline_probabilities(parity_repo)
    sent = serve(monkeypatch, offline)
    settings = {**SETTINGS, "parity_rows": 10}
    result = parity(GateInputs(parity_repo, settings, server_url="http://127.0.0.1:1"))
    assert result.passed, result.message
    assert result.evidence["rows"] == len(offline)
    over_http = sent[0]
    assert result.evidence["rows_over_http"] == len(over_http) < len(offline)
    answered = read_frame(parity_repo.predictions)["prediction"]
    assert set(answered.iloc[over_http]) == set(answered)  # every answered class
    assert {int(np.argmin(offline)), int(np.argmax(offline))} <= set(over_http)


def test_parity_in_process_catches_a_row_never_sent(parity_repo, monkeypatch):
    """Features that changed for a few rows only: the in-process check sees every row."""
    from {{ cookiecutter.package }} import features

    offline = offline_probabilities(parity_repo)
    sent = serve(monkeypatch, offline)
    settings = {**SETTINGS, "parity_rows": 10}
    real = features.build_features

    def changed_for_one_row(raw):
        built = real(raw)
        row, numeric = built.index == unsent, built.select_dtypes("number").columns
        built.loc[row, numeric] = built.loc[row, numeric] * 3 + 1
        return built

    parity(GateInputs(parity_repo, settings, server_url="http://127.0.0.1:1"))
    unsent = next(row for row in range(len(offline)) if row not in set(sent[0]))
    monkeypatch.setattr(features, "build_features", changed_for_one_row)
    result = parity(GateInputs(parity_repo, settings, server_url="http://127.0.0.1:1"))
    assert result.passed is False
    assert "max |in process - offline|" in result.message


def test_parity_without_a_sample_size_fails_closed(parity_repo, monkeypatch):
    serve(monkeypatch, offline_probabilities(parity_repo))
    settings = {key: value for key, value in SETTINGS.items() if key != "parity_rows"}
    result = parity(GateInputs(parity_repo, settings, server_url="http://127.0.0.1:1"))
    assert_failed_closed(result, "gate.parity_rows is missing")


@pytest.mark.parametrize(
    "served, reason",
    [(lambda a: np.where(np.arange(len(a)) == 3, np.nan, a), "NaN"), (lambda a: a[:-1], "rows")],
    ids=["nan", "short"],
)
def test_parity_fails_closed_on_nan_or_missing_answers(parity_repo, monkeypatch, served, reason):
    repo = parity_repo
    answer = served(offline_probabilities(repo))
    monkeypatch.setattr(parity_module, "served_probabilities", lambda url, rows: answer)
    monkeypatch.setattr(parity_module, "request_schema_matches_contract", lambda url: [])
    result = parity(GateInputs(repo, SETTINGS, server_url="http://127.0.0.1:1"))
    assert_failed_closed(result, reason)


def test_parity_fails_closed_on_nan_offline_predictions(parity_repo, monkeypatch):
    repo = parity_repo
    serve(monkeypatch, offline_probabilities(repo))
    frame = read_frame(repo.predictions)
    frame.loc[0, "probability"] = np.nan
    write_frame(frame, repo.predictions)
    result = parity(GateInputs(repo, SETTINGS, server_url="http://127.0.0.1:1"))
    assert_failed_closed(result, "NaN")


def test_parity_fails_closed_without_a_served_bento(repo):
    assert_failed_closed(parity(inputs(repo)), "not served")


def test_parity_reports_a_request_schema_that_drifted_from_the_contract(parity_repo, monkeypatch):
    repo = parity_repo
    serve(monkeypatch, offline_probabilities(repo))
    problem = "mean_radius: served range differs from the contract"
    monkeypatch.setattr(parity_module, "request_schema_matches_contract", lambda url: [problem])
    result = parity(GateInputs(repo, SETTINGS, server_url="http://127.0.0.1:1"))
    assert result.passed is False
    assert problem in result.message


# --- packaging integrity (the bento store replaced by a function) -----------------------


@pytest.fixture
def packed(repo, monkeypatch):
    """A trained model and its lineage; returns a setter for the digest the 'bento' holds."""
    repo.model.parent.mkdir(parents=True)
    repo.model.write_bytes(b"the trained model")
    digest = "sha256:" + file_digest(repo.model)
    write_json({"model": {"tag": "m:1", "digest": digest}, "lineage_id": LINEAGE_ID}, repo.lineage)
    holds = {"digest": digest}
    fake = types.ModuleType("bento")
    fake.bento_model_digest = lambda tag, model_tag: holds["digest"]
    monkeypatch.setitem(sys.modules, f"{gates.__package__.rsplit('.', 1)[0]}.serving.bento", fake)
    monkeypatch.setattr(packaging_module, "smoke_problem", lambda url: None)
    return holds


def test_packaging_passes_when_the_bento_holds_the_lineage_model(repo, packed):
    result = packaging(GateInputs(repo, SETTINGS, bento_tag="svc:1", server_url="u"))
    assert result.passed, result.message
    assert result.evidence["bento_model_digest"] == result.evidence["lineage_model_digest"]


def test_packaging_fails_for_a_swapped_model_with_both_digests(repo, packed):
    expected = packed["digest"]
    packed["digest"] = "sha256:" + "f" * 64
    result = packaging(GateInputs(repo, SETTINGS, bento_tag="svc:1", server_url="u"))
    assert result.passed is False
    assert f"model in bento {packed['digest']} != lineage {expected}" in result.message


def test_packaging_fails_when_the_trained_model_file_changed(repo, packed):
    repo.model.write_bytes(b"another model")
    result = packaging(GateInputs(repo, SETTINGS, bento_tag="svc:1", server_url="u"))
    assert result.passed is False
    assert "model.joblib sha256:" in result.message


def test_packaging_fails_closed_without_the_model_file(repo, packed):
    repo.model.unlink()
    result = packaging(GateInputs(repo, SETTINGS, bento_tag="svc:1", server_url="u"))
    assert_failed_closed(result, "model.joblib is missing")


def test_packaging_fails_when_the_smoke_request_fails(repo, packed, monkeypatch):
    monkeypatch.setattr(packaging_module, "smoke_problem", lambda url: "HTTP 500: boom")
    result = packaging(GateInputs(repo, SETTINGS, bento_tag="svc:1", server_url="u"))
    assert result.passed is False
    assert "smoke request: HTTP 500: boom" in result.message


def test_packaging_fails_closed_without_a_bento(repo):
    assert_failed_closed(packaging(inputs(repo)), "no bento was built")


# --- fairness ---------------------------------------------------------------------------


def group_names(repo: Paths) -> tuple[str, str]:
    spec = settings_of(repo)["fairness"]
    column, split_at = spec["group_column"], spec["split_at"]
    return f"{column} <= {split_at}", f"{column} > {split_at}"


def predict(repo: Paths, predicted: np.ndarray) -> None:
    write_frame(pd.DataFrame({"probability": 1.0, "prediction": predicted}), repo.predictions)


def test_fairness_passes_a_small_gap_with_its_evidence(repo):
    truth = read_frame(repo.eval_features)[LABEL].to_numpy()
    predict(repo, truth)  # right in both groups: no gap
    result = fairness(inputs(repo, risk_tier="high"))
    assert result.passed, result.message
    assert result.evidence["gap"] == 0.0
    assert sorted(result.evidence["sizes"]) == sorted(group_names(repo))
    assert sum(result.evidence["sizes"].values()) == len(truth)


def test_fairness_fails_a_big_gap(repo):
    raw, truth = read_frame(repo.eval_raw), read_frame(repo.eval_features)[LABEL]
    spec = settings_of(repo)["fairness"]
    # The model is right on every row of one group and wrong on every row of the other.
    classes = list(CONTRACT.label_values)
    wrong = truth.map(lambda label: classes[(classes.index(label) + 1) % len(classes)])
    predict(repo, np.where(raw[spec["group_column"]] > spec["split_at"], wrong, truth))
    result = fairness(inputs(repo, risk_tier="high"))
    assert result.passed is False
    assert "recall gap 1.000 > 0.1" in result.message
    low, high = group_names(repo)
    assert result.evidence["by_group"] == {low: 1.0, high: 0.0}


@pytest.mark.parametrize(
    "spec, reason",
    [
        pytest.param({"min_group_size": 1000}, "groups too small", id="small-group"),
        pytest.param({"split_at": 5}, "one group", id="one-group"),
        pytest.param({"group_column": "ethnicity"}, "'ethnicity' is not a column", id="no-column"),
        pytest.param({"metric": "accuracy"}, "must be one of", id="unknown-metric"),
        pytest.param({"max_gap": None}, "max_gap is missing", id="no-max-gap"),
    ],
)
def test_fairness_fails_closed_when_it_cannot_compare(repo, spec, reason):
    result = fairness(inputs(repo, fairness={**settings_of(repo)["fairness"], **spec}))
    assert_failed_closed(result, reason)


def test_fairness_groups_by_value_without_a_split(repo):
    raw = read_frame(repo.eval_raw)
    write_frame(raw.assign(site=np.where(raw.index % 2 == 0, "north", "south")), repo.eval_raw)
    spec = {**settings_of(repo)["fairness"], "group_column": "site", "split_at": None}
    result = fairness(inputs(repo, fairness=spec))
    assert set(result.evidence["by_group"]) == {"north", "south"}
    assert result.passed == (result.evidence["gap"] <= 0.10)


def test_fairness_fails_closed_when_evaluation_files_disagree(repo):
    frame = read_frame(repo.predictions)
    write_frame(frame.iloc[:-3], repo.predictions)
    assert_failed_closed(fairness(inputs(repo)), "evaluation files disagree")


# --- which gates, which thresholds ------------------------------------------------------


def names(tier: str) -> list[str]:
    return [check.gate_name for check in gates.gates_for(tier)]


def test_low_risk_runs_four_gates_and_high_risk_adds_fairness():
    common = ["data contract", "baseline", "training-serving parity", "packaging integrity"]
    assert names("low") == common
    assert names("high") == [*common, "fairness"]


def test_an_unknown_tier_is_refused_not_treated_as_low():
    with pytest.raises(ValueError, match="unknown risk tier 'High'"):
        gates.gates_for("High")


def test_high_risk_uses_the_stricter_thresholds(repo):
    write_metrics(repo, model=0.94, dummy=0.5)
    assert baseline(inputs(repo, risk_tier="low")).passed
    high = baseline(inputs(repo, risk_tier="high"))
    assert high.passed is False
    assert "below the floor 0.95" in high.message


def test_the_project_params_hold_both_tiers_and_high_is_stricter():
    settings = yaml.safe_load(PROJECT_PARAMS.read_text())["gate"]
    assert settings["mode"] in gate.MODES
    assert settings["risk_tier"] in RISK_TIERS
    low, high = settings["thresholds"]["low"], settings["thresholds"]["high"]
    assert high["min_metric"] > low["min_metric"]
    assert high["baseline_margin"] > low["baseline_margin"]
    assert high["production_tolerance"] < low["production_tolerance"]
    assert set(FAIRNESS) <= set(settings["fairness"])


# --- the report -------------------------------------------------------------------------

RESULTS = [
    GateResult("data contract", True, "data holds its contract", {"rows": 569}),
    GateResult("baseline", False, "roc_auc 0.5 | below", {"model": math.nan}),
]


def test_report_has_the_verdict_the_model_and_every_gate(repo):
    write_json(
        {"model": {"tag": "m:1", "digest": "sha256:ab"}, "lineage_id": LINEAGE_ID}, repo.lineage
    )
    result = gate.report(repo, SETTINGS, "svc:1", RESULTS)
    assert result["passed"] is False
    assert (result["mode"], result["risk_tier"], result["bento_tag"]) == ("enforce", "low", "svc:1")
    assert (result["model_tag"], result["lineage_id"]) == ("m:1", LINEAGE_ID)
    assert [g["name"] for g in result["gates"]] == ["data contract", "baseline"]
    assert set(result["gates"][0]) == {"name", "passed", "message", "evidence"}
    assert result["gates"][1]["evidence"] == {"model": "nan"}  # strict JSON, still visible
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("lineage", [None, "{broken", "[]"], ids=["missing", "not-json", "list"])
def test_report_without_a_readable_lineage_names_no_model(repo, lineage):
    if lineage is not None:
        repo.lineage.parent.mkdir(parents=True)
        repo.lineage.write_text(lineage)
    result = gate.report(repo, SETTINGS, None, RESULTS[:1])
    assert result["passed"] is True
    assert result["model_tag"] is None and result["lineage_id"] is None


def test_no_gate_at_all_is_not_a_pass(repo):
    assert gate.report(repo, SETTINGS, None, [])["passed"] is False


def test_markdown_table_shows_each_gate_and_escapes_pipes(repo):
    table = gate.markdown(gate.report(repo, SETTINGS, "svc:1", RESULTS))
    lines = table.splitlines()
    assert lines[0] == "### Gates FAILED (enforce mode, risk tier low)"
    assert "| Gate | Result | Evidence |" in lines
    assert "| data contract | pass | data holds its contract |" in lines
    assert "| baseline | **FAIL** | roc_auc 0.5 \\| below |" in lines


def test_markdown_in_warn_mode_says_the_failure_does_not_block(repo):
    table = gate.markdown(gate.report(repo, {**SETTINGS, "mode": "warn"}, "svc:1", RESULTS))
    assert table.startswith("### Gates FAILED (warn mode, risk tier low)")
    assert "does not block" in table


# --- the stage: enforce, warn, refusing what it does not understand ---------------------


@pytest.fixture
def stage(repo, monkeypatch):
    """gate.main on the tmp repository; returns a setter for params and the gates' verdict."""
    state: dict[str, Any] = {"settings": dict(SETTINGS), "results": RESULTS}
    monkeypatch.setattr(gate, "paths", lambda: repo)
    monkeypatch.setattr(gate, "load_params", lambda: {"gate": state["settings"]})

    def run_gates(p, settings):
        return gate.report(p, settings, "svc:1", state["results"])

    monkeypatch.setattr(gate, "run_gates", run_gates)
    return state


def test_enforce_mode_exits_with_an_error_when_a_gate_fails(repo, stage):
    with pytest.raises(SystemExit) as stopped:
        gate.main()
    assert "a gate failed" in str(stopped.value.code)
    report = json.loads((repo.reports_dir / "gate.json").read_text())
    assert report["passed"] is False
    assert "**FAIL**" in (repo.reports_dir / "gate.md").read_text()


def test_warn_mode_reports_the_failure_and_does_not_block(repo, stage, capsys):
    stage["settings"]["mode"] = "warn"
    gate.main()
    assert "WARNING: a gate failed" in capsys.readouterr().err
    report = json.loads((repo.reports_dir / "gate.json").read_text())
    assert (report["passed"], report["mode"]) == (False, "warn")


def test_enforce_mode_passes_when_every_gate_passes(repo, stage):
    stage["results"] = RESULTS[:1]
    gate.main()
    assert json.loads((repo.reports_dir / "gate.json").read_text())["passed"] is True


@pytest.mark.parametrize(
    "change, reason",
    [
        pytest.param({"mode": "dry-run"}, "gate.mode must be one of", id="unknown-mode"),
        pytest.param({"mode": "Enforce"}, "gate.mode must be one of", id="mode-case"),
        pytest.param({"risk_tier": "medium"}, "gate.risk_tier must be one of", id="unknown-tier"),
        pytest.param({"thresholds": {"high": {}}}, "no 'low' section", id="no-tier-thresholds"),
    ],
)
def test_settings_the_stage_does_not_understand_are_refused(repo, stage, change, reason):
    stage["settings"].update(change)
    with pytest.raises(SystemExit) as stopped:
        gate.main()
    assert reason in str(stopped.value.code)
    assert not (repo.reports_dir / "gate.json").exists()


def test_a_missing_gate_section_is_refused(repo, stage):
    stage["settings"] = {"mode": "warn"}
    with pytest.raises(SystemExit) as stopped:
        gate.main()
    assert "lacks ['metric', 'risk_tier', 'thresholds']" in str(stopped.value.code)


# --- run_gates when the bento cannot be built or served ----------------------------------


def test_a_bento_that_does_not_build_fails_the_gates_that_need_it(repo, monkeypatch):
    monkeypatch.setattr(gate, "build_or_explain", lambda p: (None, "bento build failed: boom"))
    result = gate.run_gates(repo, SETTINGS)
    verdicts = {g["name"]: (g["passed"], g["message"]) for g in result["gates"]}
    assert result["passed"] is False
    assert verdicts["data contract"][0] and verdicts["baseline"][0]
    assert verdicts["training-serving parity"] == (
        False,
        "could not evaluate: the bento was not served (see the rows below), so nothing to compare",
    )
    assert verdicts["packaging integrity"][0] is False
    assert verdicts["bento build"] == (False, "bento build failed: boom")


def test_a_bento_that_does_not_start_is_a_failed_row_not_a_crash(repo, monkeypatch, packed):
    @contextmanager
    def crashing(tag):
        raise RuntimeError("the server exited with 3:\n" + "log line\n" * 200)
        yield  # pragma: no cover

    monkeypatch.setattr(gate, "build_or_explain", lambda p: ("svc:1", ""))
    monkeypatch.setattr(serving, "served", crashing)
    result = gate.run_gates(repo, SETTINGS)
    rows = {g["name"]: g for g in result["gates"]}
    assert result["passed"] is False
    assert rows["bento serve"]["message"].startswith("…")  # the log's tail, not all of it
    assert "the server exited with 3" in rows["bento serve"]["evidence"]["error"]
    assert rows["training-serving parity"]["passed"] is False
    assert "smoke request: not served" in rows["packaging integrity"]["message"]
