"""The Kubernetes manifests every baked variant renders, validated offline.

For each combination of cookiecutter.json's choices: bake, write example
deployment manifests into deploy/ (staging without a previous version,
production with one, and for the high risk tier a production canary), run
the generated `render-k8s`, and validate every rendered object against the
Kubernetes JSON schemas of several Kubernetes versions (kubernetes-validate,
strict: an unknown field fails). kubernetes-validate has no schema for a
Kustomization or an Argo CD Application (it warns and passes), so those are
checked structurally here, and the Kustomization is also built with
`kubectl kustomize`.

Default tier (no marker): nothing is trained or installed. Each variant costs
a bake and two or three runs of the CLI, a few seconds each. Every variant runs
with the shared project environment (Python 3.11): the rendering does not
depend on the Python version, and the template's code is the same for both.
"""

import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEFAULTS, Project, bake, run
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, all_versions, validate

# The oldest and newest schemas kubernetes-validate ships, and one between.
KUBERNETES_VERSIONS = ["1.25", "1.30", "1.37"]
CHOICES = {
    key: options
    for key, options in DEFAULTS.items()
    if isinstance(options, list) and not key.startswith("_")
}
# Cycled through the matrix, so a name hard-coded where the answer belongs shows up.
PROJECT_NAMES = ["sample-classifier", "fraud-model"]
RENDERED_KINDS = {"Deployment", "Service", "HorizontalPodAutoscaler"}
STAGING_FILES = {"current-deployment.yaml", "service.yaml", "hpa.yaml", "kustomization.yaml"}
PRODUCTION_FILES = STAGING_FILES | {"previous-deployment.yaml"}


def variants() -> list[dict[str, str]]:
    names = itertools.cycle(PROJECT_NAMES)
    return [
        {**dict(zip(CHOICES, values, strict=True)), "project": next(names)}
        for values in itertools.product(*CHOICES.values())
    ]


def variant_id(answers: dict[str, str]) -> str:
    return "-".join(answers[key] for key in (*CHOICES, "project"))


# --- writing manifests and running the generated CLI ---------------------------------


def answers_of(project: Project) -> dict[str, str]:
    return json.loads((project.path / ".cruft.json").read_text())["context"]["cookiecutter"]


def version(project: Project, seed: str) -> dict[str, Any]:
    """A deployable version whose ids all repeat `seed` (one hex digit)."""
    answers = answers_of(project)
    return {
        "bento_tag": f"{answers['project']}:{seed * 16}",
        "model_tag": f"{answers['package']}:{seed * 16}",
        "lineage_id": seed * 16,
        "image": f"{answers['image_registry']}@sha256:{seed * 64}",
        "metrics": {"roc_auc": 0.97},
    }


def write_manifest(project: Project, environment: str, **fields: Any) -> None:
    manifest = {"environment": environment, "risk_tier": answers_of(project)["risk_tier"], **fields}
    path = project.path / "deploy" / f"{environment}.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))


