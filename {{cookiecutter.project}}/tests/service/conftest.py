"""Fixtures for the service tests: the bento of the last trained model, served once.

Every test here is `slow`: the session builds the bento with `build_bento` and
serves it with `bentoml serve` (through `served`, as production and the gates
do), so it needs a trained model. `make repro` first, then `make test-service`.

The service is imported lazily: importing it resolves the model in the model
store, which `make test` (the fast tests, no model needed) must not depend on.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from {{ cookiecutter.package }}.config import Paths, paths, use_project_model_store
from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.files import read_frame


def fuzz_reports(terminalreporter) -> list[dict[str, Any]]:
    """What the fuzz test recorded (`record_property("fuzz", ...)`), from its reports."""
    found = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", []):
                if name == "fuzz" and getattr(report, "when", "call") == "call":
                    found.append(value)
    return found


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print the fuzz count at the end of the run, whether or not output is captured."""
    for fuzz in fuzz_reports(terminalreporter):
        terminalreporter.write_sep("-", "service fuzz")
        terminalreporter.write_line(
            f"fuzz: {fuzz['requests']} requests, {fuzz['server_errors']} server errors"
        )
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(fuzz["statuses"].items()))
        terminalreporter.write_line(f"fuzz: responses by status: {statuses}")


@pytest.fixture(scope="session")
def project() -> Paths:
    p = paths()
    if not p.lineage.exists():
        pytest.fail(f"{p.lineage} is missing: run `make repro` first")
    use_project_model_store(p.root)
    return p


@pytest.fixture(scope="session")
def bento_tag(project: Paths) -> str:
    from {{ cookiecutter.package }}.serving.bento import build_bento

    return build_bento(project)


@pytest.fixture(scope="session")
def prediction_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prediction-logs")


def coverage_setting() -> dict[str, str]:
    """coverage's setting for the processes it measures (`make test-service` sets it).

    A served process gets only an allow-list of this environment, which leaves it
    out; passed here, the served bento's code counts in the package's coverage.
    """
    setting = os.environ.get("COVERAGE_PROCESS_CONFIG")
    return {"COVERAGE_PROCESS_CONFIG": setting} if setting else {}


@pytest.fixture(scope="session")
def service_url(bento_tag: str, prediction_log_dir: Path) -> Iterator[str]:
    from {{ cookiecutter.package }}.serving.process import served

    env = {"PREDICTION_LOG_DIR": str(prediction_log_dir), **coverage_setting()}
    with served(bento_tag, env=env) as url:
        yield url


@pytest.fixture(scope="session")
def client(service_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_url, timeout=60) as session:
        yield session


@pytest.fixture(scope="session")
def eval_rows(project: Paths) -> pd.DataFrame:
    """Held-out raw records, exactly as the service takes them."""
    return read_frame(project.eval_raw)[load_contract().feature_names]


@pytest.fixture
def record(eval_rows: pd.DataFrame) -> dict[str, float]:
    return eval_rows.iloc[0].to_dict()


@pytest.fixture(scope="session")
def offline_probability(project: Paths):
    """The trained model's probabilities, computed in process: what the service must return."""
    import joblib

    from {{ cookiecutter.package }}.features import build_features

    model = joblib.load(project.model)

    def predict(rows: pd.DataFrame) -> list[float]:
        return model.predict_proba(build_features(rows))[:, 1].tolist()

    return predict
