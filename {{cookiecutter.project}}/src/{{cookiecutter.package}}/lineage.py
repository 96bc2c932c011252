"""What produced a model: data, features, params, code, dependencies, metrics.

The record travels with the model (BentoML metadata) and as
models/lineage.json under DVC, so "what produced it?" always has an answer.
"""

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import PACKAGE, Paths
from {{ cookiecutter.package }}.files import dvc_md5, file_digest
from {{ cookiecutter.package }}.model_store import model_tag
from {{ cookiecutter.package }}.shell import run

# The params sections that shape the model (gate thresholds do not).
MODEL_PARAMS = ["featurize", "train", "evaluate"]
LIBRARIES = ["scikit-learn", "pandas", "numpy", "pandera", "bentoml", "dvc", "joblib"]
# Paths whose changes do not make a training run "dirty": what the pipeline
# itself writes into git (dvc.lock, and the `cache: false` outputs in
# metrics/ and reports/), rewritten while it runs.
NOT_DIRTYING = ["dvc.lock", "metrics", "reports"]


def _git(root: Path, *args: str) -> str | None:
    """git's answer, or None: outside a repository (or without git) lineage says so."""
    try:
        result = run(root, "git", *args, check=False)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_state(root: Path) -> dict[str, Any]:
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    excludes = [f":(exclude){name}" for name in NOT_DIRTYING]
    changes = _git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", *excludes)
    return {"commit": commit, "dirty": bool(changes) if changes is not None else None}


def data_hashes(p: Paths) -> dict[str, str]:
    """MD5 of every data file the model was trained and evaluated on, as in dvc.lock."""
    files = [p.raw_data, p.train_features, p.eval_features]
    return {str(f.relative_to(p.root)): dvc_md5(f) for f in files}


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def lineage_id(record: dict[str, Any]) -> str:
    """A short id over everything that determines the model."""
    identity = {key: record[key] for key in ("model", "data", "features", "params", "code")}
    canonical = json.dumps(identity, sort_keys=True).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


def build_lineage(p: Paths, params: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    # Imported here: the feature definitions pull in scikit-learn and pandas
    # (2.7 s), and reading a lineage (`lineage --env production`, on call) needs neither.
    from {{ cookiecutter.package }} import features

    digest = "sha256:" + file_digest(p.model)
    record = {
        "model": {
            "tag": model_tag(digest),
            "digest": digest,
            "file": str(p.model.relative_to(p.root)),
        },
        "data": data_hashes(p),
        "features": {
            "definition_hash": features.definition_hash(),
            "module": f"src/{PACKAGE}/features.py",
            "names": features.feature_names(),
        },
        "params": {section: params.get(section) for section in MODEL_PARAMS},
        "code": git_state(p.root),
        "dependencies": {
            "lock_file": p.requirements_lock.name,
            "lock_hash": "sha256:" + file_digest(p.requirements_lock),
        },
        "environment": {"python": platform.python_version(), "libraries": library_versions()},
        "metrics": metrics,
        # The monitor's reference profile (monitor/reference.py), packed in the bento.
        "reference": {
            "file": str(p.reference.relative_to(p.root)),
            "sha256": file_digest(p.reference),
        },
        "risk_tier": params.get("gate", {}).get("risk_tier", "unknown"),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    record["lineage_id"] = lineage_id(record)
    return record


def flatten(record: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested lineage as (dotted key, value) rows for a table."""
    rows = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(flatten(value, f"{name}."))
        elif isinstance(value, list):
            rows.append((name, ", ".join(map(str, value))))
        else:
            rows.append((name, str(value)))
    return rows


def deployed_lineage(p: Paths, environment: str) -> dict[str, Any]:
    """The lineage of the version serving in `environment`: committed with its manifest,
    or from this checkout's model store (manifests promoted before the file existed)."""
    from {{ cookiecutter.package }}.config import deployed_lineage_relative
    from {{ cookiecutter.package }}.deploy.manifest import load_manifest
    from {{ cookiecutter.package }}.files import read_json
    from {{ cookiecutter.package }}.model_store import stored_lineage

    current = load_manifest(p.manifest(environment)).current
    committed = p.deployed_lineage(environment)
    if committed.exists():
        record: dict[str, Any] = read_json(committed)
        if record.get("lineage_id") == current.lineage_id:
            return record
    try:
        return stored_lineage(current.model_tag)
    except LookupError:
        state = "names another lineage" if committed.exists() else "is missing"
        raise LookupError(
            f"{environment} serves lineage {current.lineage_id} (model {current.model_tag}), but "
            f"{deployed_lineage_relative(environment)} {state} and the model is not in this "
            "store: `git pull` (each promotion commits it), or on the commit that trained "
            f"the model `dvc pull && {PACKAGE} register`"
        ) from None


def committed_lineage_of(p: Paths, model_tag: str) -> dict[str, Any] | None:
    """The lineage of `model_tag` if a deployed version's lineage in git names it."""
    from {{ cookiecutter.package }}.files import read_json

    for path in sorted((p.deploy_dir / "lineage").glob("*.json")):
        record: dict[str, Any] = read_json(path)
        if record.get("model", {}).get("tag") == model_tag:
            return record
    return None


def find_lineage(p: Paths, model_tag: str | None, environment: str | None) -> dict[str, Any]:
    """The lineage of a model by tag, of the one serving in an environment, or the last trained."""
    from {{ cookiecutter.package }}.files import read_json
    from {{ cookiecutter.package }}.model_store import stored_lineage

    if environment:
        return deployed_lineage(p, environment)
    if model_tag:
        try:
            return stored_lineage(model_tag)
        except LookupError:
            found = committed_lineage_of(p, model_tag)
            if found is None:
                raise
            return found
    last_trained: dict[str, Any] = read_json(p.lineage)
    return last_trained


def print_table(record: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"lineage of {record['model']['tag']}", header_style="bold")
    table.add_column("field", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in flatten(record):
        table.add_row(key, value)
    Console(width=120).print(table)