def render_k8s(
    project: Project, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`<package> render-k8s ...` from this bake's source, in the project's environment.

    Not `Project.cli`: a project named otherwise has no console script in the
    shared environment. `python -m` finds the package on PYTHONPATH (Project.env).
    """
    command = [str(project.venv / "bin" / "python"), "-m", project.package, "render-k8s", *args]
    environment = {**project.env, **(env or {})}
    return run(command, project.path, environment, check=check)


def rendered_dir(project: Project, environment: str) -> Path:
    return project.path / "deploy" / "k8s" / environment


def snapshot(project: Project, environment: str) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(rendered_dir(project, environment).iterdir())}


def documents(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every object but the Kustomization, by file name (one object per file)."""
    parsed = {name: list(yaml.safe_load_all(text)) for name, text in files.items()}
    assert all(len(docs) == 1 for docs in parsed.values()), parsed
    return {name: docs[0] for name, docs in parsed.items() if name != "kustomization.yaml"}


def kind_and_name(obj: dict[str, Any]) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def copy_project(project: Project, destination: Path) -> Project:
    shutil.copytree(project.path, destination / project.path.name)
    return Project(destination / project.path.name, project.venv, project.remote)


# --- one rendered project per variant ------------------------------------------------


class Rendered:
    """A baked project and what `render-k8s` wrote, by scenario."""

    def __init__(self, answers: dict[str, str], project: Project) -> None:
        self.answers = answers
        self.project = project
        self.scenarios: dict[str, dict[str, str]] = {}


# Tests read a rendering and never change it (they change copies), so one per
# variant serves the whole module, including the tests parametrized indirectly.
RENDERINGS: dict[str, Rendered] = {}


@pytest.fixture(scope="module", params=variants(), ids=variant_id)
def rendered(request, tmp_path_factory: pytest.TempPathFactory, project_venv: Path) -> Rendered:
    key = variant_id(request.param)
    if key not in RENDERINGS:
        RENDERINGS[key] = render_variant(request.param, tmp_path_factory, project_venv)
    return RENDERINGS[key]


def render_variant(
    answers: dict[str, str], factory: pytest.TempPathFactory, venv: Path
) -> Rendered:
    root = factory.mktemp("k8s")
    project = Project(bake(root / "bake", **answers), venv, root / "remote")
    result = Rendered(answers, project)
    write_manifest(project, "staging", current=version(project, "a"))
    write_manifest(
        project, "production", current=version(project, "b"), previous=version(project, "a")
    )
    render_k8s(project)
    result.scenarios["staging"] = snapshot(project, "staging")
    result.scenarios["production"] = snapshot(project, "production")
    if answers["risk_tier"] == "high":
        canary = {"stable": 90, "canary": 10}
        write_manifest(
            project,
            "production",
            current=version(project, "c"),
            previous=version(project, "b"),
            traffic=canary,
        )
        render_k8s(project, "--env", "production")
        result.scenarios["production-canary"] = snapshot(project, "production")
    return result


def test_matrix_is_every_combination_of_the_choices():
    assert set(CHOICES) == {"python_version", "risk_tier", "dvc_remote"}
    combinations = {tuple(v[key] for key in CHOICES) for v in variants()}
    assert combinations == set(itertools.product(*CHOICES.values()))


def test_the_schemas_asked_for_are_shipped():
    # validate() silently falls back to an older schema for a version it lacks.
    shipped = {version.rsplit(".", 1)[0] for version in all_versions()}
    assert set(KUBERNETES_VERSIONS) <= shipped


def test_each_environment_renders_its_files(rendered: Rendered):
    scenarios = rendered.scenarios
    assert set(scenarios["staging"]) == STAGING_FILES
    assert set(scenarios["production"]) == PRODUCTION_FILES
    assert ("production-canary" in scenarios) == (rendered.answers["risk_tier"] == "high")


def test_the_rendering_is_this_bakes(rendered: Rendered):
    # Guards render_k8s(): another project's code would name another app.
    project, name = rendered.project, rendered.answers["project"]
    for files in rendered.scenarios.values():
        for obj in documents(files).values():
            assert obj["metadata"]["labels"]["app"] == name
        assert f"`{project.package} render-k8s`" in files["service.yaml"]


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
def test_every_rendered_object_validates(rendered: Rendered, kubernetes: str):
    kinds = set()
    for scenario, files in rendered.scenarios.items():
        for name, obj in documents(files).items():
            try:
                used = validate(obj, kubernetes, strict=True)
            except ValidationError as error:
                path = ".".join(map(str, error.path))
                pytest.fail(f"{scenario}/{name} against {kubernetes}: {path}: {error.message}")
            assert used == kubernetes, f"validated against {used}, not {kubernetes}"
            kinds.add(obj["kind"])
    assert kinds == RENDERED_KINDS


@pytest.mark.parametrize(
    ("field", "value"),
    [("replica", 2), ("replicas", "two")],
    ids=["unknown-field", "wrong-type"],
)
def test_the_validator_rejects_a_broken_deployment(rendered: Rendered, field: str, value: Any):
    # The control for the test above: strict validation is really on.
    deployment = documents(rendered.scenarios["production"])["current-deployment.yaml"]
    broken = {**deployment, "spec": {**deployment["spec"], field: value}}
    with pytest.raises(ValidationError):
        validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_service_and_hpa_follow_the_serving_version(rendered: Rendered):
    for scenario, files in rendered.scenarios.items():
        objects = documents(files)
        current = objects["current-deployment.yaml"]
        selector = objects["service.yaml"]["spec"]["selector"]
        pods = current["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pods.items(), scenario
        if scenario == "production-canary":
            assert "version" not in selector  # both versions serve
        else:
            assert selector["version"] == pods["version"]
        target = objects["hpa.yaml"]["spec"]["scaleTargetRef"]["name"]
        assert target == current["metadata"]["name"], scenario


def test_kustomization_lists_exactly_the_other_files(rendered: Rendered):
    for scenario, files in rendered.scenarios.items():
        kustomization = yaml.safe_load(files["kustomization.yaml"])
        assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
        assert kustomization["kind"] == "Kustomization"
        resources = kustomization["resources"]
        assert len(resources) == len(set(resources)), scenario
        assert set(resources) == set(files) - {"kustomization.yaml"}, scenario


def test_kustomize_builds_what_the_files_hold(rendered: Rendered):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the structural check above still ran")
    for environment in ("staging", "production"):
        folder = rendered_dir(rendered.project, environment)
        built = run([kubectl, "kustomize", str(folder)], folder).stdout
        expected = documents({p.name: p.read_text() for p in folder.glob("*.yaml")})
        assert sorted(yaml.safe_load_all(built), key=kind_and_name) == sorted(
            expected.values(), key=kind_and_name
        )


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_argocd_application_pulls_the_rendered_folder(rendered: Rendered, environment: str):
    project, answers = rendered.project, rendered.answers
    path = project.path / "deploy" / "k8s" / "argocd" / f"application-{environment}.yaml"
    text = path.read_text()
    application = yaml.safe_load(text)
    with pytest.raises(SchemaNotFoundError):  # why this check is structural
        validate(application, KUBERNETES_VERSIONS[-1], strict=True)
    assert application["apiVersion"] == "argoproj.io/v1alpha1"
    assert application["kind"] == "Application"
    assert application["metadata"]["name"] == f"{answers['project']}-{environment}"
    owner = DEFAULTS["github_owner"]
    source = application["spec"]["source"]
    assert source["repoURL"] == f"https://github.com/{owner}/{answers['project']}.git"
    assert source["path"] == f"deploy/k8s/{environment}"
    assert (project.path / source["path"] / "kustomization.yaml").is_file()
    assert source["targetRevision"] == "main"
    assert application["spec"]["destination"]["namespace"]
    assert application["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "git revert" in text


# The command's behaviour does not depend on the choices: one variant per risk
# tier (they render different scenarios) and both project names are enough.
BEHAVIOUR_VARIANTS = [
    next(v for v in variants() if v["risk_tier"] == tier and v["project"] == name)
    for tier, name in (("low", PROJECT_NAMES[0]), ("high", PROJECT_NAMES[1]))
]


@pytest.mark.parametrize("rendered", BEHAVIOUR_VARIANTS, ids=variant_id, indirect=True)
def test_check_passes_and_rendering_is_byte_identical_in_another_process(rendered: Rendered):
    # Another hash seed reorders sets and hash-built dicts: the bytes must not change.
    result = render_k8s(rendered.project, "--check", env={"PYTHONHASHSEED": "12345"})
    assert "stale" not in result.stdout + result.stderr


@pytest.mark.parametrize("rendered", BEHAVIOUR_VARIANTS, ids=variant_id, indirect=True)
def test_check_fails_after_a_change_and_passes_after_rendering(rendered: Rendered, tmp_path: Path):
    project = copy_project(rendered.project, tmp_path)
    write_manifest(
        project, "production", current=version(project, "d"), previous=version(project, "c")
    )
    hpa = rendered_dir(project, "staging") / "hpa.yaml"
    hpa.write_text(hpa.read_text() + "# tuned by hand\n")
    stale = render_k8s(project, "--check", check=False)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "deploy/k8s/production: stale: changed current-deployment.yaml" in stale.stdout
    assert "deploy/k8s/staging: stale: changed hpa.yaml" in stale.stdout
    assert f"run `{project.package} render-k8s`" in stale.stderr
    # --check wrote nothing
    assert snapshot(project, "production") == snapshot(rendered.project, "production")
    render_k8s(project)
    assert render_k8s(project, "--check").returncode == 0
    current = documents(snapshot(project, "production"))["current-deployment.yaml"]
    assert current["spec"]["template"]["spec"]["containers"][0]["image"].endswith("d" * 64)
    assert snapshot(project, "staging") == rendered.scenarios["staging"]  # hand edit undone


@pytest.mark.parametrize("rendered", BEHAVIOUR_VARIANTS, ids=variant_id, indirect=True)
def test_a_version_without_an_image_is_refused_clearly(rendered: Rendered, tmp_path: Path):
    project = copy_project(rendered.project, tmp_path)
    unpinned = {k: v for k, v in version(project, "e").items() if k != "image"}
    write_manifest(project, "staging", current=unpinned)
    refused = render_k8s(project, "--env", "staging", check=False)
    assert refused.returncode == 1
    assert "the current version" in refused.stderr
    assert "has no image digest" in refused.stderr
    assert "Traceback" not in refused.stderr
