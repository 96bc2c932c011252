"""The Kubernetes target: apply deploy/k8s/<env>/, rendered from the manifest, with kubectl.

Before anything is applied, the rendered objects must be exactly what the
manifest renders to (promotion commits both together) and every Deployment
must run the image digest the manifest names. Then two steps, so the Service
never points at pods that are not ready: the versioned Deployments first
(waiting for their rollout), then the rest, pruning what the manifest dropped.
"""

from collections.abc import Iterator

from {{ cookiecutter.package }}.config import PROJECT, Paths
from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.manifest import Manifest, load_manifest
from {{ cookiecutter.package }}.deploy.targets.kubernetes_files import differences, rendered_dir
from {{ cookiecutter.package }}.deploy.targets.kubernetes_objects import render
from {{ cookiecutter.package }}.deploy.targets.kubernetes_settings import environment_labels
from {{ cookiecutter.package }}.shell import output, run


def images_in(files: dict[str, str]) -> set[str]:
    """Every container image named in rendered YAML files."""
    import yaml

    found = set()
    for text in files.values():
        for document in yaml.safe_load_all(text):
            containers = (
                (document or {})
                .get("spec", {})
                .get("template", {})
                .get("spec", {})
                .get("containers", [])
            )
            found |= {container["image"] for container in containers}
    return found


def check_rendered(p: Paths, manifest: Manifest) -> None:
    """The committed objects are the manifest's rendering, and run the manifest's images."""
    folder = rendered_dir(p, manifest.environment)
    stale = differences(folder, render(manifest))
    if stale:
        raise DeployError(
            f"deploy/k8s/{manifest.environment} does not match the manifest ({', '.join(stale)}); "
            "promote through `promote`, which commits both, or run `render-k8s` and commit"
        )
    committed = {path.name: path.read_text() for path in folder.glob("*.yaml")}
    wanted = {v.image for v in (manifest.current, manifest.previous) if v is not None}
    if None in wanted or images_in(committed) != wanted:
        raise DeployError(
            f"deploy/k8s/{manifest.environment} runs {sorted(map(str, images_in(committed)))}, "
            f"the manifest names {sorted(map(str, wanted))}: refusing to apply"
        )


def namespace_of(environment: str) -> str:
    return f"{PROJECT}-{environment}"


def selector_of(environment: str) -> str:
    """kubectl's `-l` for the labels every object rendered for the environment carries."""
    return ",".join(f"{key}={value}" for key, value in environment_labels(environment).items())


def apply(p: Paths, environment: str, namespace: str | None = None) -> list[str]:
    """Check, then apply the environment's objects in two steps; what was run."""
    manifest = load_manifest(p.manifest(environment))
    check_rendered(p, manifest)
    folder = str(rendered_dir(p, environment).relative_to(p.root))
    namespace = namespace or namespace_of(environment)
    selector = selector_of(environment)
    steps = [
        ["kubectl", "apply", "-n", namespace, "-k", folder, "-l", "version"],
        [
            "kubectl",
            "rollout",
            "status",
            "-n",
            namespace,
            "deployment",
            "-l",
            selector,
            "--timeout=5m",
        ],
        ["kubectl", "apply", "-n", namespace, "-k", folder, "--prune", "-l", selector],
    ]
    for step in steps:
        run(p.root, *step)
    return [" ".join(step) for step in steps]


class Kubernetes:
    """The Kubernetes target (the interface: targets/__init__.py), through kubectl and
    the cluster its current context names. The canary's traffic share is the
    rendered replicas' (docs/kubernetes.md); no analysis runs here."""

    def __init__(self, p: Paths) -> None:
        self.p = p

    def deploy(self, environment: str, revert_failed_canary: bool) -> Iterator[str]:
        for step in apply(self.p, environment):
            yield f"ran: {step}"

    def status(self, environment: str) -> list[str]:
        shown = output(
            self.p.root,
            *("kubectl", "get", "deployments,services", "-n", namespace_of(environment)),
            *("-l", selector_of(environment), "-o", "wide"),
        )
        return [f"{environment} (namespace {namespace_of(environment)}):", *shown.splitlines()]

    def stop(self, environment: str) -> list[str]:
        """Delete what `deploy` applied: the objects rendered for the environment."""
        folder = str(rendered_dir(self.p, environment).relative_to(self.p.root))
        step = ["kubectl", "delete", "-n", namespace_of(environment), "-k", folder]
        step.append("--ignore-not-found")
        run(self.p.root, *step)
        return [f"ran: {' '.join(step)}"]
