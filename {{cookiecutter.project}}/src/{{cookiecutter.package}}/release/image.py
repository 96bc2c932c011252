"""The image: containerize the bento, push it, and name it by the pushed digest.

The engine is whichever this machine has: Docker where its daemon answers
(GitHub's runners), buildah otherwise (a CI container, a machine without a
Docker daemon); CONTAINER_BACKEND names one instead. The base image is
`docker.base_image` in bentofile.yaml. The digest comes from the push (the
registry's), never from a local image listing, whose digest differs.
"""

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.shell import output, run, succeeds

IMAGE_REGISTRY = {{ cookiecutter.image_registry | tojson }}
DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")
BACKENDS = ("docker", "buildah", "podman")
# Engines that write the pushed manifest's digest to a file (`push --digestfile`).
DIGESTFILE_BACKENDS = ("buildah", "podman")


def choose_backend(root: Path, requested: str | None) -> str:
    """The requested engine, or Docker if its daemon answers, or buildah if installed."""
    if requested:
        if requested not in BACKENDS:
            raise ReleaseError(f"CONTAINER_BACKEND={requested}: expected one of {BACKENDS}")
        return requested
    # A docker client alone builds nothing: `docker version` fails without its daemon.
    if shutil.which("docker") and succeeds(root, "docker", "version"):
        return "docker"
    if shutil.which("buildah"):
        return "buildah"
    raise ReleaseError(
        "no container engine: start Docker, or install buildah (apt-get install buildah)"
    )


def engine_env(backend: str) -> dict[str, str]:
    """The environment the engine runs in.

    buildah's default isolation needs namespaces that a CI container or an
    unprivileged machine lacks; chroot isolation builds anywhere it runs as
    root or under `buildah unshare`. An explicit BUILDAH_ISOLATION wins.
    """
    env = dict(os.environ)
    if backend == "buildah":
        env.setdefault("BUILDAH_ISOLATION", "chroot")
    return env


def build_options(backend: str) -> list[str]:
    """buildah writes every layer as built (no BuildKit cache mounts): squashing drops
    the files the setup script removed (build tools, the package cache) from the image."""
    return ["--opt", "squash"] if backend == "buildah" else []


def registry_login(root: Path, backend: str, registry: str) -> None:
    user, password = os.environ.get("REGISTRY_USER"), os.environ.get("REGISTRY_PASSWORD")
    if user and password:
        host = registry.split("/")[0]
        # Options before the registry: buildah and podman accept no other order.
        login = ["login", "--username", user, "--password-stdin", host]
        run(root, backend, *login, stdin=password, env=engine_env(backend))


def push_by_digest(root: Path, backend: str, reference: str) -> str:
    """Push and return the pushed manifest's digest (`sha256:...`)."""
    if backend in DIGESTFILE_BACKENDS:
        digest_file = root / "build" / "image.digest"
        digest_file.parent.mkdir(exist_ok=True)
        digest_file.unlink(missing_ok=True)
        push = ["push", "--digestfile", str(digest_file), reference]
        run(root, backend, *push, env=engine_env(backend))
        written = digest_file.read_text().strip() if digest_file.exists() else ""
        if not written.startswith("sha256:"):
            raise ReleaseError(f"`{backend} push {reference}` reported no digest")
        return written
    printed = output(root, backend, "push", reference)
    found = DIGEST_LINE.findall(printed)
    if not found:
        raise ReleaseError(f"`{backend} push {reference}` printed no digest:\n{printed}")
    digest: str = found[-1]
    return digest


def containerize(p: Paths, backend: str, bento_tag: str, reference: str) -> None:
    bentoml = str(Path(sys.executable).with_name("bentoml"))
    build = ["containerize", bento_tag, "--backend", backend, "--image-tag", reference]
    run(p.root, bentoml, *build, *build_options(backend), env=engine_env(backend))


def release_image(p: Paths, backend: str | None, registry: str) -> dict[str, Any]:
    """Containerize the bento and push it; return the release record.

    The record (also written to reports/release.json) is the manifest entry of
    the pushed version plus the model's whole lineage and its gates' verdict. A
    model whose gates did not pass (gates/verdict.py) is refused before the build.
    """
    from {{ cookiecutter.package }}.files import read_json
    from {{ cookiecutter.package }}.release.promotion import candidate_version, trained_model_cleared
    from {{ cookiecutter.package }}.serving.bento import build_bento

    lineage = read_json(p.lineage)
    # Before the build: an image of a model that may not ship is never pushed.
    gates = trained_model_cleared(p, lineage)
    engine = choose_backend(p.root, backend)
    bento_tag = build_bento(p)
    registry = registry.lower()
    reference = f"{registry}:{bento_tag.split(':')[1]}"
    registry_login(p.root, engine, registry)
    containerize(p, engine, bento_tag, reference)
    pinned = f"{registry}@{push_by_digest(p.root, engine, reference)}"
    version = candidate_version(lineage, bento_tag, pinned)
    # The lineage and the gates' verdict travel with the release: the promotion
    # job has no trained model and no gate report.
    record = {**version.model_dump(mode="json"), "lineage": lineage, "gates": gates}
    write_json(record, p.reports_dir / "release.json")
    return record
