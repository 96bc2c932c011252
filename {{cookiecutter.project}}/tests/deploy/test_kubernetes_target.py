"""The Kubernetes target applies deploy/k8s/<env>/ only if it is the manifest's rendering;
`render-k8s` writes that rendering, or with --check says where it is stale."""

import pytest

from {{ cookiecutter.package }}.config import PROJECT
from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.manifest import load_manifest
from {{ cookiecutter.package }}.deploy.targets import kubernetes
from {{ cookiecutter.package }}.deploy.targets.kubernetes import apply, check_rendered
from {{ cookiecutter.package }}.deploy.targets.kubernetes_files import rendered_dir


@pytest.fixture
def promoted(repo, promote_seed):
    promote_seed("production", "a")
    promote_seed("production", "b")
    return repo


def test_the_committed_rendering_of_the_manifest_passes(promoted):
    check_rendered(promoted, load_manifest(promoted.manifest("production")))


def test_stale_objects_are_refused(promoted):
    folder = rendered_dir(promoted, "production")
    stale = sorted(folder.glob("*.yaml"))[0]
    stale.write_text(stale.read_text() + "# edited by hand\n")
    with pytest.raises(DeployError, match="does not match the manifest"):
        check_rendered(promoted, load_manifest(promoted.manifest("production")))


def test_an_image_digest_other_than_the_manifests_is_refused(promoted, monkeypatch):
    """The digest check stands on its own, even if the staleness check missed the edit."""
    monkeypatch.setattr(kubernetes, "differences", lambda folder, files: [])
    manifest = load_manifest(promoted.manifest("production"))
    assert manifest.current.image is not None
    other = manifest.current.image.replace("b" * 64, "c" * 64)
    for path in rendered_dir(promoted, "production").glob("*.yaml"):
        path.write_text(path.read_text().replace(manifest.current.image, other))
    refused = r"runs \[.*c{64}.*\], the manifest names .*b{64}.*refusing to apply"
    with pytest.raises(DeployError, match=refused):
        check_rendered(promoted, manifest)


def test_apply_runs_the_three_kubectl_steps_in_order(promoted, stand_in):
    kubectl = stand_in("kubectl")
    ran = apply(promoted, "production")
    calls = kubectl.calls()
    assert calls == [step.split(" ")[1:] for step in ran]
    namespace = f"{PROJECT}-production"
    assert calls[0][:5] == ["apply", "-n", namespace, "-k", "deploy/k8s/production"]
    assert calls[0][-2:] == ["-l", "version"]
    assert calls[1][:2] == ["rollout", "status"]
    assert calls[2][-3] == "--prune"


def test_apply_refuses_before_running_kubectl(promoted, stand_in):
    kubectl = stand_in("kubectl")
    folder = rendered_dir(promoted, "production")
    next(iter(folder.glob("*.yaml"))).unlink()
    with pytest.raises(DeployError):
        apply(promoted, "production")
    assert kubectl.calls() == []


@pytest.fixture
def render_k8s(command):
    """`render-k8s ARGS` run in the repository: its exit code and what it printed."""
    return lambda *args: command("render-k8s", *args)


def test_render_k8s_check_passes_on_a_promotion_and_catches_a_hand_edit(promoted, render_k8s):
    assert render_k8s("--check") == (0, "deploy/k8s/production: ok\n")
    edited = sorted(rendered_dir(promoted, "production").glob("*.yaml"))[0]
    edited.write_text(edited.read_text() + "# edited by hand\n")
    code, said = render_k8s("--check")
    assert code == 1
    assert f"deploy/k8s/production: stale: changed {edited.name}" in said
    assert "deploy/k8s/ is stale; run `{{ cookiecutter.package }} render-k8s`" in said
    assert render_k8s("--env", "production") == (
        0,
        f"deploy/k8s/production: updated: changed {edited.name}\n",
    )
    assert render_k8s("--check")[0] == 0


def test_render_k8s_says_how_far_the_replicas_are_from_the_canary_share(
    repo, promote_seed, render_k8s
):
    promote_seed("production", "a", "high")
    promote_seed("production", "b", "high")  # the high tier rolls out as a canary
    canary = load_manifest(repo.manifest("production")).traffic.canary
    assert 0 < canary < 100
    code, said = render_k8s("--check")
    assert code == 0
    assert f"production: canary {canary}% asked, about " in said
    assert "by replica count" in said


def test_render_k8s_with_no_manifest_renders_nothing(render_k8s):
    assert render_k8s() == (0, "no deploy/<env>.yaml yet: nothing to render\n")
