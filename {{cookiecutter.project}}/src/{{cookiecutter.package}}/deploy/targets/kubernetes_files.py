"""The rendered folder deploy/k8s/<env>/: write it, compare it, report on it.

`render-k8s` writes it, `render-k8s --check` and the Kubernetes target compare
it with what the manifest renders to, and a promotion commits it.
"""

from pathlib import Path

from {{ cookiecutter.package }}.config import ENVIRONMENTS, Paths, rendered_relative
from {{ cookiecutter.package }}.deploy.manifest import Manifest, load_manifest
from {{ cookiecutter.package }}.deploy.targets.kubernetes_objects import (
    effective_canary_percent,
    in_canary,
    render,
    replica_counts,
)
from {{ cookiecutter.package }}.deploy.targets.kubernetes_settings import CANARY_POOL


def rendered_dir(p: Paths, environment: str) -> Path:
    return p.root / rendered_relative(environment)


def differences(folder: Path, files: dict[str, str]) -> list[str]:
    """How the folder's YAML files differ from a rendering; empty when equal."""
    present = {path.name for path in folder.glob("*.yaml")}
    missing = [f"missing {name}" for name in files if name not in present]
    extra = [f"not rendered {name}" for name in sorted(present - set(files))]
    changed = [
        f"changed {name}"
        for name in files
        if name in present and (folder / name).read_bytes() != files[name].encode()
    ]
    return missing + changed + extra


def write(folder: Path, files: dict[str, str]) -> list[str]:
    """Make the folder hold exactly this rendering; return what changed."""
    changes = differences(folder, files)
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.yaml"):
        if path.name not in files:
            path.unlink()
    for name, text in files.items():
        if f"changed {name}" in changes or f"missing {name}" in changes:
            (folder / name).write_bytes(text.encode())
    return changes


def write_rendered(p: Paths, manifest: Manifest) -> list[str]:
    """Render a manifest into its folder; the folder, repository-relative (for the commit)."""
    folder = rendered_dir(p, manifest.environment)
    write(folder, render(manifest))
    return [str(folder.relative_to(p.root))]


def found_environments(p: Paths) -> list[str]:
    return [env for env in ENVIRONMENTS if p.manifest(env).exists()]


def canary_note(manifest: Manifest) -> str | None:
    """How far the replica split is from the canary share asked for, during a canary."""
    if not in_canary(manifest):
        return None
    current, _ = replica_counts(manifest)
    return (
        f"{manifest.environment}: canary {manifest.traffic.canary}% asked, about "
        f"{effective_canary_percent(manifest)}% by replica count ({current} of "
        f"{CANARY_POOL} pods); see docs/kubernetes.md"
    )


def render_environments(p: Paths, environments: list[str], check: bool) -> tuple[list[str], bool]:
    """Render (or, with `check`, compare) each environment; the report and whether any was stale."""
    lines, stale = [], False
    for environment in environments:
        manifest = load_manifest(p.manifest(environment))
        files = render(manifest)
        folder = rendered_dir(p, environment)
        changes = differences(folder, files) if check else write(folder, files)
        stale = stale or bool(changes)
        state = ("stale: " if check else "updated: ") + ", ".join(changes) if changes else "ok"
        lines += [note for note in [canary_note(manifest)] if note]
        lines.append(f"deploy/k8s/{environment}: {state}")
    return lines, stale
