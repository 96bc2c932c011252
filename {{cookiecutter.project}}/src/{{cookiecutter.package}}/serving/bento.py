"""Build the bento: the service code, the contract, the lineage and the model.

The build context is staged in build/bento/ so the bento holds a snapshot of
the package (not a reference to the live source) plus the lineage of the
model it serves. The bento version is a hash of everything staged and of the
model, so the same inputs always give the same tag and a rebuild is skipped.
"""

import hashlib
import shutil
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import PACKAGE, SERVICE_NAME, Paths
from {{ cookiecutter.package }}.files import file_digest, read_json
from {{ cookiecutter.package }}.model_store import MODEL_FILE, register, stored_model_file

# The lineage of the model the bento serves: its service reports it, deploys check it.
LINEAGE_FILE = "lineage.json"
REFERENCE_FILE = "reference.json"
CARD_FILE = "model-card.md"


def stage_context(p: Paths) -> Path:
    context = p.root / "build" / "bento"
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(
        p.root / "src" / PACKAGE,
        context / PACKAGE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copyfile(p.lineage, context / LINEAGE_FILE)
    # What the monitor compares traffic with: it travels with the model.
    shutil.copyfile(p.reference, context / REFERENCE_FILE)
    shutil.copyfile(p.root / "bentofile.yaml", context / "bentofile.yaml")
    (context / CARD_FILE).write_text(packed_card(p))
    return context


def packed_card(p: Paths) -> str:
    """The model card that travels with the model: the owner's fields and what the run
    measured (the gates run after the bento is built: they serve it)."""
    from {{ cookiecutter.package }}.card import IN_BENTO, card_or_blank, render_card

    return render_card(card_or_blank(p.root), read_json(p.lineage), None, IN_BENTO)


def content_version(context: Path, model_digest: str) -> str:
    digest = hashlib.sha256(model_digest.encode())
    for path in sorted(f for f in context.rglob("*") if f.is_file()):
        digest.update(str(path.relative_to(context)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_bento(p: Paths) -> str:
    """Build (or find) the bento for the current lineage; return its tag."""
    import bentoml

    lineage = read_json(p.lineage)
    register(p.model, lineage)
    context = stage_context(p)
    tag = f"{SERVICE_NAME}:{content_version(context, lineage['model']['digest'])}"
    try:
        bentoml.bentos.get(tag)
    except bentoml.exceptions.NotFound:
        bentoml.bentos.build_bentofile(
            str(context / "bentofile.yaml"),
            build_ctx=str(context),
            version=tag.split(":")[1],
            labels={"lineage_id": lineage["lineage_id"], "model_tag": lineage["model"]["tag"]},
        )
    return tag


def bento_path(tag: str) -> Path:
    import bentoml

    return Path(bentoml.bentos.get(tag).path)


def bento_model_tags(tag: str) -> set[str]:
    """The model tags a bento declares (its services' BentoModel references)."""
    import bentoml

    info = bentoml.bentos.get(tag).info
    tags = {str(model.tag) for model in info.models}
    for service in info.services:
        tags |= {str(model.tag) for model in service.models}
    return tags


def bento_model_digest(tag: str, model_tag: str) -> str:
    """sha256 of the model file the bento will serve.

    A bento in the local store refers to models in the model store; they are
    copied into it on export or `bentoml containerize`. Either copy is checked.
    """
    declared = bento_model_tags(tag)
    if model_tag not in declared:
        raise ValueError(f"bento {tag} packs {sorted(declared)}, not {model_tag}")
    name, version = model_tag.split(":")
    packed = bento_path(tag) / "models" / name / version / MODEL_FILE
    return "sha256:" + file_digest(packed if packed.exists() else stored_model_file(model_tag))


def bento_reference(tag: str) -> Path:
    """The reference profile packed in a bento (see `stage_context`)."""
    return bento_path(tag) / "src" / REFERENCE_FILE


def bento_lineage(tag: str) -> dict[str, Any]:
    """The lineage packed in a bento (see `stage_context`), which its service reports.

    The bento's, not the model store's: the store keeps a model's first registration,
    and the same bytes evaluated again (another commit, another risk tier) get a
    new lineage and a new bento.
    """
    path = bento_path(tag) / "src" / LINEAGE_FILE
    if not path.exists():
        raise FileNotFoundError(f"bento {tag} packs no {LINEAGE_FILE}: rebuild it (`make bento`)")
    lineage: dict[str, Any] = read_json(path)
    return lineage
