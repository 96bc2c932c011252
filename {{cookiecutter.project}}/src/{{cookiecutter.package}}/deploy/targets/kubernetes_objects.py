"""Kubernetes manifests for each environment, rendered from `deploy/<env>.yaml`.

This is the scale path. `render-k8s` turns a deployment manifest into
`deploy/k8s/<env>/`: one object per file, plus a `kustomization.yaml` that
lists them. The deploy workflow applies that folder with `kubectl apply -k`,
or Argo CD pulls it from git (see deploy/k8s/argocd/ and docs/kubernetes.md).

- One Deployment per version, `<project>-<env>-<short version>`, labelled
  app / environment / version. The pod template depends on the version alone,
  never on its role: when a revert makes the previous version current again,
  its pods are not restarted. They are already warm and ready.
- `current` runs ACTIVE_REPLICAS; `previous` stays warm at WARM_REPLICAS.
- The Service selects `current`. During a canary (0 < canary < 100) it selects
  both versions and the replica counts set the split, which is APPROXIMATE:
  1 pod of CANARY_POOL is 25 % whatever share the manifest asks for. A service
  mesh or Argo Rollouts gives exact weights.
- An HPA scales `current`; during a canary it is pinned (min = max) so that
  autoscaling cannot skew the split.

Files are named by role (current-deployment.yaml, previous-deployment.yaml,
service.yaml, hpa.yaml), so a promotion or a revert shows in `git diff` as the
fields that changed. Rendering is a pure function of the manifest: the same
manifest always gives the same bytes, which `render-k8s --check` relies on.
"""

from typing import Any

import yaml

from {{ cookiecutter.package }}.config import PACKAGE, manifest_relative
from {{ cookiecutter.package }}.deploy.manifest import Manifest, Version
from {{ cookiecutter.package }}.deploy.targets.kubernetes_settings import (
    ACTIVE_REPLICAS,
    ANNOTATION,
    CANARY_POOL,
    CONTAINER_SECURITY,
    ENV,
    LATER_WAVE,
    MAX_REPLICAS,
    POD_SECURITY,
    PORT,
    PREDICTION_LOG_STORE,
    RESOURCES,
    SERVICE_ACCOUNT,
    SERVICE_PORT,
    TARGET_CPU_PERCENT,
    WARM_REPLICAS,
    WRITABLE,
    RenderError,
    base_name,
    deployment_name,
    environment_labels,
    provenance,
    version_labels,
)


class _Dumper(yaml.SafeDumper):
    """Plain YAML: a dict used twice is written twice, never as an &anchor."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000)


# --- replicas ------------------------------------------------------------------------


def in_canary(manifest: Manifest) -> bool:
    """Both versions serve. A canary of 100 % is a finished rollout: current only."""
    return manifest.previous is not None and 0 < manifest.traffic.canary < 100


def replica_counts(manifest: Manifest) -> tuple[int, int]:
    """Replicas of (current, previous); previous is 0 when there is none."""
    if in_canary(manifest):
        share = (CANARY_POOL * manifest.traffic.canary + 50) // 100
        current = min(max(share, 1), CANARY_POOL - 1)
        return current, CANARY_POOL - current
    warm = WARM_REPLICAS if manifest.previous is not None else 0
    return ACTIVE_REPLICAS[manifest.environment], warm


def effective_canary_percent(manifest: Manifest) -> int:
    """The share `current` really gets when the Service spreads requests over pods."""
    if not in_canary(manifest):
        return 100
    return round(100 * replica_counts(manifest)[0] / CANARY_POOL)


def autoscaling_bounds(manifest: Manifest) -> tuple[int, int]:
    """(minReplicas, maxReplicas) of `current`: pinned during a canary."""
    current, _ = replica_counts(manifest)
    if in_canary(manifest):
        return current, current
    return current, max(MAX_REPLICAS[manifest.environment], current)


# --- objects -------------------------------------------------------------------------


def probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def container_env(environment: str) -> dict[str, str]:
    """The server's variables: the environment its log rows name, and where its log goes."""
    env = {**ENV, "SERVING_ENVIRONMENT": environment}
    if PREDICTION_LOG_STORE:
        env["PREDICTION_LOG_SHIP_TO"] = f"{PREDICTION_LOG_STORE.rstrip('/')}/{environment}"
    return env


def container(environment: str, version: Version) -> dict[str, Any]:
    return {
        "name": "bento",
        "image": version.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in container_env(environment).items()],
        "resources": RESOURCES,
        # Loading the model may take a while: up to 60 s before liveness counts.
        "startupProbe": probe("/livez", period=2, failures=30),
        "livenessProbe": probe("/livez", period=10, failures=3),
        "readinessProbe": probe("/readyz", period=5, failures=3),
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": [{"name": name, "mountPath": path} for name, (path, _) in WRITABLE.items()],
    }


