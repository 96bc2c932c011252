"""Behavioural tests: what the model must do, whatever its estimator and parameters.

Generic checks follow the contract (every class, every column); what is
specific to your problem is declared in expectations.yaml beside this file.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package }}.contract import Contract
from {{ cookiecutter.package }}.features import build_features
from {{ cookiecutter.package }}.pipeline.evaluate import score

EXPECTATIONS = Path(__file__).with_name("expectations.yaml")


def expectation_problems(declared: dict[str, Any], contract: Contract) -> list[str]:
    """Every column or class of expectations.yaml that the contract does not declare."""
    problems = []
    for case in declared.get("directional", []):
        for name in case["multiply"]:
            if not (name in contract.features and contract.features[name].numeric):
                problems.append(f"{case['name']!r}: {name!r} is no numeric column of the contract")
        for key in ("from_class", "raises"):
            if case[key] not in contract.label_values:
                problems.append(
                    f"{case['name']!r}: {key} {case[key]!r} is no class of the contract"
                )
    for case in declared.get("invariance", []):
        unknown = [name for name in case["columns"] if name not in contract.features]
        if unknown:
            problems.append(f"{case['name']!r}: {unknown} not in contract.yaml")
    return problems


@pytest.fixture(scope="module")
def expectations(contract: Contract) -> dict[str, Any]:
    """expectations.yaml, checked against the contract: a stale expectation fails, never skips."""
    declared = yaml.safe_load(EXPECTATIONS.read_text()) or {}
    problems = expectation_problems(declared, contract)
    if problems:
        pytest.fail("tests/model/expectations.yaml: " + "; ".join(problems))
    return declared


def probabilities(model, raw: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(build_features(raw))


def class_column(model, label) -> int:
    return list(model.classes_).index(label)


def test_quality_clears_the_declared_floor(project_model, project_split, contract, expectations):
    _, held_out = project_split
    quality = expectations["quality"]
    scores = score(held_out[contract.label], probabilities(project_model, held_out), 0.5)
    assert scores[quality["metric"]] >= quality["min"], scores


def test_row_order_does_not_change_predictions(project_model, project_split):
    _, held_out = project_split
    shuffled = held_out.sample(frac=1.0, random_state=0)
    np.testing.assert_allclose(
        probabilities(project_model, shuffled),
        probabilities(project_model, held_out.loc[shuffled.index]),
    )


def test_every_class_has_a_typical_record_it_is_predicted_as(
    project_model, project_split, contract
):
    """Minimum functionality: each class's median (numeric) or mode (categorical) training row."""
    train, _ = project_split
    for label in contract.label_values:
        rows = train[train[contract.label] == label]
        typical = {
            name: rows[name].median() if feature.numeric else rows[name].mode().iloc[0]
            for name, feature in contract.features.items()
        }
        predicted = project_model.predict(build_features(pd.DataFrame([typical])))[0]
        assert predicted == label, f"the typical class-{label} record is predicted {predicted}"


def test_directional_expectations_hold(project_model, project_split, contract, expectations):
    _, held_out = project_split
    for case in expectations.get("directional", []):
        rows = held_out[held_out[contract.label] == case["from_class"]].head(20)
        changed = rows.assign(**{name: rows[name] * k for name, k in case["multiply"].items()})
        column = class_column(project_model, case["raises"])
        before = probabilities(project_model, rows)[:, column]
        after = probabilities(project_model, changed)[:, column]
        assert (after > before).mean() >= 0.9, f"{case['name']}: {after - before}"


def typical_values(column: pd.Series, numeric: bool) -> list[Any]:
    """The 5th and 95th percentiles of a numeric column; each value of a categorical one."""
    if numeric:
        return column.quantile([0.05, 0.95]).tolist()
    return column.dropna().unique().tolist()


def test_invariance_expectations_hold(project_model, project_split, contract, expectations):
    _, held_out = project_split
    base = probabilities(project_model, held_out)
    for case in expectations.get("invariance", []):
        for name in case["columns"]:
            for value in typical_values(held_out[name], contract.features[name].numeric):
                moved = probabilities(project_model, held_out.assign(**{name: value}))
                gap = float(np.abs(moved - base).max())
                assert gap <= case["tolerance"], f"{case['name']}: {name}={value} moves {gap:.3f}"


def test_training_is_deterministic(project_split, params):
    from {{ cookiecutter.package }}.pipeline.featurize import with_features
    from {{ cookiecutter.package }}.pipeline.train import fit

    train, held_out = project_split
    first, second = (fit(with_features(train), params["train"]) for _ in range(2))
    np.testing.assert_array_equal(probabilities(first, held_out), probabilities(second, held_out))


DIRECTIONAL = {"name": "x", "from_class": 0, "multiply": {"a": 2.0}, "raises": 1}


@pytest.mark.parametrize(
    "declared, problem",
    [
        (
            {"directional": [{**DIRECTIONAL, "multiply": {"postcode": 2}}]},
            "'postcode' is no numeric",
        ),
        ({"directional": [{**DIRECTIONAL, "raises": 7}]}, "raises 7 is no class"),
        ({"invariance": [{"name": "y", "columns": ["zz"], "tolerance": 0.1}]}, "['zz'] not in"),
    ],
)
def test_an_expectation_outside_the_contract_is_a_problem_not_a_skip(declared, problem):
    from {{ cookiecutter.package }}.contract import parse_contract

    contract = parse_contract(
        "label: y\nlabel_values: [0, 1]\nrows: {min: 1, max: 9}\n"
        "label_share: {min: 0, max: 1}\nfeatures: {a: {min: 0, max: 1}}\n"
    )
    assert problem in " ".join(expectation_problems(declared, contract))
    assert expectation_problems({"directional": [DIRECTIONAL]}, contract) == []
