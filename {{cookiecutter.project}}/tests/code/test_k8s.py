"""The Kubernetes rendering: which version serves, how many pods, and how they run.

Manifests are built in memory; `deploy/k8s/` of this repository is not read.
"""

import pytest
import yaml

from {{ cookiecutter.package }}.config import PROJECT
from {{ cookiecutter.package }}.deploy.manifest import Manifest, Traffic, Version
from {{ cookiecutter.package }}.deploy.targets import kubernetes_objects
from {{ cookiecutter.package }}.deploy.targets.kubernetes_files import differences, write
from {{ cookiecutter.package }}.deploy.targets.kubernetes_objects import objects, render
from {{ cookiecutter.package }}.deploy.targets.kubernetes_settings import (
    ACTIVE_REPLICAS,
    BENTOML_HOME,
    CANARY_POOL,
    MAX_REPLICAS,
    PORT,
    PREDICTION_LOG_DIR,
    WARM_REPLICAS,
    RenderError,
    checked_name,
    deployment_name,
)

REPOSITORY = "registry.example.com/team/model"
ROLES = ("current", "previous")


def version(seed: str, image: bool = True) -> Version:
    """A version whose bento, model and lineage ids all repeat `seed` (one hex digit)."""
    return Version(
        bento_tag=f"{PROJECT}:{seed * 16}",
        model_tag=f"model:{seed * 16}",
        lineage_id=seed * 16,
        image=f"{REPOSITORY}@sha256:{seed * 64}" if image else None,
        metrics={"roc_auc": 0.97},
    )


def manifest(
    environment: str = "production",
    risk_tier: str = "low",
    previous: Version | None = None,
    canary: int = 0,
    current: Version | None = None,
) -> Manifest:
    return Manifest(
        environment=environment,
        risk_tier=risk_tier,
        current=current or version("b"),
        previous=previous,
        traffic=Traffic(stable=100 - canary, canary=canary),
    )


def canary(share: int) -> Manifest:
    return manifest(risk_tier="high", previous=version("a"), canary=share)


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


# --- which objects, which version serves --------------------------------------------


def test_without_previous_one_deployment_a_service_and_an_hpa():
    files = objects(manifest("staging"))
    assert list(files) == ["current-deployment.yaml", "service.yaml", "hpa.yaml"]
    assert [obj["kind"] for obj in files.values()] == [
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
    ]


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_current_runs_the_active_replicas_and_previous_stays_warm(environment):
    files = objects(manifest(environment, previous=version("a")))
    assert files["current-deployment.yaml"]["spec"]["replicas"] == ACTIVE_REPLICAS[environment]
    assert files["previous-deployment.yaml"]["spec"]["replicas"] == WARM_REPLICAS == 1


def test_deployments_are_named_and_labelled_by_version():
    files = objects(manifest(previous=version("a")))
    current, previous = files["current-deployment.yaml"], files["previous-deployment.yaml"]
    assert current["metadata"]["name"] == f"{PROJECT}-production-bbbbbbbb"
    assert previous["metadata"]["name"] == f"{PROJECT}-production-aaaaaaaa"
    for deployment, short in ((current, "bbbbbbbb"), (previous, "aaaaaaaa")):
        labels = {"app": PROJECT, "environment": "production", "version": short}
        assert deployment["metadata"]["labels"] == labels
        assert deployment["spec"]["selector"]["matchLabels"] == labels
        assert deployment["spec"]["template"]["metadata"]["labels"] == labels


def test_service_selects_the_current_version_only():
    files = objects(manifest(previous=version("a")))
    selector = files["service.yaml"]["spec"]["selector"]
    assert selector == {"app": PROJECT, "environment": "production", "version": "bbbbbbbb"}
    assert files["service.yaml"]["spec"]["ports"][0]["targetPort"] == "http"


