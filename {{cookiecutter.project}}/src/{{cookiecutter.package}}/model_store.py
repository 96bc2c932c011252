"""The BentoML model store: models are saved once, named by their content."""

import json
import shutil
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import PACKAGE

MODEL_FILE = "model.joblib"


def model_tag(digest: str) -> str:
    """Content-addressed tag: the same bytes always get the same tag."""
    return f"{PACKAGE}:{digest.removeprefix('sha256:')[:16]}"


def register(model_path: Path, lineage: dict[str, Any]) -> str:
    """Save the model with its lineage as metadata, unless that tag is already there.

    The same bytes evaluated again (on another commit, under another risk tier)
    keep their first registration: each bento packs the lineage it was built
    with, and that is the one a deploy checks (`serving.bento.bento_lineage`).
    """
    import bentoml

    tag: str = lineage["model"]["tag"]
    try:
        bentoml.models.get(tag)
        return tag
    except bentoml.exceptions.NotFound:
        pass
    labels = {"lineage_id": lineage["lineage_id"], "risk_tier": lineage["risk_tier"]}
    # BentoML metadata takes no None values: keep the record whole, as JSON.
    metadata = {"lineage_id": lineage["lineage_id"], "lineage": json.dumps(lineage)}
    with bentoml.models.create(tag, labels=labels, metadata=metadata) as stored:
        shutil.copyfile(model_path, stored.path_of(MODEL_FILE))
    return tag


def stored_lineage(tag: str) -> dict[str, Any]:
    import bentoml

    try:
        metadata = bentoml.models.get(tag).info.metadata
    except bentoml.exceptions.NotFound:
        raise LookupError(
            f"model {tag} is not in the model store; run `make repro` (or `{PACKAGE} register`)"
        ) from None
    lineage: dict[str, Any] = json.loads(str(metadata["lineage"]))
    return lineage


def stored_model_file(tag: str) -> Path:
    import bentoml

    try:
        return Path(bentoml.models.get(tag).path_of(MODEL_FILE))
    except bentoml.exceptions.NotFound:
        raise LookupError(f"model {tag} is not in the model store") from None