def pod_template(environment: str, version: Version) -> dict[str, Any]:
    """Depends on the version only, never on its role (see the module docstring)."""
    scrape = {"prometheus.io/scrape": "true", "prometheus.io/port": str(PORT)}
    return {
        "metadata": {
            "labels": version_labels(environment, version),
            "annotations": {**scrape, "prometheus.io/path": "/metrics", **provenance(version)},
        },
        "spec": {
            # An IAM role for the log store reaches the pod through its own projected
            # token (IRSA, EKS Pod Identity), not through the Kubernetes API token.
            **({"serviceAccountName": SERVICE_ACCOUNT} if SERVICE_ACCOUNT else {}),
            "automountServiceAccountToken": False,
            "securityContext": POD_SECURITY,
            "containers": [container(environment, version)],
            "volumes": [
                {"name": name, "emptyDir": {"sizeLimit": size}}
                for name, (_, size) in WRITABLE.items()
            ],
        },
    }


def deployment(manifest: Manifest, role: str, version: Version, replicas: int) -> dict[str, Any]:
    environment = manifest.environment
    labels = version_labels(environment, version)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": deployment_name(environment, version),
            "labels": labels,
            "annotations": {f"{ANNOTATION}/role": role, **provenance(version)},
        },
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": labels},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": pod_template(environment, version),
        },
    }


def service(manifest: Manifest) -> dict[str, Any]:
    environment = manifest.environment
    if in_canary(manifest):
        selector = environment_labels(environment)
        split = {
            f"{ANNOTATION}/canary-percent": str(manifest.traffic.canary),
            f"{ANNOTATION}/canary-effective-percent": str(effective_canary_percent(manifest)),
        }
    else:
        selector, split = version_labels(environment, manifest.current), {}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": base_name(environment),
            "labels": environment_labels(environment),
            "annotations": {**LATER_WAVE, **split},
        },
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http"}],
        },
    }


def autoscaler(manifest: Manifest) -> dict[str, Any]:
    environment = manifest.environment
    low, high = autoscaling_bounds(manifest)
    cpu = {"type": "Utilization", "averageUtilization": TARGET_CPU_PERCENT}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": base_name(environment),
            "labels": environment_labels(environment),
            "annotations": dict(LATER_WAVE),
        },
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": deployment_name(environment, manifest.current),
            },
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": cpu}}],
        },
    }


def kustomization(resources: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }


# --- the rendering -------------------------------------------------------------------


def roles(manifest: Manifest) -> dict[str, Version]:
    """The versions to run, by role; each must be an image Kubernetes can pull."""
    versions = {"current": manifest.current}
    if manifest.previous is not None:
        versions["previous"] = manifest.previous
    for role, version in versions.items():
        if version.image is None:
            source = manifest_relative(manifest.environment)
            raise RenderError(
                f"{source}: the {role} version {version.bento_tag} has no image digest; "
                "Kubernetes runs images, so the manifest needs "
                "`image: <repository>@sha256:<digest>` (the release workflow records it)"
            )
    return versions


def objects(manifest: Manifest) -> dict[str, dict[str, Any]]:
    """Every object of one environment by file name, in a fixed order."""
    versions = roles(manifest)
    names = {deployment_name(manifest.environment, v) for v in versions.values()}
    if len(names) < len(versions):
        raise RenderError(
            f"{manifest_relative(manifest.environment)}: current and previous both render to "
            f"{names.pop()}; their bento versions must differ in the first 8 characters"
        )
    counts = dict(zip(("current", "previous"), replica_counts(manifest), strict=True))
    files = {
        f"{role}-deployment.yaml": deployment(manifest, role, version, counts[role])
        for role, version in versions.items()
    }
    return {**files, "service.yaml": service(manifest), "hpa.yaml": autoscaler(manifest)}


def render(manifest: Manifest) -> dict[str, str]:
    """File name -> YAML text for deploy/k8s/<env>/, kustomization.yaml last."""
    header = (
        f"# Rendered from {manifest_relative(manifest.environment)} by `{PACKAGE} render-k8s`.\n"
        "# Do not edit: change the manifest (or the settings in "
        f"src/{PACKAGE}/deploy/targets/kubernetes_settings.py) and render again.\n"
    )
    files = {name: header + to_yaml(obj) for name, obj in objects(manifest).items()}
    files["kustomization.yaml"] = header + to_yaml(kustomization(list(files)))
    return files