def test_hpa_scales_the_current_deployment():
    files = objects(manifest(previous=version("a")))
    spec = files["hpa.yaml"]["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": files["current-deployment.yaml"]["metadata"]["name"],
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (
        ACTIVE_REPLICAS["production"],
        MAX_REPLICAS["production"],
    )


def test_a_revert_swaps_the_roles_without_touching_the_pods():
    # Promotion: b current, a warm. Revert: a current again. The pods of `a`
    # must be the same, or Kubernetes would restart them as traffic arrives.
    promoted = objects(manifest(current=version("b"), previous=version("a")))
    reverted = objects(manifest(current=version("a"), previous=version("b")))
    warm = promoted["previous-deployment.yaml"]["spec"]["template"]
    back = reverted["current-deployment.yaml"]["spec"]["template"]
    assert warm == back
    assert reverted["service.yaml"]["spec"]["selector"]["version"] == "aaaaaaaa"


# --- canary -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "current", "previous"),
    [(10, 1, 3), (25, 1, 3), (50, 2, 2), (75, 3, 1), (90, 3, 1)],
)
def test_canary_splits_the_pool_by_replicas_and_keeps_both_running(share, current, previous):
    files = objects(canary(share))
    assert files["current-deployment.yaml"]["spec"]["replicas"] == current
    assert files["previous-deployment.yaml"]["spec"]["replicas"] == previous
    assert current + previous == CANARY_POOL


def test_canary_service_selects_both_versions_and_says_the_real_share():
    service = objects(canary(10))["service.yaml"]
    assert service["spec"]["selector"] == {"app": PROJECT, "environment": "production"}
    annotations = service["metadata"]["annotations"]
    assert annotations["gitops-ml/canary-percent"] == "10"
    assert annotations["gitops-ml/canary-effective-percent"] == "25"


def test_canary_pins_the_hpa_so_it_cannot_skew_the_split():
    files = objects(canary(50))
    spec = files["hpa.yaml"]["spec"]
    assert spec["minReplicas"] == spec["maxReplicas"] == 2
    assert spec["scaleTargetRef"]["name"] == files["current-deployment.yaml"]["metadata"]["name"]


def test_a_full_canary_is_a_finished_rollout():
    files = objects(canary(100))
    assert files["service.yaml"]["spec"]["selector"]["version"] == "bbbbbbbb"
    assert files["previous-deployment.yaml"]["spec"]["replicas"] == WARM_REPLICAS


# --- how the pods run ---------------------------------------------------------------


def test_pods_run_the_image_digest_of_their_version():
    files = objects(manifest(previous=version("a")))
    current, previous = (container(files[f"{role}-deployment.yaml"]) for role in ROLES)
    assert current["image"] == f"{REPOSITORY}@sha256:{'b' * 64}"
    assert previous["image"] == f"{REPOSITORY}@sha256:{'a' * 64}"
    assert current["imagePullPolicy"] == previous["imagePullPolicy"] == "IfNotPresent"


