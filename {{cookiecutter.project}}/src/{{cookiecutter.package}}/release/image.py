"""The image: containerize the bento, push it, and name it by the pushed digest."""

import os
import re
import sys
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.shell import output, run

IMAGE_REGISTRY = {{ cookiecutter.image_registry | tojson }}
DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def registry_login(root: Path, backend: str, registry: str) -> None:
    user, password = os.environ.get("REGISTRY_USER"), os.environ.get("REGISTRY_PASSWORD")
    if user and password:
        host = registry.split("/")[0]
        run(root, backend, "login", host, "--username", user, "--password-stdin", stdin=password)


def push_by_digest(root: Path, backend: str, reference: str) -> str:
    """Push and return the pushed manifest's digest (`sha256:...`)."""
    if backend in ("podman", "buildah"):
        digest_file = root / "build" / "image.digest"
        digest_file.parent.mkdir(exist_ok=True)
        run(root, backend, "push", "--digestfile", str(digest_file), reference)
        return digest_file.read_text().strip()
    printed = output(root, backend, "push", reference)
    found = DIGEST_LINE.findall(printed)
    if not found:
        raise ReleaseError(f"`{backend} push {reference}` printed no digest:\n{printed}")
    digest: str = found[-1]
    return digest


def release_image(p: Paths, backend: str, registry: str) -> dict[str, Any]:
    """Containerize the bento and push it; return the release record.

    The record (also written to reports/release.json) is the manifest entry of
    the pushed version plus the model's whole lineage.
    """
    from {{ cookiecutter.package }}.files import read_json
    from {{ cookiecutter.package }}.release.promotion import candidate_version
    from {{ cookiecutter.package }}.serving.bento import build_bento

    bento_tag = build_bento(p)
    registry = registry.lower()
    reference = f"{registry}:{bento_tag.split(':')[1]}"
    registry_login(p.root, backend, registry)
    bentoml = str(Path(sys.executable).with_name("bentoml"))
    run(p.root, bentoml, "containerize", bento_tag, "--backend", backend, "--image-tag", reference)
    pinned = f"{registry}@{push_by_digest(p.root, backend, reference)}"
    lineage = read_json(p.lineage)
    version = candidate_version(lineage, bento_tag, pinned)
    # The lineage travels with the release: the promotion job has no trained model.
    record = {**version.model_dump(mode="json"), "lineage": lineage}
    write_json(record, p.reports_dir / "release.json")
    return record
