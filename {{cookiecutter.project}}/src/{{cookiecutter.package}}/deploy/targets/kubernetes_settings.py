"""What the rendered Kubernetes objects ask for: replicas, resources, security, names.

Change the settings at the top, run `render-k8s` and commit the result; the
rest follows from BentoML's image and from Kubernetes' own limits.
"""

import re

from {{ cookiecutter.package }}.config import PROJECT
from {{ cookiecutter.package }}.deploy.manifest import Version

# --- Settings. Change them here, run `render-k8s` and commit the result. -------------
ACTIVE_REPLICAS = {"staging": 1, "production": 2}  # `current`, and the HPA's floor
MAX_REPLICAS = {"staging": 2, "production": 6}  # the HPA's ceiling
WARM_REPLICAS = 1  # `previous`, ready for an instant rollback
CANARY_POOL = 4  # pods both versions share during a canary
TARGET_CPU_PERCENT = 70  # the HPA adds pods above this average CPU use
RESOURCES = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}
# Where the pods copy their closed prediction log files, each environment's under
# <this>/<environment> (docs/monitoring.md). The pods need write access there: an
# IAM role bound to SERVICE_ACCOUNT. None: the files stay in the pod and go with it.
{%- if cookiecutter.dvc_remote == "s3" %}
PREDICTION_LOG_STORE: str | None = "s3://{{ cookiecutter.s3_remote_url.split('/')[2] }}/predictions/{{ cookiecutter.project }}"
{%- else %}
PREDICTION_LOG_STORE: str | None = None  # e.g. "s3://<bucket>/predictions/{{ cookiecutter.project }}"
{%- endif %}
SERVICE_ACCOUNT: str | None = None  # the pods' ServiceAccount (None: the namespace's default)
# -------------------------------------------------------------------------------------

PORT = 3000  # BentoML serves the API, /livez, /readyz and /metrics on one port
SERVICE_PORT = 80
BENTO_UID = 1034  # the `bentoml` user of images built by `bentoml containerize`
ANNOTATION = "gitops-ml"  # prefix of this project's annotations
NAME_LIMIT = 63  # a DNS label: the longest Service name, namespace or label value
SUBDOMAIN_LIMIT = 253  # the longest Deployment name
# The root filesystem is read-only. BentoML writes its home (store folders and
# Prometheus multiprocess files) and /tmp (worker sockets); the service writes
# the prediction log the drift monitor reads to PREDICTION_LOG_DIR.
BENTOML_HOME = "/var/lib/bentoml"
PREDICTION_LOG_DIR = "/var/log/predictions"
WRITABLE = {  # emptyDir volume -> (mount path, size limit)
    "tmp": ("/tmp", "256Mi"),
    "bentoml-home": (BENTOML_HOME, "256Mi"),
    "prediction-logs": (PREDICTION_LOG_DIR, "1Gi"),
}
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": BENTO_UID,
    "runAsGroup": BENTO_UID,
    "fsGroup": BENTO_UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
ENV = {
    "BENTOML_DO_NOT_TRACK": "true",
    "BENTOML_HOME": BENTOML_HOME,
    "PREDICTION_LOG_DIR": PREDICTION_LOG_DIR,
}
# Argo CD applies wave 0 (the Deployments) and waits until they are healthy
# before wave 1 (the Service and HPA) points traffic at them.
LATER_WAVE = {"argocd.argoproj.io/sync-wave": "1"}


class RenderError(ValueError):
    """A manifest that cannot run on Kubernetes as it is."""


# --- names and labels ----------------------------------------------------------------


def checked_name(name: str, limit: int = NAME_LIMIT) -> str:
    if len(name) > limit:
        raise RenderError(
            f"{name!r} has {len(name)} characters; Kubernetes allows {limit} "
            "here (shorten the project name)"
        )
    return name


def short_version(version: Version) -> str:
    """The bento version's first 8 characters, as a DNS label fragment."""
    raw = version.bento_tag.split(":", 1)[1]
    return re.sub(r"[^a-z0-9]+", "-", raw)[:8].strip("-")


def base_name(environment: str) -> str:
    return checked_name(f"{PROJECT}-{environment}")


def deployment_name(environment: str, version: Version) -> str:
    return checked_name(f"{PROJECT}-{environment}-{short_version(version)}", SUBDOMAIN_LIMIT)


def environment_labels(environment: str) -> dict[str, str]:
    return {"app": checked_name(PROJECT), "environment": environment}


def version_labels(environment: str, version: Version) -> dict[str, str]:
    return {**environment_labels(environment), "version": short_version(version)}


def provenance(version: Version) -> dict[str, str]:
    """What runs in these pods, for `kubectl describe` and `lineage`."""
    return {
        f"{ANNOTATION}/bento-tag": version.bento_tag,
        f"{ANNOTATION}/model-tag": version.model_tag,
        f"{ANNOTATION}/lineage-id": version.lineage_id,
    }