def test_probes_use_the_bentoml_health_endpoints():
    spec = container(objects(manifest())["current-deployment.yaml"])
    assert spec["ports"] == [{"name": "http", "containerPort": PORT, "protocol": "TCP"}]
    assert PORT == 3000
    assert spec["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["startupProbe"]["httpGet"]["path"] == "/livez"


def test_prometheus_scrapes_the_bentoml_metrics_endpoint():
    template = objects(manifest())["current-deployment.yaml"]["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(PORT)
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["gitops-ml/lineage-id"] == "b" * 16


def test_resources_are_requested_and_limited():
    resources = container(objects(manifest())["current-deployment.yaml"])["resources"]
    assert set(resources) == {"requests", "limits"}
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_pods_run_as_non_root_on_a_read_only_filesystem():
    deployment = objects(manifest())["current-deployment.yaml"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    security = container(deployment)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False


def test_every_path_bentoml_writes_is_a_mounted_empty_dir():
    deployment = objects(manifest())["current-deployment.yaml"]
    spec = container(deployment)
    env = {item["name"]: item["value"] for item in spec["env"]}
    assert env["BENTOML_DO_NOT_TRACK"] == "true"
    assert (env["BENTOML_HOME"], env["PREDICTION_LOG_DIR"]) == (BENTOML_HOME, PREDICTION_LOG_DIR)
    mounts = {mount["mountPath"]: mount["name"] for mount in spec["volumeMounts"]}
    assert {"/tmp", BENTOML_HOME, PREDICTION_LOG_DIR} <= set(mounts)
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert all("emptyDir" in volumes[name] for name in mounts.values())


def test_the_pods_name_their_environment_and_ship_their_log_where_set(monkeypatch):
    def env_of(environment: str) -> dict[str, str]:
        deployment = objects(manifest(environment))["current-deployment.yaml"]
        return {item["name"]: item["value"] for item in container(deployment)["env"]}

    assert env_of("staging")["SERVING_ENVIRONMENT"] == "staging"
    store = "s3://bucket/predictions/project"
    monkeypatch.setattr(kubernetes_objects, "PREDICTION_LOG_STORE", None)
    assert "PREDICTION_LOG_SHIP_TO" not in env_of("production")  # the log stays in the pod
    monkeypatch.setattr(kubernetes_objects, "PREDICTION_LOG_STORE", store)
    monkeypatch.setattr(kubernetes_objects, "SERVICE_ACCOUNT", "predictions-writer")
    assert env_of("production")["PREDICTION_LOG_SHIP_TO"] == f"{store}/production"
    pod = objects(manifest("production"))["current-deployment.yaml"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "predictions-writer"


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["current", "previous"])
def test_a_version_without_an_image_digest_cannot_be_rendered(role):
    versions = {"current": version("b"), "previous": version("a")}
    versions[role] = version(versions[role].lineage_id[0], image=False)
    with pytest.raises(RenderError, match=f"the {role} version .* has no image digest"):
        objects(manifest(current=versions["current"], previous=versions["previous"]))


def test_versions_that_would_share_a_deployment_name_are_refused():
    twin = Version(**{**version("b").model_dump(), "bento_tag": f"{PROJECT}:{'b' * 8}0"})
    with pytest.raises(RenderError, match="both render to"):
        objects(manifest(current=version("b"), previous=twin))


def test_names_longer_than_a_dns_label_are_refused():
    assert checked_name("x" * 63) == "x" * 63
    with pytest.raises(RenderError, match="64 characters; Kubernetes allows 63"):
        checked_name("x" * 64)


def test_tags_with_dots_and_underscores_give_valid_names():
    dotted = Version(**{**version("b").model_dump(), "bento_tag": f"{PROJECT}:v1.2_rc"})
    assert deployment_name("staging", dotted) == f"{PROJECT}-staging-v1-2-rc"


# --- the files ----------------------------------------------------------------------


def test_rendering_is_deterministic_yaml_of_the_objects():
    first, second = render(canary(25)), render(canary(25))
    assert first == second
    for name, obj in objects(canary(25)).items():
        assert yaml.safe_load(first[name]) == obj
        assert "&" not in first[name]  # no YAML anchors or aliases


def test_kustomization_lists_every_other_file():
    files = render(manifest(previous=version("a")))
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["resources"] == [name for name in files if name != "kustomization.yaml"]


def test_write_makes_the_folder_hold_exactly_the_rendering(tmp_path):
    folder = tmp_path / "k8s" / "production"
    with_previous = render(manifest(previous=version("a")))
    assert write(folder, with_previous) == [f"missing {name}" for name in with_previous]
    assert differences(folder, with_previous) == []
    alone = render(manifest())
    assert differences(folder, alone) == [
        "changed kustomization.yaml",
        "not rendered previous-deployment.yaml",
    ]
    write(folder, alone)
    assert sorted(p.name for p in folder.iterdir()) == sorted(alone)


def test_a_hand_edit_is_a_difference(tmp_path):
    files = render(manifest())
    write(tmp_path, files)
    service = tmp_path / "service.yaml"
    service.write_text(service.read_text().replace("port: 80", "port: 81"))
    assert differences(tmp_path, files) == ["changed service.yaml"]
