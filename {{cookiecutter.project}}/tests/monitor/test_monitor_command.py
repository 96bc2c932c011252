"""`monitor <env>` and `labels add` as a user types them, in a promoted repository."""

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from monitor_traffic import VERSION, shifted

from {{ cookiecutter.package }}.cli import cli
from {{ cookiecutter.package }}.config import PACKAGE, SERVICE_NAME
from {{ cookiecutter.package }}.files import file_digest, write_json
from {{ cookiecutter.package }}.release.promotion import candidate_version, promote


def soon() -> str:
    """A window end just after now: the traffic a test writes falls inside its window."""
    return (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def serve_version(repo, reference, monkeypatch) -> None:
    """Staging serves lineage VERSION, whose reference is in the checkout."""
    write_json(reference, repo.reference)
    lineage = {
        "lineage_id": VERSION,
        "risk_tier": "low",
        "model": {"tag": f"{PACKAGE}:{VERSION}", "digest": f"sha256:{VERSION * 4}"},
        "metrics": {"model": {"roc_auc": 0.99}},
        "reference": {"file": "models/reference.json", "sha256": file_digest(repo.reference)},
    }
    image = f"registry.example.com/team/model@sha256:{VERSION * 4}"
    version = candidate_version(lineage, f"{SERVICE_NAME}:{VERSION}", image)
    promote(repo, "staging", lineage, version, proposal=False)
    monkeypatch.chdir(repo.root)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_monitor_writes_the_json_and_markdown_report(
    repo, reference, traffic, monkeypatch, numeric_column
):
    serve_version(repo, reference, monkeypatch)
    traffic(shift=lambda raw: shifted(raw, numeric_column))
    result = run("monitor", "staging", "--logs", str(traffic.folder), "--window-end", soon())
    assert result.exit_code == 0, result.output
    assert "alert" in result.output
    folder = repo.monitor_reports / "staging"
    saved = json.loads(next(folder.glob("*.json")).read_text())
    assert saved["status"] == "alert" and saved["schema_version"] == 1
    assert saved["input_drift"]["drifted"] == [numeric_column]
    page = next(folder.glob("*.md")).read_text()
    assert f"## {numeric_column}" in page and "xychart-beta" in page


def test_no_traffic_exits_zero_and_says_so(repo, reference, monkeypatch, tmp_path):
    serve_version(repo, reference, monkeypatch)
    result = run("monitor", "staging", "--logs", str(tmp_path / "empty"), "--window-end", soon())
    assert result.exit_code == 0, result.output
    assert "no_traffic" in result.output


def test_a_reference_that_does_not_match_the_lineage_is_an_error(repo, reference, monkeypatch):
    serve_version(repo, reference, monkeypatch)
    repo.reference.write_text("{}\n")
    result = run("monitor", "staging", "--window-end", soon())
    assert result.exit_code == 1
    assert "no reference with sha256" in result.output and "dvc pull" in result.output


def test_bad_window_arguments_are_errors(repo, reference, monkeypatch):
    serve_version(repo, reference, monkeypatch)
    assert "write a length like" in run("monitor", "staging", "--window", "1w").output
    assert "not an ISO" in run("monitor", "staging", "--window-end", "soon").output


def test_an_environment_with_nothing_deployed_is_an_error(repo, monkeypatch):
    monkeypatch.chdir(repo.root)
    result = run("monitor", "production")
    assert result.exit_code == 1 and "Error" in result.output


def test_labels_add_reports_unknown_and_duplicated_ids(repo, traffic, monkeypatch, tmp_path):
    monkeypatch.chdir(repo.root)
    sent = traffic(rows=3)
    rows = [f"{sent['id'][0]},1", f"{sent['id'][1]},0", f"{sent['id'][1]},1", "nobody,0"]
    source = tmp_path / "late.csv"
    source.write_text("id,label\n" + "\n".join(rows) + "\n")
    result = run("labels", "add", str(source), "--logs", str(traffic.folder))
    assert result.exit_code == 0, result.output
    assert "3 rows stored" in result.output
    assert "1 ids with no logged prediction" in result.output
    assert "1 duplicated" in result.output
    assert len(list(repo.labels_dir.glob("labels-*.csv"))) == 1


def test_labels_add_refuses_a_wrong_type_naming_the_line(repo, monkeypatch, tmp_path):
    monkeypatch.chdir(repo.root)
    source = tmp_path / "late.csv"
    source.write_text("id,label\na,1\nb,maybe\n")
    result = run("labels", "add", str(source), "--logs", str(tmp_path))
    assert result.exit_code == 1
    assert "line 3: label 'maybe'" in result.output
    assert not repo.labels_dir.exists()
